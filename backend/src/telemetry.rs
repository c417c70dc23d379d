//! Logging: `RUST_LOG` picks the level; tests stay quiet unless `TEST_LOG` is set.

use tracing_subscriber::EnvFilter;

pub fn init(default_level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},sqlx=warn,actix_server=warn,actix_web=warn")));
    // A second init (several apps in one test process) is harmless.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}

/// The span of each request, as tracing-actix-web's default but with phones in the path and
/// query masked (`/admin/users/13900000001/roles` is logged as `/admin/users/139****0001/roles`):
/// logs are read by more people than the residents gave their phones to.
pub struct MaskedRootSpan;

impl tracing_actix_web::RootSpanBuilder for MaskedRootSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let target = mask_phones(request.uri().path_and_query().map(|p| p.as_str()).unwrap_or(""));
        let route = request.match_pattern().unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
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
    fn phones_are_masked_and_other_numbers_kept() {
        assert_eq!(mask_phones("/api/v1/admin/users/13900000001/roles"), "/api/v1/admin/users/139****0001/roles");
        assert_eq!(mask_phones("/orders/12345?phone=13800000000&x=1"), "/orders/12345?phone=138****0000&x=1");
        assert_eq!(
            mask_phones("139000000012 23900000001 七里山13900000002"),
            "139000000012 23900000001 七里山139****0002"
        );
    }
}
