//! Orders and their life: the statuses an order passes through and which moves are allowed.
//! Server and storefront share these rules.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Waiting for WeChat payment; expires if unpaid.
    PendingPayment,
    /// Pay on delivery: placed and waiting for the stalls.
    Placed,
    Paid,
    /// Every stall in the order has confirmed it.
    Confirmed,
    Packed,
    OutForDelivery,
    Delivered,
    Cancelled,
    /// Not paid in time: stock and slot given back.
    Expired,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        OrderStatus::PendingPayment,
        OrderStatus::Placed,
        OrderStatus::Paid,
        OrderStatus::Confirmed,
        OrderStatus::Packed,
        OrderStatus::OutForDelivery,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Placed => "placed",
            OrderStatus::Paid => "paid",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Packed => "packed",
            OrderStatus::OutForDelivery => "out_for_delivery",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Finished one way or another: nothing more will happen.
    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Delivered | OrderStatus::Cancelled | OrderStatus::Expired)
    }

    /// The happy path, for drawing a timeline.
    pub fn progress() -> [OrderStatus; 6] {
        [
            OrderStatus::Placed,
            OrderStatus::Paid,
            OrderStatus::Confirmed,
            OrderStatus::Packed,
            OrderStatus::OutForDelivery,
            OrderStatus::Delivered,
        ]
    }
}

/// A stall's part of an order starts in this status; vendors move it on.
pub const PART_PENDING: &str = "pending";
/// The stall has seen the part and will supply it.
pub const PART_CONFIRMED: &str = "confirmed";
/// The stall has packed it for collection.
pub const PART_PACKED: &str = "packed";

/// A step a stall takes on its part of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartStep {
    Confirm,
    Pack,
}

/// Why a stall's step is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartStepRefused {
    /// The order is not one the stalls work on (waiting for payment, cancelled, expired, or gone
    /// further than the stalls' part).
    OrderNotActive(OrderStatus),
    /// The part is not where this step starts (confirming twice, packing before confirming).
    WrongStep,
}

/// The one rule for a stall's steps: a part is confirmed from `pending`, packed from
/// `confirmed`, only while the order is with the stalls (placed, paid, or confirmed by some of
/// them). Returns the part's new status.
pub fn part_step(order: OrderStatus, part: &str, step: PartStep) -> Result<&'static str, PartStepRefused> {
    // Confirmed: some stalls have confirmed (or all, and some are still packing).
    if !matches!(order, OrderStatus::Placed | OrderStatus::Paid | OrderStatus::Confirmed) {
        return Err(PartStepRefused::OrderNotActive(order));
    }
    match (step, part) {
        (PartStep::Confirm, PART_PENDING) => Ok(PART_CONFIRMED),
        (PartStep::Pack, PART_CONFIRMED) => Ok(PART_PACKED),
        _ => Err(PartStepRefused::WrongStep),
    }
}

/// The order's status once its parts are as given: confirmed when every stall has confirmed,
/// packed when every stall has packed; otherwise as it was.
pub fn order_status_for_parts<'a>(current: OrderStatus, parts: impl Iterator<Item = &'a str> + Clone) -> OrderStatus {
    let mut all = parts.clone().peekable();
    if all.peek().is_none() {
        return current;
    }
    if parts.clone().all(|p| p == PART_PACKED) {
        OrderStatus::Packed
    } else if parts.clone().all(|p| p == PART_CONFIRMED || p == PART_PACKED) {
        OrderStatus::Confirmed
    } else {
        current
    }
}

/// A resident may cancel their order until a stall has started on it: while it waits for
/// payment or for the stalls (a paid order's money goes back with the cancel), and no part of it
/// has left `pending`.
pub fn resident_may_cancel<'a>(status: OrderStatus, mut part_statuses: impl Iterator<Item = &'a str>) -> bool {
    matches!(status, OrderStatus::PendingPayment | OrderStatus::Placed | OrderStatus::Paid)
        && part_statuses.all(|s| s == PART_PENDING)
}

/// A resident may report a problem with an order once it has been delivered.
pub fn may_report_problem(status: OrderStatus) -> bool {
    status == OrderStatus::Delivered
}

/// What the QR code on the resident's order page says: the order and its hand-off code
/// (`FXS:123:456789`, upper case and digits so the code is small), so a volunteer's scan
/// fills in the right household's code, and a scan of another household's is caught.
pub fn handoff_qr_text(order_id: i64, code: &str) -> String {
    format!("FXS:{order_id}:{code}")
}

/// The order and code a scanned QR code names; None if it is not one of ours.
pub fn parse_handoff_qr(text: &str) -> Option<(i64, String)> {
    let mut parts = text.trim().strip_prefix("FXS:")?.splitn(2, ':');
    let order = parts.next()?.parse().ok()?;
    let code = parts.next()?;
    (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())).then(|| (order, code.to_owned()))
}

/// Wrong hand-off codes an order takes before it takes no more (until staff reset it).
pub const MAX_HANDOFF_ATTEMPTS: i64 = 5;

/// A delivery batch's life: `open` (its orders with the stalls: `waiting`, or `ready` once every
/// one is packed), `claimed` by a volunteer, `out` (picked up), `done` (every order handed over).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    Waiting,
    Ready,
    Claimed,
    Out,
    Done,
}

impl BatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Waiting => "waiting",
            BatchStatus::Ready => "ready",
            BatchStatus::Claimed => "claimed",
            BatchStatus::Out => "out",
            BatchStatus::Done => "done",
        }
    }

    /// An open batch's status from its orders' statuses: ready when there is at least one and
    /// every one is packed.
    pub fn of_open<'a>(mut orders: impl Iterator<Item = &'a OrderStatus> + Clone) -> BatchStatus {
        if orders.clone().next().is_some() && orders.all(|s| *s == OrderStatus::Packed) {
            BatchStatus::Ready
        } else {
            BatchStatus::Waiting
        }
    }
}

/// A room's floor from its number (`1203` is on 12, `502` on 5; a number of one or two digits
/// counts as the ground floor).
pub fn floor_of(room: &str) -> u32 {
    let digits: String = room.chars().filter(char::is_ascii_digit).collect();
    digits.get(..digits.len().saturating_sub(2)).and_then(|f| f.parse().ok()).unwrap_or(0)
}

/// A volunteer's way through a building: unit by unit, and in each unit from the top floor down
/// (up once in the lift or the stairs, then down door by door). `stops` are (unit, room).
pub fn stair_order(stops: &[(&str, &str)]) -> Vec<usize> {
    let unit = |u: &str| u.parse::<u32>().unwrap_or(u32::MAX);
    let mut order: Vec<usize> = (0..stops.len()).collect();
    order.sort_by_key(|&i| {
        let (u, r) = stops[i];
        (unit(u), u.to_owned(), std::cmp::Reverse(floor_of(r)), r.to_owned())
    });
    order
}

/// Quarantined, hardship and elderly households get the slots' priority reserve: the one rule,
/// for the server's checkout and the storefront's "places left for you".
pub fn is_priority(quarantined: bool, hardship: bool, elderly: bool) -> bool {
    quarantined || hardship || elderly
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Payment {
    Wechat,
    OnDelivery,
}

impl Payment {
    pub fn as_str(self) -> &'static str {
        match self {
            Payment::Wechat => "wechat",
            Payment::OnDelivery => "on_delivery",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "wechat" => Some(Payment::Wechat),
            "on_delivery" => Some(Payment::OnDelivery),
            _ => None,
        }
    }

    /// The status a new order starts in.
    pub fn initial_status(self) -> OrderStatus {
        match self {
            Payment::Wechat => OrderStatus::PendingPayment,
            Payment::OnDelivery => OrderStatus::Placed,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    Delivery,
    Pickup,
}

impl SlotKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SlotKind::Delivery => "delivery",
            SlotKind::Pickup => "pickup",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "delivery" => Some(SlotKind::Delivery),
            "pickup" => Some(SlotKind::Pickup),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn stairs_go_unit_by_unit_from_the_top_floor_down() {
        assert_eq!((floor_of("1203"), floor_of("502"), floor_of("12"), floor_of("B301")), (12, 5, 0, 3));
        let stops = [("2", "101"), ("1", "301"), ("1", "1102"), ("10", "201"), ("1", "302"), ("2", "601")];
        let order: Vec<(&str, &str)> = stair_order(&stops).into_iter().map(|i| stops[i]).collect();
        assert_eq!(order, [("1", "1102"), ("1", "301"), ("1", "302"), ("2", "601"), ("2", "101"), ("10", "201")]);
    }

    use super::*;

    #[test]
    fn a_handoff_qr_names_its_order_and_code() {
        let text = handoff_qr_text(123, "045678");
        assert_eq!(text, "FXS:123:045678");
        assert_eq!(parse_handoff_qr(&text), Some((123, "045678".to_owned())));
        assert_eq!(parse_handoff_qr(" FXS:7:000001\n"), Some((7, "000001".to_owned())));
        for bad in ["123456", "FXS:x:123456", "FXS:1:12345", "FXS:1:1234567", "FXS:1:12a456", "https://x/FXS:1:123456"]
        {
            assert_eq!(parse_handoff_qr(bad), None, "{bad}");
        }
    }

    #[test]
    fn stalls_confirm_then_pack_and_the_order_follows_all_its_parts() {
        assert_eq!(part_step(OrderStatus::Placed, PART_PENDING, PartStep::Confirm), Ok(PART_CONFIRMED));
        assert_eq!(part_step(OrderStatus::Paid, PART_CONFIRMED, PartStep::Pack), Ok(PART_PACKED));
        assert_eq!(part_step(OrderStatus::Placed, PART_PENDING, PartStep::Pack), Err(PartStepRefused::WrongStep));
        assert_eq!(
            part_step(OrderStatus::Confirmed, PART_CONFIRMED, PartStep::Confirm),
            Err(PartStepRefused::WrongStep)
        );
        assert_eq!(
            part_step(OrderStatus::PendingPayment, PART_PENDING, PartStep::Confirm),
            Err(PartStepRefused::OrderNotActive(OrderStatus::PendingPayment))
        );
        assert_eq!(
            part_step(OrderStatus::Cancelled, PART_PENDING, PartStep::Confirm),
            Err(PartStepRefused::OrderNotActive(OrderStatus::Cancelled))
        );
        let parts = [PART_CONFIRMED, PART_PENDING];
        assert_eq!(order_status_for_parts(OrderStatus::Placed, parts.iter().copied()), OrderStatus::Placed);
        let parts = [PART_CONFIRMED, PART_PACKED];
        assert_eq!(order_status_for_parts(OrderStatus::Placed, parts.iter().copied()), OrderStatus::Confirmed);
        let parts = [PART_PACKED, PART_PACKED];
        assert_eq!(order_status_for_parts(OrderStatus::Confirmed, parts.iter().copied()), OrderStatus::Packed);
    }

    #[test]
    fn statuses_round_trip_and_cancel_rules() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        let pending = || ["pending", "pending"].into_iter();
        assert!(resident_may_cancel(OrderStatus::Placed, pending()));
        assert!(resident_may_cancel(OrderStatus::Paid, pending()));
        assert!(!resident_may_cancel(OrderStatus::Confirmed, pending()));
        assert!(!resident_may_cancel(OrderStatus::Expired, pending()));
        assert!(!resident_may_cancel(OrderStatus::Placed, ["pending", "confirmed"].into_iter()));
        assert_eq!(Payment::Wechat.initial_status(), OrderStatus::PendingPayment);
        assert_eq!(Payment::OnDelivery.initial_status(), OrderStatus::Placed);
    }
}
