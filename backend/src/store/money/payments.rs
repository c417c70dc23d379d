//! WeChat Pay's records: each order's payment
//! (`out_trade_no`, the prepay, the transaction that paid it) and the refunds owed. What a
//! payment notice does is `domain::payment::decide_payment`'s, over the order as locked here.

use crate::domain::payment::{decide_payment, Merchant, PaymentNotice, PaymentOutcome, PaymentSnapshot};
use crate::domain::Refusal;
use crate::store::checkout::orders::add_event;
use crate::store::db::{args, Db};
use crate::store::notices::NOTICE_INSERT;
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::order::OrderStatus;
use shared::Fen;

pub struct Payments {
    db: Db,
}

/// An order's payment as recorded.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PaymentRecord {
    pub out_trade_no: String,
    pub order_id: i64,
    #[serde(rename = "amount_fen")]
    pub amount: Fen,
    pub payer_openid: String,
    pub prepay_id: Option<String>,
    pub transaction_id: Option<String>,
}

/// A refund owed or made.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RefundRecord {
    pub out_refund_no: String,
    /// None for a group-buy share's refund (it never became an order).
    pub order_id: Option<i64>,
    pub group_buy_id: Option<i64>,
    pub out_trade_no: String,
    #[serde(rename = "amount_fen")]
    pub amount: Fen,
    /// What the payment refunded was.
    #[serde(rename = "total_fen")]
    pub total: Fen,
    pub reason: String,
    pub status: String,
}

/// The `out_trade_no` of an order's payment: `FXS` and the order id (6 to 32 characters).
pub fn out_trade_no(order_id: i64) -> String {
    format!("FXS{order_id:08}")
}

/// The refund of a paid order cancelled (`$1` the order, `$2` the amount, `$3` now): its own
/// `out_refund_no`, so cancelling can never owe it twice.
pub const CANCEL_REFUND_INSERT: &str = "INSERT INTO refunds (out_refund_no, order_id, out_trade_no, amount_fen, reason, \
     status, created_at, updated_at) SELECT out_trade_no || '-C', order_id, out_trade_no, $2, 'cancelled', 'due', $3, $3 \
     FROM payments WHERE order_id = $1 AND transaction_id IS NOT NULL ON CONFLICT (out_refund_no) DO NOTHING";

/// The refund of a paid order's shortages at one stall (`$4`: `-S{part}`, so each part's is
/// owed once).
pub const SHORTAGE_REFUND_INSERT: &str = "INSERT INTO refunds (out_refund_no, order_id, out_trade_no, amount_fen, \
     reason, status, created_at, updated_at) SELECT out_trade_no || $4, order_id, out_trade_no, $2, 'shortage', 'due', \
     $3, $3 FROM payments WHERE order_id = $1 AND transaction_id IS NOT NULL ON CONFLICT (out_refund_no) DO NOTHING";

const PAYMENT: &str =
    "SELECT out_trade_no, order_id, amount_fen, payer_openid, prepay_id, transaction_id FROM payments WHERE ";

impl Payments {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The WeChat openid a user pays with, if they have one.
    pub async fn openid(&self, user_id: i64) -> StoreResult<Option<String>> {
        Ok(self.db.opt("SELECT wechat_openid FROM users WHERE id = $1", &args![user_id]).await?.flatten())
    }

    /// The order's payment, made now if it has none (the amount and payer fixed then).
    pub async fn ensure(
        &self,
        order_id: i64,
        amount: Fen,
        openid: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<PaymentRecord> {
        let mut tx = self.db.begin().await?;
        tx.exec(
            "INSERT INTO payments (out_trade_no, order_id, amount_fen, payer_openid, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id) DO NOTHING",
            &args![out_trade_no(order_id), order_id, amount, openid, now],
        )
        .await?;
        let payment = tx.one(&format!("{PAYMENT}order_id = $1"), &args![order_id]).await?;
        tx.commit().await?;
        Ok(payment)
    }

    pub async fn set_prepay(&self, out_trade_no: &str, prepay_id: &str) -> StoreResult<()> {
        self.db
            .exec("UPDATE payments SET prepay_id = $2 WHERE out_trade_no = $1", &args![out_trade_no, prepay_id])
            .await?;
        Ok(())
    }

    /// Payments with a prepay but no word from WeChat whose orders still wait: those made before
    /// `asked_before` or expiring before `expiring_before`, oldest first. What to ask WeChat Pay
    /// about when a notification did not come.
    pub async fn unanswered(
        &self,
        asked_before: DateTime<Utc>,
        expiring_before: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<String>> {
        Ok(self
            .db
            .all(
                "SELECT p.out_trade_no FROM payments p JOIN orders o ON o.id = p.order_id \
                 WHERE p.prepay_id IS NOT NULL AND p.transaction_id IS NULL AND o.status = 'pending_payment' \
                 AND (p.created_at <= $1 OR o.expires_at <= $2) ORDER BY p.created_at LIMIT $3",
                &args![asked_before, expiring_before, limit],
            )
            .await?)
    }

    pub async fn by_order(&self, order_id: i64) -> StoreResult<Option<PaymentRecord>> {
        Ok(self.db.opt(&format!("{PAYMENT}order_id = $1"), &args![order_id]).await?)
    }

    /// What WeChat says of a payment, decided over its order as locked and applied once: the
    /// order paid (with its timeline step), or a refund owed for money that came too late.
    /// Err: refused (forged, altered, another merchant's, the wrong amount); nothing changed.
    pub async fn apply(
        &self,
        notice: &PaymentNotice,
        merchant: &Merchant<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<PaymentOutcome, Refusal>> {
        let mut tx = self.db.begin().await?;
        let sql = tx.locked(
            "SELECT o.id AS order_id, o.status, p.amount_fen AS total, p.transaction_id, \
             EXISTS (SELECT 1 FROM pool_allocations a WHERE a.order_id = o.id) AS paid_by_pool \
             FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.out_trade_no = $1",
        );
        let snapshot: Option<PaymentSnapshot> = tx.opt(&sql, &args![notice.out_trade_no.as_str()]).await?;
        let outcome = match decide_payment(snapshot.as_ref(), notice, merchant) {
            Ok(outcome) => outcome,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let Some(s) = snapshot else { return Ok(Ok(outcome)) };
        let paid_at = notice.success_time.unwrap_or(now);
        match outcome {
            PaymentOutcome::Paid => {
                tx.exec(
                    "UPDATE payments SET transaction_id = $2, paid_at = $3 WHERE out_trade_no = $1",
                    &args![notice.out_trade_no.as_str(), notice.transaction_id.as_str(), paid_at],
                )
                .await?;
                tx.exec(
                    "UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1",
                    &args![s.order_id, OrderStatus::Paid.as_str(), now],
                )
                .await?;
                add_event(&mut tx, shared::OrderId(s.order_id), OrderStatus::Paid, now, None).await?;
            }
            PaymentOutcome::RefundLate => {
                let reason =
                    if s.transaction_id.is_some() || s.paid_by_pool { "second_payment" } else { "late_payment" };
                // An order the pool paid keeps no WeChat transaction of its own: what the
                // resident paid is only owed back.
                if s.transaction_id.is_none() && !s.paid_by_pool {
                    tx.exec(
                        "UPDATE payments SET transaction_id = $2, paid_at = $3 WHERE out_trade_no = $1",
                        &args![notice.out_trade_no.as_str(), notice.transaction_id.as_str(), paid_at],
                    )
                    .await?;
                }
                tx.exec(
                    "INSERT INTO refunds (out_refund_no, order_id, out_trade_no, amount_fen, reason, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 'due', $6, $6) ON CONFLICT (out_refund_no) DO NOTHING",
                    &args![
                        format!("{}-{}", notice.out_trade_no, notice.transaction_id),
                        s.order_id,
                        notice.out_trade_no.as_str(),
                        notice.total,
                        reason,
                        now
                    ],
                )
                .await?;
            }
            PaymentOutcome::AlreadyPaid | PaymentOutcome::NotPaid => {}
        }
        tx.commit().await?;
        Ok(Ok(outcome))
    }

    /// Refunds that have not come back yet (owed, asked, or failed: staff must see to those),
    /// oldest first.
    /// `market`'s refunds (of its slots' orders and its group-buys) whose money is not back yet.
    pub async fn open_refunds(&self, market: shared::MarketId, limit: i64) -> StoreResult<Vec<RefundRecord>> {
        self.refunds_where("r.status <> 'succeeded'", limit, None, Some(market)).await
    }

    /// Refunds recorded and not yet asked of WeChat Pay (oldest first).
    pub async fn due_refunds(&self, limit: i64) -> StoreResult<Vec<RefundRecord>> {
        self.refunds_where("r.status = 'due'", limit, None, None).await
    }

    /// Refunds asked of WeChat Pay with no word of their end since `before`: to ask about.
    pub async fn unanswered_refunds(&self, before: DateTime<Utc>, limit: i64) -> StoreResult<Vec<String>> {
        Ok(self
            .db
            .all(
                "SELECT out_refund_no FROM refunds WHERE status = 'requested' AND updated_at <= $1 \
                 ORDER BY updated_at LIMIT $2",
                &args![before, limit],
            )
            .await?)
    }

    /// What WeChat Pay said of a refund, applied as `refund_status_after` decides, once.
    pub async fn refund_reported(&self, out_refund_no: &str, reported: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        #[derive(Deserialize)]
        struct Back {
            order_id: Option<i64>,
            amount_fen: i64,
            user_id: Option<i64>,
            group_buy_id: Option<i64>,
        }
        let mut tx = self.db.begin().await?;
        let sql = tx.locked("SELECT status FROM refunds WHERE out_refund_no = $1");
        let Some(current) = tx.opt::<String>(&sql, &args![out_refund_no]).await? else { return Ok(false) };
        let Some(next) = crate::domain::payment::refund_status_after(&current, reported) else { return Ok(false) };
        tx.exec(
            "UPDATE refunds SET status = $2, updated_at = $3 WHERE out_refund_no = $1",
            &args![out_refund_no, next, now],
        )
        .await?;
        if next == "succeeded" {
            // The resident is told the money is back (a share's payer, or the order's resident).
            let back: Option<Back> = tx
                .opt(
                    "SELECT r.order_id, r.amount_fen, COALESCE(r.user_id, o.user_id) AS user_id, r.group_buy_id \
                     FROM refunds r LEFT JOIN orders o ON o.id = r.order_id WHERE r.out_refund_no = $1",
                    &args![out_refund_no],
                )
                .await?;
            if let Some(b) = back {
                let (title, body) = match (b.order_id, b.group_buy_id) {
                    (None, Some(g)) => crate::domain::notices::words("group_buy_refund", g, Some(b.amount_fen)),
                    _ => crate::domain::notices::words("refund", b.order_id.unwrap_or_default(), Some(b.amount_fen)),
                };
                let dedupe = format!("refund:{out_refund_no}");
                if let Some(user_id) = b.user_id {
                    tx.exec(NOTICE_INSERT, &args![user_id, b.order_id, "refund", dedupe, title, body, now]).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Refunds of an order (oldest first).
    pub async fn refunds(&self, order_id: i64) -> StoreResult<Vec<RefundRecord>> {
        self.refunds_where("r.order_id = $2", 1000, Some(order_id), None).await
    }

    async fn refunds_where(
        &self,
        condition: &str,
        limit: i64,
        order_id: Option<i64>,
        market: Option<shared::MarketId>,
    ) -> StoreResult<Vec<RefundRecord>> {
        let sql = format!(
            "SELECT r.out_refund_no, r.order_id, r.out_trade_no, r.amount_fen, \
             COALESCE(p.amount_fen, sp.amount_fen) AS total_fen, r.reason, r.status, r.group_buy_id FROM refunds r LEFT JOIN payments p ON p.out_trade_no = r.out_trade_no \
             LEFT JOIN share_payments sp ON sp.out_trade_no = r.out_trade_no WHERE {condition} \
             AND (CAST($2 AS BIGINT) IS NULL OR r.order_id = $2) \
             AND (CAST($3 AS BIGINT) IS NULL OR COALESCE( \
                  (SELECT s.market_id FROM orders o JOIN slots s ON s.id = o.slot_id WHERE o.id = r.order_id), \
                  (SELECT g.market_id FROM group_buys g WHERE g.id = r.group_buy_id)) = $3) \
             ORDER BY r.created_at, r.out_refund_no LIMIT $1"
        );
        Ok(self.db.all(&sql, &args![limit, order_id, market.map(shared::MarketId::get)]).await?)
    }
}
