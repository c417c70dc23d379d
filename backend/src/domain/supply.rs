//! Producers and purchase orders (产销对接): what a producer may offer, what a stall may order
//! of an offer until the producer's cut-off, and the supply plan that shows a shortage before it
//! happens. The store loads and locks the rows; these decide.

use super::time::{shanghai_day, shanghai_today_start};
use super::Refusal;
use chrono::{DateTime, Duration, Utc};
use shared::api::{NewOffer, NewProducer, SupplyPlanRow};
use shared::{ErrorCode, Phone};

/// Orders for a day close at this hour of the day before, unless the producer says otherwise.
pub const DEFAULT_CUTOFF_HOUR: i64 = 20;
/// An offer names at most this many delivery days, at most this far ahead.
pub const MAX_OFFER_DAYS: usize = 31;
pub const MAX_DAYS_AHEAD: i64 = 62;
/// The most of one thing an offer or a purchase line carries (a lorry's worth in 斤).
pub const MAX_QUANTITY: i64 = 1_000_000;

fn text(field: &str, value: &str, max: usize) -> Result<String, Refusal> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Refusal::field(field, "不能为空 (required)"));
    }
    if value.chars().count() > max {
        return Err(Refusal::field(field, &format!("最多{max}个字 (at most {max} characters)")));
    }
    Ok(value.to_owned())
}

/// A producer as staff add it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedProducer {
    pub name: String,
    pub origin: String,
    pub contact: String,
    pub cutoff_hour: i64,
    pub phone: Phone,
}

pub fn check_producer(p: &NewProducer) -> Result<CheckedProducer, Refusal> {
    let cutoff_hour = p.cutoff_hour.unwrap_or(DEFAULT_CUTOFF_HOUR);
    if !(0..=23).contains(&cutoff_hour) {
        return Err(Refusal::field("cutoff_hour", "0–23 (the hour of the day before delivery)"));
    }
    let phone = Phone::parse(&p.phone)
        .map_err(|_| Refusal::new(ErrorCode::InvalidPhone, "phone: 请输入11位手机号 (a mainland mobile number)"))?;
    Ok(CheckedProducer {
        name: text("name", &p.name, 60)?,
        origin: text("origin", &p.origin, 40)?,
        contact: text("contact", &p.contact, 40)?,
        cutoff_hour,
        phone,
    })
}

/// When orders for `day` (`YYYY-MM-DD`) close: `cutoff_hour` o'clock (Shanghai) the day before.
pub fn cutoff_at(day: &str, cutoff_hour: i64) -> Result<DateTime<Utc>, String> {
    let (start, _) = shanghai_day(day)?;
    Ok(start - Duration::days(1) + Duration::hours(cutoff_hour.clamp(0, 23)))
}

/// An offer as a producer publishes it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOffer {
    pub product: String,
    pub quantity: i64,
    pub unit: String,
    pub price_fen: i64,
    pub origin: String,
    /// Distinct, in order.
    pub days: Vec<String>,
}

/// A producer offers a good for delivery days still open to orders: each day a real date whose
/// cut-off has not passed, at most `MAX_DAYS_AHEAD` ahead; the origin is the producer's unless
/// given.
pub fn check_offer(
    o: &NewOffer,
    producer_origin: &str,
    cutoff_hour: i64,
    now: DateTime<Utc>,
) -> Result<CheckedOffer, Refusal> {
    let product = text("product", &o.product, 40)?;
    let unit = text("unit", &o.unit, 8)?;
    if !(1..=MAX_QUANTITY).contains(&o.quantity) {
        return Err(Refusal::field("quantity", &format!("1–{MAX_QUANTITY}")));
    }
    if shared::Fen::price(o.price_fen).is_err() {
        return Err(Refusal::field("price_fen", "0 or more fen, at most ¥1,000,000"));
    }
    let origin = match o.origin.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(given) => text("origin", given, 40)?,
        None => producer_origin.to_owned(),
    };
    if o.days.is_empty() || o.days.len() > MAX_OFFER_DAYS {
        return Err(Refusal::field("days", &format!("1–{MAX_OFFER_DAYS} delivery days")));
    }
    let last = shanghai_today_start(now) + Duration::days(MAX_DAYS_AHEAD);
    let mut days: Vec<String> = Vec::new();
    for day in &o.days {
        let day = day.trim();
        let (start, _) = shanghai_day(day).map_err(|e| Refusal::field("days", &e))?;
        let closes = cutoff_at(day, cutoff_hour).map_err(|e| Refusal::field("days", &e))?;
        if closes <= now {
            return Err(Refusal::field("days", &format!("{day}: 已过截单时间 (its cut-off has passed)")));
        }
        if start > last {
            return Err(Refusal::field("days", &format!("{day}: at most {MAX_DAYS_AHEAD} days ahead")));
        }
        if !days.iter().any(|d| d == day) {
            days.push(day.to_owned());
        }
    }
    days.sort();
    Ok(CheckedOffer { product, quantity: o.quantity, unit, price_fen: o.price_fen, origin, days })
}

/// Whether a day's purchase order is closed at `now`: its cut-off has passed (the producer is
/// then told what to deliver; the lines no longer change).
pub fn closed(day: &str, cutoff_hour: i64, now: DateTime<Utc>) -> bool {
    cutoff_at(day, cutoff_hour).is_ok_and(|at| at <= now)
}

/// What a stall's order of an offer for a day needs to know, as the store loaded (and locked) it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseFacts {
    pub offer_product: String,
    pub offer_unit: String,
    /// What the offer can deliver that day, and what all stalls ordered of it.
    pub offer_quantity: i64,
    pub ordered: i64,
    pub withdrawn: bool,
    pub cutoff_at: DateTime<Utc>,
    /// The stall's line as it is (0: none).
    pub mine: i64,
    /// The stall's good the line is for: (id, unit), when the stall has it.
    pub product: Option<(i64, String)>,
}

/// What to write: the stall's line becomes `quantity` (0: removed), the day's ordered total
/// becomes `ordered`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurchaseChange {
    pub product_id: i64,
    pub quantity: i64,
    pub ordered: i64,
}

/// A stall sets how much it wants of an offer on a day: before the producer's cut-off, for one
/// of its own goods sold by the offer's unit, within what the offer can deliver that day; a
/// withdrawn offer may only be ordered less of.
pub fn decide_purchase(f: &PurchaseFacts, quantity: i64, now: DateTime<Utc>) -> Result<PurchaseChange, Refusal> {
    if !(0..=MAX_QUANTITY).contains(&quantity) {
        return Err(Refusal::field("quantity", &format!("0–{MAX_QUANTITY} (0 takes the line away)")));
    }
    if now >= f.cutoff_at {
        return Err(Refusal::new(
            ErrorCode::WrongState,
            format!("{}：已过截单时间 (the producer's cut-off has passed)", f.offer_product),
        ));
    }
    let Some((product_id, unit)) = f.product.as_ref() else {
        return Err(Refusal::field(
            "product_id",
            &format!("您的摊位没有“{}”：请选您要上架的商品 (name which of your goods this is for)", f.offer_product),
        ));
    };
    if *unit != f.offer_unit {
        return Err(Refusal::field(
            "product_id",
            &format!("单位不同：供货按{}，您的商品按{} (the offer's unit is not your good's)", f.offer_unit, unit),
        ));
    }
    if f.withdrawn && quantity > f.mine {
        return Err(Refusal::new(
            ErrorCode::WrongState,
            format!("{}：供货方已撤下 (the offer was withdrawn)", f.offer_product),
        ));
    }
    let ordered = f.ordered - f.mine + quantity;
    if quantity > f.mine && ordered > f.offer_quantity {
        let left = (f.offer_quantity - (f.ordered - f.mine)).max(0);
        return Err(Refusal::new(
            ErrorCode::OutOfStock,
            format!("{}：当天只剩{left}{} (only {left} left that day)", f.offer_product, f.offer_unit),
        ));
    }
    Ok(PurchaseChange { product_id: *product_id, quantity, ordered })
}

/// The supply plan: a product is short when its stock and what is on order would not cover
/// another day of the demand it has (what is ordered is set aside from stock already). Shortest
/// first, then by stall and product.
pub fn plan(mut rows: Vec<SupplyPlanRow>) -> Vec<SupplyPlanRow> {
    for r in &mut rows {
        let demand = r.ordered + r.group_buy;
        r.short = demand > 0 && r.stock + r.on_order < demand;
    }
    let gap = |r: &SupplyPlanRow| (r.ordered + r.group_buy) - (r.stock + r.on_order);
    rows.sort_by(|a, b| {
        b.short
            .cmp(&a.short)
            .then(gap(b).cmp(&gap(a)))
            .then(a.stall_no.cmp(&b.stall_no))
            .then(a.product_id.cmp(&b.product_id))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc.timestamp_opt(0, 0).unwrap())
    }

    fn facts() -> PurchaseFacts {
        PurchaseFacts {
            offer_product: "大白菜".into(),
            offer_unit: "斤".into(),
            offer_quantity: 500,
            ordered: 300,
            withdrawn: false,
            cutoff_at: at("2026-12-07T20:00:00+08:00"),
            mine: 100,
            product: Some((7, "斤".into())),
        }
    }

    #[test]
    fn orders_close_the_evening_before() {
        assert_eq!(cutoff_at("2026-12-08", 20), Ok(at("2026-12-07T20:00:00+08:00")));
        assert_eq!(cutoff_at("2026-12-08", 0), Ok(at("2026-12-07T00:00:00+08:00")));
        assert!(cutoff_at("2026-13-01", 20).is_err());
    }

    #[test]
    fn a_purchase_order_closes_at_the_cutoff() {
        assert!(!closed("2026-12-08", 20, at("2026-12-07T19:59:59+08:00")));
        assert!(closed("2026-12-08", 20, at("2026-12-07T20:00:00+08:00")));
        assert!(!closed("not a day", 20, at("2026-12-07T20:00:00+08:00")));
    }

    #[test]
    fn a_stall_orders_within_the_day_until_the_cutoff() {
        let now = at("2026-12-07T19:59:00+08:00");
        let f = facts();
        assert_eq!(decide_purchase(&f, 300, now), Ok(PurchaseChange { product_id: 7, quantity: 300, ordered: 500 }));
        assert_eq!(decide_purchase(&f, 0, now).map(|c| c.ordered), Ok(200), "0 takes the line away");
        let over = decide_purchase(&f, 301, now).map_err(|r| r.code);
        assert_eq!(over, Err(ErrorCode::OutOfStock), "only 200 more were left");
        let late = decide_purchase(&f, 50, at("2026-12-07T20:00:00+08:00")).map_err(|r| r.code);
        assert_eq!(late, Err(ErrorCode::WrongState));
        assert!(decide_purchase(&f, -1, now).is_err());
    }

    #[test]
    fn less_of_a_full_or_withdrawn_offer_is_fine_more_is_not() {
        let now = at("2026-12-07T08:00:00+08:00");
        let full = PurchaseFacts { ordered: 600, ..facts() };
        assert_eq!(decide_purchase(&full, 50, now).map(|c| c.ordered), Ok(550), "the offer shrank: less is fine");
        let gone = PurchaseFacts { withdrawn: true, ..facts() };
        assert_eq!(decide_purchase(&gone, 80, now).map(|c| c.quantity), Ok(80));
        assert_eq!(decide_purchase(&gone, 120, now).map_err(|r| r.code), Err(ErrorCode::WrongState));
    }

    #[test]
    fn the_line_is_for_a_good_of_the_stall_sold_by_the_same_unit() {
        let now = at("2026-12-07T08:00:00+08:00");
        let none = PurchaseFacts { product: None, ..facts() };
        assert!(decide_purchase(&none, 10, now).is_err_and(|r| r.message.starts_with("product_id")));
        let boxed = PurchaseFacts { product: Some((7, "箱".into())), ..facts() };
        assert!(decide_purchase(&boxed, 10, now).is_err_and(|r| r.message.contains("单位")));
    }

    #[test]
    fn offers_are_for_days_still_open() {
        let now = at("2026-12-07T21:00:00+08:00");
        let offer = |days: &[&str]| NewOffer {
            product: " 大白菜 ".into(),
            quantity: 500,
            unit: "斤".into(),
            price_fen: 80,
            origin: None,
            days: days.iter().map(|d| d.to_string()).collect(),
        };
        let ok =
            check_offer(&offer(&["2026-12-10", "2026-12-09", "2026-12-10"]), "山东寿光", 20, now).expect("open days");
        assert_eq!((ok.product.as_str(), ok.origin.as_str()), ("大白菜", "山东寿光"));
        assert_eq!(ok.days, vec!["2026-12-09", "2026-12-10"]);
        assert!(check_offer(&offer(&["2026-12-08"]), "", 20, now).is_err(), "tomorrow closed at 20:00");
        assert!(check_offer(&offer(&["2026-12-08"]), "", 22, now).is_ok(), "a later cut-off");
        assert!(check_offer(&offer(&[]), "", 20, now).is_err());
        assert!(check_offer(&offer(&["2027-03-01"]), "", 20, now).is_err(), "too far ahead");
        assert!(check_offer(&offer(&["12/09"]), "", 20, now).is_err());
        assert!(check_offer(&NewOffer { quantity: 0, ..offer(&["2026-12-09"]) }, "", 20, now).is_err());
        assert!(check_offer(&NewOffer { unit: " ".into(), ..offer(&["2026-12-09"]) }, "", 20, now).is_err());
    }

    #[test]
    fn a_product_is_short_when_stock_and_orders_would_not_cover_another_day() {
        let row = |id: i64, ordered: i64, stock: i64, on_order: i64| SupplyPlanRow {
            product_id: shared::ProductId(id),
            product_name: format!("p{id}"),
            unit: "斤".into(),
            vendor_id: 1,
            stall_no: "A01".into(),
            vendor_name: "老王蔬菜".into(),
            ordered,
            group_buy: 0,
            stock,
            on_order,
            short: false,
        };
        let rows = plan(vec![row(1, 10, 50, 0), row(2, 40, 5, 10), row(3, 0, 0, 0), row(4, 30, 0, 0)]);
        let order: Vec<(i64, bool)> = rows.iter().map(|r| (r.product_id.0, r.short)).collect();
        assert_eq!(order, vec![(4, true), (2, true), (3, false), (1, false)]);
    }
}
