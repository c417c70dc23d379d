//! `ApiError`: every failure a handler can return, rendered as the one JSON error shape.
//! Internal causes are logged with context and never sent to the client.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{http::StatusCode, HttpRequest, HttpResponse, ResponseError};
use shared::{ErrorBody, ErrorCode};

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds to wait, sent as `Retry-After` with 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after: None }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn too_many(message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self { retry_after: Some(retry_after_secs.max(1)), ..Self::new(ErrorCode::TooManyRequests, message) }
    }

    /// Logs the cause and answers 500 without revealing it.
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "{context}");
        Self::new(ErrorCode::Internal, "internal error; please try again")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        if let Some(secs) = self.retry_after {
            res.insert_header(("Retry-After", secs.to_string()));
        }
        res.json(ErrorBody::new(self.code, self.message.clone()))
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Broken(e) => ApiError::internal("store", e),
            crate::store::StoreError::Database(e) => ApiError::internal("database error", e),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

// ---------- actix's own refusals, in the one shape ----------

pub fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge, format!("request body is larger than {limit} bytes"))
        }
        JsonPayloadError::ContentType => {
            ApiError::new(ErrorCode::InvalidJson, "expected a JSON body with Content-Type: application/json")
        }
        // A field of one of shared's checked types (a phone, an amount) that is not one: its own refusal.
        JsonPayloadError::Deserialize(e) => match shared::domain::ParseError::behind(&e.to_string()) {
            Some(refusal) => ApiError::new(refusal.code, refusal.text),
            None => ApiError::new(ErrorCode::InvalidJson, format!("invalid JSON body: {e}")),
        },
        other => ApiError::new(ErrorCode::InvalidJson, format!("could not read the JSON body: {other}")),
    };
    api.into()
}

pub fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::new(ErrorCode::InvalidQuery, format!("invalid query string: {err}")).into()
}

pub fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::new(ErrorCode::NotFound, format!("no such resource ({err})")).into()
}

impl From<crate::domain::Refusal> for ApiError {
    fn from(r: crate::domain::Refusal) -> Self {
        ApiError { code: r.code, message: r.message, retry_after: r.retry_after }
    }
}
