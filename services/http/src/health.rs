//! `GET /healthz` (the process answers) and `GET /readyz` (it can do its job).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use inlet_common::readiness::Readiness;

use crate::errors::OwnBody;
use crate::routes::{get_or_head, method_not_allowed};

/// Adds `GET /healthz` and `GET /readyz` to an app.
pub fn configure(readiness: Arc<Readiness>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::from(readiness))
            .service(
                web::resource("/healthz")
                    .route(get_or_head().to(healthz))
                    .default_service(method_not_allowed("GET, HEAD")),
            )
            .service(
                web::resource("/readyz")
                    .route(get_or_head().to(readyz))
                    .default_service(method_not_allowed("GET, HEAD")),
            );
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(readiness: web::Data<Readiness>) -> HttpResponse {
    let readiness = readiness.into_inner();
    let checks = web::block(move || readiness.check())
        .await
        .unwrap_or_default();
    let ready = Readiness::all_ok(&checks);
    if !ready {
        tracing::warn!(?checks, "not ready");
    }
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not ready" },
        "checks": checks,
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        let mut res = HttpResponse::ServiceUnavailable().json(body);
        res.extensions_mut().insert(OwnBody);
        res
    }
}
