//! The market's jobs: what every server process does by itself, each on its own timer, named
//! and timed in one table (`JOBS`). Each acts on rows it locks, so several processes do each
//! thing once, and a restart picks up where the last process stopped.
//!
//! | job | every | what |
//! |---|---|---|
//! | `payments` | 15 s | payments with no notification are asked of WeChat Pay; refunds owed are sent, and those with no word asked about |
//! | `notices` | 15 s | notices are made from the order timeline and sent as WeChat subscribe messages, or by SMS to residents without WeChat who asked |
//! | `donations` | 15 s | money a pool-paid order gave back returns to the pool |
//! | `expiry` | 15 s | unpaid orders past their time expire, giving back stock and places |
//! | `group-buys` | 15 s | group-buys past their deadline close |
//! | `standing-orders` | 15 s | standing orders (常购) due are tried through the checkout, their households told |
//! | `purchase-orders` | 15 s | producers whose purchase order for a day closed are told what to deliver |
//! | `pickup-points` | 15 s | orders nobody collected from a pickup point by its closing time are kept a day or returned, their households told |
//! | `housekeeping` | 1 h | ended tokens and old login codes are forgotten; SQLite's planner statistics refreshed |
//! | `stall-feed` | 250 ms | the order timeline is read past its cursor for the stalls' live consoles (`feed.rs`) |
//!
//! The 15 s period is `FXS_EXPIRY_INTERVAL` in tests (`Config::expiry_interval`).

use crate::state::AppState;
use crate::store::Store;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// One pass of a job.
type Pass = for<'a> fn(&'a AppState, Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A job: its name (for logs), its period, one pass of it.
struct Job {
    name: &'static str,
    every: fn(&AppState) -> Duration,
    pass: Pass,
}

/// The market's periodic jobs, in the order a pass of each starts.
const JOBS: &[Job] = &[
    Job { name: "payments", every: market_period, pass: |s, every| Box::pin(payments(s, every)) },
    Job { name: "notices", every: market_period, pass: |s, every| Box::pin(send_notices(s, every)) },
    Job { name: "donations", every: market_period, pass: |s, _| Box::pin(settle_pool(&s.store)) },
    Job { name: "expiry", every: market_period, pass: |s, _| Box::pin(expire_unpaid(&s.store)) },
    Job { name: "group-buys", every: market_period, pass: |s, _| Box::pin(close_due_group_buys(&s.store)) },
    Job { name: "standing-orders", every: market_period, pass: |s, _| Box::pin(place_standing_orders(&s.store)) },
    Job { name: "purchase-orders", every: market_period, pass: |s, _| Box::pin(announce_purchase_orders(&s.store)) },
    Job { name: "pickup-points", every: market_period, pass: |s, _| Box::pin(sweep_pickup_points(&s.store)) },
    Job { name: "housekeeping", every: |_| Duration::from_secs(3600), pass: |s, _| Box::pin(purge(s)) },
    Job {
        name: "limits",
        every: |_| Duration::from_secs(300),
        pass: |s, _| Box::pin(async move { s.limits.forget_idle() }),
    },
];

fn market_period(state: &AppState) -> Duration {
    state.config.expiry_interval
}

/// The jobs running in this process.
pub struct Jobs {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Starts every job, and the stalls' live feed (which runs on its own 250 ms loop).
pub fn start(state: Arc<AppState>) -> Jobs {
    let mut tasks: Vec<_> = JOBS
        .iter()
        .map(|job| {
            let state = state.clone();
            tokio::spawn(async move {
                let every = (job.every)(&state);
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    let started = std::time::Instant::now();
                    (job.pass)(&state, every).await;
                    // A pass shares the process with the residents' requests: a slow one is
                    // said, so a p99 spike can be matched with it.
                    let ms = started.elapsed().as_millis();
                    if ms >= 100 {
                        tracing::warn!(job = job.name, ms, "job pass slow");
                    } else {
                        tracing::trace!(job = job.name, ms, "job pass");
                    }
                }
            })
        })
        .collect();
    let feed = state.clone();
    tasks.push(tokio::spawn(async move { feed.feed.run(feed.store.clone()).await }));
    Jobs { tasks }
}

impl Jobs {
    /// Stops every job (a pass under way ends at its next await; each pass's writes are
    /// transactions, so nothing is left half done).
    pub async fn stop(self) {
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Payments and refunds with WeChat Pay, when payment is on.
async fn payments(state: &AppState, every: Duration) {
    if let Some(pay) = state.pay.as_ref() {
        // A payment whose notification did not come is asked for before its order can expire.
        reconcile_payments(pay, &state.store, every).await;
        send_refunds(pay, &state.store, &state.metrics, every).await;
    }
}

/// Producers whose purchase order closed are told what to deliver.
async fn announce_purchase_orders(store: &Store) {
    if let Err(e) = store.producers().announce_closed(chrono::Utc::now()).await {
        tracing::warn!(error = %e, "telling producers of closed purchase orders failed");
    }
}

/// Orders nobody collected from a pickup point in time: kept a day or returned, the household told.
async fn sweep_pickup_points(store: &Store) {
    let now = chrono::Utc::now();
    let done = match store.points().sweep_uncollected(now, 200).await {
        Ok(done) => done,
        Err(e) => {
            tracing::warn!(error = %e, "handling uncollected orders at pickup points failed");
            return;
        }
    };
    for (order, user, point, step) in done {
        let (title, text) = crate::domain::points::uncollected_words(order, &point, step);
        let key = match step {
            crate::domain::points::UncollectedStep::KeepUntil(_) => format!("uncollected:{order}:kept"),
            crate::domain::points::UncollectedStep::Return => format!("uncollected:{order}:returned"),
        };
        if let Err(e) = store.notices().tell(user, Some(order), "uncollected", &key, (&title, &text), now).await {
            tracing::warn!(error = %e, order, "telling a household of its uncollected order failed");
        }
    }
}

/// Money a pool-paid order gave back (cancelled, short) returns to the pool.
async fn settle_pool(store: &Store) {
    if let Err(e) = store.donations().settle_returns(chrono::Utc::now(), 200).await {
        tracing::warn!(error = %e, "settling money back to the donation pool failed");
    }
}

async fn expire_unpaid(store: &Store) {
    match store.orders().expire_unpaid(chrono::Utc::now(), 500).await {
        Ok(ids) if !ids.is_empty() => tracing::info!(count = ids.len(), "unpaid orders expired"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "expiring unpaid orders failed"),
    }
}

async fn purge(state: &AppState) {
    if let Err(e) = state.store.optimize().await {
        tracing::warn!(error = %e, "refreshing the query planner's statistics failed");
    }
    let now = chrono::Utc::now();
    let keys_before = now - chrono::Duration::from_std(state.config.keep_idempotency_keys).unwrap_or_default();
    if let Err(e) = state.store.accounts().purge_expired(now, keys_before).await {
        tracing::warn!(error = %e, "purging expired codes and tokens failed");
    }
    let traces_before = now - chrono::Duration::from_std(state.config.keep_contact_traces).unwrap_or_default();
    match state.store.batches().forget_contacts(traces_before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(orders = n, "contact traces past their time forgotten"),
        Err(e) => tracing::warn!(error = %e, "forgetting old contact traces failed"),
    }
    match state.store.gates().forget(traces_before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(visits = n, "visits through the gate past their time forgotten"),
        Err(e) => tracing::warn!(error = %e, "forgetting old visits through the gate failed"),
    }
    // Photos at the door go with the trace: a picture of someone's door is kept no longer.
    match state.store.batches().forget_door_photos(traces_before).await {
        Ok(keys) if keys.is_empty() => {}
        Ok(keys) => {
            crate::photos::forget_doors(&state.config.door_photo_dir, &keys);
            tracing::info!(photos = keys.len(), "photos at the door past their time forgotten");
        }
        Err(e) => tracing::warn!(error = %e, "forgetting old photos at the door failed"),
    }
}

/// Asks WeChat Pay about payments that had no notification for a minute, or whose orders are
/// about to expire, and applies the answers as a notification would be.
async fn reconcile_payments(pay: &crate::wechat::pay::PayClient, store: &Store, every: Duration) {
    let now = chrono::Utc::now();
    let asked_before = now - chrono::Duration::seconds(60);
    let expiring_before = now + chrono::Duration::from_std(every * 2).unwrap_or_default();
    let waiting = match store.payments().unanswered(asked_before, expiring_before, 50).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "listing unanswered payments failed");
            return;
        }
    };
    // Gifts to the donation pool paid with no notification are asked about the same way.
    let gifts = store.donations().unanswered(asked_before, 50).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "listing unanswered gifts failed");
        Vec::new()
    });
    // And group-buy shares paid ahead.
    let shares = store.group_buys().unanswered_share_payments(asked_before, 50).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "listing unanswered share payments failed");
        Vec::new()
    });
    let waiting = waiting.into_iter().chain(gifts).chain(shares);
    let merchant = crate::domain::payment::Merchant { mchid: &pay.mchid, appid: &pay.appid };
    for out_trade_no in waiting {
        match pay.query(&out_trade_no).await {
            Ok(notice) if notice.out_trade_no == out_trade_no => {
                match crate::routes::pay::apply_notice(store, &notice, &merchant).await {
                    Ok(Ok(outcome)) => tracing::info!(%out_trade_no, ?outcome, "payment queried"),
                    Ok(Err(refusal)) => {
                        tracing::warn!(%out_trade_no, reason = %refusal.message, "queried payment refused")
                    }
                    Err(e) => tracing::warn!(%out_trade_no, error = %e, "recording a queried payment failed"),
                }
            }
            Ok(_) => tracing::warn!(%out_trade_no, "WeChat Pay answered about another payment"),
            Err(e) => tracing::warn!(%out_trade_no, error = %e, "querying a payment failed"),
        }
    }
}

/// Asks WeChat Pay for every refund owed. A refund that fails to go out stays owed and is asked
/// again next time with the same `out_refund_no`, so WeChat Pay refunds it once.
async fn send_refunds(
    pay: &crate::wechat::pay::PayClient,
    store: &Store,
    metrics: &crate::metrics::Metrics,
    every: Duration,
) {
    // Refunds asked a while ago whose notification did not come: asked about.
    let before = chrono::Utc::now() - chrono::Duration::from_std(every * 4).unwrap_or_default();
    match store.payments().unanswered_refunds(before, 50).await {
        Ok(numbers) => {
            for no in numbers {
                match pay.refund_status(&no).await {
                    Ok(status) => {
                        if let Err(e) = store.payments().refund_reported(&no, &status, chrono::Utc::now()).await {
                            tracing::warn!(out_refund_no = %no, error = %e, "recording a queried refund failed");
                        }
                    }
                    Err(e) => tracing::warn!(out_refund_no = %no, error = %e, "querying a refund failed"),
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "listing unanswered refunds failed"),
    }
    let due = match store.payments().due_refunds(50).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "listing refunds owed failed");
            return;
        }
    };
    for r in due {
        let reason = match r.reason.as_str() {
            "shortage" => "摊位缺货退款",
            "cancelled" => "订单取消退款",
            "group_buy_failed" => "团购未成团退款",
            _ => "订单已失效退款",
        };
        match pay.refund(&r.out_trade_no, &r.out_refund_no, reason, r.amount.get(), r.total.get()).await {
            Ok(status) => {
                // Accepted at least: asked; the notification (or this answer) says how it ended.
                let reported = if status == "SUCCESS" { "SUCCESS" } else { "PROCESSING" };
                let outcome = if status == "SUCCESS" { "succeeded" } else { "requested" };
                crate::metrics::Metrics::count(&metrics.refunds, outcome);
                if let Err(e) = store.payments().refund_reported(&r.out_refund_no, reported, chrono::Utc::now()).await {
                    tracing::warn!(out_refund_no = %r.out_refund_no, error = %e, "recording a refund request failed");
                }
            }
            // Refused for good (not paid, more than was paid): staff must look; a signature or
            // rate problem is ours to fix and is asked again.
            Err(crate::wechat::pay::PayError::Refused(code, text)) if matches!(code, 400 | 403 | 404) => {
                tracing::error!(out_refund_no = %r.out_refund_no, code, %text, "WeChat Pay refused a refund");
                crate::metrics::Metrics::count(&metrics.refunds, "refused");
                let _ = store.payments().refund_reported(&r.out_refund_no, "ABNORMAL", chrono::Utc::now()).await;
            }
            Err(e) => {
                crate::metrics::Metrics::count(&metrics.refunds, "retry");
                tracing::warn!(out_refund_no = %r.out_refund_no, error = %e, "asking for a refund failed; asked again later")
            }
        }
    }
}

/// Makes the notices the order timeline gives and sends the pending ones as WeChat subscribe
/// messages to residents who accepted them. A failed send is only logged: the order goes on,
/// and the storefront shows the notice all the same. The timeline is read until the pass has
/// caught up (or its period is spent): a morning's steps come faster than one read a pass
/// took in. Sending stays at one batch a pass: every process takes from the same pending
/// notices, and passes that sent until none were left made two servers fight over each
/// notice's row for seconds a pass (`rush --morning`: every request's p99 went past 1 s).
async fn send_notices(state: &AppState, every: Duration) {
    let started = std::time::Instant::now();
    let notices = state.store.notices();
    loop {
        match notices.collect(chrono::Utc::now(), chrono::Duration::seconds(2)).await {
            Ok(read) if read == crate::store::notices::COLLECT_STEPS && started.elapsed() < every / 2 => {}
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "making notices failed");
                return;
            }
        }
    }
    match notices.pending(NOTICES_SENT_AT_ONCE).await {
        Ok(pending) => {
            for n in pending {
                send_notice(state, &n).await;
            }
        }
        Err(e) => tracing::warn!(error = %e, "listing notices failed"),
    }
}

/// Pending notices read at a time.
const NOTICES_SENT_AT_ONCE: i64 = 50;

/// Takes one pending notice and, when its resident has an acceptance of its kind left, sends it.
async fn send_notice(state: &AppState, n: &crate::store::notices::NoticeRecord) {
    use crate::domain::notices::Channel;
    let notices = state.store.notices();
    match notices.take(n, chrono::Utc::now()).await {
        Ok(Some(Channel::WeChat)) => {}
        Ok(Some(Channel::Sms)) => {
            let text = crate::domain::notices::sms_text(&n.title, &n.body);
            let order = n.order_id.map(|o| o.to_string()).unwrap_or_default();
            let phone = n.phone.as_deref().unwrap_or_default();
            if let Err(e) = state.sms.send_notice(phone, &n.title, &order, &text).await {
                tracing::warn!(notice = n.id, error = %e, "a notice was not sent by SMS");
                let _ = notices.failed(n.id).await;
            }
            return;
        }
        Ok(Some(Channel::Storefront) | None) => return,
        Err(e) => {
            tracing::warn!(notice = n.id, error = %e, "taking a notice failed");
            return;
        }
    }
    let order_id = n.order_id.unwrap_or_default();
    let at = n.created_at.get(..16).unwrap_or_default().replace('T', " ");
    let data = crate::domain::notices::subscribe_data(&n.kind, order_id, &n.title, &at);
    let page = format!("/orders/{order_id}");
    let openid = n.openid.clone().unwrap_or_default();
    if let Err(e) = state.wechat.send_subscribe(&openid, &state.config.wechat.notice_template, &page, &data).await {
        tracing::warn!(notice = n.id, error = %e, "a subscribe message was not sent");
        let _ = notices.failed(n.id).await;
    }
}

/// Closes every open group-buy whose deadline has passed, whichever process gets there first:
/// the close locks the group-buy and does nothing to one that has ended, so several processes
/// (and a restart) close each exactly once.
async fn close_due_group_buys(store: &Store) {
    let now = chrono::Utc::now();
    let due = match store.group_buys().due(now).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "listing group-buys to close failed");
            return;
        }
    };
    for id in due {
        match store.group_buys().close(id, crate::domain::group_buy::Ending::Close, None, now).await {
            Ok(closed) => tracing::info!(group_buy = id, ?closed, "group-buy closed at its deadline"),
            Err(e) => tracing::warn!(group_buy = id, error = %e, "closing a group-buy failed"),
        }
    }
}

/// Standing orders looked at in one pass.
const STANDING_AT_ONCE: i64 = 200;

/// Tries the standing orders that are due: each in the slot `domain::standing::next_step`
/// chooses, through the checkout as a resident's own order (its own Idempotency-Key per day and
/// attempt, so a try cut short is answered the same when made again), then records what came
/// of it. A try is claimed first, so several processes make each once.
async fn place_standing_orders(store: &Store) {
    if let Err(e) = standing_pass(store, chrono::Utc::now()).await {
        tracing::warn!(error = %e, "placing standing orders failed");
    }
}

async fn standing_pass(store: &Store, now: chrono::DateTime<chrono::Utc>) -> crate::store::StoreResult<()> {
    use crate::domain::checkout::{new_handoff_code, CheckoutJob, SlotRow};
    use crate::domain::standing::{after_try, next_step, pool_paid, try_key, Step, LEAD_DAYS};
    use shared::api::StandingPayment;
    let today = chrono::NaiveDate::parse_from_str(&crate::domain::time::shanghai_date(now), "%Y-%m-%d")
        .map_err(crate::store::broken)?;
    let due = store.standing().due(today + chrono::Duration::days(LEAD_DAYS), STANDING_AT_ONCE).await?;
    // A day's slots of a market: a standing order is placed in the market of its home.
    type Day = (chrono::NaiveDate, shared::MarketId);
    let mut days: std::collections::HashMap<Day, Vec<SlotRow>> = std::collections::HashMap::new();
    for d in due {
        let key = (d.due.next_on, d.market_id);
        if let std::collections::hash_map::Entry::Vacant(place) = days.entry(key) {
            let day = d.due.next_on.format("%Y-%m-%d").to_string();
            let (from, to) = crate::domain::time::shanghai_day(&day).map_err(crate::store::broken)?;
            let slots = store.slots().between(Some(d.market_id), from, to).await?;
            place.insert(slots.into_iter().map(|s| s.into_row()).collect());
        }
        let slots = days.get(&key).map_or(&[][..], Vec::as_slice);
        let answer = match next_step(&d.due, slots, now) {
            Step::Wait => continue,
            Step::Miss(refusal) => Err(refusal),
            Step::Try(slot_id) => {
                if !store.standing().claim(&d.due, now).await? {
                    continue;
                }
                let key = try_key(d.due.id, d.due.next_on, d.due.attempt);
                let job = CheckoutJob {
                    user_id: d.user_id,
                    request_hash: format!("{key}:{slot_id}:{:?}", d.lines),
                    key,
                    slot_id,
                    payment: shared::order::Payment::OnDelivery,
                    address: None,
                    note: None,
                    handoff_code: new_handoff_code(),
                    now,
                    pay_by: now,
                    lines: Some(d.lines.clone()),
                    pickup_point_id: None,
                };
                match store.orders().checkout(vec![job]).await?.pop() {
                    Some(answer) => Ok(answer),
                    None => continue,
                }
            }
        };
        let Some(mut outcome) = after_try(&d.due, answer.as_ref(), now) else { continue };
        if let (Some(order), StandingPayment::Pool) = (outcome.last_order, d.payment) {
            let paid = store.donations().pay_once(order.get(), d.user_id, now).await?;
            pool_paid(&mut outcome, paid.as_ref().map(|_| ()));
        }
        if store.standing().record(d.user_id, &d.due, &outcome, now).await? {
            tracing::info!(standing_order = d.due.id, outcome = outcome.last_outcome, "standing order tried");
        }
    }
    Ok(())
}
