//! A stall's live feed: new orders and their steps reach the stall's consoles as they happen,
//! as server-sent events (`GET /api/v1/vendor/events`), without a reload.
//!
//! Every step on an order is a row of the order timeline (`order_events`), whichever process
//! or database wrote it. Each server process tails that timeline (one indexed range read every
//! `TAIL_EVERY`, whether or not a console listens, so that one that connects hears of
//! everything from then on) and fans what it finds out to its
//! own consoles, each of which keeps only its own stall's. So a console on one process sees an
//! order placed through another, on SQLite and on a shared PostgreSQL alike, with nothing that
//! could be lost between a write and a notice: the timeline is the record.
//!
//! On PostgreSQL ids are handed out before commit, so a step can become visible after a
//! higher-numbered one; the ids skipped over are asked for again for `LATE_FOR` before they
//! are taken for rolled back.

use crate::store::delivery::stalls::StallEvent;
use crate::store::DynStore;
use actix_web::web::Bytes;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How often a process reads the timeline while consoles are connected: the feed's delay.
pub const TAIL_EVERY: Duration = Duration::from_millis(250);
/// How long an id skipped over is asked for again.
const LATE_FOR: Duration = Duration::from_secs(10);
/// A comment line this often keeps the connection open through proxies and tells a phone
/// that lost it to reconnect.
const HEARTBEAT: Duration = Duration::from_secs(20);
/// What the tail hands out at once; a console that falls further behind reloads instead.
const BACKLOG: usize = 256;
/// How often a console's login is looked at again: the feed closes within this (and the
/// session cache's few seconds) of a logout, an expired token or the stall taken away.
pub const LOGIN_CHECK: Duration = Duration::from_secs(5);

type Batch = Arc<Vec<StallEvent>>;

/// The process's end of the feed: consoles subscribe, the tail publishes.
pub struct StallFeed {
    sender: broadcast::Sender<Batch>,
}

impl Default for StallFeed {
    fn default() -> Self {
        Self { sender: broadcast::channel(BACKLOG).0 }
    }
}

/// Where the tail is in the timeline: the last id read, and ids skipped over that may yet
/// commit, with when they were first missed.
#[derive(Debug, Default)]
struct Cursor {
    after: i64,
    late: BTreeMap<i64, Instant>,
}

impl Cursor {
    /// Takes in what a read after `self.after` found: the cursor moves to the newest id, the
    /// ids between that did not come are kept as late, and late ones that came or waited too
    /// long are let go. The events new to the consoles.
    fn advance(&mut self, events: Vec<StallEvent>, now: Instant) -> Vec<StallEvent> {
        let seen: BTreeSet<i64> = events.iter().map(|e| e.id).collect();
        let newest = seen.last().copied().unwrap_or(self.after).max(self.after);
        // A hole wider than a read can fill is not waited for (a sequence that jumped).
        if newest - self.after <= 5_000 {
            for id in self.after + 1..newest {
                if !seen.contains(&id) {
                    self.late.entry(id).or_insert(now);
                }
            }
        }
        self.late.retain(|id, at| !seen.contains(id) && now.duration_since(*at) < LATE_FOR);
        self.after = newest;
        // Waiting for payment is not the stall's business yet.
        events.into_iter().filter(|e| e.status != "pending_payment").collect()
    }
}

impl StallFeed {
    /// Consoles listening now.
    pub fn listeners(&self) -> usize {
        self.sender.receiver_count()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Batch> {
        self.sender.subscribe()
    }

    /// Tails the order timeline for as long as the server runs.
    pub async fn run(&self, store: DynStore) {
        let mut tick = tokio::time::interval(TAIL_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut cursor: Option<Cursor> = None;
        loop {
            tick.tick().await;
            let Some(c) = cursor.as_mut() else {
                match store.stalls().last_event().await {
                    Ok(after) => cursor = Some(Cursor { after, ..Cursor::default() }),
                    Err(e) => tracing::warn!(error = %e, "reading the order timeline failed"),
                }
                continue;
            };
            let late: Vec<i64> = c.late.keys().copied().collect();
            match store.stalls().events_since(c.after, &late).await {
                Ok(events) => {
                    let fresh = c.advance(events, Instant::now());
                    if !fresh.is_empty() && self.sender.receiver_count() > 0 {
                        let _ = self.sender.send(Arc::new(fresh));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading the order timeline failed"),
            }
        }
    }
}

/// The login a console's feed was opened with; the feed lasts only as long as it does.
#[derive(Clone)]
pub struct FeedLogin {
    pub store: DynStore,
    pub user_id: i64,
    pub jti: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

impl FeedLogin {
    /// Whether the login still holds `vendor_id`'s stall: not logged out, not expired, the stall
    /// still theirs. A database that does not answer keeps the feed open (it is asked again).
    async fn still_holds(&self, vendor_id: i64) -> bool {
        if chrono::Utc::now() >= self.expires_at {
            return false;
        }
        match self.store.accounts().session_user(self.user_id, &self.jti).await {
            Ok(Some(user)) => user.roles.contains(&shared::Role::Vendor) && user.vendor_id == Some(vendor_id),
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "checking a stall feed's login failed");
                true
            }
        }
    }
}

/// The event stream one console of `vendor_id` reads: `ready` at once, then an `order` event
/// for each step on an order of the stall, a `resync` if it fell behind (reload everything),
/// and a comment now and then; `ended` and the end of the stream when the login ends (logged
/// out, expired, the stall or the role taken away).
pub fn events(
    vendor_id: i64,
    receiver: broadcast::Receiver<Batch>,
    login: FeedLogin,
) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> {
    struct State {
        receiver: broadcast::Receiver<Batch>,
        heartbeat: tokio::time::Interval,
        check: tokio::time::Interval,
        login: FeedLogin,
        greeted: bool,
        ended: bool,
    }
    let start = tokio::time::Instant::now();
    let state = State {
        receiver,
        heartbeat: tokio::time::interval_at(start + HEARTBEAT, HEARTBEAT),
        check: tokio::time::interval_at(start + LOGIN_CHECK, LOGIN_CHECK),
        login,
        greeted: false,
        ended: false,
    };
    futures_util::stream::unfold(state, move |mut s| async move {
        if s.ended {
            return None;
        }
        if !s.greeted {
            s.greeted = true;
            return Some((Ok(Bytes::from_static(b"retry: 3000\nevent: ready\ndata: {}\n\n")), s));
        }
        loop {
            tokio::select! {
                got = s.receiver.recv() => match got {
                    Ok(batch) => {
                        let text = render(vendor_id, &batch);
                        if !text.is_empty() {
                            return Some((Ok(Bytes::from(text)), s));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        return Some((Ok(Bytes::from_static(b"event: resync\ndata: {}\n\n")), s));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = s.heartbeat.tick() => return Some((Ok(Bytes::from_static(b": ping\n\n")), s)),
                _ = s.check.tick() => {
                    if !s.login.still_holds(vendor_id).await {
                        s.ended = true;
                        return Some((Ok(Bytes::from_static(b"event: ended\ndata: {}\n\n")), s));
                    }
                }
            }
        }
    })
}

/// The `order` events of one stall in a batch, as SSE text.
fn render(vendor_id: i64, batch: &[StallEvent]) -> String {
    let mut out = String::new();
    for e in batch.iter().filter(|e| e.vendor_id == vendor_id) {
        let body = shared::api::StallEvent {
            id: e.id,
            order_id: shared::OrderId(e.order_id),
            part_id: shared::PartId(e.part_id),
            slot_id: shared::SlotId(e.slot_id),
            status: e.status.clone(),
        };
        if let Ok(json) = serde_json::to_string(&body) {
            out.push_str(&format!("id: {}\nevent: order\ndata: {json}\n\n", e.id));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, vendor_id: i64, status: &str) -> StallEvent {
        StallEvent {
            id,
            order_id: id * 10,
            status: status.into(),
            slot_id: 1,
            vendor_id,
            part_id: id * 100 + vendor_id,
        }
    }

    #[test]
    fn the_cursor_moves_on_and_waits_for_ids_skipped_over() {
        let now = Instant::now();
        let mut c = Cursor { after: 10, ..Cursor::default() };
        let fresh = c.advance(vec![event(11, 1, "placed"), event(14, 1, "placed")], now);
        assert_eq!(fresh.len(), 2);
        assert_eq!(c.after, 14);
        assert_eq!(c.late.keys().copied().collect::<Vec<_>>(), vec![12, 13]);
        // 13 commits late: it is told once and no longer waited for.
        let fresh = c.advance(vec![event(13, 2, "confirmed")], now);
        assert_eq!(fresh.iter().map(|e| e.id).collect::<Vec<_>>(), vec![13]);
        assert_eq!(c.after, 14);
        assert_eq!(c.late.keys().copied().collect::<Vec<_>>(), vec![12]);
        // 12 never comes (rolled back): let go after a while.
        c.advance(vec![], now + LATE_FOR);
        assert!(c.late.is_empty());
    }

    #[test]
    fn waiting_for_payment_is_not_told_and_each_stall_reads_its_own() {
        let mut c = Cursor::default();
        let fresh =
            c.advance(vec![event(1, 1, "pending_payment"), event(2, 1, "paid"), event(2, 2, "paid")], Instant::now());
        assert_eq!(fresh.len(), 2);
        let text = render(2, &fresh);
        assert_eq!(text.matches("event: order").count(), 1);
        assert!(text.contains("\"part_id\":202") && text.starts_with("id: 2\n"));
        assert_eq!(render(3, &fresh), "");
    }
}
