//! Which steps residents are told of, in what words, and the WeChat subscribe message for it
//! within WeChat's field limits (`thing` at most 20 characters, `character_string` 32). A notice
//! never decides anything about the order: sending it may fail and the order goes on.

use shared::order::OrderStatus;

/// What a resident can be told of (and subscribe to).
pub const KINDS: [&str; 4] = ["confirmed", "out_for_delivery", "delivered", "refund"];

/// The notice an order's step gives its resident, if any.
pub fn kind_for_step(status: OrderStatus) -> Option<&'static str> {
    match status {
        OrderStatus::Confirmed => Some("confirmed"),
        OrderStatus::OutForDelivery => Some("out_for_delivery"),
        OrderStatus::Delivered => Some("delivered"),
        _ => None,
    }
}

/// Title and text shown in the storefront.
pub fn words(kind: &str, order_id: i64, amount_fen: Option<i64>) -> (String, String) {
    let yuan = amount_fen.map(|f| format!("¥{}.{:02}", f / 100, f % 100)).unwrap_or_default();
    match kind {
        "confirmed" => ("摊主已确认".into(), format!("订单 {order_id} 的菜已由摊主确认，正在备货。")),
        "out_for_delivery" => ("正在配送".into(), format!("订单 {order_id} 已由志愿者取走，正在送往您家。")),
        "delivered" => ("已送达".into(), format!("订单 {order_id} 已送达，请及时取菜。")),
        "refund" => ("退款已到账".into(), format!("订单 {order_id} 的退款 {yuan} 已退回微信。")),
        _ => ("订单更新".into(), format!("订单 {order_id} 有新的进展。")),
    }
}

/// At most `n` characters (WeChat counts characters, not bytes).
fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The subscribe message's `data` for a notice: the order number, what happened, a remark.
pub fn subscribe_data(kind: &str, order_id: i64, title: &str, at: &str) -> serde_json::Value {
    serde_json::json!({
        "character_string1": { "value": clip(&order_id.to_string(), 32) },
        "phrase2": { "value": clip(title, 5) },
        "time3": { "value": clip(at, 32) },
        "thing4": { "value": clip(&format!("傅鲜生：{}", words(kind, order_id, None).1), 20) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_steps_a_resident_waits_for_are_told() {
        assert_eq!(kind_for_step(OrderStatus::Confirmed), Some("confirmed"));
        assert_eq!(kind_for_step(OrderStatus::Delivered), Some("delivered"));
        assert_eq!(kind_for_step(OrderStatus::Packed), None);
        assert_eq!(kind_for_step(OrderStatus::Placed), None);
        for k in KINDS {
            assert!(!words(k, 1, Some(100)).0.is_empty());
        }
    }

    #[test]
    fn a_subscribe_message_keeps_within_wechat_s_field_limits() {
        let data = subscribe_data("out_for_delivery", 1_234_567, "正在配送", "2026-12-02 10:00");
        let len = |k: &str| data[k]["value"].as_str().map_or(0, |v| v.chars().count());
        assert!(len("thing4") <= 20 && len("thing4") > 0, "{data}");
        assert!(len("phrase2") <= 5);
        assert_eq!(data["character_string1"]["value"], "1234567");
    }
}
