use crate::state::AppState;
use actix_web::{get, web, HttpResponse};

/// 200 once the server accepts requests.
#[utoipa::path(tag = "health", responses((status = 200, description = "The server is up")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// 200 when the database answers and its schema has every migration this server knows; 503
/// otherwise (a proxy sends no one here until then). Says which database and migration.
#[utoipa::path(tag = "health", responses(
    (status = 200, description = "Ready: the database answers, its schema is up to date"),
    (status = 503, description = "Not ready: the database does not answer, or its schema is behind")
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = state.store.kind();
    match state.store.schema_version().await {
        Ok((Some(applied), expected)) if applied >= expected => HttpResponse::Ok()
            .json(serde_json::json!({ "status": "ready", "database": database, "migration": applied })),
        Ok((applied, expected)) => HttpResponse::ServiceUnavailable().json(serde_json::json!({
            "status": "migrating", "database": database, "migration": applied, "expected": expected,
        })),
        Err(e) => {
            tracing::warn!(error = %e, "readyz: the database does not answer");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({ "status": "unavailable", "database": database }))
        }
    }
}
