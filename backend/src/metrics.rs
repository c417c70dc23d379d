//! What `/metrics` tells Prometheus (prometheus-client, OpenMetrics text): requests and their
//! latency by route, checkouts and group-buy joins by outcome, WeChat Pay's notifications and
//! refunds by outcome — counted where they happen — and, read when scraped, the queues' depths,
//! the stall feed's listeners, the donation pool's balance and the coming slots' fill.
//! `deploy/grafana-dashboard.json` draws them.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Route {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Queue {
    pub queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SlotLabels {
    pub slot: String,
    pub starts_at: String,
}

fn latency() -> Histogram {
    // 1 ms to 8 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 14))
}

/// The process's metrics: counters bumped where things happen, gauges set when scraped.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RouteLabels, Counter>,
    pub latency: Family<Route, Histogram, fn() -> Histogram>,
    pub checkouts: Family<Outcome, Counter>,
    pub joins: Family<Outcome, Counter>,
    pub payment_notifications: Family<Outcome, Counter>,
    pub refunds: Family<Outcome, Counter>,
    pub queue_depth: Family<Queue, Gauge>,
    pub feed_listeners: Gauge,
    pub pool_balance_fen: Gauge,
    /// Packed batches nobody has claimed for longer than `FXS_LATE_BATCH_MINUTES`.
    pub batches_late: Gauge,
    pub slot_booked: Family<SlotLabels, Gauge>,
    pub slot_capacity: Family<SlotLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("fxs");
        let m = Metrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency as fn() -> Histogram),
            checkouts: Family::default(),
            joins: Family::default(),
            payment_notifications: Family::default(),
            refunds: Family::default(),
            queue_depth: Family::default(),
            feed_listeners: Gauge::default(),
            pool_balance_fen: Gauge::default(),
            batches_late: Gauge::default(),
            slot_booked: Family::default(),
            slot_capacity: Family::default(),
            registry: Registry::default(),
        };
        registry.register("http_requests", "HTTP requests answered, by route and status", m.requests.clone());
        registry.register("http_request_duration_seconds", "Time to answer, by route", m.latency.clone());
        registry.register("checkouts", "Checkouts answered: placed, or the refusal's code", m.checkouts.clone());
        registry.register(
            "group_buy_joins",
            "Group-buy joins and changes: done, or the refusal's code",
            m.joins.clone(),
        );
        registry.register(
            "payment_notifications",
            "WeChat Pay notifications: paid, refund_late, refused, unverified, failed",
            m.payment_notifications.clone(),
        );
        registry.register("refunds", "Refunds sent to WeChat Pay: requested, succeeded, failed", m.refunds.clone());
        registry.register("queue_depth", "Callers waiting in a batch queue (checkout, join)", m.queue_depth.clone());
        registry.register(
            "stall_feed_listeners",
            "Stall consoles on this process's live feed",
            m.feed_listeners.clone(),
        );
        registry.register("donation_pool_balance_fen", "The donation pool's balance", m.pool_balance_fen.clone());
        registry.register(
            "batches_late",
            "Packed batches unclaimed for longer than FXS_LATE_BATCH_MINUTES (alert when above 0)",
            m.batches_late.clone(),
        );
        registry.register("slot_booked", "Places booked in the coming slots", m.slot_booked.clone());
        registry.register("slot_capacity", "Places of the coming slots", m.slot_capacity.clone());
        // The usual outcomes exist from the start at 0, so a dashboard shows 0 rather than no
        // data, and `rate()` sees the first one.
        for (family, outcome) in [
            (&m.checkouts, "placed"),
            (&m.joins, "joined"),
            (&m.payment_notifications, "paid"),
            (&m.refunds, "succeeded"),
        ] {
            let _ = family.get_or_create(&Outcome { outcome: outcome.to_owned() });
        }
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// A request answered: its route pattern (`/api/v1/orders/{id}`, never the raw path),
    /// method, status and time.
    pub fn answered(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let route = route.to_owned();
        self.requests.get_or_create(&RouteLabels { method: method.to_owned(), route: route.clone(), status }).inc();
        self.latency.get_or_create(&Route { route }).observe(seconds);
    }

    /// One more of `outcome` in `family`.
    pub fn count(family: &Family<Outcome, Counter>, outcome: &str) {
        family.get_or_create(&Outcome { outcome: outcome.to_owned() }).inc();
    }

    /// The text Prometheus scrapes.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
