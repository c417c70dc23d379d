//! The donation pool (爱心捐助), decided once: what a gift is worth, whether an order may be paid
//! by the pool and which gifts pay it (the oldest first), and where money coming back goes (to
//! the gifts that paid it). The store loads and locks the pool, calls these and writes what they
//! say; the pool's balance is always the sum of what is left of the gifts, never below zero.

use shared::order::OrderStatus;
use shared::{ErrorCode, Fen};

use super::Refusal;

/// A gift of money: at least ¥1, at most ¥100,000 at once.
pub const MIN_GIFT_FEN: i64 = 100;
pub const MAX_GIFT_FEN: i64 = 10_000_000;
/// At most this many 菜盒子 in one gift.
pub const MAX_GIFT_BOXES: i64 = 500;

/// What someone offers: money, or boxes of a 菜盒子 product at its price now.
#[derive(Debug, Clone, PartialEq)]
pub enum Offer {
    Money(i64),
    Boxes { boxes: i64, box_price: Option<Fen> },
}

/// What a gift is worth in fen, or which field is wrong. `box_price` is the price of the box
/// product named, None if it is not a 菜盒子 on sale.
pub fn gift_amount(offer: &Offer) -> Result<Fen, Refusal> {
    match *offer {
        Offer::Money(fen) if (MIN_GIFT_FEN..=MAX_GIFT_FEN).contains(&fen) => Ok(Fen::stored(fen)),
        Offer::Money(_) => Err(Refusal::field("amount_fen", "捐款须在 1 元到 10 万元之间 (between ¥1 and ¥100,000)")),
        Offer::Boxes { boxes, .. } if !(1..=MAX_GIFT_BOXES).contains(&boxes) => {
            Err(Refusal::field("boxes", "菜盒子数量须在 1 到 500 之间 (1 to 500 boxes)"))
        }
        Offer::Boxes { box_price: None, .. } => {
            Err(Refusal::field("product_id", "不是在售的菜盒子 (not a 菜盒子 on sale)"))
        }
        Offer::Boxes { boxes, box_price: Some(price) } => Ok(price.times(boxes)),
    }
}

/// An order staff want the pool to pay, with the pool as locked.
#[derive(Debug, Clone, PartialEq)]
pub struct AllocationSnapshot {
    pub order_id: i64,
    pub status: OrderStatus,
    /// An unpaid order past its time is no longer waiting.
    pub expired: bool,
    pub total: Fen,
    /// The household's flags: only quarantined and hardship households are helped.
    pub household: Option<Need>,
    pub already_allocated: bool,
    pub balance: Fen,
    /// Gifts with money left, oldest first: (gift id, fen left).
    pub gifts: Vec<(i64, i64)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Need {
    pub household_id: i64,
    pub quarantined: bool,
    pub hardship: bool,
}

/// What an allocation writes: the order paid, the pool down by `amount`, each gift's part.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    pub order_id: i64,
    pub household_id: i64,
    pub amount: Fen,
    pub balance_after: Fen,
    /// (gift id, fen taken), oldest gift first.
    pub uses: Vec<(i64, i64)>,
}

/// Whether the pool may pay for a household: staff flagged it quarantined or in hardship.
pub fn helped(quarantined: bool, hardship: bool) -> bool {
    quarantined || hardship
}

pub fn decide_allocation(s: Option<&AllocationSnapshot>) -> Result<Allocation, Refusal> {
    let s = s.ok_or_else(|| Refusal::new(ErrorCode::NotFound, "订单不存在 (no such order)"))?;
    let need = s.household.filter(|n| helped(n.quarantined, n.hardship)).ok_or_else(|| {
        Refusal::new(
            ErrorCode::NotEligible,
            "只有隔离或困难家庭的订单可由爱心捐助支付 (only quarantined or hardship households are helped)",
        )
    })?;
    if s.already_allocated {
        return Err(Refusal::new(ErrorCode::WrongState, "这笔订单已由爱心捐助支付 (already paid by the pool)"));
    }
    let waiting = match s.status {
        OrderStatus::PendingPayment => !s.expired,
        OrderStatus::Placed => true,
        _ => false,
    };
    if !waiting {
        return Err(Refusal::new(
            ErrorCode::WrongState,
            format!("订单不在等待付款 (the order is {}, not waiting to be paid)", s.status.as_str()),
        ));
    }
    if s.total.get() <= 0 {
        return Err(Refusal::new(ErrorCode::WrongState, "订单无需付款 (nothing to pay)"));
    }
    let left: i64 = s.gifts.iter().map(|(_, fen)| fen).sum();
    if s.balance < s.total || left < s.total.get() {
        return Err(Refusal::new(
            ErrorCode::PoolShort,
            format!(
                "爱心池余额不足：余 {}，需 {} (the pool holds less than the order costs)",
                s.balance.yuan(),
                s.total.yuan()
            ),
        ));
    }
    let mut owed = s.total.get();
    let mut uses = Vec::new();
    for &(gift, fen) in &s.gifts {
        if owed == 0 {
            break;
        }
        let take = fen.min(owed);
        if take > 0 {
            uses.push((gift, take));
            owed -= take;
        }
    }
    Ok(Allocation {
        order_id: s.order_id,
        household_id: need.household_id,
        amount: s.total,
        balance_after: Fen::stored(s.balance.get() - s.total.get()),
        uses,
    })
}

/// Money coming back from a pool-paid order (`amount`), given back to the gifts that paid it,
/// the newest use first (so the oldest gift's help is the last undone): (gift id, fen back).
/// Never more back to a gift than it gave this order.
pub fn give_back(uses: &[(i64, i64)], amount: i64) -> Vec<(i64, i64)> {
    let mut left = amount;
    let mut back = Vec::new();
    for &(gift, used) in uses.iter().rev() {
        if left == 0 {
            break;
        }
        let b = used.min(left);
        if b > 0 {
            back.push((gift, b));
            left -= b;
        }
    }
    back
}

/// What sending a pool-paid 菜盒子 to a household needs (staff's "送爱心菜盒").
#[derive(Debug, Clone, PartialEq)]
pub struct GiftBoxFacts {
    /// The household's flags, if it exists: (quarantined, hardship).
    pub household: Option<(bool, bool)>,
    /// Its members, oldest first: the order is theirs (they see it and its hand-off code).
    pub members: Vec<i64>,
    /// The phones on its register (the neighbourhood committee's list), for a household nobody
    /// has joined yet: the first receives it.
    pub registered: Vec<String>,
    /// The box's price, if it is a 菜盒子 on sale.
    pub box_price: Option<Fen>,
    pub balance: Fen,
}

/// Who receives a staff-sent box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// A member of the household (the oldest).
    Member(i64),
    /// Nobody has joined the household yet: the first phone on its register. The order is made
    /// the account that phone gets at its first login (an elderly couple without a smartphone
    /// is told at the door; their code is for staff to read them if asked).
    Registered(String),
}

/// Whose order a staff-sent box becomes, or why it cannot be sent: a flagged household the pool
/// helps (quarantined or hardship), with a member or a phone on its register to receive it, a
/// box on sale, and the pool holding its price. The order itself is then the checkout's (stock,
/// the slot, one order per household per slot), and the pool pays it as staff's allocation of
/// any waiting order (`decide_allocation`).
pub fn decide_gift_box(f: &GiftBoxFacts) -> Result<Recipient, Refusal> {
    let (quarantined, hardship) =
        f.household.ok_or_else(|| Refusal::new(ErrorCode::NotFound, "没有这户 (no such household)"))?;
    if !helped(quarantined, hardship) {
        return Err(Refusal::new(
            ErrorCode::NotEligible,
            "只有隔离或困难家庭可由爱心捐助送菜 (only quarantined or hardship households are helped)",
        ));
    }
    let price = f.box_price.ok_or_else(|| Refusal::field("product_id", "不是在售的菜盒子 (not a 菜盒子 on sale)"))?;
    let recipient = match (f.members.first(), f.registered.first()) {
        (Some(member), _) => Recipient::Member(*member),
        (None, Some(phone)) => Recipient::Registered(phone.clone()),
        (None, None) => {
            return Err(Refusal::new(
                ErrorCode::WrongState,
                "这户还没有人加入，住户名册里也没有电话：请先登记一个电话 (nobody has joined and the register has no phone: add one first)",
            ))
        }
    };
    if f.balance < price {
        return Err(Refusal::new(
            ErrorCode::PoolShort,
            format!(
                "爱心池余额不足：余 {}，需 {} (the pool holds less than the box costs)",
                f.balance.yuan(),
                price.yuan()
            ),
        ));
    }
    Ok(recipient)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_goes_to_a_helped_households_member_when_the_pool_holds_its_price() {
        let f = GiftBoxFacts {
            household: Some((true, false)),
            members: vec![7, 9],
            registered: vec!["13900000777".into()],
            box_price: Some(Fen::stored(3000)),
            balance: Fen::stored(3000),
        };
        assert_eq!(decide_gift_box(&f), Ok(Recipient::Member(7)));
        let nobody_joined = GiftBoxFacts { members: vec![], ..f.clone() };
        assert_eq!(decide_gift_box(&nobody_joined), Ok(Recipient::Registered("13900000777".into())));
        let code = |g: GiftBoxFacts| decide_gift_box(&g).map_err(|r| r.code);
        assert_eq!(code(GiftBoxFacts { household: None, ..f.clone() }), Err(ErrorCode::NotFound));
        assert_eq!(code(GiftBoxFacts { household: Some((false, false)), ..f.clone() }), Err(ErrorCode::NotEligible));
        assert_eq!(code(GiftBoxFacts { box_price: None, ..f.clone() }), Err(ErrorCode::InvalidField));
        assert_eq!(code(GiftBoxFacts { members: vec![], registered: vec![], ..f.clone() }), Err(ErrorCode::WrongState));
        assert_eq!(code(GiftBoxFacts { balance: Fen::stored(2999), ..f }), Err(ErrorCode::PoolShort));
    }

    fn snapshot() -> AllocationSnapshot {
        AllocationSnapshot {
            order_id: 9,
            status: OrderStatus::Placed,
            expired: false,
            total: Fen::stored(5_000),
            household: Some(Need { household_id: 3, quarantined: true, hardship: false }),
            already_allocated: false,
            balance: Fen::stored(8_000),
            gifts: vec![(1, 2_000), (2, 1_000), (5, 5_000)],
        }
    }

    fn refused(s: &AllocationSnapshot) -> ErrorCode {
        decide_allocation(Some(s)).map_err(|r| r.code).expect_err("refused")
    }

    #[test]
    fn oldest_gifts_pay_first_and_the_pool_goes_down_by_the_total() {
        let a = decide_allocation(Some(&snapshot())).expect("allocated");
        assert_eq!(a.uses, vec![(1, 2_000), (2, 1_000), (5, 2_000)]);
        assert_eq!(a.amount, Fen::stored(5_000));
        assert_eq!(a.balance_after, Fen::stored(3_000));
        assert_eq!(a.household_id, 3);
    }

    #[test]
    fn the_pool_never_goes_below_zero() {
        let mut s = snapshot();
        s.balance = Fen::stored(4_999);
        s.gifts = vec![(1, 4_999)];
        assert_eq!(refused(&s), ErrorCode::PoolShort);
        s.balance = Fen::stored(5_000);
        s.gifts = vec![(1, 5_000)];
        assert_eq!(decide_allocation(Some(&s)).expect("exactly enough").balance_after, Fen::stored(0));
    }

    #[test]
    fn only_flagged_households_waiting_orders_once() {
        let mut s = snapshot();
        s.household = Some(Need { household_id: 3, quarantined: false, hardship: false });
        assert_eq!(refused(&s), ErrorCode::NotEligible);
        s.household = None;
        assert_eq!(refused(&s), ErrorCode::NotEligible);
        let mut s = snapshot();
        s.household = Some(Need { household_id: 3, quarantined: false, hardship: true });
        assert!(decide_allocation(Some(&s)).is_ok());
        s.already_allocated = true;
        assert_eq!(refused(&s), ErrorCode::WrongState);
        let mut s = snapshot();
        for status in [OrderStatus::Paid, OrderStatus::Confirmed, OrderStatus::Cancelled, OrderStatus::Expired] {
            s.status = status;
            assert_eq!(refused(&s), ErrorCode::WrongState, "{status:?}");
        }
        s.status = OrderStatus::PendingPayment;
        assert!(decide_allocation(Some(&s)).is_ok());
        s.expired = true;
        assert_eq!(refused(&s), ErrorCode::WrongState);
        assert_eq!(decide_allocation(None).map_err(|r| r.code).expect_err("no order"), ErrorCode::NotFound);
    }

    #[test]
    fn money_back_goes_to_the_gifts_that_paid_newest_first() {
        let uses = [(1, 2_000), (2, 1_000), (5, 2_000)];
        assert_eq!(give_back(&uses, 2_500), vec![(5, 2_000), (2, 500)]);
        assert_eq!(give_back(&uses, 5_000), vec![(5, 2_000), (2, 1_000), (1, 2_000)]);
        assert_eq!(give_back(&uses, 9_000).iter().map(|(_, b)| b).sum::<i64>(), 5_000, "never more than was used");
        assert!(give_back(&uses, 0).is_empty());
    }

    #[test]
    fn a_gift_is_money_in_bounds_or_boxes_of_a_box_on_sale() {
        assert_eq!(gift_amount(&Offer::Money(5_000)).expect("ok"), Fen::stored(5_000));
        assert!(gift_amount(&Offer::Money(99)).is_err());
        assert!(gift_amount(&Offer::Money(MAX_GIFT_FEN + 1)).is_err());
        let price = Some(Fen::stored(3_990));
        assert_eq!(gift_amount(&Offer::Boxes { boxes: 3, box_price: price }).expect("ok"), Fen::stored(11_970));
        assert!(gift_amount(&Offer::Boxes { boxes: 0, box_price: price })
            .expect_err("refused")
            .message
            .starts_with("boxes"));
        assert!(gift_amount(&Offer::Boxes { boxes: 2, box_price: None })
            .expect_err("refused")
            .message
            .starts_with("product_id"));
    }
}
