//! A stall's steps on its part of an order: confirm (with what it cannot supply) and pack. The
//! order follows its parts (`shared::order`): confirmed when every stall has confirmed, packed
//! when every stall has packed. Decided here over the rows the store has locked.

use super::order::LineRecord;
use shared::order::{order_status_for_parts, part_step, OrderStatus, PartStep, PartStepRefused, PART_PACKED};
use shared::{ErrorCode, Fen, ProductId};
use std::collections::BTreeMap;

/// One part and its order, as locked: the order, every part's stall and status, this stall's lines.
#[derive(Debug, Clone, PartialEq)]
pub struct PartSnapshot {
    pub part_id: i64,
    pub order_id: i64,
    pub vendor_id: i64,
    pub order_status: OrderStatus,
    pub order_total: Fen,
    /// (stall, status) of every part of the order, this one included.
    pub parts: Vec<(i64, String)>,
    /// This stall's lines.
    pub lines: Vec<LineRecord>,
}

/// What a step changes: the part's status and subtotal, the lines' shortages, the order's total
/// and status (and whether the status moved, for its timeline).
#[derive(Debug, Clone, PartialEq)]
pub struct PartChange {
    pub part_status: &'static str,
    pub part_subtotal: Fen,
    /// (product, quantity short)
    pub shortages: Vec<(ProductId, i64)>,
    pub order_total: Fen,
    pub order_status: OrderStatus,
    pub order_moved: bool,
    /// Packed by this step (not before): each line's (product, quantity that comes), to be drawn
    /// from the product's lots; empty otherwise.
    pub to_pack: Vec<(ProductId, i64)>,
    /// What a paid order's shortages give back: the difference, owed as a refund.
    pub refund_fen: Option<i64>,
}

pub use super::Refusal;

fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal::new(code, message)
}

/// Decides a stall's step. A part of another stall is "not found", never "forbidden": a stall
/// does not learn which parts exist elsewhere.
pub fn decide_part_step(
    part: Option<&PartSnapshot>,
    vendor_id: i64,
    step: PartStep,
    shortages: &[(ProductId, i64)],
) -> Result<PartChange, Refusal> {
    let s =
        part.filter(|p| p.vendor_id == vendor_id).ok_or_else(|| refuse(ErrorCode::NotFound, "no such order part"))?;
    let current = s.parts.iter().find(|(v, _)| *v == vendor_id).map(|(_, st)| st.as_str()).unwrap_or_default();
    let next = part_step(s.order_status, current, step).map_err(|e| match e {
        PartStepRefused::OrderNotActive(st) => {
            refuse(ErrorCode::WrongState, format!("订单已{}，不能再操作 (the order is {})", st.as_str(), st.as_str()))
        }
        PartStepRefused::WrongStep => {
            refuse(ErrorCode::WrongState, format!("这一份已是{current}，不能这样操作 (this part is {current})"))
        }
    })?;
    if step == PartStep::Pack && !shortages.is_empty() {
        return Err(refuse(
            ErrorCode::InvalidField,
            "shortages: 只能在确认时报缺货 (shortages go with the confirmation)",
        ));
    }
    let mut short: BTreeMap<ProductId, i64> = BTreeMap::new();
    for &(product, quantity) in shortages {
        let line = s.lines.iter().find(|l| l.product_id == product).ok_or_else(|| {
            refuse(
                ErrorCode::InvalidField,
                format!("shortages.product_id: 这一份里没有商品{product} (not in this part)"),
            )
        })?;
        if !(1..=line.quantity).contains(&quantity) {
            return Err(refuse(
                ErrorCode::InvalidField,
                format!("shortages.quantity: {} 须在1到{}之间 (1 to {})", line.name, line.quantity, line.quantity),
            ));
        }
        if short.insert(product, quantity).is_some() {
            return Err(refuse(ErrorCode::InvalidField, format!("shortages: 商品{product}重复 (twice)")));
        }
    }
    let before: Fen = s.lines.iter().map(LineRecord::total).sum();
    let after: Fen = s
        .lines
        .iter()
        .map(|l| l.price_fen.times(l.quantity - short.get(&l.product_id).copied().unwrap_or(l.short)))
        .sum();
    let order_total = Fen::stored((s.order_total.get() - before.get() + after.get()).max(0));
    let statuses: Vec<&str> = s.parts.iter().map(|(v, st)| if *v == vendor_id { next } else { st.as_str() }).collect();
    let order_status = order_status_for_parts(s.order_status, statuses.iter().copied());
    let to_pack = if next == PART_PACKED && current != PART_PACKED {
        s.lines.iter().map(|l| (l.product_id, l.quantity - l.short)).collect()
    } else {
        Vec::new()
    };
    Ok(PartChange {
        to_pack,
        part_status: next,
        part_subtotal: after,
        shortages: short.into_iter().collect(),
        order_total,
        order_status,
        order_moved: order_status != s.order_status,
        refund_fen: (s.order_status == OrderStatus::Paid && order_total < s.order_total)
            .then(|| s.order_total.get() - order_total.get()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::order::{PART_CONFIRMED, PART_PACKED, PART_PENDING};
    use shared::ProductId;

    fn line(product_id: i64, quantity: i64, price: i64) -> LineRecord {
        LineRecord {
            product_id: ProductId(product_id),
            vendor_id: 7,
            name: format!("菜{product_id}"),
            unit: "斤".into(),
            quantity,
            price_fen: Fen::stored(price),
            short: 0,
        }
    }

    /// Order 1 (total 1,000 fen) with stalls 7 (this one: 2×100 + 3×200) and 8 (200).
    fn part() -> PartSnapshot {
        PartSnapshot {
            part_id: 11,
            order_id: 1,
            vendor_id: 7,
            order_status: OrderStatus::Placed,
            order_total: Fen::stored(1000),
            parts: vec![(7, PART_PENDING.into()), (8, PART_PENDING.into())],
            lines: vec![line(1, 2, 100), line(2, 3, 200)],
        }
    }

    #[test]
    fn a_shortage_comes_off_the_part_and_the_order() {
        let c = decide_part_step(Some(&part()), 7, PartStep::Confirm, &[(ProductId(2), 1)]).expect("confirmed");
        assert_eq!(c.part_status, PART_CONFIRMED);
        assert_eq!(c.part_subtotal, Fen::stored(600));
        assert_eq!(c.order_total, Fen::stored(800));
        assert_eq!(c.shortages, vec![(ProductId(2), 1)]);
        assert_eq!((c.order_status, c.order_moved), (OrderStatus::Placed, false));
    }

    #[test]
    fn the_order_is_confirmed_and_packed_when_every_stall_is() {
        let mut s = part();
        s.parts[1].1 = PART_CONFIRMED.into();
        let c = decide_part_step(Some(&s), 7, PartStep::Confirm, &[]).expect("confirmed");
        assert_eq!((c.order_status, c.order_moved), (OrderStatus::Confirmed, true));
        assert!(c.to_pack.is_empty(), "confirmed draws no lot");
        s.order_status = OrderStatus::Confirmed;
        s.parts = vec![(7, PART_CONFIRMED.into()), (8, PART_PACKED.into())];
        let c = decide_part_step(Some(&s), 7, PartStep::Pack, &[]).expect("packed");
        assert_eq!((c.part_status, c.order_status), (PART_PACKED, OrderStatus::Packed));
        assert_eq!(c.to_pack, vec![(ProductId(1), 2), (ProductId(2), 3)], "packed: every line drawn from lots");
    }

    #[test]
    fn refusals() {
        let s = part();
        let code = |r: Result<PartChange, Refusal>| r.map(|_| ()).map_err(|e| e.code);
        assert_eq!(code(decide_part_step(Some(&s), 9, PartStep::Confirm, &[])), Err(ErrorCode::NotFound));
        assert_eq!(code(decide_part_step(None, 7, PartStep::Confirm, &[])), Err(ErrorCode::NotFound));
        assert_eq!(
            code(decide_part_step(Some(&s), 7, PartStep::Confirm, &[(ProductId(3), 1)])),
            Err(ErrorCode::InvalidField)
        );
        assert_eq!(
            code(decide_part_step(Some(&s), 7, PartStep::Confirm, &[(ProductId(2), 4)])),
            Err(ErrorCode::InvalidField)
        );
        assert_eq!(code(decide_part_step(Some(&s), 7, PartStep::Pack, &[])), Err(ErrorCode::WrongState));
        let mut cancelled = part();
        cancelled.order_status = OrderStatus::Cancelled;
        assert_eq!(code(decide_part_step(Some(&cancelled), 7, PartStep::Confirm, &[])), Err(ErrorCode::WrongState));
    }

    #[test]
    fn a_paid_order_s_shortage_is_owed_back_and_an_unpaid_one_s_is_not_charged() {
        let mut paid = PartSnapshot {
            part_id: 1,
            order_id: 2,
            vendor_id: 7,
            order_status: OrderStatus::Paid,
            order_total: Fen::stored(1_000),
            parts: vec![(7, PART_PENDING.into()), (8, PART_PENDING.into())],
            lines: vec![line(1, 3, 120)],
        };
        let change = decide_part_step(Some(&paid), 7, PartStep::Confirm, &[(ProductId(1), 2)]).expect("confirmed");
        assert_eq!(change.order_total, Fen::stored(760));
        assert_eq!(change.refund_fen, Some(240));
        assert_eq!(decide_part_step(Some(&paid), 7, PartStep::Confirm, &[]).expect("ok").refund_fen, None);
        paid.order_status = OrderStatus::Placed;
        assert_eq!(
            decide_part_step(Some(&paid), 7, PartStep::Confirm, &[(ProductId(1), 2)]).expect("ok").refund_fen,
            None
        );
    }
}
