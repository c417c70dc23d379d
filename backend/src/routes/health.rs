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

/// The process's metrics in Prometheus's text format (OpenMetrics): counters since it started,
/// and, read now, the batch queues' depths, the stall feed's listeners, the donation pool's
/// balance and the places of the slots starting in the next two days. For the proxy to keep
/// inside (deploy/nginx: only the monitoring host reaches it).
#[utoipa::path(tag = "health", responses((status = 200, content_type = "application/openmetrics-text", body = String)))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    use crate::metrics::{Queue, SlotLabels};
    let m = &state.metrics;
    let depth = |queue: &str, n: usize| {
        m.queue_depth.get_or_create(&Queue { queue: queue.to_owned() }).set(i64::try_from(n).unwrap_or(i64::MAX));
    };
    depth("checkout", state.store.orders().waiting());
    depth("join", state.store.group_buys().waiting());
    m.feed_listeners.set(i64::try_from(state.feed.listeners()).unwrap_or(i64::MAX));
    match state.store.donations().total_balance().await {
        Ok(balance) => {
            m.pool_balance_fen.set(balance.get());
        }
        Err(e) => tracing::warn!(error = %e, "metrics: reading the pool failed"),
    }
    let now = chrono::Utc::now();
    match state.store.slots().between(None, now - chrono::Duration::hours(4), now + chrono::Duration::hours(48)).await {
        Ok(slots) => {
            m.slot_booked.clear();
            m.slot_capacity.clear();
            // Late batches are of slots that have begun or begin within a day.
            let mut late = 0;
            for s in slots.iter().filter(|s| s.starts_at <= now + chrono::Duration::hours(24)) {
                match state.store.batches().list(s.id.get(), now).await {
                    Ok(mut batches) => {
                        super::batches::mark_late(&mut batches, now, state.config.late_batch_minutes);
                        late += batches.iter().filter(|b| b.late).count() as i64;
                    }
                    Err(e) => tracing::warn!(error = %e, "metrics: reading a slot's batches failed"),
                }
            }
            m.batches_late.set(late);
            for s in slots {
                let labels = SlotLabels { slot: s.id.get().to_string(), starts_at: s.starts_at.to_rfc3339() };
                m.slot_booked.get_or_create(&labels).set(s.booked);
                m.slot_capacity.get_or_create(&labels).set(s.capacity);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: reading the slots failed"),
    }
    HttpResponse::Ok().content_type("application/openmetrics-text; version=1.0.0; charset=utf-8").body(m.encode())
}
