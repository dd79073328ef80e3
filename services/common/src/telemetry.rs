//! Traces and logs: `tracing` spans exported over OTLP, log lines that carry trace ids.
//!
//! One [`TelemetryGuard`] owns the tracer provider and flushes it on every exit
//! path: an explicit [`TelemetryGuard::shutdown`], or its `Drop` on early returns
//! and panics.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::log_format::{LogFormat, TraceAwareFormat};

/// Which wire protocol the OTLP exporter speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP over gRPC (the default, port 4317).
    Grpc,
    /// OTLP over HTTP with protobuf bodies (port 4318).
    HttpProtobuf,
}

/// Everything telemetry needs, resolved from config and the standard `OTEL_*` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetrySettings {
    /// `service.name` resource attribute.
    pub service_name: String,
    /// `OTEL_SDK_DISABLED=true`: no spans at all (no ids in logs, nothing exported).
    pub sdk_disabled: bool,
    /// Where traces go; `None` exports nothing.
    pub endpoint: Option<String>,
    /// Protocol for `endpoint`.
    pub protocol: OtlpProtocol,
    /// Text or JSON log lines.
    pub log_format: LogFormat,
    /// `RUST_LOG`-style filter.
    pub log_filter: String,
}

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The OTLP exporter rejected its settings (bad endpoint, …).
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// The `RUST_LOG` filter does not parse.
    #[error("invalid RUST_LOG filter: {0}")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    /// Another global subscriber was installed first.
    #[error("a tracing subscriber is already installed: {0}")]
    AlreadyInstalled(#[from] tracing_subscriber::util::TryInitError),
}

impl TelemetrySettings {
    /// Resolves settings from the service's config and an environment map.
    ///
    /// `service.name` is the configured name, else `OTEL_SERVICE_NAME`, else
    /// `default_name`. With `OTEL_SDK_DISABLED=true` or no OTLP endpoint set,
    /// nothing is exported.
    pub fn resolve(
        default_name: &str,
        configured_name: Option<&str>,
        log_format: LogFormat,
        env: &HashMap<String, String>,
    ) -> Self {
        let var = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let service_name = configured_name
            .or_else(|| var("OTEL_SERVICE_NAME"))
            .unwrap_or(default_name)
            .to_owned();
        let protocol = match var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"))
        {
            Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
            _ => OtlpProtocol::Grpc,
        };
        let sdk_disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let endpoint = if sdk_disabled {
            None
        } else if let Some(traces) = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            Some(traces.to_owned())
        } else {
            var("OTEL_EXPORTER_OTLP_ENDPOINT").map(|base| match protocol {
                OtlpProtocol::Grpc => base.to_owned(),
                // The spec appends the signal path to the generic HTTP endpoint.
                OtlpProtocol::HttpProtobuf => format!("{}/v1/traces", base.trim_end_matches('/')),
            })
        };
        Self {
            service_name,
            sdk_disabled,
            endpoint,
            protocol,
            log_format,
            log_filter: var("RUST_LOG").unwrap_or("info").to_owned(),
        }
    }
}

/// Owns the tracer provider; flushes and shuts it down when dropped.
#[must_use = "dropping the guard shuts telemetry down"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Flushes pending spans and stops the exporter.
    pub fn shutdown(mut self) {
        self.flush_and_stop();
    }

    fn flush_and_stop(&mut self) {
        let Some(provider) = self.provider.take() else {
            return;
        };
        // The gRPC exporter needs the async runtime to keep running while it
        // flushes, so the blocking shutdown happens on a thread of its own.
        let joined =
            std::thread::spawn(move || provider.shutdown_with_timeout(FLUSH_TIMEOUT)).join();
        if let Ok(Err(err)) = joined {
            eprintln!("telemetry: flushing traces failed: {err}");
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.flush_and_stop();
    }
}

/// How long the final flush may take before spans are given up.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Installs the global subscriber, propagator and tracer provider.
///
/// Must run inside a tokio runtime (the gRPC exporter spawns its connection
/// there) and before any HTTP server is built, so request spans get a real tracer.
pub fn init(settings: &TelemetrySettings) -> Result<TelemetryGuard, TelemetryError> {
    let provider = if settings.sdk_disabled {
        None
    } else {
        Some(tracer_provider(settings)?)
    };
    let otel_layer = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("inlet")));
    let fmt_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(TraceAwareFormat::new(settings.log_format));
    tracing_subscriber::registry()
        .with(log_filter(&settings.log_filter)?)
        .with(otel_layer)
        .with(fmt_layer)
        .try_init()?;
    Ok(TelemetryGuard { provider })
}

/// Library lines that say at ERROR what is an ordinary client mistake or
/// policy outcome, which our own code logs once, at the right level and with
/// the client's address. Each is off unless the filter names its crate.
/// - actix-http logs every malformed request at ERROR; inlet-http logs it at
///   WARN (`inlet_http::refusals`).
/// - samotop logs every refused recipient or message at ERROR; inlet-smtp
///   logs and counts those refusals itself.
/// - async-nats logs each connection event at INFO ("event: connected");
///   `inlet_common::jetstream` logs losing and regaining NATS itself.
const QUIET_UNLESS_ASKED: [(&str, &str); 3] = [
    ("actix_http", "actix_http::h1::dispatcher=off"),
    ("samotop", "samotop_core::smtp::session=off"),
    ("async_nats", "async_nats=warn"),
];

/// The `RUST_LOG`-style filter, with [`QUIET_UNLESS_ASKED`] added.
fn log_filter(filter: &str) -> Result<EnvFilter, TelemetryError> {
    let mut parsed = EnvFilter::try_new(filter)?;
    for (named, directive) in QUIET_UNLESS_ASKED {
        if !filter.contains(named) {
            parsed = parsed.add_directive(directive.parse().expect("a fixed, valid directive"));
        }
    }
    Ok(parsed)
}

/// Builds the provider (with an OTLP exporter when an endpoint is set) and
/// makes it and the W3C propagator global.
fn tracer_provider(settings: &TelemetrySettings) -> Result<SdkTracerProvider, TelemetryError> {
    let resource = Resource::builder()
        .with_service_name(settings.service_name.clone())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = &settings.endpoint {
        // The HTTP exporter builds a reqwest client.
        crate::crypto::install_provider();
        let exporter = match settings.protocol {
            OtlpProtocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()?,
            OtlpProtocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(endpoint)
                .build()?,
        };
        builder = builder.with_batch_exporter(exporter);
    } else {
        // Spans are still made, with ids, so log lines carry trace ids; but
        // nothing would read their names and attributes, so none are kept
        // (a dropped span records nothing: about 3% of a small request).
        builder = builder.with_sampler(Sampler::AlwaysOff);
    }
    let provider = builder.build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    Ok(provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn without_an_exporter_spans_carry_ids_but_record_nothing() {
        use opentelemetry::trace::{Span as _, Tracer as _};
        let settings = TelemetrySettings::resolve("svc", None, LogFormat::Text, &env(&[]));
        let provider = tracer_provider(&settings).unwrap();
        let span = provider.tracer("test").start("a request");
        assert!(span.span_context().is_valid(), "log lines still get ids");
        assert!(!span.is_recording());
    }

    #[test]
    fn no_endpoint_means_no_export() {
        let s = TelemetrySettings::resolve("svc", None, LogFormat::Text, &env(&[]));
        assert_eq!(s.endpoint, None);
        assert_eq!(s.service_name, "svc");
        assert_eq!(s.log_filter, "info");
    }

    #[test]
    fn service_name_prefers_config_then_env() {
        let e = env(&[("OTEL_SERVICE_NAME", "from-env")]);
        let s = TelemetrySettings::resolve("svc", None, LogFormat::Text, &e);
        assert_eq!(s.service_name, "from-env");
        let s = TelemetrySettings::resolve("svc", Some("from-config"), LogFormat::Text, &e);
        assert_eq!(s.service_name, "from-config");
    }

    #[test]
    fn http_protocol_appends_signal_path() {
        let e = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ]);
        let s = TelemetrySettings::resolve("svc", None, LogFormat::Json, &e);
        assert_eq!(s.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(
            s.endpoint.as_deref(),
            Some("http://collector:4318/v1/traces")
        );
    }

    #[test]
    fn grpc_endpoint_is_used_as_is_and_sdk_can_be_disabled() {
        let mut e = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")]);
        let s = TelemetrySettings::resolve("svc", None, LogFormat::Text, &e);
        assert_eq!(s.protocol, OtlpProtocol::Grpc);
        assert_eq!(s.endpoint.as_deref(), Some("http://collector:4317"));
        e.insert("OTEL_SDK_DISABLED".into(), "TRUE".into());
        let s = TelemetrySettings::resolve("svc", None, LogFormat::Text, &e);
        assert_eq!(s.endpoint, None);
        assert!(s.sdk_disabled);
    }
}
