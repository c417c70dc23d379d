//! WeChat Pay's word on an order, decided once: what a verified, decrypted payment notification
//! (or the answer to a query) does to the order it names. The store loads the order's payment
//! as locked, calls `decide_payment` and applies what it says; a duplicate changes nothing.

use chrono::{DateTime, Utc};
use shared::order::OrderStatus;
use shared::{ErrorCode, Fen};

use super::Refusal;

/// The order a notification names, as the store read (and locked) it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct PaymentSnapshot {
    pub order_id: i64,
    pub status: OrderStatus,
    /// What the resident was asked to pay.
    pub total: Fen,
    /// The WeChat transaction that already paid it, if one did.
    pub transaction_id: Option<String>,
    /// The donation pool paid it already: money from the resident goes back.
    pub paid_by_pool: bool,
}

/// What WeChat says happened to one `out_trade_no` (decrypted `resource`, or a query's answer).
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentNotice {
    pub mchid: String,
    pub appid: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    /// `SUCCESS`, `NOTPAY`, `CLOSED`, `REFUND`, `PAYERROR`, ...
    pub trade_state: String,
    /// Fen actually paid.
    pub total: i64,
    pub success_time: Option<DateTime<Utc>>,
}

/// What the store does.
#[derive(Debug, Clone, PartialEq)]
pub enum PaymentOutcome {
    /// The order is paid: `pending_payment` -> `paid`, the transaction recorded.
    Paid,
    /// Told before (same transaction): nothing changes, WeChat is answered OK.
    AlreadyPaid,
    /// Not a payment (yet): WeChat is answered OK and nothing changes.
    NotPaid,
    /// Money arrived for an order that can no longer take it (expired or cancelled before the
    /// payment came, or paid twice by two transactions): the transaction is recorded and all
    /// of it refunded.
    RefundLate,
}

/// The merchant the server is: a notice for another is forged or misrouted.
pub struct Merchant<'a> {
    pub mchid: &'a str,
    pub appid: &'a str,
}

pub fn decide_payment(
    order: Option<&PaymentSnapshot>,
    notice: &PaymentNotice,
    merchant: &Merchant<'_>,
) -> Result<PaymentOutcome, Refusal> {
    if notice.mchid != merchant.mchid || notice.appid != merchant.appid {
        return Err(Refusal::new(ErrorCode::InvalidField, "payment for another merchant or app"));
    }
    let order = order.ok_or_else(|| Refusal::new(ErrorCode::NotFound, "no order has this out_trade_no"))?;
    if notice.trade_state != "SUCCESS" {
        return Ok(PaymentOutcome::NotPaid);
    }
    if notice.total != order.total.get() {
        return Err(Refusal::new(
            ErrorCode::InvalidField,
            format!("amount {} fen, the order asks {} fen", notice.total, order.total.get()),
        ));
    }
    match (&order.transaction_id, order.status) {
        (Some(t), _) if *t == notice.transaction_id => Ok(PaymentOutcome::AlreadyPaid),
        // A second transaction for an order already paid (by WeChat or by the pool): the money
        // goes back.
        (Some(_), _) => Ok(PaymentOutcome::RefundLate),
        (None, _) if order.paid_by_pool => Ok(PaymentOutcome::RefundLate),
        (None, OrderStatus::PendingPayment) => Ok(PaymentOutcome::Paid),
        (None, OrderStatus::Expired | OrderStatus::Cancelled) => Ok(PaymentOutcome::RefundLate),
        (None, other) => Err(Refusal::new(
            ErrorCode::WrongState,
            format!("the order is {} and was not waiting for payment", other.as_str()),
        )),
    }
}

/// A refund's status after what WeChat Pay said of it: `requested` once accepted, then
/// `succeeded` or `failed`; never back from an end (a late or repeated word changes nothing).
/// None: no change.
pub fn refund_status_after(current: &str, reported: &str) -> Option<&'static str> {
    let next = match reported {
        "SUCCESS" => "succeeded",
        "PROCESSING" => "requested",
        "ABNORMAL" | "CLOSED" => "failed",
        _ => return None,
    };
    let rank = |s: &str| match s {
        "due" => 0,
        "requested" => 1,
        _ => 2,
    };
    (rank(next) > rank(current)).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Merchant<'static> = Merchant { mchid: "1900000001", appid: "wx-demo" };

    fn order(status: OrderStatus, transaction: Option<&str>) -> PaymentSnapshot {
        PaymentSnapshot {
            order_id: 7,
            status,
            total: Fen::stored(1_250),
            transaction_id: transaction.map(str::to_owned),
            paid_by_pool: false,
        }
    }

    fn notice(total: i64) -> PaymentNotice {
        PaymentNotice {
            mchid: ME.mchid.into(),
            appid: ME.appid.into(),
            out_trade_no: "FXS7".into(),
            transaction_id: "4200001".into(),
            trade_state: "SUCCESS".into(),
            total,
            success_time: None,
        }
    }

    #[test]
    fn a_matching_payment_pays_a_waiting_order_once() {
        let waiting = order(OrderStatus::PendingPayment, None);
        assert_eq!(decide_payment(Some(&waiting), &notice(1_250), &ME), Ok(PaymentOutcome::Paid));
        let paid = order(OrderStatus::Paid, Some("4200001"));
        assert_eq!(decide_payment(Some(&paid), &notice(1_250), &ME), Ok(PaymentOutcome::AlreadyPaid));
        let further = order(OrderStatus::Delivered, Some("4200001"));
        assert_eq!(decide_payment(Some(&further), &notice(1_250), &ME), Ok(PaymentOutcome::AlreadyPaid));
    }

    #[test]
    fn the_wrong_amount_merchant_or_order_is_refused() {
        let waiting = order(OrderStatus::PendingPayment, None);
        assert_eq!(decide_payment(Some(&waiting), &notice(1), &ME).map_err(|r| r.code), Err(ErrorCode::InvalidField));
        let mut other = notice(1_250);
        other.mchid = "1900000002".into();
        assert!(decide_payment(Some(&waiting), &other, &ME).is_err());
        let mut other = notice(1_250);
        other.appid = "wx-else".into();
        assert!(decide_payment(Some(&waiting), &other, &ME).is_err());
        assert_eq!(decide_payment(None, &notice(1_250), &ME).map_err(|r| r.code), Err(ErrorCode::NotFound));
    }

    #[test]
    fn late_or_second_money_is_refunded_and_unpaid_states_change_nothing() {
        for late in [OrderStatus::Expired, OrderStatus::Cancelled] {
            assert_eq!(decide_payment(Some(&order(late, None)), &notice(1_250), &ME), Ok(PaymentOutcome::RefundLate));
        }
        let paid = order(OrderStatus::Paid, Some("4200000"));
        assert_eq!(decide_payment(Some(&paid), &notice(1_250), &ME), Ok(PaymentOutcome::RefundLate));
        let mut closed = notice(1_250);
        closed.trade_state = "CLOSED".into();
        let waiting = order(OrderStatus::PendingPayment, None);
        assert_eq!(decide_payment(Some(&waiting), &closed, &ME), Ok(PaymentOutcome::NotPaid));
        let placed = order(OrderStatus::Placed, None);
        assert_eq!(decide_payment(Some(&placed), &notice(1_250), &ME).map_err(|r| r.code), Err(ErrorCode::WrongState));
    }

    #[test]
    fn money_for_an_order_the_donation_pool_paid_goes_back() {
        for status in [OrderStatus::Paid, OrderStatus::Confirmed, OrderStatus::Cancelled] {
            let mut by_pool = order(status, None);
            by_pool.paid_by_pool = true;
            assert_eq!(decide_payment(Some(&by_pool), &notice(1_250), &ME), Ok(PaymentOutcome::RefundLate));
        }
    }

    #[test]
    fn a_refund_moves_forward_only() {
        assert_eq!(refund_status_after("due", "PROCESSING"), Some("requested"));
        assert_eq!(refund_status_after("due", "SUCCESS"), Some("succeeded"));
        assert_eq!(refund_status_after("requested", "SUCCESS"), Some("succeeded"));
        assert_eq!(refund_status_after("requested", "ABNORMAL"), Some("failed"));
        assert_eq!(refund_status_after("succeeded", "PROCESSING"), None);
        assert_eq!(refund_status_after("succeeded", "SUCCESS"), None);
        assert_eq!(refund_status_after("failed", "SUCCESS"), None);
        assert_eq!(refund_status_after("requested", "PROCESSING"), None);
        assert_eq!(refund_status_after("due", "WHAT"), None);
    }
}
