//! Which steps residents are told of, in what words, and the WeChat subscribe message for it
//! within WeChat's field limits (`thing` at most 20 characters, `character_string` 32). A notice
//! never decides anything about the order: sending it may fail and the order goes on.

use shared::order::OrderStatus;

/// What a resident can be told of (and subscribe to).
pub const KINDS: [&str; 5] = ["confirmed", "out_for_delivery", "delivered", "refund", "group_buy_closed"];

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
        // `order_id` is the group-buy here: the share never became an order.
        "group_buy_refund" => ("团购退款已到账".into(), format!("团购 {order_id} 未成团，已付的 {yuan} 已退回微信。")),
        "group_buy_closed" => ("团购已成团".into(), format!("团购已截单，您的订单 {order_id} 已生成。")),
        _ => ("订单更新".into(), format!("订单 {order_id} 有新的进展。")),
    }
}

/// The words of an order's step: as `words`, said of a pickup point for an order collected at
/// one (`to_point`).
pub fn step_words(kind: &str, order_id: i64, to_point: bool) -> (String, String) {
    match (kind, to_point) {
        ("out_for_delivery", true) => {
            ("正在配送".into(), format!("订单 {order_id} 已由志愿者取走，正在送往自提点，到了会再通知您。"))
        }
        ("delivered", true) => ("已取货".into(), format!("订单 {order_id} 已在自提点取走。")),
        _ => words(kind, order_id, None),
    }
}

/// The notices a group-buy's end gives: to each household's resident, the order it became, or
/// that it did not go ahead. (user, order, title, text)
pub fn group_buy_ended(
    group_buy_id: i64,
    orders: &[(i64, i64)],
    shares_of: &[i64],
) -> Vec<(i64, Option<i64>, String, String)> {
    if orders.is_empty() {
        return shares_of
            .iter()
            .map(|u| {
                (
                    *u,
                    None,
                    "团购未成团".to_owned(),
                    format!("团购 {group_buy_id} 未成团，不会生成订单，已付的钱会退回。"),
                )
            })
            .collect();
    }
    orders
        .iter()
        .map(|(user, order)| {
            let (title, body) = words("group_buy_closed", *order, None);
            (*user, Some(*order), title, body)
        })
        .collect()
}

/// What a household's members are told when someone placed, changed or withdrew its group-buy
/// share on its behalf (代下单): who, and what the share is now. (title, text)
pub fn share_placed_for(group_buy_id: i64, placer: &str, now_holds: Option<&str>) -> (String, String) {
    match now_holds {
        Some(lines) => (
            "有人为您家代下团购".to_owned(),
            format!("{placer} 为您家在团购 {group_buy_id} 下单：{lines}。如有疑问请联系工作人员。"),
        ),
        None => ("您家的团购份额已取消".to_owned(), format!("{placer} 取消了您家在团购 {group_buy_id} 的份额。")),
    }
}

/// What a share holds, as the household is told: `大白菜×2斤、土豆×1袋`.
pub fn share_holds(
    group_buy: &super::group_buy::GroupBuyState,
    lines: &std::collections::BTreeMap<i64, i64>,
) -> String {
    lines
        .iter()
        .map(|(product, quantity)| match group_buy.items.get(product) {
            Some(item) => format!("{}×{}{}", item.name, quantity, item.unit),
            None => format!("#{product}×{quantity}"),
        })
        .collect::<Vec<_>>()
        .join("、")
}

/// How a notice reaches its resident besides the storefront.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A WeChat subscribe message (one acceptance of its kind is used up).
    WeChat,
    /// A text message: a resident without WeChat (or without an acceptance left) who asked for
    /// notices by SMS and has a phone on record.
    Sms,
    /// The storefront only.
    Storefront,
}

/// The channel of a notice: WeChat when it can carry it, else SMS when the resident chose it.
pub fn channel(acceptance_left: bool, has_openid: bool, sms_chosen: bool, has_phone: bool) -> Channel {
    if acceptance_left && has_openid {
        Channel::WeChat
    } else if sms_chosen && has_phone {
        Channel::Sms
    } else {
        Channel::Storefront
    }
}

/// A notice as a text message: the market's sign, the title, the text (at most 70 characters
/// all told, one SMS).
pub fn sms_text(title: &str, body: &str) -> String {
    clip(&format!("【傅鲜生】{title}：{body}"), 70)
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
    #[test]
    fn an_order_to_a_pickup_point_is_said_to_go_there_not_to_the_door() {
        let (_, body) = step_words("out_for_delivery", 7, true);
        assert!(body.contains("自提点") && !body.contains("您家"), "{body}");
        assert_eq!(step_words("out_for_delivery", 7, false), words("out_for_delivery", 7, None));
        assert!(step_words("delivered", 7, true).1.contains("自提点"));
        assert_eq!(step_words("confirmed", 7, true), words("confirmed", 7, None));
    }

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
    fn wechat_first_then_sms_for_those_who_chose_it() {
        assert_eq!(channel(true, true, true, true), Channel::WeChat);
        assert_eq!(channel(false, true, true, true), Channel::Sms, "no acceptance left");
        assert_eq!(channel(true, false, true, true), Channel::Sms, "no WeChat");
        assert_eq!(channel(false, false, false, true), Channel::Storefront, "SMS not chosen");
        assert_eq!(channel(false, false, true, false), Channel::Storefront, "no phone");
        let text = sms_text("已送达", &"很长的话".repeat(30));
        assert!(text.starts_with("【傅鲜生】已送达：") && text.chars().count() == 70, "{text}");
    }

    #[test]
    fn a_subscribe_message_keeps_within_wechat_s_field_limits() {
        let data = subscribe_data("out_for_delivery", 1_234_567, "正在配送", "2026-12-02 10:00");
        let len = |k: &str| data[k]["value"].as_str().map_or(0, |v| v.chars().count());
        assert!(len("thing4") <= 20 && len("thing4") > 0, "{data}");
        assert!(len("phrase2") <= 5);
        assert_eq!(data["character_string1"]["value"], "1234567");
    }

    #[test]
    fn a_group_buy_s_end_tells_each_household_its_order_or_that_it_failed() {
        let went = group_buy_ended(4, &[(10, 100), (11, 101)], &[10, 11]);
        assert_eq!(went.iter().map(|n| (n.0, n.1)).collect::<Vec<_>>(), vec![(10, Some(100)), (11, Some(101))]);
        assert!(went[0].3.contains("100"));
        let failed = group_buy_ended(4, &[], &[10, 11]);
        assert_eq!(failed.len(), 2);
        assert!(failed.iter().all(|n| n.1.is_none() && n.2 == "团购未成团"));
    }
}
