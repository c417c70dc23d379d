//! The donation pools, one per market: gifts (paid with WeChat Pay, or recorded by staff) to a
//! market, allocations that pay a flagged household's order in that market's slots, money
//! coming back from a pool-paid order, and each market's ledger. Every change of a pool locks
//! its market's row, so concurrent allocations are decided one after another over the balance
//! as it is; what they do
//! is `domain::donations`' (and a gift's payment is `domain::payment::decide_payment`'s, as for
//! an order).

use crate::domain::donations::{decide_allocation, give_back, AllocationSnapshot, Need};
use crate::domain::payment::{decide_payment, Merchant, PaymentNotice, PaymentOutcome, PaymentSnapshot};
use crate::domain::time::to_api;
use crate::domain::Refusal;
use crate::store::checkout::orders::add_event;
use crate::store::db::{args, Db, Tx};
use crate::store::{masked_phone, StoreResult};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::api::{Allocated, Gift, LedgerEntry, PoolNeed, PoolSummary};
use shared::order::OrderStatus;
use shared::{ErrorCode, Fen, MarketId};

pub struct Donations {
    db: Db,
}

/// The `out_trade_no` of a gift's payment: `FXD` and the gift id (orders' are `FXS...`).
pub fn out_trade_no(gift_id: i64) -> String {
    format!("FXD{gift_id:08}")
}

/// Whether WeChat Pay's `out_trade_no` is a gift's rather than an order's.
pub fn is_gift(out_trade_no: &str) -> bool {
    out_trade_no.starts_with("FXD")
}

/// What is owed back to the pool when a pool-paid order gives money back (`$1` the order, `$2`
/// the amount, `$3` now, `$4` the return's own number, `$5` why): written beside the refund
/// in the transaction that decided it, settled into the pool by the job. Nothing for an order
/// the pool did not pay.
pub const POOL_RETURN_INSERT: &str = "INSERT INTO pool_returns (return_no, order_id, amount_fen, reason, created_at) \
     SELECT $4, order_id, $2, $5, $3 FROM pool_allocations WHERE order_id = $1 ON CONFLICT (return_no) DO NOTHING";

/// A gift as kept.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GiftRecord {
    pub id: i64,
    pub user_id: Option<i64>,
    pub status: String,
    #[serde(rename = "amount_fen")]
    pub amount: Fen,
    pub boxes: i64,
    pub payer_openid: Option<String>,
    pub prepay_id: Option<String>,
}

/// A new gift: to which market's pool, who, what, and whether it is in the pool already
/// (staff-recorded).
pub struct NewGift<'a> {
    pub market: MarketId,
    pub user_id: Option<i64>,
    pub donor_name: Option<&'a str>,
    pub amount: Fen,
    pub boxes: i64,
    pub product_id: Option<i64>,
    pub note: Option<&'a str>,
    pub recorded_by: Option<i64>,
}

const GIFT_SELECT: &str = "SELECT d.id, d.status, d.amount_fen, d.boxes, p.name AS product_name, d.donor_name, \
     d.created_at, d.received_at, d.amount_fen - d.remaining_fen AS spent_fen, \
     (SELECT COUNT(*) FROM gift_uses g WHERE g.donation_id = d.id AND g.amount_fen > 0) AS boxes_delivered \
     FROM donations d LEFT JOIN products p ON p.id = d.product_id ";

#[derive(Deserialize)]
struct GiftRow {
    id: i64,
    status: String,
    amount_fen: Fen,
    boxes: i64,
    product_name: Option<String>,
    donor_name: Option<String>,
    created_at: DateTime<Utc>,
    received_at: Option<DateTime<Utc>>,
    spent_fen: i64,
    boxes_delivered: i64,
}

fn gift(r: GiftRow) -> Gift {
    Gift {
        id: r.id,
        amount_fen: r.amount_fen,
        boxes: r.boxes,
        product_name: r.product_name,
        donor_name: r.donor_name,
        created_at: to_api(r.created_at),
        received_at: r.received_at.map(to_api),
        spent_fen: Fen::stored(if r.status == "received" { r.spent_fen } else { 0 }),
        boxes_delivered: r.boxes_delivered,
        status: r.status,
    }
}

impl Donations {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The price and name of a 菜盒子 on sale in the market, None if the product is not one.
    pub async fn box_product(&self, market: MarketId, product_id: i64) -> StoreResult<Option<(Fen, String)>> {
        #[derive(Deserialize)]
        struct BoxProduct {
            price_fen: Fen,
            name: String,
        }
        let found: Option<BoxProduct> = self
            .db
            .opt(
                "SELECT p.price_fen, p.name FROM products p JOIN vendors v ON v.id = p.vendor_id \
                 WHERE p.id = $1 AND p.active AND p.category_id = 'box' AND v.market_id = $2",
                &args![product_id, market],
            )
            .await?;
        Ok(found.map(|b| (b.price_fen, b.name)))
    }

    /// Records a gift: a resident's waits for its payment; a staff-recorded one (`recorded_by`)
    /// is in the pool at once, with its ledger line. The new gift's id.
    pub async fn give(&self, gift: &NewGift<'_>, now: DateTime<Utc>) -> StoreResult<i64> {
        let mut tx = self.db.begin().await?;
        let received = gift.recorded_by.is_some();
        let id: i64 = tx
            .one(
                "INSERT INTO donations (user_id, donor_name, boxes, product_id, amount_fen, remaining_fen, status, \
                 recorded_by, note, created_at, market_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 RETURNING id",
                &args![
                    gift.user_id,
                    gift.donor_name,
                    gift.boxes,
                    gift.product_id,
                    gift.amount,
                    if received { gift.amount.get() } else { 0 },
                    "pending_payment",
                    gift.recorded_by,
                    gift.note,
                    now,
                    gift.market
                ],
            )
            .await?;
        if received {
            receive(&mut tx, gift.market, id, gift.amount, gift.recorded_by, now).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn gift(&self, id: i64) -> StoreResult<Option<GiftRecord>> {
        Ok(self
            .db
            .opt(
                "SELECT id, user_id, status, amount_fen, boxes, payer_openid, prepay_id FROM donations WHERE id = $1",
                &args![id],
            )
            .await?)
    }

    /// The gift's payment: its `out_trade_no` and payer fixed the first time it is asked for.
    pub async fn ensure_payment(&self, id: i64, openid: &str) -> StoreResult<GiftRecord> {
        self.db
            .exec(
                "UPDATE donations SET out_trade_no = $2, payer_openid = $3 WHERE id = $1 AND out_trade_no IS NULL",
                &args![id, out_trade_no(id), openid],
            )
            .await?;
        self.gift(id).await?.ok_or_else(|| sqlx::Error::RowNotFound.into())
    }

    pub async fn set_prepay(&self, id: i64, prepay_id: &str) -> StoreResult<()> {
        self.db.exec("UPDATE donations SET prepay_id = $2 WHERE id = $1", &args![id, prepay_id]).await?;
        Ok(())
    }

    /// Gifts with a prepay and no word from WeChat Pay since `asked_before`: to ask about.
    pub async fn unanswered(&self, asked_before: DateTime<Utc>, limit: i64) -> StoreResult<Vec<String>> {
        Ok(self
            .db
            .all(
                "SELECT out_trade_no FROM donations WHERE status = 'pending_payment' AND prepay_id IS NOT NULL \
                 AND created_at <= $1 AND created_at > $3 ORDER BY id LIMIT $2",
                &args![asked_before, limit, asked_before - chrono::Duration::days(2)],
            )
            .await?)
    }

    /// What WeChat Pay says of a gift's payment, decided as for an order
    /// (`decide_payment`) over the gift as locked: received into the pool once.
    pub async fn apply_payment(
        &self,
        notice: &PaymentNotice,
        merchant: &Merchant<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<PaymentOutcome, Refusal>> {
        #[derive(Deserialize)]
        struct Paid {
            id: i64,
            status: String,
            amount_fen: Fen,
            transaction_id: Option<String>,
            market_id: MarketId,
        }
        let mut tx = self.db.begin().await?;
        let sql = tx
            .locked("SELECT id, status, amount_fen, transaction_id, market_id FROM donations WHERE out_trade_no = $1");
        let paid: Option<Paid> = tx.opt(&sql, &args![notice.out_trade_no.as_str()]).await?;
        let market = paid.as_ref().map_or(MarketId::FIRST, |g| g.market_id);
        // A gift is paid as an order is: received is paid.
        let snapshot = paid.map(|g| PaymentSnapshot {
            order_id: g.id,
            status: if g.status == "received" { OrderStatus::Paid } else { OrderStatus::PendingPayment },
            total: g.amount_fen,
            transaction_id: g.transaction_id,
            paid_by_pool: false,
        });
        let outcome = match decide_payment(snapshot.as_ref(), notice, merchant) {
            Ok(outcome) => outcome,
            Err(refusal) => return Ok(Err(refusal)),
        };
        match (&outcome, snapshot) {
            (PaymentOutcome::Paid, Some(s)) => {
                tx.exec(
                    "UPDATE donations SET transaction_id = $2 WHERE id = $1",
                    &args![s.order_id, notice.transaction_id.as_str()],
                )
                .await?;
                receive(&mut tx, market, s.order_id, s.total, None, notice.success_time.unwrap_or(now)).await?;
            }
            (PaymentOutcome::RefundLate, _) => {
                // WeChat Pay never pays one out_trade_no twice; if it ever did, a person must look.
                return Ok(Err(Refusal::new(ErrorCode::WrongState, "a second payment for a gift already received")));
            }
            _ => {}
        }
        tx.commit().await?;
        Ok(Ok(outcome))
    }

    /// As `allocate`, for an order placed to be paid by the pool (a standing order, staff's
    /// gift box), where the same payment asked again (a try made again, a second press) is the
    /// payment already made: Ok when the pool pays it, now or before.
    pub async fn pay_once(&self, order_id: i64, by: i64, now: DateTime<Utc>) -> StoreResult<Result<(), Refusal>> {
        match self.allocate(order_id, by, None, now).await? {
            Ok(_) => Ok(Ok(())),
            Err(refusal) => {
                let paid: Option<i64> =
                    self.db.opt("SELECT order_id FROM pool_allocations WHERE order_id = $1", &args![order_id]).await?;
                Ok(if paid.is_some() { Ok(()) } else { Err(refusal) })
            }
        }
    }

    /// Pays an order of a quarantined or hardship household from its market's pool (the market
    /// of its slot), as `decide_allocation` says over the order and the pool as locked (order
    /// first, then the pool: the order is locked first everywhere). With `within`, an order of
    /// another market is not found (staff pay only their own market's orders).
    pub async fn allocate(
        &self,
        order_id: i64,
        by: i64,
        within: Option<MarketId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Allocated, Refusal>> {
        #[derive(Deserialize)]
        struct Waiting {
            status: OrderStatus,
            total_fen: Fen,
            expires_at: Option<DateTime<Utc>>,
            household_id: Option<i64>,
            market_id: MarketId,
        }
        #[derive(Deserialize)]
        struct Flags {
            quarantined: bool,
            hardship: bool,
        }
        #[derive(Deserialize)]
        struct Left {
            id: i64,
            remaining_fen: i64,
        }
        let mut tx = self.db.begin().await?;
        let sql = tx.locked(
            "SELECT o.status, o.total_fen, o.expires_at, COALESCE(o.household_id, \
             (SELECT household_id FROM users WHERE id = o.user_id)) AS household_id, \
             (SELECT s.market_id FROM slots s WHERE s.id = o.slot_id) AS market_id FROM orders o WHERE o.id = $1",
        );
        let order: Option<Waiting> = tx.opt(&sql, &args![order_id]).await?;
        let order = order.filter(|o| within.is_none_or(|m| m == o.market_id));
        let market = order.as_ref().map_or(MarketId::FIRST, |o| o.market_id);
        let snapshot = match order {
            None => None,
            Some(o) => {
                let need = match o.household_id {
                    Some(h) => tx
                        .opt::<Flags>("SELECT quarantined, hardship FROM households WHERE id = $1", &args![h])
                        .await?
                        .map(|f| Need { household_id: h, quarantined: f.quarantined, hardship: f.hardship }),
                    None => None,
                };
                let already: Option<i64> =
                    tx.opt("SELECT 1 AS found FROM pool_allocations WHERE order_id = $1", &args![order_id]).await?;
                let balance = pool_balance(&mut tx, market).await?;
                let gifts: Vec<Left> = tx
                    .all(
                        "SELECT id, remaining_fen FROM donations WHERE market_id = $1 AND status = 'received' \
                         AND remaining_fen > 0 ORDER BY id",
                        &args![market],
                    )
                    .await?;
                Some(AllocationSnapshot {
                    order_id,
                    status: o.status,
                    expired: o.expires_at.is_some_and(|e| e <= now),
                    total: o.total_fen,
                    household: need,
                    already_allocated: already.is_some(),
                    balance,
                    gifts: gifts.into_iter().map(|g| (g.id, g.remaining_fen)).collect(),
                })
            }
        };
        let a = match decide_allocation(snapshot.as_ref()) {
            Ok(a) => a,
            Err(refusal) => return Ok(Err(refusal)),
        };
        tx.exec(
            "UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1",
            &args![order_id, OrderStatus::Paid.as_str(), now],
        )
        .await?;
        add_event(&mut tx, shared::OrderId(order_id), OrderStatus::Paid, now, Some(by)).await?;
        tx.exec(
            "INSERT INTO pool_allocations (order_id, household_id, amount_fen, by_user, created_at) VALUES ($1, $2, $3, $4, $5)",
            &args![order_id, a.household_id, a.amount, by, now],
        )
        .await?;
        for &(gift, take) in &a.uses {
            tx.exec(
                "INSERT INTO gift_uses (donation_id, order_id, amount_fen) VALUES ($1, $2, $3)",
                &args![gift, order_id, take],
            )
            .await?;
            tx.exec("UPDATE donations SET remaining_fen = remaining_fen - $2 WHERE id = $1", &args![gift, take])
                .await?;
        }
        let order = Some(order_id);
        move_pool(&mut tx, market, "allocation", -a.amount.get(), (None, order), Some(by), now).await?;
        tx.commit().await?;
        Ok(Ok(Allocated { order_id: shared::OrderId(order_id), amount_fen: a.amount, balance_fen: a.balance_after }))
    }

    /// Settles money owed back to the pool (a pool-paid order cancelled, or short at a stall):
    /// each return once, back to the gifts that paid the order. How many were settled.
    pub async fn settle_returns(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<usize> {
        #[derive(Deserialize)]
        struct Owed {
            order_id: i64,
            amount_fen: i64,
            market_id: MarketId,
        }
        #[derive(Deserialize)]
        struct Use {
            donation_id: i64,
            amount_fen: i64,
        }
        let open: Vec<String> = self
            .db
            .all(
                "SELECT return_no FROM pool_returns WHERE settled_at IS NULL ORDER BY created_at, return_no LIMIT $1",
                &args![limit],
            )
            .await?;
        let mut settled = 0;
        for return_no in open {
            let mut tx = self.db.begin().await?;
            let sql = tx.locked(
                "SELECT r.order_id, r.amount_fen, s.market_id FROM pool_returns r JOIN orders o ON o.id = r.order_id \
                 JOIN slots s ON s.id = o.slot_id WHERE r.return_no = $1 AND r.settled_at IS NULL",
            );
            let Some(Owed { order_id, amount_fen: amount, market_id: market }) =
                tx.opt(&sql, &args![return_no.as_str()]).await?
            else {
                continue;
            };
            // The pool is locked before the gifts' shares are read.
            pool_balance(&mut tx, market).await?;
            let uses: Vec<Use> = tx
                .all(
                    "SELECT donation_id, amount_fen FROM gift_uses WHERE order_id = $1 ORDER BY donation_id",
                    &args![order_id],
                )
                .await?;
            let uses: Vec<(i64, i64)> = uses.into_iter().map(|u| (u.donation_id, u.amount_fen)).collect();
            let back = give_back(&uses, amount);
            for &(gift, fen) in &back {
                tx.exec(
                    "UPDATE gift_uses SET amount_fen = amount_fen - $3 WHERE donation_id = $1 AND order_id = $2",
                    &args![gift, order_id, fen],
                )
                .await?;
                tx.exec("UPDATE donations SET remaining_fen = remaining_fen + $2 WHERE id = $1", &args![gift, fen])
                    .await?;
            }
            let total: i64 = back.iter().map(|(_, fen)| fen).sum();
            if total > 0 {
                move_pool(&mut tx, market, "return", total, (None, Some(order_id)), None, now).await?;
            }
            tx.exec("UPDATE pool_returns SET settled_at = $2 WHERE return_no = $1", &args![return_no, now]).await?;
            tx.commit().await?;
            settled += 1;
        }
        Ok(settled)
    }

    /// A market's pool at a glance.
    pub async fn summary(&self, market: MarketId) -> StoreResult<PoolSummary> {
        #[derive(Deserialize)]
        struct Summary {
            balance_fen: Fen,
            received_fen: Fen,
            gifts: i64,
            orders_paid: i64,
            households_helped: i64,
        }
        let s: Summary = self
            .db
            .one(
                "SELECT COALESCE((SELECT balance_fen FROM market_pools WHERE market_id = $1), 0) AS balance_fen, \
                 (SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM donations \
                   WHERE market_id = $1 AND status = 'received') AS received_fen, \
                 (SELECT COUNT(*) FROM donations WHERE market_id = $1 AND status = 'received') AS gifts, \
                 (SELECT COUNT(*) FROM pool_allocations a JOIN orders o ON o.id = a.order_id \
                   JOIN slots s ON s.id = o.slot_id \
                   WHERE s.market_id = $1 AND o.status NOT IN ('cancelled', 'expired')) AS orders_paid, \
                 (SELECT COUNT(DISTINCT a.household_id) FROM pool_allocations a JOIN orders o ON o.id = a.order_id \
                   JOIN slots s ON s.id = o.slot_id \
                   WHERE s.market_id = $1 AND o.status NOT IN ('cancelled', 'expired')) AS households_helped",
                &args![market],
            )
            .await?;
        Ok(PoolSummary {
            balance_fen: s.balance_fen,
            received_fen: s.received_fen,
            gifts: s.gifts,
            orders_paid: s.orders_paid,
            households_helped: s.households_helped,
        })
    }

    /// What every market's pool holds together (the metrics' figure).
    pub async fn total_balance(&self) -> StoreResult<Fen> {
        let total: Option<i64> =
            self.db.one("SELECT CAST(SUM(balance_fen) AS BIGINT) AS total FROM market_pools", &args![]).await?;
        Ok(Fen::stored(total.unwrap_or(0)))
    }

    /// A giver's gifts, newest first, with what each became.
    pub async fn mine(&self, user_id: i64) -> StoreResult<Vec<Gift>> {
        let rows: Vec<GiftRow> = self
            .db
            .all(&format!("{GIFT_SELECT}WHERE d.user_id = $1 ORDER BY d.id DESC LIMIT 200"), &args![user_id])
            .await?;
        Ok(rows.into_iter().map(gift).collect())
    }

    /// One gift as its giver sees it.
    pub async fn gift_view(&self, id: i64) -> StoreResult<Option<Gift>> {
        let row: Option<GiftRow> = self.db.opt(&format!("{GIFT_SELECT}WHERE d.id = $1"), &args![id]).await?;
        Ok(row.map(gift))
    }

    /// What sending a pool-paid box to a household needs (`decide_gift_box`).
    pub async fn gift_box_facts(
        &self,
        market: MarketId,
        household_id: i64,
        product_id: i64,
    ) -> StoreResult<crate::domain::donations::GiftBoxFacts> {
        #[derive(Deserialize)]
        struct Flags {
            quarantined: bool,
            hardship: bool,
        }
        let flags: Option<Flags> =
            self.db.opt("SELECT quarantined, hardship FROM households WHERE id = $1", &args![household_id]).await?;
        let members: Vec<i64> = self
            .db
            .all("SELECT id FROM users WHERE household_id = $1 AND erased_at IS NULL ORDER BY id", &args![household_id])
            .await?;
        let registered: Vec<String> = self
            .db
            .all(
                "SELECT phone FROM household_register WHERE household_id = $1 ORDER BY added_at, phone",
                &args![household_id],
            )
            .await?;
        Ok(crate::domain::donations::GiftBoxFacts {
            household: flags.map(|f| (f.quarantined, f.hardship)),
            members,
            registered,
            box_price: self.box_product(market, product_id).await?.map(|(price, _)| price),
            balance: self.db.one("SELECT balance_fen FROM market_pools WHERE market_id = $1", &args![market]).await?,
        })
    }

    /// The market's orders of quarantined and hardship households waiting to be paid, not yet
    /// helped, oldest first.
    pub async fn needs(&self, market: MarketId, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<PoolNeed>> {
        #[derive(Deserialize)]
        struct Row {
            order_id: i64,
            status: OrderStatus,
            total_fen: Fen,
            slot_starts_at: DateTime<Utc>,
            household_id: i64,
            community: String,
            building: String,
            unit: String,
            room: String,
            quarantined: bool,
            hardship: bool,
            created_at: DateTime<Utc>,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT o.id AS order_id, o.status, o.total_fen, s.starts_at AS slot_starts_at, h.id AS household_id, \
                 b.community, b.number AS building, h.unit, h.room, h.quarantined, h.hardship, o.created_at FROM orders o JOIN users u ON u.id = o.user_id JOIN slots s ON s.id = o.slot_id \
                 JOIN households h ON h.id = COALESCE(o.household_id, u.household_id) \
                 JOIN buildings b ON b.id = h.building_id \
                 WHERE s.market_id = $3 AND (o.status = 'placed' OR (o.status = 'pending_payment' AND o.expires_at > $1)) \
                 AND (h.quarantined OR h.hardship) AND o.total_fen > 0 \
                 AND NOT EXISTS (SELECT 1 FROM pool_allocations a WHERE a.order_id = o.id) ORDER BY o.id LIMIT $2",
                &args![now, limit, market],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| PoolNeed {
                order_id: shared::OrderId(r.order_id),
                status: r.status,
                total_fen: r.total_fen,
                slot_starts_at: to_api(r.slot_starts_at),
                household_id: shared::HouseholdId(r.household_id),
                address: format!("{} {}号楼 {}单元 {}", r.community, r.building, r.unit, r.room),
                quarantined: r.quarantined,
                hardship: r.hardship,
                created_at: to_api(r.created_at),
            })
            .collect())
    }

    /// A market's pool's balance and its ledger between two times, oldest first (at most
    /// `limit`).
    pub async fn ledger(
        &self,
        market: MarketId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<(Fen, Vec<LedgerEntry>)> {
        #[derive(Deserialize)]
        struct Row {
            id: i64,
            at: DateTime<Utc>,
            kind: String,
            amount_fen: i64,
            balance_fen: Fen,
            donation_id: Option<i64>,
            donor_name: Option<String>,
            donor_phone: Option<String>,
            order_id: Option<i64>,
            community: Option<String>,
            building: Option<String>,
            unit: Option<String>,
            room: Option<String>,
            by_phone: Option<String>,
            pool_fen: Option<Fen>,
        }
        // The pool's balance is read in the same statement as its entries (one snapshot), so a
        // gift settled meanwhile is in both or in neither.
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT l.id, l.at, l.kind, l.amount_fen, l.balance_fen, l.donation_id, d.donor_name, \
                 du.phone AS donor_phone, l.order_id, b.community, b.number AS building, h.unit, h.room, \
                 bu.phone AS by_phone, \
                 (SELECT p.balance_fen FROM market_pools p WHERE p.market_id = $4) AS pool_fen \
                 FROM pool_ledger l \
                 LEFT JOIN donations d ON d.id = l.donation_id LEFT JOIN users du ON du.id = d.user_id \
                 LEFT JOIN pool_allocations a ON a.order_id = l.order_id LEFT JOIN households h ON h.id = a.household_id \
                 LEFT JOIN buildings b ON b.id = h.building_id LEFT JOIN users bu ON bu.id = l.by_user \
                 WHERE l.market_id = $4 AND l.at >= $1 AND l.at < $2 ORDER BY l.id LIMIT $3",
                &args![from, to, limit, market],
            )
            .await?;
        let balance = match rows.first() {
            Some(r) => r.pool_fen.unwrap_or_default(),
            None => {
                let balance: Option<Fen> =
                    self.db.opt("SELECT balance_fen FROM market_pools WHERE market_id = $1", &args![market]).await?;
                balance.unwrap_or_default()
            }
        };
        let entries = rows
            .into_iter()
            .map(|r| {
                let resident = masked_phone(r.donor_phone).map(|p| format!("居民 {p}"));
                let household = match (r.community, r.building, r.unit, r.room) {
                    (Some(c), Some(b), Some(u), Some(room)) => Some(format!("{c} {b}号楼 {u}单元 {room}")),
                    _ => None,
                };
                LedgerEntry {
                    id: r.id,
                    at: to_api(r.at),
                    kind: r.kind,
                    amount_fen: r.amount_fen,
                    balance_fen: r.balance_fen,
                    donation_id: r.donation_id,
                    donor: r.donor_name.or(resident),
                    order_id: r.order_id.map(shared::OrderId),
                    household,
                    by: masked_phone(r.by_phone),
                }
            })
            .collect();
        Ok((balance, entries))
    }
}

/// A market's pool's balance, its row locked (PostgreSQL; SQLite's one writer holds the lock
/// already). Every market has its row: the migration made the markets' of then, opening a
/// market makes its own (`open_pool`).
async fn pool_balance(tx: &mut Tx, market: MarketId) -> StoreResult<Fen> {
    let sql = tx.locked("SELECT balance_fen FROM market_pools WHERE market_id = $1");
    Ok(tx.one(&sql, &args![market]).await?)
}

/// A market's pool begins with nothing (opening a market).
pub async fn open_pool(tx: &mut Tx, market: MarketId) -> StoreResult<()> {
    tx.exec("INSERT INTO market_pools (market_id, balance_fen) VALUES ($1, 0)", &args![market]).await?;
    Ok(())
}

/// A gift arrives: all of it left to spend, its market's pool up by it, a ledger line.
async fn receive(
    tx: &mut Tx,
    market: MarketId,
    id: i64,
    amount: Fen,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.exec(
        "UPDATE donations SET status = 'received', remaining_fen = amount_fen, received_at = $2 WHERE id = $1",
        &args![id, now],
    )
    .await?;
    move_pool(tx, market, "gift", amount.get(), (Some(id), None), by, now).await
}

/// Moves a market's pool by `amount` (signed) and writes the ledger line, of the gift or the
/// order it is for, with the balance after it. The database refuses a negative balance too (a
/// CHECK), as a last guard.
async fn move_pool(
    tx: &mut Tx,
    market: MarketId,
    kind: &str,
    amount: i64,
    (donation_id, order_id): (Option<i64>, Option<i64>),
    by: Option<i64>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let balance = pool_balance(tx, market).await?.get() + amount;
    tx.exec("UPDATE market_pools SET balance_fen = $1 WHERE market_id = $2", &args![balance, market]).await?;
    tx.exec(
        "INSERT INTO pool_ledger (at, kind, amount_fen, balance_fen, donation_id, order_id, by_user, market_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &args![now, kind, amount, balance, donation_id, order_id, by, market],
    )
    .await?;
    Ok(())
}
