//! The market's books: what must hold among its rows whatever happened (a rush, a crash, a
//! restore from a backup). `fuxiansheng check` reads them (`store::ops`) and asks `check`.
//!
//! - A slot's places booked are its orders that hold one (every order but the cancelled and the
//!   expired), and its priority places those of them booked on the reserve.
//! - A group-buy item's joined quantity is the sum of its shares' lines, never above its maximum.
//! - No product's stock is below zero, and every unit the market was given to sell (its stock
//!   ledger's sum) is on the shelf, in an order that holds it (every order but the cancelled and
//!   the expired) or set aside by an open group-buy.
//! - The donation pool's balance is the sum of its ledger, and the ledger's last line says so.
//! - Every WeChat payment is for its order's total; no order has more refunded than was paid;
//!   an order paid by WeChat is not waiting for payment.
//! - A producer's offer day has as much ordered as the stalls' purchase lines on it, never more
//!   than the offer delivers.

use shared::group_buy::GroupBuyStatus;
use shared::order::OrderStatus;
use std::collections::BTreeMap;

/// A slot as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SlotBooks {
    pub id: i64,
    pub booked: i64,
    pub priority_booked: i64,
}

/// How many orders of a slot are in a status, booked on the reserve or not.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct OrderCount {
    pub slot_id: i64,
    pub status: String,
    pub priority_booking: bool,
    pub n: i64,
}

/// A group-buy item and the sum of its shares' lines.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ItemBooks {
    pub group_buy_id: i64,
    pub product_id: i64,
    pub max_quantity: i64,
    pub joined_quantity: i64,
    pub shares_quantity: i64,
}

/// A product's stock and the sum of its stock ledger: what it was given to sell.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct StockBooks {
    pub id: i64,
    pub stock: i64,
    pub stocked: i64,
}

/// How much of a product the orders in a status took, or the group-buys in a status set aside.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct HeldBooks {
    pub product_id: i64,
    pub status: String,
    pub quantity: i64,
}

/// A WeChat payment, its order and what was refunded of it (failed refunds left out).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct PaymentBooks {
    pub order_id: i64,
    pub amount_fen: i64,
    pub order_total_fen: i64,
    pub order_status: String,
    pub paid: bool,
    pub refunded_fen: i64,
}

/// An offer's delivery day: what the offer delivers, what is recorded ordered, and the sum of
/// the stalls' purchase lines on it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct OfferDayBooks {
    pub offer_id: i64,
    pub day: String,
    pub quantity: i64,
    pub ordered: i64,
    pub lines_quantity: i64,
}

/// A market's donation pool: its balance, what its ledger sums to and says last, and what is
/// left of its gifts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct PoolBooks {
    pub market_id: i64,
    pub balance_fen: i64,
    pub ledger_sum_fen: i64,
    /// The balance the ledger's newest line records (None: no line yet).
    pub last_balance_fen: Option<i64>,
    pub gifts_left_fen: i64,
}

/// What of one kind ties a thing of one market to a root of another, counted: `kind` is what
/// ties them (`order_line`: a stall's goods in an order of a slot; `group_buy_item`: goods in a
/// group-buy; `group_buy_slot`: a group-buy and its slot; `pickup`: an order and its pickup
/// point; `gift_use`: a gift and the order it paid), `example` one id of it (the order or the
/// group-buy).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct MarketBooks {
    pub kind: String,
    pub thing_market: i64,
    pub root_market: i64,
    pub n: i64,
    pub example: i64,
}

/// What `check` reads, all from one consistent read of the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Books {
    pub slots: Vec<SlotBooks>,
    pub orders: Vec<OrderCount>,
    pub items: Vec<ItemBooks>,
    pub stock: Vec<StockBooks>,
    /// Order lines by product and their order's status.
    pub in_orders: Vec<HeldBooks>,
    /// Group-buy items' maximum by product and their group-buy's status.
    pub set_aside: Vec<HeldBooks>,
    /// Each market's donation pool.
    pub pools: Vec<PoolBooks>,
    pub payments: Vec<PaymentBooks>,
    pub offer_days: Vec<OfferDayBooks>,
    /// Each kind of tie between markets' things, by the two markets.
    pub markets: Vec<MarketBooks>,
}

/// One thing that does not hold, said for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken(pub String);

/// Whether an order in this status holds a place in its slot.
fn holds_place(status: &str) -> bool {
    !matches!(OrderStatus::parse(status), Some(OrderStatus::Cancelled | OrderStatus::Expired))
}

/// Everything in `books` that does not hold (empty: the books balance).
pub fn check(books: &Books) -> Vec<Broken> {
    let mut broken = Vec::new();
    let mut held: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for count in books.orders.iter().filter(|c| holds_place(&c.status)) {
        let entry = held.entry(count.slot_id).or_default();
        entry.0 += count.n;
        if count.priority_booking {
            entry.1 += count.n;
        }
    }
    for slot in &books.slots {
        let (orders, priority) = held.get(&slot.id).copied().unwrap_or_default();
        if slot.booked != orders {
            broken.push(Broken(format!("slot {}: {} places booked, {} orders hold one", slot.id, slot.booked, orders)));
        }
        if slot.priority_booked != priority {
            broken.push(Broken(format!(
                "slot {}: {} priority places booked, {} orders hold one",
                slot.id, slot.priority_booked, priority
            )));
        }
    }
    for item in &books.items {
        if item.joined_quantity != item.shares_quantity {
            broken.push(Broken(format!(
                "group-buy {} product {}: {} joined, its shares hold {}",
                item.group_buy_id, item.product_id, item.joined_quantity, item.shares_quantity
            )));
        }
        if item.joined_quantity > item.max_quantity {
            broken.push(Broken(format!(
                "group-buy {} product {}: {} joined, above its maximum {}",
                item.group_buy_id, item.product_id, item.joined_quantity, item.max_quantity
            )));
        }
    }
    let mut held: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for line in books.in_orders.iter().filter(|l| holds_place(&l.status)) {
        held.entry(line.product_id).or_default().0 += line.quantity;
    }
    for item in books.set_aside.iter().filter(|i| GroupBuyStatus::parse(&i.status) == Some(GroupBuyStatus::Open)) {
        held.entry(item.product_id).or_default().1 += item.quantity;
    }
    for p in &books.stock {
        if p.stock < 0 {
            broken.push(Broken(format!("product {}: stock {} is below zero", p.id, p.stock)));
        }
        let (taken, aside) = held.get(&p.id).copied().unwrap_or_default();
        if p.stock + taken + aside != p.stocked {
            broken.push(Broken(format!(
                "product {}: {} in stock + {} in orders + {} set aside for group-buys = {}, its stock ledger says {} were given",
                p.id,
                p.stock,
                taken,
                aside,
                p.stock + taken + aside,
                p.stocked
            )));
        }
    }
    for pool in &books.pools {
        let (market, balance) = (pool.market_id, pool.balance_fen);
        if balance != pool.ledger_sum_fen {
            broken.push(Broken(format!(
                "market {market}'s donation pool: balance {balance} fen, its ledger sums to {} fen",
                pool.ledger_sum_fen
            )));
        }
        if let Some(last) = pool.last_balance_fen.filter(|&last| last != balance) {
            broken.push(Broken(format!(
                "market {market}'s donation pool: balance {balance} fen, the ledger's last line says {last} fen"
            )));
        }
        if balance != pool.gifts_left_fen {
            broken.push(Broken(format!(
                "market {market}'s donation pool: balance {balance} fen, its gifts have {} fen left",
                pool.gifts_left_fen
            )));
        }
    }
    for p in &books.payments {
        if p.amount_fen != p.order_total_fen {
            broken.push(Broken(format!(
                "order {}: paid {} fen by WeChat for a total of {} fen",
                p.order_id, p.amount_fen, p.order_total_fen
            )));
        }
        let paid = if p.paid { p.amount_fen } else { 0 };
        if p.refunded_fen > paid {
            broken.push(Broken(format!("order {}: {} fen refunded of {} fen paid", p.order_id, p.refunded_fen, paid)));
        }
        if p.paid && OrderStatus::parse(&p.order_status) == Some(OrderStatus::PendingPayment) {
            broken.push(Broken(format!("order {}: paid by WeChat but still waiting for payment", p.order_id)));
        }
    }
    for d in &books.offer_days {
        if d.ordered != d.lines_quantity {
            broken.push(Broken(format!(
                "offer {} on {}: {} ordered, the stalls' lines hold {}",
                d.offer_id, d.day, d.ordered, d.lines_quantity
            )));
        }
        if d.ordered > d.quantity {
            broken.push(Broken(format!("offer {} on {}: {} ordered of {}", d.offer_id, d.day, d.ordered, d.quantity)));
        }
    }
    // Markets never mix: an order's goods, point, batch and the gifts that paid it are its
    // slot's market's; a group-buy's goods and slot are its own market's.
    for m in books.markets.iter().filter(|m| m.thing_market != m.root_market) {
        let (thing, root) = (m.thing_market, m.root_market);
        let what = match m.kind.as_str() {
            "order_line" => format!("order lines in market {root}'s slots are market {thing}'s goods"),
            "group_buy_item" => format!("group-buy items of market {root} are market {thing}'s goods"),
            "group_buy_slot" => format!("group-buys of market {root} are in market {thing}'s slots"),
            "pickup" => format!("orders in market {root}'s slots go to market {thing}'s pickup points"),
            "gift_use" => format!("orders in market {root}'s slots were paid by market {thing}'s gifts"),
            _ => format!("{} of market {thing} are tied to market {root}", m.kind),
        };
        broken.push(Broken(format!("{} {what} (e.g. {})", m.n, m.example)));
    }
    broken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn balanced() -> Books {
        let count = |status: &str, priority_booking: bool, n: i64| OrderCount {
            slot_id: 1,
            status: status.into(),
            priority_booking,
            n,
        };
        Books {
            slots: vec![
                SlotBooks { id: 1, booked: 3, priority_booked: 1 },
                SlotBooks { id: 2, booked: 0, priority_booked: 0 },
            ],
            orders: vec![
                count("placed", false, 1),
                count("paid", true, 1),
                count("delivered", false, 1),
                count("cancelled", true, 4),
                count("expired", false, 2),
            ],
            items: vec![ItemBooks {
                group_buy_id: 1,
                product_id: 5,
                max_quantity: 10,
                joined_quantity: 7,
                shares_quantity: 7,
            }],
            stock: vec![StockBooks { id: 5, stock: 20, stocked: 30 }, StockBooks { id: 6, stock: 0, stocked: 5 }],
            in_orders: vec![
                HeldBooks { product_id: 6, status: "delivered".into(), quantity: 3 },
                HeldBooks { product_id: 6, status: "placed".into(), quantity: 2 },
                HeldBooks { product_id: 6, status: "cancelled".into(), quantity: 4 },
                HeldBooks { product_id: 5, status: "expired".into(), quantity: 1 },
            ],
            set_aside: vec![
                HeldBooks { product_id: 5, status: "open".into(), quantity: 10 },
                HeldBooks { product_id: 5, status: "confirmed".into(), quantity: 8 },
            ],
            pools: vec![
                PoolBooks {
                    market_id: 1,
                    balance_fen: 500,
                    ledger_sum_fen: 500,
                    last_balance_fen: Some(500),
                    gifts_left_fen: 500,
                },
                PoolBooks {
                    market_id: 2,
                    balance_fen: 0,
                    ledger_sum_fen: 0,
                    last_balance_fen: None,
                    gifts_left_fen: 0,
                },
            ],
            payments: vec![PaymentBooks {
                order_id: 9,
                amount_fen: 1200,
                order_total_fen: 1200,
                order_status: "cancelled".into(),
                paid: true,
                refunded_fen: 1200,
            }],
            offer_days: vec![OfferDayBooks {
                offer_id: 3,
                day: "2026-12-09".into(),
                quantity: 100,
                ordered: 90,
                lines_quantity: 90,
            }],
            markets: vec![
                MarketBooks { kind: "order_line".into(), thing_market: 1, root_market: 1, n: 40, example: 9 },
                MarketBooks { kind: "order_line".into(), thing_market: 2, root_market: 2, n: 3, example: 12 },
            ],
        }
    }

    #[test]
    fn balanced_books_hold_and_each_break_is_named() {
        assert_eq!(check(&balanced()), vec![]);
        let broken = |change: &dyn Fn(&mut Books)| {
            let mut books = balanced();
            change(&mut books);
            check(&books).into_iter().map(|b| b.0).collect::<Vec<_>>()
        };
        assert_eq!(broken(&|b| b.slots[0].booked = 4), ["slot 1: 4 places booked, 3 orders hold one"]);
        assert_eq!(
            broken(&|b| b.slots[1].priority_booked = 1),
            ["slot 2: 1 priority places booked, 0 orders hold one"]
        );
        assert_eq!(broken(&|b| b.items[0].shares_quantity = 6), ["group-buy 1 product 5: 7 joined, its shares hold 6"]);
        assert_eq!(broken(&|b| b.items[0].max_quantity = 6).len(), 1);
        assert_eq!(
            broken(&|b| b.stock[1].stock = -1),
            [
                "product 6: stock -1 is below zero",
                "product 6: -1 in stock + 5 in orders + 0 set aside for group-buys = 4, its stock ledger says 5 were given"
            ]
        );
        // A unit that appeared (or went) outside the rules; a cancelled order that kept its
        // stock; a group-buy that closed without giving back what it set aside.
        assert_eq!(broken(&|b| b.stock[0].stock = 21).len(), 1);
        assert_eq!(broken(&|b| b.in_orders[2].status = "paid".into()).len(), 1);
        assert_eq!(broken(&|b| b.set_aside[0].status = "failed".into()).len(), 1);
        assert_eq!(broken(&|b| b.pools[0].ledger_sum_fen = 400).len(), 1);
        assert_eq!(broken(&|b| b.pools[0].last_balance_fen = Some(450)).len(), 1);
        assert_eq!(
            broken(&|b| b.pools[1].gifts_left_fen = 300),
            ["market 2's donation pool: balance 0 fen, its gifts have 300 fen left"]
        );
        // A gift moved to the other market's pool: each market's books are its own.
        assert_eq!(
            broken(&|b| {
                b.pools[0].balance_fen = 400;
                b.pools[1].balance_fen = 100;
            })
            .len(),
            5
        );
        assert_eq!(broken(&|b| b.payments[0].refunded_fen = 1300), ["order 9: 1300 fen refunded of 1200 fen paid"]);
        assert_eq!(broken(&|b| b.payments[0].paid = false), ["order 9: 1200 fen refunded of 0 fen paid"]);
        assert_eq!(broken(&|b| b.payments[0].amount_fen = 1100).len(), 2, "paid less than the total, refunded more");
        assert_eq!(
            broken(&|b| {
                b.payments[0].order_status = "pending_payment".into();
                b.payments[0].refunded_fen = 0;
            }),
            ["order 9: paid by WeChat but still waiting for payment"]
        );
        assert_eq!(
            broken(&|b| b.offer_days[0].ordered = 80),
            ["offer 3 on 2026-12-09: 80 ordered, the stalls' lines hold 90"]
        );
        assert_eq!(
            broken(&|b| {
                b.offer_days[0].ordered = 120;
                b.offer_days[0].lines_quantity = 120;
            }),
            ["offer 3 on 2026-12-09: 120 ordered of 100"]
        );
        assert_eq!(
            broken(&|b| b.markets.push(MarketBooks {
                kind: "order_line".into(),
                thing_market: 2,
                root_market: 1,
                n: 1,
                example: 15
            })),
            ["1 order lines in market 1's slots are market 2's goods (e.g. 15)"]
        );
    }
}
