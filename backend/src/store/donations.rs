//! The donation pool on either database, written once over `sql.rs`: gifts (paid with WeChat
//! Pay, or recorded by staff), allocations that pay a flagged household's order, money coming
//! back from a pool-paid order, and the ledger. Every change of the pool locks its one row, so
//! concurrent allocations are decided one after another over the balance as it is; what they do
//! is `domain::donations`' (and a gift's payment is `domain::payment::decide_payment`'s, as for
//! an order).

use super::sql::{args, Pool, Row, Tx};
use super::StoreResult;
use crate::domain::donations::{decide_allocation, give_back, AllocationSnapshot, Need};
use crate::domain::payment::{decide_payment, Merchant, PaymentNotice, PaymentOutcome, PaymentSnapshot};
use crate::domain::time::to_api;
use crate::domain::Refusal;
use chrono::{DateTime, Utc};
use shared::api::{Allocated, Gift, LedgerEntry, PoolNeed, PoolSummary};
use shared::order::OrderStatus;
use shared::{ErrorCode, Fen};

pub struct Donations {
    pool: Pool,
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
#[derive(Debug, Clone, PartialEq)]
pub struct GiftRecord {
    pub id: i64,
    pub user_id: Option<i64>,
    pub status: String,
    pub amount: Fen,
    pub boxes: i64,
    pub payer_openid: Option<String>,
    pub prepay_id: Option<String>,
}

/// A new gift: who, what, and whether it is in the pool already (staff-recorded).
pub struct NewGift<'a> {
    pub user_id: Option<i64>,
    pub donor_name: Option<&'a str>,
    pub amount: Fen,
    pub boxes: i64,
    pub product_id: Option<i64>,
    pub note: Option<&'a str>,
    pub recorded_by: Option<i64>,
}

const GIFT_SELECT: &str = "SELECT d.id, d.status, d.amount_fen, d.boxes, p.name, d.donor_name, d.created_at, \
     d.received_at, d.amount_fen - d.remaining_fen, \
     (SELECT COUNT(*) FROM gift_uses g WHERE g.donation_id = d.id AND g.amount_fen > 0) \
     FROM donations d LEFT JOIN products p ON p.id = d.product_id ";

fn gift(r: &Row) -> sqlx::Result<Gift> {
    let status: String = r.get(1)?;
    Ok(Gift {
        id: r.get(0)?,
        amount_fen: Fen::stored(r.get(2)?),
        boxes: r.get(3)?,
        product_name: r.get(4)?,
        donor_name: r.get(5)?,
        created_at: to_api(r.get(6)?),
        received_at: r.get::<Option<DateTime<Utc>>>(7)?.map(to_api),
        spent_fen: Fen::stored(if status == "received" { r.get(8)? } else { 0 }),
        boxes_delivered: r.get(9)?,
        status,
    })
}

impl Donations {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// The price and name of a 菜盒子 on sale, None if the product is not one.
    pub async fn box_product(&self, product_id: i64) -> StoreResult<Option<(Fen, String)>> {
        let row = self
            .pool
            .row(
                "SELECT price_fen, name FROM products WHERE id = $1 AND active AND category_id = 'box'",
                &args![product_id],
            )
            .await?;
        Ok(row.map(|r| Ok::<_, sqlx::Error>((Fen::stored(r.get(0)?), r.get(1)?))).transpose()?)
    }

    /// Records a gift: a resident's waits for its payment; a staff-recorded one (`recorded_by`)
    /// is in the pool at once, with its ledger line. The new gift's id.
    pub async fn give(&self, gift: &NewGift<'_>, now: DateTime<Utc>) -> StoreResult<i64> {
        let mut tx = self.pool.begin().await?;
        let received = gift.recorded_by.is_some();
        let row = tx
            .row(
                "INSERT INTO donations (user_id, donor_name, boxes, product_id, amount_fen, remaining_fen, status, \
                 recorded_by, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                &args![
                    gift.user_id,
                    gift.donor_name,
                    gift.boxes,
                    gift.product_id,
                    gift.amount.get(),
                    if received { gift.amount.get() } else { 0 },
                    "pending_payment",
                    gift.recorded_by,
                    gift.note,
                    now
                ],
            )
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        let id: i64 = row.get(0)?;
        if received {
            receive(&mut tx, id, gift.amount, None, gift.recorded_by, now).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn gift(&self, id: i64) -> StoreResult<Option<GiftRecord>> {
        let row = self
            .pool
            .row(
                "SELECT id, user_id, status, amount_fen, boxes, payer_openid, prepay_id FROM donations WHERE id = $1",
                &args![id],
            )
            .await?;
        Ok(row
            .map(|r| {
                Ok::<_, sqlx::Error>(GiftRecord {
                    id: r.get(0)?,
                    user_id: r.get(1)?,
                    status: r.get(2)?,
                    amount: Fen::stored(r.get(3)?),
                    boxes: r.get(4)?,
                    payer_openid: r.get(5)?,
                    prepay_id: r.get(6)?,
                })
            })
            .transpose()?)
    }

    /// The gift's payment: its `out_trade_no` and payer fixed the first time it is asked for.
    pub async fn ensure_payment(&self, id: i64, openid: &str) -> StoreResult<GiftRecord> {
        let mut tx = self.pool.begin().await?;
        tx.exec(
            "UPDATE donations SET out_trade_no = $2, payer_openid = $3 WHERE id = $1 AND out_trade_no IS NULL",
            &args![id, out_trade_no(id), openid.to_owned()],
        )
        .await?;
        tx.commit().await?;
        self.gift(id).await?.ok_or_else(|| sqlx::Error::RowNotFound.into())
    }

    pub async fn set_prepay(&self, id: i64, prepay_id: &str) -> StoreResult<()> {
        self.pool.write("UPDATE donations SET prepay_id = $2 WHERE id = $1", &args![id, prepay_id.to_owned()]).await?;
        Ok(())
    }

    /// Gifts with a prepay and no word from WeChat Pay since `asked_before`: to ask about.
    pub async fn unanswered(&self, asked_before: DateTime<Utc>, limit: i64) -> StoreResult<Vec<String>> {
        Ok(self
            .pool
            .first_column(
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
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "SELECT id, status, amount_fen, transaction_id FROM donations WHERE out_trade_no = $1{}",
            tx.lock()
        );
        let row = tx.row(&sql, &args![notice.out_trade_no.clone()]).await?;
        let snapshot = match &row {
            Some(r) => Some(PaymentSnapshot {
                order_id: r.get(0)?,
                status: if r.get::<String>(1)? == "received" { OrderStatus::Paid } else { OrderStatus::PendingPayment },
                total: Fen::stored(r.get(2)?),
                transaction_id: r.get(3)?,
                paid_by_pool: false,
            }),
            None => None,
        };
        let outcome = match decide_payment(snapshot.as_ref(), notice, merchant) {
            Ok(outcome) => outcome,
            Err(refusal) => return Ok(Err(refusal)),
        };
        match (&outcome, snapshot) {
            (PaymentOutcome::Paid, Some(s)) => {
                tx.exec(
                    "UPDATE donations SET transaction_id = $2 WHERE id = $1",
                    &args![s.order_id, notice.transaction_id.clone()],
                )
                .await?;
                receive(&mut tx, s.order_id, s.total, None, None, notice.success_time.unwrap_or(now)).await?;
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

    /// Pays an order of a quarantined or hardship household from the pool, as
    /// `decide_allocation` says over the order and the pool as locked (order first, then the
    /// pool: the order is locked first everywhere).
    pub async fn allocate(
        &self,
        order_id: i64,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Allocated, Refusal>> {
        let mut tx = self.pool.begin().await?;
        let lock = tx.lock();
        let order = tx
            .row(
                &format!(
                    "SELECT o.status, o.total_fen, o.expires_at, COALESCE(o.household_id, \
                     (SELECT household_id FROM users WHERE id = o.user_id)) FROM orders o WHERE o.id = $1{lock}"
                ),
                &args![order_id],
            )
            .await?;
        let snapshot = match order {
            None => None,
            Some(o) => {
                let household: Option<i64> = o.get(3)?;
                let need = match household {
                    Some(h) => tx
                        .row("SELECT quarantined, hardship FROM households WHERE id = $1", &args![h])
                        .await?
                        .map(|r| {
                            Ok::<_, sqlx::Error>(Need { household_id: h, quarantined: r.get(0)?, hardship: r.get(1)? })
                        })
                        .transpose()?,
                    None => None,
                };
                let already =
                    tx.row("SELECT 1 FROM pool_allocations WHERE order_id = $1", &args![order_id]).await?.is_some();
                let balance = pool_balance(&mut tx).await?;
                let gifts = tx
                    .rows(
                        "SELECT id, remaining_fen FROM donations WHERE status = 'received' AND remaining_fen > 0 ORDER BY id",
                        &args![],
                    )
                    .await?
                    .iter()
                    .map(|r| Ok((r.get(0)?, r.get(1)?)))
                    .collect::<sqlx::Result<Vec<(i64, i64)>>>()?;
                let expires_at: Option<DateTime<Utc>> = o.get(2)?;
                Some(AllocationSnapshot {
                    order_id,
                    status: OrderStatus::parse(&o.get::<String>(0)?).unwrap_or(OrderStatus::Placed),
                    expired: expires_at.is_some_and(|e| e <= now),
                    total: Fen::stored(o.get(1)?),
                    household: need,
                    already_allocated: already,
                    balance,
                    gifts,
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
        tx.exec(super::EVENT_INSERT, &args![order_id, OrderStatus::Paid.as_str(), now, by]).await?;
        tx.exec(
            "INSERT INTO pool_allocations (order_id, household_id, amount_fen, by_user, created_at) VALUES ($1, $2, $3, $4, $5)",
            &args![order_id, a.household_id, a.amount.get(), by, now],
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
        move_pool(&mut tx, "allocation", -a.amount.get(), None, Some(order_id), Some(by), now).await?;
        tx.commit().await?;
        Ok(Ok(Allocated { order_id, amount_fen: a.amount, balance_fen: a.balance_after }))
    }

    /// Settles money owed back to the pool (a pool-paid order cancelled, or short at a stall):
    /// each return once, back to the gifts that paid the order. How many were settled.
    pub async fn settle_returns(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<usize> {
        let open = self
            .pool
            .rows(
                "SELECT return_no FROM pool_returns WHERE settled_at IS NULL ORDER BY created_at, return_no LIMIT $1",
                &args![limit],
            )
            .await?;
        let mut settled = 0;
        for r in open {
            let return_no: String = r.get(0)?;
            let mut tx = self.pool.begin().await?;
            let sql = format!(
                "SELECT order_id, amount_fen FROM pool_returns WHERE return_no = $1 AND settled_at IS NULL{}",
                tx.lock()
            );
            let Some(row) = tx.row(&sql, &args![return_no.clone()]).await? else { continue };
            let (order_id, amount): (i64, i64) = (row.get(0)?, row.get(1)?);
            // The pool is locked before the gifts' shares are read.
            pool_balance(&mut tx).await?;
            let uses = tx
                .rows(
                    "SELECT donation_id, amount_fen FROM gift_uses WHERE order_id = $1 ORDER BY donation_id",
                    &args![order_id],
                )
                .await?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect::<sqlx::Result<Vec<(i64, i64)>>>()?;
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
                move_pool(&mut tx, "return", total, None, Some(order_id), None, now).await?;
            }
            tx.exec("UPDATE pool_returns SET settled_at = $2 WHERE return_no = $1", &args![return_no, now]).await?;
            tx.commit().await?;
            settled += 1;
        }
        Ok(settled)
    }

    pub async fn summary(&self) -> StoreResult<PoolSummary> {
        let r = self
            .pool
            .row(
                "SELECT (SELECT balance_fen FROM donation_pool WHERE id = 1), \
                 (SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM donations WHERE status = 'received'), \
                 (SELECT COUNT(*) FROM donations WHERE status = 'received'), \
                 (SELECT COUNT(*) FROM pool_allocations a JOIN orders o ON o.id = a.order_id \
                   WHERE o.status NOT IN ('cancelled', 'expired')), \
                 (SELECT COUNT(DISTINCT a.household_id) FROM pool_allocations a JOIN orders o ON o.id = a.order_id \
                   WHERE o.status NOT IN ('cancelled', 'expired'))",
                &args![],
            )
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        Ok(PoolSummary {
            balance_fen: Fen::stored(r.get(0)?),
            received_fen: Fen::stored(r.get::<i64>(1)?),
            gifts: r.get(2)?,
            orders_paid: r.get(3)?,
            households_helped: r.get(4)?,
        })
    }

    /// A giver's gifts, newest first, with what each became.
    pub async fn mine(&self, user_id: i64) -> StoreResult<Vec<Gift>> {
        let rows = self
            .pool
            .rows(&format!("{GIFT_SELECT}WHERE d.user_id = $1 ORDER BY d.id DESC LIMIT 200"), &args![user_id])
            .await?;
        rows.iter().map(gift).collect::<sqlx::Result<_>>().map_err(Into::into)
    }

    /// One gift as its giver sees it.
    pub async fn gift_view(&self, id: i64) -> StoreResult<Option<Gift>> {
        let row = self.pool.row(&format!("{GIFT_SELECT}WHERE d.id = $1"), &args![id]).await?;
        Ok(row.as_ref().map(gift).transpose()?)
    }

    /// Orders of quarantined and hardship households waiting to be paid, not yet helped,
    /// oldest first.
    pub async fn needs(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<PoolNeed>> {
        let rows = self
            .pool
            .rows(
                "SELECT o.id, o.status, o.total_fen, s.starts_at, h.id, b.number, h.unit, h.room, h.quarantined, \
                 h.hardship, o.created_at FROM orders o JOIN users u ON u.id = o.user_id JOIN slots s ON s.id = o.slot_id \
                 JOIN households h ON h.id = COALESCE(o.household_id, u.household_id) \
                 JOIN buildings b ON b.id = h.building_id \
                 WHERE (o.status = 'placed' OR (o.status = 'pending_payment' AND o.expires_at > $1)) \
                 AND (h.quarantined OR h.hardship) AND o.total_fen > 0 \
                 AND NOT EXISTS (SELECT 1 FROM pool_allocations a WHERE a.order_id = o.id) ORDER BY o.id LIMIT $2",
                &args![now, limit],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PoolNeed {
                    order_id: r.get(0)?,
                    status: OrderStatus::parse(&r.get::<String>(1)?).unwrap_or(OrderStatus::Placed),
                    total_fen: Fen::stored(r.get(2)?),
                    slot_starts_at: to_api(r.get(3)?),
                    household_id: r.get(4)?,
                    address: format!("{}号楼 {}单元 {}", r.get::<String>(5)?, r.get::<String>(6)?, r.get::<String>(7)?),
                    quarantined: r.get(8)?,
                    hardship: r.get(9)?,
                    created_at: to_api(r.get(10)?),
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }

    /// The pool's balance and its ledger between two times, oldest first (at most `limit`).
    pub async fn ledger(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<(Fen, Vec<LedgerEntry>)> {
        let balance = self.pool.row("SELECT balance_fen FROM donation_pool WHERE id = 1", &args![]).await?;
        let balance = Fen::stored(balance.map(|r| r.get(0)).transpose()?.unwrap_or(0));
        let rows = self
            .pool
            .rows(
                "SELECT l.id, l.at, l.kind, l.amount_fen, l.balance_fen, l.donation_id, d.donor_name, du.phone, l.order_id, \
                 b.number, h.unit, h.room, bu.phone FROM pool_ledger l \
                 LEFT JOIN donations d ON d.id = l.donation_id LEFT JOIN users du ON du.id = d.user_id \
                 LEFT JOIN pool_allocations a ON a.order_id = l.order_id LEFT JOIN households h ON h.id = a.household_id \
                 LEFT JOIN buildings b ON b.id = h.building_id LEFT JOIN users bu ON bu.id = l.by_user \
                 WHERE l.at >= $1 AND l.at < $2 ORDER BY l.id LIMIT $3",
                &args![from, to, limit],
            )
            .await?;
        let entries = rows
            .iter()
            .map(|r| {
                let donor: Option<String> = r.get(6)?;
                let resident = super::masked_phone(r.get(7)?).map(|p| format!("居民 {p}"));
                let household =
                    match (r.get::<Option<String>>(9)?, r.get::<Option<String>>(10)?, r.get::<Option<String>>(11)?) {
                        (Some(b), Some(u), Some(room)) => Some(format!("{b}号楼 {u}单元 {room}")),
                        _ => None,
                    };
                Ok(LedgerEntry {
                    id: r.get(0)?,
                    at: to_api(r.get(1)?),
                    kind: r.get(2)?,
                    amount_fen: r.get(3)?,
                    balance_fen: Fen::stored(r.get(4)?),
                    donation_id: r.get(5)?,
                    donor: donor.or(resident),
                    order_id: r.get(8)?,
                    household,
                    by: super::masked_phone(r.get(12)?),
                })
            })
            .collect::<sqlx::Result<_>>()?;
        Ok((balance, entries))
    }
}

/// The pool's balance, its row locked (PostgreSQL; SQLite's one writer holds the lock already).
async fn pool_balance(tx: &mut Tx) -> StoreResult<Fen> {
    let sql = format!("SELECT balance_fen FROM donation_pool WHERE id = 1{}", tx.lock());
    let row = tx.row(&sql, &args![]).await?.ok_or(sqlx::Error::RowNotFound)?;
    Ok(Fen::stored(row.get(0)?))
}

/// A gift arrives: all of it left to spend, the pool up by it, a ledger line.
async fn receive(
    tx: &mut Tx,
    id: i64,
    amount: Fen,
    order_id: Option<i64>,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.exec(
        "UPDATE donations SET status = 'received', remaining_fen = amount_fen, received_at = $2 WHERE id = $1",
        &args![id, now],
    )
    .await?;
    move_pool(tx, "gift", amount.get(), Some(id), order_id, by, now).await
}

/// Moves the pool by `amount` (signed) and writes the ledger line with the balance after it.
/// The database refuses a negative balance too (a CHECK), as a last guard.
async fn move_pool(
    tx: &mut Tx,
    kind: &str,
    amount: i64,
    donation_id: Option<i64>,
    order_id: Option<i64>,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let balance = pool_balance(tx).await?.get() + amount;
    tx.exec("UPDATE donation_pool SET balance_fen = $1 WHERE id = 1", &args![balance]).await?;
    tx.exec(
        "INSERT INTO pool_ledger (at, kind, amount_fen, balance_fen, donation_id, order_id, by_user) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &args![now, kind, amount, balance, donation_id, order_id, by],
    )
    .await?;
    Ok(())
}
