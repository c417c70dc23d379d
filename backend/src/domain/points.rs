//! Satellite pickup points (自提点): what a point is, whether a checkout may send its order to
//! one, the volunteer's drop of a point's batch, and what happens to an order nobody collected.
//! The keeper's hand-off is `delivery::decide_handoff`'s.

use super::delivery::BatchSnapshot;
use super::time::shanghai_offset;
use super::Refusal;
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use shared::api::{NewPickupPoint, Uncollected};
use shared::order::{BatchStatus, OrderStatus, SlotKind};
use shared::ErrorCode;

pub const MAX_NAME_CHARS: usize = 40;
pub const MAX_ADDRESS_CHARS: usize = 100;
pub const MAX_CAPACITY: i64 = 10_000;

/// A point as staff set it, checked and trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedPoint {
    pub name: String,
    pub address: String,
    pub opens: String,
    pub closes: String,
    pub capacity: i64,
    pub keeper_phone: Option<String>,
    pub uncollected: Uncollected,
    pub active: bool,
}

/// `HH:MM` (24 hours) as a time of day.
pub fn hhmm(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    if s.len() != 5 || s.as_bytes()[2] != b':' {
        return None;
    }
    NaiveTime::parse_from_str(s, "%H:%M").ok()
}

fn text(field: &str, value: &str, max: usize) -> Result<String, Refusal> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(Refusal::field(field, &format!("须为1到{max}个字 (1 to {max} characters)")));
    }
    Ok(v.to_owned())
}

pub fn check_point(p: &NewPickupPoint) -> Result<CheckedPoint, Refusal> {
    let name = text("name", &p.name, MAX_NAME_CHARS)?;
    let address = text("address", &p.address, MAX_ADDRESS_CHARS)?;
    let opens = hhmm(&p.opens).ok_or_else(|| Refusal::field("opens", "须为时:分，如 08:00 (HH:MM)"))?;
    let closes = hhmm(&p.closes).ok_or_else(|| Refusal::field("closes", "须为时:分，如 20:00 (HH:MM)"))?;
    if closes <= opens {
        return Err(Refusal::field("closes", "须晚于开门时间 (after it opens)"));
    }
    if !(1..=MAX_CAPACITY).contains(&p.capacity) {
        return Err(Refusal::field("capacity", &format!("须在1到{MAX_CAPACITY}之间 (1 to {MAX_CAPACITY})")));
    }
    let keeper_phone = match p.keeper_phone.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => Some(
            shared::Phone::parse(k)
                .map_err(|_| Refusal::field("keeper_phone", "须为11位手机号 (an 11-digit mobile number)"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    Ok(CheckedPoint {
        name,
        address,
        opens: opens.format("%H:%M").to_string(),
        closes: closes.format("%H:%M").to_string(),
        capacity: p.capacity,
        keeper_phone,
        uncollected: p.uncollected,
        active: p.active,
    })
}

/// A point as a checkout reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct PointRow {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub opens: String,
    pub closes: String,
    pub capacity: i64,
    pub active: bool,
    #[serde(default)]
    pub market_id: shared::MarketId,
}

impl PointRow {
    pub fn place(&self) -> shared::api::PointPlace {
        shared::api::PointPlace {
            id: self.id,
            name: self.name.clone(),
            address: self.address.clone(),
            opens: self.opens.clone(),
            closes: self.closes.clone(),
        }
    }
}

/// Minutes after midnight in Shanghai; a time on a later day than `day_of` counts from that
/// day's midnight (an evening slot ending at 24:00 ends at minute 1440).
fn minute_in_day(t: DateTime<Utc>, day_of: DateTime<Utc>) -> i64 {
    let local = t.with_timezone(&shanghai_offset());
    let days = (local.date_naive() - day_of.with_timezone(&shanghai_offset()).date_naive()).num_days();
    days * 1440 + i64::from(local.hour()) * 60 + i64::from(local.minute())
}

fn minute_of(t: NaiveTime) -> i64 {
    i64::from(t.hour()) * 60 + i64::from(t.minute())
}

/// Why an order may not go to `point` in a slot (`taken`: the point's orders in it already),
/// if it may not: no such point (or closed to new orders), a slot the market's own counter
/// serves (pickup points are served by delivery slots), a slot outside the point's hours (its
/// drop would find the point shut), the point full in that slot.
pub fn point_refusal(
    point: Option<&PointRow>,
    kind: SlotKind,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    taken: i64,
) -> Option<Refusal> {
    let Some(p) = point.filter(|p| p.active) else {
        return Some(Refusal::new(ErrorCode::NotFound, "没有这个自提点 (no such pickup point)"));
    };
    if kind != SlotKind::Delivery {
        return Some(Refusal::field(
            "pickup_point_id",
            "自提点的订单请选择配送时段 (a pickup point is served by a delivery slot)",
        ));
    }
    let (opens, closes) = (hhmm(&p.opens).map(minute_of), hhmm(&p.closes).map(minute_of));
    let fits = match (opens, closes) {
        (Some(o), Some(c)) => minute_in_day(starts_at, starts_at) >= o && minute_in_day(ends_at, starts_at) <= c,
        _ => false,
    };
    if !fits {
        return Some(Refusal::field(
            "pickup_point_id",
            &format!(
                "{}开放时间{}-{}，这个时段送不到 (the point is open {}-{})",
                p.name, p.opens, p.closes, p.opens, p.closes
            ),
        ));
    }
    if taken >= p.capacity {
        return Some(Refusal::new(
            ErrorCode::SlotFull,
            format!("{}这个时段已约满，请选其他时段或自提点 (this point is full in this slot)", p.name),
        ));
    }
    None
}

/// Until when an order dropped at a point waits there: the point's closing time on its slot's
/// day (Shanghai).
pub fn collect_by(closes: &str, slot_starts_at: DateTime<Utc>) -> DateTime<Utc> {
    let day = slot_starts_at.with_timezone(&shanghai_offset()).date_naive();
    let at = day.and_time(hhmm(closes).unwrap_or(NaiveTime::MIN));
    shanghai_offset().from_local_datetime(&at).single().map_or(slot_starts_at, |t| t.with_timezone(&Utc))
}

/// The batch's volunteer drops a point's batch at the point: the orders it carries wait there
/// for their households; the round is done.
pub fn decide_drop(batch: Option<&BatchSnapshot>, point: Option<i64>, volunteer: i64) -> Result<Vec<i64>, Refusal> {
    let b = batch.ok_or_else(|| Refusal::new(ErrorCode::NotFound, "没有这个配送批次 (no such batch)"))?;
    if b.volunteer_id != Some(volunteer) {
        return Err(Refusal::new(ErrorCode::Forbidden, "这一批不是您认领的 (you did not claim this batch)"));
    }
    if point.is_none() {
        return Err(Refusal::new(
            ErrorCode::WrongState,
            "这一批送到各家门口，不送自提点 (this batch goes to the doors, not to a pickup point)",
        ));
    }
    if b.status() != BatchStatus::Out {
        return Err(Refusal::new(
            ErrorCode::WrongState,
            format!("这一批是{}，取货后才能送到自提点 (the batch is {})", b.status().as_str(), b.status().as_str()),
        ));
    }
    Ok(b.orders.iter().filter(|(_, s)| *s == OrderStatus::OutForDelivery).map(|(id, _)| *id).collect())
}

/// An order waiting at a point, as the market's clock finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtPoint {
    pub status: OrderStatus,
    pub collect_by: DateTime<Utc>,
    /// Kept a day once already.
    pub kept: bool,
    pub rule: Uncollected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UncollectedStep {
    /// Kept at the point until then; the household is told.
    KeepUntil(DateTime<Utc>),
    /// Back to the market's stock, its money refunded; the household is told.
    Return,
}

/// An order nobody collected by its time: kept one more day when the point keeps them (once),
/// else returned. An order collected meanwhile, or not yet due, is left alone.
pub fn decide_uncollected(o: &AtPoint, now: DateTime<Utc>) -> Option<UncollectedStep> {
    if o.status != OrderStatus::OutForDelivery || now < o.collect_by {
        return None;
    }
    Some(match (o.rule, o.kept) {
        (Uncollected::KeepDay, false) => UncollectedStep::KeepUntil(o.collect_by + Duration::days(1)),
        _ => UncollectedStep::Return,
    })
}

/// What the household is told when its order is dropped at the point: title and text.
pub fn arrival_words(order_id: i64, point: &str, until: DateTime<Utc>) -> (String, String) {
    (
        "已到自提点".to_owned(),
        format!(
            "订单 {order_id} 已送到{point}，请在 {} 前凭收货码取货。",
            until.with_timezone(&shanghai_offset()).format("%m-%d %H:%M")
        ),
    )
}

/// What the household is told of an uncollected order: title and text.
pub fn uncollected_words(order_id: i64, point: &str, step: UncollectedStep) -> (String, String) {
    match step {
        UncollectedStep::KeepUntil(until) => (
            "自提点订单未取".to_owned(),
            format!(
                "订单 {order_id} 在{point}还没有取走，为您保留到 {}，请凭收货码尽快取货。",
                until.with_timezone(&shanghai_offset()).format("%m-%d %H:%M")
            ),
        ),
        UncollectedStep::Return => (
            "自提点订单已退回".to_owned(),
            format!("订单 {order_id} 没有在{point}取走，已退回菜场；已付的钱会原路退回。"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(opens: &str, closes: &str, capacity: i64) -> PointRow {
        PointRow {
            market_id: shared::MarketId::FIRST,
            id: 1,
            name: "阳光花园自提点".into(),
            address: "阳光花园3号楼架空层".into(),
            opens: opens.into(),
            closes: closes.into(),
            capacity,
            active: true,
        }
    }

    /// 2026-12-08 at `h`:00 Shanghai.
    fn at(h: i64) -> DateTime<Utc> {
        let start = crate::domain::time::shanghai_day("2026-12-08").map(|d| d.0).unwrap_or_default();
        start + Duration::hours(h)
    }

    fn code(r: Option<Refusal>) -> Option<ErrorCode> {
        r.map(|r| r.code)
    }

    #[test]
    fn a_point_takes_orders_of_delivery_slots_inside_its_hours_up_to_its_capacity() {
        let p = point("08:00", "20:00", 2);
        assert_eq!(code(point_refusal(Some(&p), SlotKind::Delivery, at(16), at(18), 0)), None);
        assert_eq!(code(point_refusal(Some(&p), SlotKind::Delivery, at(18), at(20), 1)), None);
        assert_eq!(code(point_refusal(Some(&p), SlotKind::Delivery, at(16), at(18), 2)), Some(ErrorCode::SlotFull));
        assert_eq!(code(point_refusal(Some(&p), SlotKind::Delivery, at(19), at(21), 0)), Some(ErrorCode::InvalidField));
        assert_eq!(code(point_refusal(Some(&p), SlotKind::Delivery, at(6), at(8), 0)), Some(ErrorCode::InvalidField));
        // An evening slot to midnight does not fit a point that closes at 23:00.
        let late = point("08:00", "23:00", 5);
        assert_eq!(
            code(point_refusal(Some(&late), SlotKind::Delivery, at(22), at(24), 0)),
            Some(ErrorCode::InvalidField)
        );
        assert_eq!(code(point_refusal(Some(&p), SlotKind::Pickup, at(16), at(18), 0)), Some(ErrorCode::InvalidField));
        assert_eq!(code(point_refusal(None, SlotKind::Delivery, at(16), at(18), 0)), Some(ErrorCode::NotFound));
        let closed = PointRow { active: false, ..p };
        assert_eq!(
            code(point_refusal(Some(&closed), SlotKind::Delivery, at(16), at(18), 0)),
            Some(ErrorCode::NotFound)
        );
    }

    #[test]
    fn an_order_waits_until_the_point_closes_on_its_slot_s_day() {
        assert_eq!(collect_by("20:00", at(16)), at(20));
        assert_eq!(collect_by("08:30", at(7)), at(8) + Duration::minutes(30));
    }

    #[test]
    fn a_point_is_checked_and_trimmed() {
        let good = NewPickupPoint {
            name: " 阳光花园自提点 ".into(),
            address: "阳光花园3号楼架空层".into(),
            opens: "8:00".into(),
            closes: "20:00".into(),
            capacity: 50,
            keeper_phone: Some(" ".into()),
            uncollected: Uncollected::Return,
            active: true,
        };
        assert!(check_point(&good).is_err(), "8:00 is not HH:MM");
        let ok = check_point(&NewPickupPoint { opens: "08:00".into(), ..good.clone() }).map_err(|r| r.message);
        let ok = ok.unwrap_or_else(|m| panic!("{m}"));
        assert_eq!((ok.name.as_str(), ok.keeper_phone), ("阳光花园自提点", None));
        for bad in [
            NewPickupPoint { opens: "20:00".into(), ..good.clone() },
            NewPickupPoint { opens: "08:00".into(), capacity: 0, ..good.clone() },
            NewPickupPoint { opens: "08:00".into(), name: "".into(), ..good.clone() },
            NewPickupPoint { opens: "08:00".into(), closes: "25:00".into(), ..good.clone() },
            NewPickupPoint { opens: "08:00".into(), keeper_phone: Some("12345".into()), ..good.clone() },
        ] {
            assert_eq!(check_point(&bad).map_err(|r| r.code).err(), Some(ErrorCode::InvalidField), "{bad:?}");
        }
    }

    #[test]
    fn only_the_volunteer_of_an_out_batch_to_a_point_drops_it() {
        let b = |stored: &str| BatchSnapshot {
            id: 1,
            stored: stored.into(),
            volunteer_id: Some(7),
            orders: vec![(1, OrderStatus::OutForDelivery), (2, OrderStatus::Delivered)],
        };
        assert_eq!(decide_drop(Some(&b("out")), Some(3), 7), Ok(vec![1]));
        let code = |r: Result<Vec<i64>, Refusal>| r.map_err(|e| e.code).err();
        assert_eq!(code(decide_drop(Some(&b("out")), Some(3), 8)), Some(ErrorCode::Forbidden));
        assert_eq!(code(decide_drop(Some(&b("out")), None, 7)), Some(ErrorCode::WrongState));
        assert_eq!(code(decide_drop(Some(&b("claimed")), Some(3), 7)), Some(ErrorCode::WrongState));
        assert_eq!(code(decide_drop(None, Some(3), 7)), Some(ErrorCode::NotFound));
    }

    #[test]
    fn an_uncollected_order_is_kept_a_day_once_or_returned() {
        let o = AtPoint {
            status: OrderStatus::OutForDelivery,
            collect_by: at(20),
            kept: false,
            rule: Uncollected::KeepDay,
        };
        assert_eq!(decide_uncollected(&o, at(19)), None);
        assert_eq!(decide_uncollected(&o, at(20)), Some(UncollectedStep::KeepUntil(at(44))));
        let kept = AtPoint { kept: true, collect_by: at(44), ..o.clone() };
        assert_eq!(decide_uncollected(&kept, at(45)), Some(UncollectedStep::Return));
        let returns = AtPoint { rule: Uncollected::Return, ..o.clone() };
        assert_eq!(decide_uncollected(&returns, at(21)), Some(UncollectedStep::Return));
        let collected = AtPoint { status: OrderStatus::Delivered, ..o };
        assert_eq!(decide_uncollected(&collected, at(30)), None);
    }
}
