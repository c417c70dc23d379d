use actix_web::{get, HttpResponse};

/// 200 once the server accepts requests.
#[utoipa::path(tag = "health", responses((status = 200, description = "The server is up")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}
