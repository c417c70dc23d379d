//! Group-buy shares paid ahead with WeChat Pay: a prepay per share
//! total (`FXG{group-buy}H{household}N{n}`), and what WeChat Pay says of it, decided by
//! `domain::group_buy::decide_share_payment` over the group-buy and the share as locked (the
//! group-buy row first, as everywhere). When the group-buy goes ahead the share's payment becomes
//! its order's; when it fails the money is owed back (both in `GroupBuys::close`).

use super::GroupBuys;
use crate::domain::group_buy::{decide_share_payment, SharePayRequest, SharePaymentSnapshot};
use crate::domain::payment::{Merchant, PaymentNotice, PaymentOutcome};
use crate::domain::Refusal;
use crate::store::db::args;
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::group_buy::{GroupBuyStatus, SharePayment};
use shared::Fen;

/// Whether WeChat Pay's `out_trade_no` is a group-buy share's.
pub fn is_share(out_trade_no: &str) -> bool {
    out_trade_no.starts_with("FXG")
}

/// A share's total and whether it is paid.
#[derive(Deserialize)]
struct ShareNow {
    total_fen: Fen,
    payment_status: SharePayment,
}

/// A share's prepay as kept: its `out_trade_no` and WeChat's prepay id once made.
pub struct SharePrepay {
    pub out_trade_no: String,
    pub prepay_id: Option<String>,
    pub amount: Fen,
    pub payer_openid: String,
}

/// Orders made from paid shares take the share's payment as theirs (`$1` group-buy, `$2`
/// household, `$3` the order): a later cancel or shortage refunds it like any paid order's.
pub(super) const SHARE_PAYMENT_TO_ORDER: &str = "INSERT INTO payments (out_trade_no, order_id, amount_fen, \
     payer_openid, prepay_id, created_at, transaction_id, paid_at) SELECT out_trade_no, $3, amount_fen, payer_openid, \
     prepay_id, created_at, transaction_id, paid_at FROM share_payments WHERE group_buy_id = $1 AND household_id = $2 \
     AND counts";

/// A failed group-buy's paid share is owed back in full (`$3` its refund number, `$4` now).
pub(super) const SHARE_REFUND_INSERT: &str = "INSERT INTO refunds (out_refund_no, order_id, out_trade_no, amount_fen, \
     reason, status, created_at, updated_at, user_id, group_buy_id) SELECT $3, NULL, out_trade_no, amount_fen, \
     'group_buy_failed', 'due', $4, $4, user_id, group_buy_id FROM share_payments WHERE group_buy_id = $1 \
     AND household_id = $2 AND counts ON CONFLICT (out_refund_no) DO NOTHING";

impl GroupBuys {
    /// The group-buy and the household's share as they stand, for `decide_share_pay`; None: no
    /// such group-buy.
    pub async fn share_to_pay(&self, id: i64, household_id: i64) -> StoreResult<Option<SharePayRequest>> {
        #[derive(Deserialize)]
        struct Group {
            status: GroupBuyStatus,
            deadline: DateTime<Utc>,
        }
        let Some(g) = self.db.opt::<Group>("SELECT status, deadline FROM group_buys WHERE id = $1", &args![id]).await?
        else {
            return Ok(None);
        };
        let share: Option<ShareNow> = self
            .db
            .opt(
                "SELECT total_fen, payment_status FROM group_buy_shares WHERE group_buy_id = $1 AND household_id = $2",
                &args![id, household_id],
            )
            .await?;
        Ok(Some(SharePayRequest {
            status: g.status,
            deadline: g.deadline,
            share: share.map(|s| (s.total_fen, s.payment_status)),
        }))
    }

    /// The prepay for the share at `amount`, made now unless one for this amount and payer is
    /// waiting (pressing "pay" again reuses it; a changed share gets a new one).
    pub async fn share_prepay(
        &self,
        id: i64,
        household_id: i64,
        user_id: i64,
        amount: Fen,
        openid: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<SharePrepay> {
        #[derive(Deserialize)]
        struct Waiting {
            out_trade_no: String,
            prepay_id: Option<String>,
        }
        let mut tx = self.db.begin().await?;
        let waiting: Option<Waiting> = tx
            .opt(
                "SELECT out_trade_no, prepay_id FROM share_payments WHERE group_buy_id = $1 AND household_id = $2 \
                 AND amount_fen = $3 AND payer_openid = $4 AND transaction_id IS NULL ORDER BY created_at DESC LIMIT 1",
                &args![id, household_id, amount, openid],
            )
            .await?;
        let prepay = match waiting {
            Some(w) => SharePrepay {
                out_trade_no: w.out_trade_no,
                prepay_id: w.prepay_id,
                amount,
                payer_openid: openid.to_owned(),
            },
            None => {
                let made: i64 = tx
                    .one(
                        "SELECT COUNT(*) AS n FROM share_payments WHERE group_buy_id = $1 AND household_id = $2",
                        &args![id, household_id],
                    )
                    .await?;
                let out_trade_no = format!("FXG{id}H{household_id}N{}", made + 1);
                tx.exec(
                    "INSERT INTO share_payments (out_trade_no, group_buy_id, household_id, user_id, amount_fen, \
                     payer_openid, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &args![out_trade_no.as_str(), id, household_id, user_id, amount, openid, now],
                )
                .await?;
                SharePrepay { out_trade_no, prepay_id: None, amount, payer_openid: openid.to_owned() }
            }
        };
        tx.commit().await?;
        Ok(prepay)
    }

    pub async fn set_share_prepay(&self, out_trade_no: &str, prepay_id: &str) -> StoreResult<()> {
        self.db
            .exec("UPDATE share_payments SET prepay_id = $2 WHERE out_trade_no = $1", &args![out_trade_no, prepay_id])
            .await?;
        Ok(())
    }

    /// Share prepays with no word from WeChat Pay since `asked_before` (within two days): to ask about.
    pub async fn unanswered_share_payments(&self, asked_before: DateTime<Utc>, limit: i64) -> StoreResult<Vec<String>> {
        Ok(self
            .db
            .all(
                "SELECT out_trade_no FROM share_payments WHERE prepay_id IS NOT NULL AND transaction_id IS NULL \
                 AND created_at <= $1 AND created_at > $3 ORDER BY created_at LIMIT $2",
                &args![asked_before, limit, asked_before - chrono::Duration::days(2)],
            )
            .await?)
    }

    /// What WeChat Pay says of a share's payment, applied once: the share paid, or the money
    /// owed back (the group-buy closed, the share changed or already paid).
    pub async fn apply_share_payment(
        &self,
        notice: &PaymentNotice,
        merchant: &Merchant<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<PaymentOutcome, Refusal>> {
        #[derive(Deserialize)]
        struct Found {
            group_buy_id: i64,
            household_id: i64,
        }
        #[derive(Deserialize)]
        struct Paid {
            amount_fen: Fen,
            transaction_id: Option<String>,
            user_id: i64,
        }
        let mut tx = self.db.begin().await?;
        let found: Option<Found> = tx
            .opt(
                "SELECT group_buy_id, household_id FROM share_payments WHERE out_trade_no = $1",
                &args![notice.out_trade_no.as_str()],
            )
            .await?;
        let mut snapshot = None;
        let mut keys = None;
        if let Some(f) = found {
            let (id, household) = (f.group_buy_id, f.household_id);
            let sql = tx.locked("SELECT status FROM group_buys WHERE id = $1");
            let status: Option<GroupBuyStatus> = tx.opt(&sql, &args![id]).await?;
            let sql = tx.locked(
                "SELECT total_fen, payment_status FROM group_buy_shares WHERE group_buy_id = $1 AND household_id = $2",
            );
            let share: Option<ShareNow> = tx.opt(&sql, &args![id, household]).await?;
            let sql =
                tx.locked("SELECT amount_fen, transaction_id, user_id FROM share_payments WHERE out_trade_no = $1");
            let p: Paid = tx.one(&sql, &args![notice.out_trade_no.as_str()]).await?;
            snapshot = Some(SharePaymentSnapshot {
                out_trade_no: notice.out_trade_no.clone(),
                amount: p.amount_fen,
                transaction_id: p.transaction_id,
                group_buy_open: status == Some(GroupBuyStatus::Open),
                share: share.map(|s| (s.total_fen, s.payment_status)),
            });
            keys = Some((id, household, p.user_id));
        }
        let outcome = match decide_share_payment(snapshot.as_ref(), notice, merchant) {
            Ok(outcome) => outcome,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let (Some(s), Some((id, household, payer))) = (snapshot, keys) else { return Ok(Ok(outcome)) };
        let paid_at = notice.success_time.unwrap_or(now);
        match outcome {
            PaymentOutcome::Paid => {
                tx.exec(
                    "UPDATE share_payments SET transaction_id = $2, paid_at = $3, counts = TRUE WHERE out_trade_no = $1",
                    &args![s.out_trade_no.clone(), notice.transaction_id.clone(), paid_at],
                )
                .await?;
                tx.exec(
                    "UPDATE group_buy_shares SET payment_status = 'paid', updated_at = $3 \
                     WHERE group_buy_id = $1 AND household_id = $2",
                    &args![id, household, now],
                )
                .await?;
            }
            PaymentOutcome::RefundLate => {
                let reason = if s.transaction_id.is_some() { "second_payment" } else { "late_payment" };
                if s.transaction_id.is_none() {
                    tx.exec(
                        "UPDATE share_payments SET transaction_id = $2, paid_at = $3 WHERE out_trade_no = $1",
                        &args![s.out_trade_no.clone(), notice.transaction_id.clone(), paid_at],
                    )
                    .await?;
                }
                tx.exec(
                    "INSERT INTO refunds (out_refund_no, order_id, out_trade_no, amount_fen, reason, status, created_at, \
                     updated_at, user_id, group_buy_id) VALUES ($1, NULL, $2, $3, $4, 'due', $5, $5, $6, $7) \
                     ON CONFLICT (out_refund_no) DO NOTHING",
                    &args![
                        format!("{}-{}", s.out_trade_no, notice.transaction_id),
                        s.out_trade_no.clone(),
                        notice.total,
                        reason,
                        now,
                        payer,
                        id
                    ],
                )
                .await?;
            }
            PaymentOutcome::AlreadyPaid | PaymentOutcome::NotPaid => {}
        }
        tx.commit().await?;
        Ok(Ok(outcome))
    }
}
