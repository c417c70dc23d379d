//! Standing orders (常购), decided once: what a valid one is, when its next order is tried and in
//! which slot, and what a try's answer does to it (and what the household is told). The order
//! itself is decided by the checkout (`domain::checkout`), exactly as a resident's own: stock,
//! per-order limits, the priority reserve, one order per household per slot.
//!
//! The order for a day is tried from the day before (midnight, Shanghai), so the household sees
//! it and can change or cancel it until its slot's cut-off; a refused try (sold out, slot full)
//! is made again every `RETRY_MINUTES` until the window ends on that day, when the day is
//! missed and the household told.

use super::checkout::{Answer, SlotRow};
use super::Refusal;
use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use shared::api::{SlotWindow, StandingItem, StandingOrderPatch, StandingOrderRequest, StandingPayment};
use shared::order::SlotKind;
use shared::{ErrorCode, OrderId, ProductId, SlotId};
use std::collections::{HashMap, HashSet};

/// At most this many products in one standing order.
pub const MAX_ITEMS: usize = 30;
/// Every 1 to 28 days.
pub const MAX_EVERY_DAYS: i64 = 28;
/// The next order's day is at most this far ahead.
pub const MAX_AHEAD_DAYS: i64 = 60;
/// A day's order is tried from this many days before it.
pub const LEAD_DAYS: i64 = 1;
/// A refused try is made again after this long.
pub const RETRY_MINUTES: i64 = 10;
/// At most this many standing orders a resident keeps at once.
pub const MAX_PER_RESIDENT: usize = 5;

/// What the market knows of a product a standing order names.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductFacts {
    pub name: String,
    pub active: bool,
    pub per_order_limit: Option<i64>,
}

/// What deciding a new or changed standing order needs besides the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// Today in Shanghai.
    pub today: NaiveDate,
    /// The resident has a home on record (a delivery needs one).
    pub has_home: bool,
    /// The donation pool may pay for the household (staff flagged it quarantined or in hardship).
    pub pool_allowed: bool,
    /// The products named, as they are now.
    pub products: HashMap<ProductId, ProductFacts>,
    /// How many standing orders the resident keeps now (not counting the one changed).
    pub kept: usize,
}

/// A standing order as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub items: Vec<StandingItem>,
    pub every_days: i64,
    pub slot_kind: SlotKind,
    pub window: SlotWindow,
    pub payment: StandingPayment,
    pub next_on: NaiveDate,
    pub paused: bool,
}

fn field(name: &str, why: &str) -> Refusal {
    Refusal::field(name, why)
}

/// `YYYY-MM-DD`.
pub fn parse_day(name: &str, text: &str) -> Result<NaiveDate, Refusal> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| field(name, "日期格式应为 YYYY-MM-DD (a date as YYYY-MM-DD)"))
}

/// Checks a plan against the facts: the items, how often, the day, the payment, the home.
fn check(plan: &Plan, f: &Facts) -> Result<(), Refusal> {
    if plan.items.is_empty() {
        return Err(field("items", "至少选一样菜 (at least one item)"));
    }
    if plan.items.len() > MAX_ITEMS {
        return Err(field("items", "一个常购最多 30 样菜 (at most 30 items)"));
    }
    let mut seen = HashSet::new();
    for item in &plan.items {
        if !seen.insert(item.product_id) {
            return Err(field("items", "同一样菜只能写一次 (each product once)"));
        }
        if !(1..=super::checkout::MAX_LINE_QUANTITY).contains(&item.quantity) {
            return Err(field("items.quantity", "数量须在 1 到 99 之间 (1 to 99)"));
        }
        let Some(p) = f.products.get(&item.product_id).filter(|p| p.active) else {
            return Err(Refusal::new(ErrorCode::NotFound, "没有这样菜或已下架 (no such product on sale)"));
        };
        if let Some(limit) = p.per_order_limit.filter(|limit| item.quantity > *limit) {
            return Err(Refusal::over_limit(&p.name, limit));
        }
    }
    if !(1..=MAX_EVERY_DAYS).contains(&plan.every_days) {
        return Err(field("every_days", "间隔须在 1 到 28 天之间 (every 1 to 28 days)"));
    }
    if plan.next_on < f.today || plan.next_on > f.today + Duration::days(MAX_AHEAD_DAYS) {
        return Err(field("next_on", "日期须在今天到 60 天之内 (a day from today to 60 days ahead)"));
    }
    if plan.payment == StandingPayment::Pool && !f.pool_allowed {
        return Err(Refusal::new(
            ErrorCode::NotEligible,
            "只有隔离或困难家庭可由爱心捐助支付 (only quarantined or hardship households are helped by the pool)",
        ));
    }
    if plan.slot_kind == SlotKind::Delivery && !f.has_home {
        return Err(Refusal::address_needed());
    }
    Ok(())
}

/// A new standing order, or why not. Without `first_on`, the first order is tomorrow's.
pub fn decide_new(req: &StandingOrderRequest, f: &Facts) -> Result<Plan, Refusal> {
    if f.kept >= MAX_PER_RESIDENT {
        return Err(Refusal::new(ErrorCode::WrongState, "最多设 5 个常购 (at most 5 standing orders)"));
    }
    let next_on = match &req.first_on {
        Some(day) => parse_day("first_on", day)?,
        None => f.today + Duration::days(1),
    };
    let plan = Plan {
        items: sorted(&req.items),
        every_days: req.every_days,
        slot_kind: req.slot_kind,
        window: req.window,
        payment: req.payment,
        next_on,
        paused: false,
    };
    check(&plan, f)?;
    Ok(plan)
}

/// A standing order changed as `patch` says, or why not. `skip_next` moves the next day on by
/// its interval (after any other change).
pub fn decide_patch(current: &Plan, patch: &StandingOrderPatch, f: &Facts) -> Result<Plan, Refusal> {
    let mut plan = current.clone();
    if let Some(items) = &patch.items {
        plan.items = sorted(items);
    }
    plan.every_days = patch.every_days.unwrap_or(plan.every_days);
    plan.slot_kind = patch.slot_kind.unwrap_or(plan.slot_kind);
    plan.window = patch.window.unwrap_or(plan.window);
    plan.payment = patch.payment.unwrap_or(plan.payment);
    plan.paused = patch.paused.unwrap_or(plan.paused);
    if let Some(day) = &patch.next_on {
        plan.next_on = parse_day("next_on", day)?;
    }
    // A day already passed (the server was stopped, say) is not skipped into the past.
    plan.next_on = plan.next_on.max(f.today);
    if patch.skip_next == Some(true) {
        plan.next_on += Duration::days(plan.every_days);
    }
    // An item taken off sale since may stay while the rest changes; a new one must be on sale.
    let mut facts = f.clone();
    if patch.items.is_none() {
        for item in &plan.items {
            if let Some(p) = facts.products.get_mut(&item.product_id) {
                p.active = true;
            }
        }
    }
    check(&plan, &facts)?;
    Ok(plan)
}

fn sorted(items: &[StandingItem]) -> Vec<StandingItem> {
    let mut items = items.to_vec();
    items.sort_by_key(|i| i.product_id);
    items
}

/// The window a slot is in, by its start in Shanghai.
pub fn window_of(starts_at: DateTime<Utc>) -> SlotWindow {
    SlotWindow::of_hour(starts_at.with_timezone(&super::time::shanghai_offset()).hour())
}

/// When a window ends on `day`: after it no slot of it can take the day's order.
pub fn window_end(day: NaiveDate, window: SlotWindow) -> DateTime<Utc> {
    let hour = match window {
        SlotWindow::Morning => 12,
        SlotWindow::Afternoon => 17,
        SlotWindow::Evening => 24,
    };
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default() - Duration::hours(8);
    DateTime::from_naive_utc_and_offset(midnight, Utc) + Duration::hours(hour)
}

/// A standing order whose next day may be due, as the job found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub id: i64,
    pub slot_kind: SlotKind,
    pub window: SlotWindow,
    pub next_on: NaiveDate,
    pub every_days: i64,
    pub attempt: i64,
    pub tried_at: Option<DateTime<Utc>>,
    /// The household is a priority one (the reserve is held for it).
    pub priority: bool,
}

/// What the job does with a standing order now.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Not yet: too early, or tried a moment ago.
    Wait,
    /// Try the day's order in this slot.
    Try(SlotId),
    /// No slot of the window can take the day's order any more.
    Miss(Refusal),
}

/// The next step for `due` at `now`, given the slots of its kind on its day (any order).
pub fn next_step(due: &Due, slots: &[SlotRow], now: DateTime<Utc>) -> Step {
    let today = super::time::shanghai_date(now);
    let today = NaiveDate::parse_from_str(&today, "%Y-%m-%d").unwrap_or(due.next_on);
    if due.next_on > today + Duration::days(LEAD_DAYS) {
        return Step::Wait;
    }
    if now >= window_end(due.next_on, due.window) {
        return Step::Miss(Refusal::new(
            ErrorCode::SlotClosed,
            "这天的时段都已截单 (no slot of the window took the order in time)",
        ));
    }
    if due.tried_at.is_some_and(|at| now - at < Duration::minutes(RETRY_MINUTES)) {
        return Step::Wait;
    }
    let day = due.next_on.format("%Y-%m-%d").to_string();
    let mut open: Vec<&SlotRow> = slots
        .iter()
        .filter(|s| s.kind == due.slot_kind && window_of(s.starts_at) == due.window)
        .filter(|s| super::time::shanghai_date(s.starts_at) == day && !s.state.is_closed(now))
        .collect();
    open.sort_by_key(|s| (s.starts_at, s.id));
    // The first with a place for the household; if all are full, the first, so that the
    // household hears why (a place may come free before the cut-off).
    match open.iter().find(|s| s.state.places_for(due.priority, now) > 0).or(open.first()) {
        Some(slot) => Step::Try(slot.id),
        None => Step::Wait,
    }
}

/// What a try (or a miss) does to the standing order.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The next day to order for.
    pub next_on: NaiveDate,
    pub attempt: i64,
    /// When to count the next retry from; none after an order or a miss.
    pub tried_at: Option<DateTime<Utc>>,
    /// The day it was for, `placed` / `refused` / `missed`, the order, why not.
    pub last_on: NaiveDate,
    pub last_outcome: &'static str,
    pub last_order: Option<OrderId>,
    pub last_message: Option<String>,
    /// What the household is told (kind, title, text), once per day and outcome.
    pub notice: Option<(&'static str, String, String)>,
}

/// The standing order after the checkout's `answer` to a try at `now` (or a miss, with none);
/// none when the try's key is still being answered (nothing changes). The next day never lies
/// in the past: after a long stop it moves on to today or later.
pub fn after_try(due: &Due, answer: Result<&Answer, &Refusal>, now: DateTime<Utc>) -> Option<Outcome> {
    let today = NaiveDate::parse_from_str(&super::time::shanghai_date(now), "%Y-%m-%d").unwrap_or(due.next_on);
    let mut following = due.next_on + Duration::days(due.every_days.max(1));
    while following < today {
        following += Duration::days(due.every_days.max(1));
    }
    let on = due.next_on;
    let when = format!("{}月{}日{}", on.format("%-m"), on.format("%-d"), due.window.label());
    let moved = |outcome, order, message: Option<String>, notice| Outcome {
        next_on: following,
        attempt: 0,
        tried_at: None,
        last_on: on,
        last_outcome: outcome,
        last_order: order,
        last_message: message,
        notice,
    };
    Some(match answer {
        Ok(Answer::KeyInUse) => return None,
        Ok(Answer::Placed(order)) => moved(
            "placed",
            Some(order.id),
            None,
            Some((
                "standing_placed",
                "常购已下单".to_owned(),
                format!("{when}的常购订单 {} 已下单；截单前可在订单页取消。", order.id),
            )),
        ),
        Ok(Answer::Refused(refusal)) => Outcome {
            next_on: on,
            attempt: due.attempt + 1,
            tried_at: Some(now),
            last_on: on,
            last_outcome: "refused",
            last_order: None,
            last_message: Some(refusal.message.clone()),
            // Told once per day: on the first refusal.
            notice: (due.attempt == 0).then(|| {
                (
                    "standing_refused",
                    "常购暂未下单".to_owned(),
                    format!("{when}的常购还没下成：{}。截单前会再试。", chinese(&refusal.message)),
                )
            }),
        },
        // A key answered for another request (a try cut short, then the items changed): the
        // next try takes a new key.
        Ok(Answer::KeyMismatch) => Outcome {
            next_on: on,
            attempt: due.attempt + 1,
            tried_at: Some(now),
            last_on: on,
            last_outcome: "refused",
            last_order: None,
            last_message: None,
            notice: None,
        },
        Err(refusal) => moved(
            "missed",
            None,
            Some(refusal.message.clone()),
            Some((
                "standing_missed",
                "常购未能下单".to_owned(),
                format!("{when}的常购没能下单：{}。", chinese(&refusal.message)),
            )),
        ),
    })
}

/// What the household is told of a placed order that asked the pool to pay: paid, or why it
/// is paid at the door instead.
pub fn pool_paid(outcome: &mut Outcome, paid: Result<(), &Refusal>) {
    if let Some((_, _, body)) = outcome.notice.as_mut() {
        match paid {
            Ok(()) => body.push_str("由爱心捐助支付。"),
            Err(refusal) => {
                body.push_str(&format!("爱心捐助这次没能支付（{}），请货到付款。", chinese(&refusal.message)))
            }
        }
    }
}

/// The Chinese half of a "中文 (English)" message.
fn chinese(message: &str) -> &str {
    message.split(" (").next().unwrap_or(message).trim()
}

/// The Idempotency-Key of a standing order's try: one per day and attempt.
pub fn try_key(id: i64, on: NaiveDate, attempt: i64) -> String {
    format!("standing:{id}:{}:{attempt}", on.format("%Y-%m-%d"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::slots::SlotState;
    use shared::api::Order;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    /// `hh:mm` Shanghai on `d`.
    fn at(d: &str, hour: i64, minute: i64) -> DateTime<Utc> {
        window_end(day(d), SlotWindow::Morning) - Duration::hours(12)
            + Duration::hours(hour)
            + Duration::minutes(minute)
    }

    fn facts() -> Facts {
        let p = |name: &str, limit| ProductFacts { name: name.into(), active: true, per_order_limit: limit };
        Facts {
            today: day("2026-12-07"),
            has_home: true,
            pool_allowed: false,
            products: [(ProductId(1), p("菜盒子", Some(2))), (ProductId(2), p("土豆", None))].into_iter().collect(),
            kept: 0,
        }
    }

    fn request() -> StandingOrderRequest {
        StandingOrderRequest {
            items: vec![
                StandingItem { product_id: ProductId(2), quantity: 3 },
                StandingItem { product_id: ProductId(1), quantity: 1 },
            ],
            every_days: 7,
            slot_kind: SlotKind::Delivery,
            window: SlotWindow::Morning,
            payment: StandingPayment::OnDelivery,
            first_on: None,
        }
    }

    #[test]
    fn a_new_standing_order_starts_tomorrow_with_its_items_in_order() {
        let plan = decide_new(&request(), &facts()).expect("as expected");
        assert_eq!(plan.next_on, day("2026-12-08"));
        assert_eq!(plan.items[0].product_id, ProductId(1));
    }

    #[test]
    fn a_bad_standing_order_is_refused_with_the_reason() {
        let f = facts();
        let refused = |change: &dyn Fn(&mut StandingOrderRequest), f: &Facts| {
            let mut r = request();
            change(&mut r);
            decide_new(&r, f).expect_err("refused").code
        };
        assert_eq!(refused(&|r| r.items.clear(), &f), ErrorCode::InvalidField);
        assert_eq!(refused(&|r| r.items[1].product_id = ProductId(2), &f), ErrorCode::InvalidField);
        assert_eq!(refused(&|r| r.items[0].quantity = 0, &f), ErrorCode::InvalidField);
        assert_eq!(refused(&|r| r.items[1].quantity = 3, &f), ErrorCode::OverLimit);
        assert_eq!(refused(&|r| r.items[0].product_id = ProductId(9), &f), ErrorCode::NotFound);
        assert_eq!(refused(&|r| r.every_days = 0, &f), ErrorCode::InvalidField);
        assert_eq!(refused(&|r| r.every_days = 29, &f), ErrorCode::InvalidField);
        assert_eq!(refused(&|r| r.first_on = Some("2026-12-06".into()), &f), ErrorCode::InvalidField);
        assert_eq!(refused(&|r| r.first_on = Some("2027-03-01".into()), &f), ErrorCode::InvalidField);
        assert_eq!(refused(&|r| r.first_on = Some("12/08".into()), &f), ErrorCode::InvalidField);
        assert_eq!(refused(&|r| r.payment = StandingPayment::Pool, &f), ErrorCode::NotEligible);
        let homeless = Facts { has_home: false, ..facts() };
        assert_eq!(refused(&|_| {}, &homeless), ErrorCode::InvalidField);
        assert!(decide_new(&StandingOrderRequest { slot_kind: SlotKind::Pickup, ..request() }, &homeless).is_ok());
        let helped = Facts { pool_allowed: true, ..facts() };
        assert!(decide_new(&StandingOrderRequest { payment: StandingPayment::Pool, ..request() }, &helped).is_ok());
        let full = Facts { kept: MAX_PER_RESIDENT, ..facts() };
        assert_eq!(refused(&|_| {}, &full), ErrorCode::WrongState);
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name_and_a_skip_moves_one_interval() {
        let plan = decide_new(&request(), &facts()).expect("as expected");
        let patch =
            StandingOrderPatch { window: Some(SlotWindow::Evening), skip_next: Some(true), ..Default::default() };
        let changed = decide_patch(&plan, &patch, &facts()).expect("as expected");
        assert_eq!((changed.window, changed.next_on, changed.every_days), (SlotWindow::Evening, day("2026-12-15"), 7));
        // An item gone off sale since does not stop a pause...
        let mut gone = facts();
        gone.products.get_mut(&ProductId(2)).expect("as expected").active = false;
        let pause = StandingOrderPatch { paused: Some(true), ..Default::default() };
        assert!(decide_patch(&plan, &pause, &gone).expect("as expected").paused);
        // ... but new items must be on sale.
        let items = StandingOrderPatch { items: Some(plan.items.clone()), ..Default::default() };
        assert_eq!(decide_patch(&plan, &items, &gone).expect_err("refused").code, ErrorCode::NotFound);
    }

    fn slot(id: i64, d: &str, hour: i64, kind: SlotKind, capacity: i64) -> SlotRow {
        SlotRow {
            id: SlotId(id),
            market_id: shared::MarketId::FIRST,
            kind,
            starts_at: at(d, hour, 0),
            ends_at: at(d, hour + 2, 0),
            state: SlotState {
                capacity,
                booked: 0,
                priority_capacity: 0,
                priority_booked: 0,
                priority_release_at: None,
                cutoff_at: at(d, hour - 2, 0),
                closed: false,
                household_limit: 1,
            },
        }
    }

    fn due(next_on: &str) -> Due {
        Due {
            id: 4,
            slot_kind: SlotKind::Delivery,
            window: SlotWindow::Morning,
            next_on: day(next_on),
            every_days: 7,
            attempt: 0,
            tried_at: None,
            priority: false,
        }
    }

    #[test]
    fn the_days_order_is_tried_from_the_day_before_in_the_first_open_slot_of_the_window() {
        let slots = vec![
            slot(1, "2026-12-09", 8, SlotKind::Delivery, 0),
            slot(2, "2026-12-09", 10, SlotKind::Delivery, 5),
            slot(3, "2026-12-09", 10, SlotKind::Pickup, 5),
            slot(4, "2026-12-09", 14, SlotKind::Delivery, 5),
            slot(5, "2026-12-08", 10, SlotKind::Delivery, 5),
        ];
        assert_eq!(next_step(&due("2026-12-09"), &slots, at("2026-12-07", 23, 59)), Step::Wait);
        // Slot 1 is full: the next one with a place.
        assert_eq!(next_step(&due("2026-12-09"), &slots, at("2026-12-08", 0, 0)), Step::Try(SlotId(2)));
        // Past slot 2's cut-off (8:00) nothing of the morning is open: wait for a slot staff may open...
        assert_eq!(next_step(&due("2026-12-09"), &slots, at("2026-12-09", 8, 30)), Step::Wait);
        // ... until the morning ends.
        assert!(matches!(next_step(&due("2026-12-09"), &slots, at("2026-12-09", 12, 0)), Step::Miss(_)));
        // All full: the first open one anyway, so the household hears why.
        let full: Vec<SlotRow> = slots
            .iter()
            .cloned()
            .map(|mut s| {
                s.state.capacity = 0;
                s
            })
            .collect();
        assert_eq!(next_step(&due("2026-12-09"), &full, at("2026-12-08", 9, 0)), Step::Try(SlotId(1)));
        // Tried a moment ago: wait.
        let tried = Due { tried_at: Some(at("2026-12-08", 8, 55)), ..due("2026-12-09") };
        assert_eq!(next_step(&tried, &slots, at("2026-12-08", 9, 0)), Step::Wait);
        assert_eq!(next_step(&tried, &slots, at("2026-12-08", 9, 6)), Step::Try(SlotId(2)));
    }

    fn placed(id: i64) -> Answer {
        let order: Order = serde_json::from_value(serde_json::json!({
            "id": id, "status": "placed", "total_fen": 100, "slot_id": 2, "slot_kind": "delivery",
            "slot_starts_at": "", "slot_ends_at": "", "payment": "on_delivery", "address": null, "note": null,
            "created_at": "", "expires_at": null, "items": [], "parts": [], "timeline": []
        }))
        .expect("as expected");
        Answer::Placed(Box::new(order))
    }

    #[test]
    fn a_placed_order_moves_the_day_on_a_refusal_waits_and_a_miss_tells_once() {
        let now = at("2026-12-08", 0, 1);
        let d = due("2026-12-09");
        let ok = after_try(&d, Ok(&placed(77)), now).expect("as expected");
        assert_eq!((ok.next_on, ok.last_outcome, ok.last_order), (day("2026-12-16"), "placed", Some(OrderId(77))));
        assert!(ok.notice.as_ref().is_some_and(|n| n.2.contains("12月9日上午") && n.2.contains("77")));
        let sold_out = Answer::Refused(Refusal::out_of_stock("土豆", "斤", 0));
        let first = after_try(&d, Ok(&sold_out), now).expect("as expected");
        assert_eq!((first.next_on, first.attempt, first.last_outcome), (day("2026-12-09"), 1, "refused"));
        assert!(first.notice.as_ref().is_some_and(|n| n.2.contains("土豆 已售完") && !n.2.contains("sold")));
        let again = after_try(&Due { attempt: 1, ..d.clone() }, Ok(&sold_out), now).expect("as expected");
        assert_eq!((again.attempt, again.notice), (2, None));
        let missed = after_try(&d, Err(&Refusal::slot_closed()), at("2026-12-09", 12, 0)).expect("as expected");
        assert_eq!((missed.next_on, missed.last_outcome, missed.attempt), (day("2026-12-16"), "missed", 0));
        // After a long stop the next day is today or later.
        let late = after_try(&d, Err(&Refusal::slot_closed()), at("2026-12-30", 9, 0)).expect("as expected");
        assert_eq!(after_try(&d, Ok(&Answer::KeyInUse), now), None);
        let mut paid = ok.clone();
        pool_paid(&mut paid, Err(&Refusal::new(ErrorCode::PoolShort, "爱心池余额不足 (short)")));
        assert!(paid.notice.is_some_and(|n| n.2.ends_with("（爱心池余额不足），请货到付款。")));
        assert_eq!(late.next_on, day("2026-12-30"));
        assert_ne!(try_key(4, day("2026-12-09"), 0), try_key(4, day("2026-12-09"), 1));
    }
}
