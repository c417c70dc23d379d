//! An order as the market keeps it, how it is shown, and the rules that end it early: a
//! resident's cancel and the expiry of an unpaid order. Both give back the slot place and the
//! stock, decided here over a snapshot of the rows the store has locked.

use super::time::to_api;
use chrono::{DateTime, Utc};
use shared::api::{Address, Order, OrderEvent, OrderLine, OrderPart};
use shared::order::{OrderStatus, Payment, SlotKind};
use shared::{Fen, GroupBuyId, HouseholdId, OrderId, ProductId, SlotId};
use std::collections::BTreeMap;

pub use shared::order::PART_PENDING;

/// One order with everything shown about it: the one source of the order's JSON, for a new
/// order's answer and for every later read.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRecord {
    pub id: OrderId,
    pub user_id: i64,
    pub status: OrderStatus,
    pub payment: Payment,
    pub total_fen: Fen,
    pub slot_id: SlotId,
    pub slot_kind: SlotKind,
    pub slot_starts_at: DateTime<Utc>,
    pub slot_ends_at: DateTime<Utc>,
    pub address: Option<Address>,
    pub note: Option<String>,
    pub handoff_code: String,
    /// The place was taken from the priority reserve.
    pub priority_booking: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// In (vendor, product) order.
    pub lines: Vec<LineRecord>,
    /// In vendor order.
    pub parts: Vec<PartRecord>,
    /// Oldest first.
    pub timeline: Vec<(OrderStatus, DateTime<Utc>)>,
    /// Set when the order is a household's share of a confirmed group-buy.
    pub group_buy: Option<GroupBuyOrigin>,
    /// Nobody was home: left at the door, with the volunteer's note.
    pub left_at_door: Option<String>,
    /// Left at the door with a photo of it.
    pub door_photo: bool,
    /// Paid by the donation pool.
    pub paid_by_donations: bool,
    /// The standing order (常购) that placed it.
    pub standing_order_id: Option<i64>,
    /// Collected at this pickup point, not at the door.
    pub pickup_point: Option<shared::api::PointPlace>,
    /// Dropped at the point then, to be collected by `collect_by`.
    pub at_point_at: Option<DateTime<Utc>>,
    pub collect_by: Option<DateTime<Utc>>,
}

/// Where a group-buy order came from: the group-buy, the household whose share it is, and who
/// placed the share on the household's behalf (代下单), if someone did.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupBuyOrigin {
    pub group_buy_id: GroupBuyId,
    pub household_id: HouseholdId,
    pub placed_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct LineRecord {
    pub product_id: ProductId,
    pub vendor_id: i64,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    pub price_fen: Fen,
    /// What the stall could not supply of it (confirmed with shortages).
    pub short: i64,
}

impl LineRecord {
    /// What is paid for the line: what comes of it.
    pub fn total(&self) -> Fen {
        self.price_fen.times(self.quantity - self.short)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PartRecord {
    pub vendor_id: i64,
    pub vendor_name: String,
    pub status: String,
    pub subtotal_fen: Fen,
}

impl OrderRecord {
    /// The order as the API shows it to its owner (with the hand-off code).
    pub fn to_api(&self) -> Order {
        Order {
            id: self.id,
            status: self.status,
            total_fen: self.total_fen,
            slot_id: self.slot_id,
            slot_kind: self.slot_kind,
            slot_starts_at: to_api(self.slot_starts_at),
            slot_ends_at: to_api(self.slot_ends_at),
            payment: self.payment,
            address: self.address.clone(),
            note: self.note.clone(),
            created_at: to_api(self.created_at),
            expires_at: self.expires_at.map(to_api),
            handoff_code: Some(self.handoff_code.clone()),
            handoff_qr: None,
            to_gate: false,
            refunds: Vec::new(),
            items: self
                .lines
                .iter()
                .map(|l| OrderLine {
                    product_id: l.product_id,
                    vendor_id: l.vendor_id,
                    name: l.name.clone(),
                    unit: l.unit.clone(),
                    quantity: l.quantity,
                    price_fen: l.price_fen,
                    line_total_fen: l.total(),
                    short_quantity: l.short,
                    photo: None,
                })
                .collect(),
            parts: self
                .parts
                .iter()
                .map(|p| OrderPart {
                    vendor_id: p.vendor_id,
                    vendor_name: p.vendor_name.clone(),
                    status: p.status.clone(),
                    subtotal_fen: p.subtotal_fen,
                })
                .collect(),
            timeline: self
                .timeline
                .iter()
                .map(|(status, at)| OrderEvent { status: *status, at: to_api(*at) })
                .collect(),
            group_buy_id: self.group_buy.as_ref().map(|g| g.group_buy_id),
            placed_by: self.group_buy.as_ref().and_then(|g| g.placed_by.clone()),
            left_at_door: self.left_at_door.clone(),
            door_photo: self.door_photo,
            paid_by_donations: self.paid_by_donations,
            standing_order_id: self.standing_order_id,
            pickup_point_id: self.pickup_point.as_ref().map(|p| p.id),
            pickup_point: self.pickup_point.clone(),
            at_point_at: self.at_point_at.map(to_api),
            collect_by: self.collect_by.map(to_api),
        }
    }

    /// The order's JSON, exactly as it is kept as an Idempotency-Key's answer.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_api()).unwrap_or_default()
    }
}

/// One part per stall, with its subtotal, from lines in (vendor, product) order.
pub fn parts_of(lines: &[LineRecord], vendor_names: impl Fn(i64) -> String) -> Vec<PartRecord> {
    let mut subtotals: BTreeMap<i64, Fen> = BTreeMap::new();
    for l in lines {
        let subtotal = subtotals.entry(l.vendor_id).or_default();
        *subtotal = *subtotal + l.total();
    }
    subtotals
        .into_iter()
        .map(|(vendor_id, subtotal_fen)| PartRecord {
            vendor_id,
            vendor_name: vendor_names(vendor_id),
            status: PART_PENDING.to_owned(),
            subtotal_fen,
        })
        .collect()
}

// ---------- ending an order early: cancel and expiry ----------

/// What the store loads (and locks: the order, then its slot, then its products in id order,
/// the order checkout locks them in) to end an order.
#[derive(Debug, Clone, PartialEq)]
pub struct EndingSnapshot {
    pub order_id: OrderId,
    pub user_id: i64,
    pub status: OrderStatus,
    pub expires_at: Option<DateTime<Utc>>,
    /// What the resident owes (or, paid, paid).
    pub total_fen: i64,
    /// Every stall part's status.
    pub part_statuses: Vec<String>,
    pub priority_booking: bool,
    pub slot_id: SlotId,
    pub slot_booked: i64,
    pub slot_priority_booked: i64,
    /// (product, quantity ordered, stock now), in product order.
    pub lines: Vec<(ProductId, i64, i64)>,
}

/// The rows an ended order changes, with their new values.
#[derive(Debug, Clone, PartialEq)]
pub struct GiveBack {
    pub order_id: OrderId,
    /// `cancelled` or `expired`.
    pub status: OrderStatus,
    pub slot_id: SlotId,
    pub slot_booked: i64,
    pub slot_priority_booked: i64,
    /// (product, new stock)
    pub stock: Vec<(ProductId, i64)>,
    pub at: DateTime<Utc>,
    /// Who ended it; none for the market's own expiry.
    pub by_user: Option<i64>,
    /// A paid order's money, owed back in full (a refund recorded with the cancel).
    pub refund_fen: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CancelDecision {
    Cancel(GiveBack),
    /// Not the caller's order (or no order at all): they must not learn which.
    NotFound,
    NotCancellable(OrderStatus),
}

/// A resident cancels their own order while shared's rule allows it (the storefront shows the
/// button by the same rule). A paid order is cancelled only with its refund, owed in full.
pub fn decide_cancel(order: Option<&EndingSnapshot>, caller: i64, now: DateTime<Utc>) -> CancelDecision {
    let Some(order) = order.filter(|o| o.user_id == caller) else {
        return CancelDecision::NotFound;
    };
    if !shared::order::resident_may_cancel(order.status, order.part_statuses.iter().map(String::as_str)) {
        return CancelDecision::NotCancellable(order.status);
    }
    CancelDecision::Cancel(give_back(order, OrderStatus::Cancelled, now, Some(caller)))
}

/// An order waiting for payment past its time expires; anything else (paid, cancelled meanwhile)
/// is left alone.
pub fn decide_expiry(order: &EndingSnapshot, now: DateTime<Utc>) -> Option<GiveBack> {
    let due = order.expires_at.is_some_and(|at| at <= now);
    (order.status == OrderStatus::PendingPayment && due).then(|| give_back(order, OrderStatus::Expired, now, None))
}

/// An order nobody collected from its pickup point goes back to the market: cancelled, what
/// came of its lines back in stock (`short`: (product, units the stall never supplied), written
/// off the stock ledger instead, returned in that list), its money owed back in full.
pub fn decide_return(
    order: &EndingSnapshot,
    short: &[(ProductId, i64)],
    now: DateTime<Utc>,
) -> (GiveBack, Vec<(ProductId, i64)>) {
    let short_of = |p: ProductId| short.iter().find(|(q, _)| *q == p).map_or(0, |(_, n)| *n);
    let mut back = give_back(order, OrderStatus::Cancelled, now, None);
    back.stock = order.lines.iter().map(|(p, quantity, stock)| (*p, stock + quantity - short_of(*p))).collect();
    back.refund_fen = (order.total_fen > 0).then_some(order.total_fen);
    let written_off = order.lines.iter().map(|(p, _, _)| (*p, short_of(*p))).filter(|(_, n)| *n > 0).collect();
    (back, written_off)
}

fn give_back(order: &EndingSnapshot, status: OrderStatus, at: DateTime<Utc>, by_user: Option<i64>) -> GiveBack {
    let priority_back = i64::from(order.priority_booking && order.slot_priority_booked > 0);
    GiveBack {
        order_id: order.order_id,
        status,
        slot_id: order.slot_id,
        slot_booked: (order.slot_booked - 1).max(0),
        slot_priority_booked: order.slot_priority_booked - priority_back,
        stock: order.lines.iter().map(|(product, quantity, stock)| (*product, stock + quantity)).collect(),
        at,
        by_user,
        refund_fen: (order.status == OrderStatus::Paid && order.total_fen > 0).then_some(order.total_fen),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(h * 3600, 0).unwrap_or_default()
    }

    fn ending(status: OrderStatus, parts: &[&str]) -> EndingSnapshot {
        EndingSnapshot {
            total_fen: 1_000,
            order_id: shared::OrderId(7),
            user_id: 1,
            status,
            expires_at: Some(at(2)),
            part_statuses: parts.iter().map(|s| (*s).to_owned()).collect(),
            priority_booking: true,
            slot_id: shared::SlotId(3),
            slot_booked: 5,
            slot_priority_booked: 2,
            lines: vec![(shared::ProductId(10), 2, 0), (shared::ProductId(11), 1, 40)],
        }
    }

    #[test]
    fn cancel_follows_the_shared_rule_and_gives_everything_back() {
        let o = ending(OrderStatus::Placed, &["pending", "pending"]);
        let CancelDecision::Cancel(g) = decide_cancel(Some(&o), 1, at(1)) else { panic!("cancellable") };
        assert_eq!((g.slot_booked, g.slot_priority_booked), (4, 1));
        assert_eq!(g.stock, vec![(shared::ProductId(10), 2), (shared::ProductId(11), 41)]);
        assert_eq!(g.status, OrderStatus::Cancelled);
        assert_eq!(g.by_user, Some(1));
        // Every status shared allows, and only those.
        for status in OrderStatus::ALL {
            let d = decide_cancel(Some(&ending(status, &["pending"])), 1, at(1));
            let allowed = shared::order::resident_may_cancel(status, ["pending"].into_iter());
            assert_eq!(matches!(d, CancelDecision::Cancel(_)), allowed, "{status:?}");
        }
        assert_eq!(decide_cancel(Some(&o), 2, at(1)), CancelDecision::NotFound);
        assert_eq!(decide_cancel(None, 1, at(1)), CancelDecision::NotFound);
        let confirmed_part = ending(OrderStatus::Placed, &["pending", "confirmed"]);
        assert_eq!(decide_cancel(Some(&confirmed_part), 1, at(1)), CancelDecision::NotCancellable(OrderStatus::Placed));
    }

    #[test]
    fn an_uncollected_order_returns_what_came_and_owes_back_what_was_paid() {
        let o = ending(OrderStatus::OutForDelivery, &["packed"]);
        let (g, off) = decide_return(&o, &[(shared::ProductId(11), 1)], at(5));
        assert_eq!(g.status, OrderStatus::Cancelled);
        assert_eq!(g.stock, vec![(shared::ProductId(10), 2), (shared::ProductId(11), 40)]);
        assert_eq!(off, vec![(shared::ProductId(11), 1)]);
        assert_eq!(g.refund_fen, Some(1_000));
        assert_eq!((g.slot_booked, g.by_user), (4, None));
    }

    #[test]
    fn only_an_unpaid_order_past_its_time_expires() {
        let o = ending(OrderStatus::PendingPayment, &["pending"]);
        assert_eq!(decide_expiry(&o, at(1)), None);
        let g = decide_expiry(&o, at(2)).expect("due");
        assert_eq!(g.status, OrderStatus::Expired);
        assert_eq!(g.by_user, None);
        assert_eq!(decide_expiry(&ending(OrderStatus::Paid, &["pending"]), at(3)), None);
        let mut plain = ending(OrderStatus::PendingPayment, &["pending"]);
        plain.priority_booking = false;
        assert_eq!(decide_expiry(&plain, at(3)).map(|g| g.slot_priority_booked), Some(2));
    }
}
