//! Refused requests, counted in one place: a route that takes something in
//! wraps itself in [`count_refusals`], and every error answer it gives is
//! counted in the service's refusal metric by its error code and logged once.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use inlet_common::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use crate::client_address::client_address;
use crate::errors::ErrorReply;

/// Why a request was refused: its error code's name.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// The code, e.g. `payload_too_large`.
    pub reason: &'static str,
}

/// How a service names its refusal metric, and what its log line calls a
/// refused request.
#[derive(Debug, Clone, Copy)]
pub struct RefusalMetric {
    /// The counter's name, without `_total`
    /// (`inlet_forms_submissions_refused`).
    pub name: &'static str,
    /// Its help text (one sentence, no final full stop: the library adds it).
    pub help: &'static str,
    /// What the log line says was refused (`submission`, `upload`, …).
    pub what: &'static str,
}

/// A service's refusals by error code; app data of every service (set by
/// [`crate::serve`]).
#[derive(Debug, Clone)]
pub struct Refusals {
    by_reason: Family<Reason, Counter>,
    what: &'static str,
}

impl Refusals {
    /// Creates the counter `metric` names and registers it in `metrics`.
    pub fn register(metrics: &Metrics, metric: RefusalMetric) -> Self {
        let by_reason = Family::<Reason, Counter>::default();
        metrics.register(metric.name, metric.help, by_reason.clone());
        Self {
            by_reason,
            what: metric.what,
        }
    }

    /// Counts one refusal with `reason`.
    pub fn count(&self, reason: &'static str) {
        self.by_reason.get_or_create(&Reason { reason }).inc();
    }
}

/// Middleware for a resource that takes things in: every answer that carries
/// an [`ErrorReply`] (every error a handler returns) is counted by its code
/// and logged at INFO with the client's address. Nothing is done for other
/// answers, so it costs a successful request one extension lookup.
pub async fn count_refusals(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let Some(reply) = res.response().extensions().get::<ErrorReply>().cloned() else {
        return Ok(res);
    };
    let request = res.request();
    if let Some(refusals) = request.app_data::<Refusals>() {
        refusals.count(reply.code);
        tracing::info!(
            reason = reply.code,
            client.address = %client_address(request),
            http.request.method = %request.method(),
            url.path = request.path(),
            message = %reply.message,
            "{} refused",
            refusals.what
        );
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::{test, web, App, HttpResponse};
    use inlet_common::code::Code;

    use super::*;
    use crate::errors::{error_response, PublicError};

    #[derive(Debug, thiserror::Error)]
    #[error("too big")]
    struct TooBig;

    impl PublicError for TooBig {
        fn code(&self) -> Code {
            Code::PayloadTooLarge
        }
    }

    #[actix_web::test]
    async fn error_answers_are_counted_by_code_and_others_are_not() {
        let metrics = Metrics::new();
        let refusals = Refusals::register(
            &metrics,
            RefusalMetric {
                name: "test_refused",
                help: "Refused",
                what: "thing",
            },
        );
        let app = test::init_service(App::new().app_data(refusals).service(
            web::resource("/{n}").wrap(from_fn(count_refusals)).to(
                |n: web::Path<u32>| async move {
                    if *n == 0 {
                        HttpResponse::Ok().finish()
                    } else {
                        error_response(&TooBig)
                    }
                },
            ),
        ))
        .await;
        for path in ["/0", "/1", "/2"] {
            test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        }
        let text = metrics.encode();
        assert!(
            text.contains("test_refused_total{reason=\"payload_too_large\"} 2"),
            "{text}"
        );
    }
}
