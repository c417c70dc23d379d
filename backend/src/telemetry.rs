//! Logging: `RUST_LOG` picks the level, `FXS_LOG_FORMAT=json` writes one JSON object a line
//! (for a log collector) instead of text; tests stay quiet unless `TEST_LOG` is set. Every
//! request is logged in a span carrying its `request_id`, which the answer carries back as
//! `X-Request-Id` (taken from the proxy when it sends a usable one).

use actix_web::http::header::{HeaderName, HeaderValue};
use tracing_subscriber::EnvFilter;

pub fn init(default_level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},sqlx=warn,actix_server=warn,actix_web=warn")));
    let json = std::env::var("FXS_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // A second init (several apps in one test process) is harmless.
    let _ = if json {
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_target(false)
            .try_init()
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init()
    };
}

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id: the one the proxy sent when it is usable (1 to 64 letters, digits and
/// `-_.:`; nginx's `$request_id` is 32 hex digits), else a new one of 16 hex digits.
pub fn request_id(sent: Option<&HeaderValue>) -> HeaderValue {
    let usable = |v: &&HeaderValue| {
        let b = v.as_bytes();
        (1..=64).contains(&b.len()) && b.iter().all(|c| c.is_ascii_alphanumeric() || b"-_.:".contains(c))
    };
    match sent.filter(usable) {
        Some(v) => v.clone(),
        None => {
            let id: u64 = rand::random();
            HeaderValue::from_str(&format!("{id:016x}")).unwrap_or(HeaderValue::from_static("0"))
        }
    }
}

/// The span of each request, as tracing-actix-web's default but with phones in the path and
/// query masked (`/admin/users/13900000001/roles` is logged as `/admin/users/139****0001/roles`):
/// logs are read by more people than the residents gave their phones to.
pub struct MaskedRootSpan;

impl tracing_actix_web::RootSpanBuilder for MaskedRootSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let target = mask_phones(request.uri().path_and_query().map(|p| p.as_str()).unwrap_or(""));
        let route = request.match_pattern().unwrap_or_default();
        let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            request_id = %id,
            http.method = %request.method(),
            http.route = %route,
            http.target = %target,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Every mainland mobile number in `text` (11 digits starting with 1, not part of a longer
/// number) as `139****0001`.
pub fn mask_phones(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if run == 0 {
            let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8().max(1);
            continue;
        }
        let digits = &text[i..i + run];
        if run == 11 && digits.starts_with('1') {
            out.push_str(&digits[..3]);
            out.push_str("****");
            out.push_str(&digits[7..]);
        } else {
            out.push_str(digits);
        }
        i += run;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::mask_phones;

    #[test]
    fn a_proxys_request_id_is_kept_when_usable() {
        use super::request_id;
        use actix_web::http::header::HeaderValue;
        let nginx = HeaderValue::from_static("4f1c8a2e9b7d4c3a8e6f1a2b3c4d5e6f");
        assert_eq!(request_id(Some(&nginx)), nginx);
        for bad in ["", "a b", "<script>", &"x".repeat(65)] {
            let made = request_id(Some(&HeaderValue::from_str(bad).expect("header")));
            assert_eq!(made.len(), 16, "{bad:?} is replaced");
        }
        assert_ne!(request_id(None), request_id(None));
    }

    #[test]
    fn phones_are_masked_and_other_numbers_kept() {
        assert_eq!(mask_phones("/api/v1/admin/users/13900000001/roles"), "/api/v1/admin/users/139****0001/roles");
        assert_eq!(mask_phones("/orders/12345?phone=13800000000&x=1"), "/orders/12345?phone=138****0000&x=1");
        assert_eq!(
            mask_phones("139000000012 23900000001 七里山13900000002"),
            "139000000012 23900000001 七里山139****0002"
        );
    }
}
