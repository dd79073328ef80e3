//! One structured log line per request, inside the request's trace.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::client_address::client_address;

/// Paths that health probes ask every few seconds: a success there is logged
/// at DEBUG, so probes do not bury the requests people make.
const PROBE_PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// Middleware: logs method, route, status and duration when a response is ready.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let res = next.call(req).await?;
    // The request is read back from the response: nothing is copied for a
    // line that is not written.
    let req = res.request();
    let method = req.method();
    let path = req.path();
    let status = res.status().as_u16();
    let elapsed_ms = || started.elapsed().as_secs_f64() * 1000.0;
    let peer = || client_address(req);
    if res.status().is_server_error() {
        // WARN, not ERROR: the failure itself was logged once, with its causes,
        // where it became an answer (crate::errors::error_response).
        tracing::warn!(http.request.method = %method, url.path = %path, http.response.status_code = status, client.address = %peer(), elapsed_ms = elapsed_ms(), "request failed");
    } else if res.status().is_success() && PROBE_PATHS.contains(&path) {
        tracing::debug!(http.request.method = %method, url.path = %path, http.response.status_code = status, client.address = %peer(), elapsed_ms = elapsed_ms(), "request served");
    } else {
        tracing::info!(http.request.method = %method, url.path = %path, http.response.status_code = status, client.address = %peer(), elapsed_ms = elapsed_ms(), "request served");
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use actix_web::middleware::from_fn;
    use actix_web::{test, web, App};
    use inlet_common::code::Code;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::errors::{error_response, PublicError};

    #[derive(Debug, thiserror::Error)]
    #[error("disk on fire")]
    struct Broken(#[source] std::io::Error);

    impl PublicError for Broken {
        fn code(&self) -> Code {
            Code::Internal
        }
    }

    /// Counts ERROR events.
    struct CountErrors(Arc<AtomicUsize>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountErrors {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if *event.metadata().level() == tracing::Level::ERROR {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    #[actix_web::test]
    async fn a_500_is_one_error_line() {
        let errors = Arc::new(AtomicUsize::new(0));
        let subscriber = tracing_subscriber::registry().with(CountErrors(Arc::clone(&errors)));
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(App::new().wrap(from_fn(log_requests)).route(
            "/",
            web::get().to(|| async {
                let err = Broken(std::io::Error::other("no space"));
                error_response(&err)
            }),
        ))
        .await;
        let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert_eq!(res.status(), 500);
        assert_eq!(errors.load(Ordering::SeqCst), 1);
    }
}
