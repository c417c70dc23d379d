//! Stable prices (稳物价): whether a new price may be set. In an emergency staff switch on a cap:
//! no product may rise more than a set percent above its price at the start of the day
//! (Shanghai), nor above its own ceiling if staff set one. A fall is always allowed.

use super::Refusal;
use shared::ErrorCode;

/// The emergency cap, when staff have switched it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    /// At most this many percent above the day's opening price.
    pub max_daily_rise_percent: i64,
}

/// A product's prices as the store read them (the product locked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceSnapshot {
    pub current: i64,
    /// Its price when the day began (the last price set before it; the current if none).
    pub day_open: i64,
    /// The most it may cost while the cap is on, if staff set it.
    pub ceiling: Option<i64>,
}

/// The highest price the cap allows today (None: no limit).
pub fn highest_allowed(p: &PriceSnapshot, cap: Option<&Cap>) -> Option<i64> {
    let cap = cap?;
    // Rounded down: 5 % of ¥1.10 is 5.5 fen, so ¥1.15 is allowed and ¥1.16 is not.
    let by_rise = p.day_open + p.day_open * cap.max_daily_rise_percent / 100;
    Some(p.ceiling.map_or(by_rise, |c| c.min(by_rise)))
}

pub fn decide_price(p: &PriceSnapshot, new_price: i64, cap: Option<&Cap>) -> Result<(), Refusal> {
    if new_price <= p.current {
        return Ok(());
    }
    match highest_allowed(p, cap) {
        Some(top) if new_price > top => Err(Refusal::new(
            ErrorCode::PriceCapped,
            format!("稳物价：今天最高只能定 ¥{}.{:02} (price cap: at most {} fen today)", top / 100, top % 100, top),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: Cap = Cap { max_daily_rise_percent: 5 };

    #[test]
    fn without_the_cap_any_price_may_be_set() {
        let p = PriceSnapshot { current: 100, day_open: 100, ceiling: Some(110) };
        assert!(decide_price(&p, 10_000, None).is_ok());
    }

    #[test]
    fn with_the_cap_a_rise_stops_at_the_percent_over_the_day_s_opening_price() {
        let p = PriceSnapshot { current: 100, day_open: 100, ceiling: None };
        assert!(decide_price(&p, 105, Some(&CAP)).is_ok());
        let refused = decide_price(&p, 106, Some(&CAP)).expect_err("over 5 %");
        assert_eq!(refused.code, ErrorCode::PriceCapped);
        assert!(refused.message.contains("1.05"), "{}", refused.message);
        // Raised twice in a day: still measured from the morning's price.
        let later = PriceSnapshot { current: 105, day_open: 100, ceiling: None };
        assert!(decide_price(&later, 106, Some(&CAP)).is_err());
        // Rounded down.
        let p = PriceSnapshot { current: 110, day_open: 110, ceiling: None };
        assert!(decide_price(&p, 115, Some(&CAP)).is_ok());
        assert!(decide_price(&p, 116, Some(&CAP)).is_err());
    }

    #[test]
    fn the_ceiling_binds_while_the_cap_is_on_and_a_fall_is_always_allowed() {
        let p = PriceSnapshot { current: 100, day_open: 100, ceiling: Some(102) };
        assert!(decide_price(&p, 102, Some(&CAP)).is_ok());
        assert!(decide_price(&p, 103, Some(&CAP)).is_err());
        let above = PriceSnapshot { current: 300, day_open: 300, ceiling: Some(200) };
        assert!(decide_price(&above, 250, Some(&CAP)).is_ok(), "down, even if still above the ceiling");
        assert_eq!(highest_allowed(&above, Some(&CAP)), Some(200));
        assert_eq!(highest_allowed(&above, None), None);
    }
}
