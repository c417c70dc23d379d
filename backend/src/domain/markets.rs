//! Many markets, one deployment: who may open a market, what its name must be, and whose people
//! a market's staff may give roles to. Everything a market runs carries its market; a resident's
//! market is their home's (`UserRecord::market_id`).

use super::Refusal;
use shared::{ErrorCode, MarketId};

pub const MAX_NAME_CHARS: usize = 40;

/// A new market's name, trimmed, when staff of the first market (the core market that opens its
/// satellites, 一核多点) ask for one no other market has.
pub fn decide_new_market(name: &str, by: MarketId, name_taken: bool) -> Result<String, Refusal> {
    if by != MarketId::FIRST {
        return Err(Refusal::new(
            ErrorCode::Forbidden,
            "只有总市场的工作人员可以开设新市场 (only the first market's staff may open a market)",
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Refusal::field(
            "name",
            &format!("市场名称需1到{MAX_NAME_CHARS}个字 (1 to {MAX_NAME_CHARS} characters)"),
        ));
    }
    if name_taken {
        return Err(Refusal::new(
            ErrorCode::AlreadyExists,
            format!("已有市场叫“{name}” (a market is already called {name})"),
        ));
    }
    Ok(name.to_owned())
}

/// An account as a market's staff find it: the market it belongs to, and whether anything ties it
/// there (a role, or a home).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountTie {
    pub market: MarketId,
    pub tied: bool,
}

/// Staff of `market` may give roles to an account of their own market, or to one nothing ties
/// to another (a new number, someone who only logged in): it then becomes theirs.
pub fn roles_refusal(market: MarketId, account: AccountTie) -> Option<Refusal> {
    (account.tied && account.market != market).then(|| {
        Refusal::new(
            ErrorCode::Forbidden,
            "这个号码属于另一个市场，请那边的工作人员办理 (this account belongs to another market)",
        )
    })
}

/// A market's people (staff, volunteers, keepers) see and act on their own market's things
/// only: another market's `what` is as if it were not there (404).
pub fn elsewhere(worker: MarketId, thing: MarketId, what: &str) -> Option<Refusal> {
    (worker != thing).then(|| Refusal::new(ErrorCode::NotFound, format!("{what} not found")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_markets_staff_open_a_market_with_a_new_name() {
        assert_eq!(decide_new_market(" 翠苑市场 ", MarketId::FIRST, false), Ok("翠苑市场".to_owned()));
        assert_eq!(decide_new_market("翠苑市场", MarketId(2), false).expect_err("refused").code, ErrorCode::Forbidden);
        assert_eq!(
            decide_new_market("翠苑市场", MarketId::FIRST, true).expect_err("refused").code,
            ErrorCode::AlreadyExists
        );
        assert_eq!(decide_new_market("  ", MarketId::FIRST, false).expect_err("refused").code, ErrorCode::InvalidField);
        assert_eq!(
            decide_new_market(&"市".repeat(41), MarketId::FIRST, false).expect_err("refused").code,
            ErrorCode::InvalidField
        );
        assert_eq!(
            decide_new_market("a\nb", MarketId::FIRST, false).expect_err("refused").code,
            ErrorCode::InvalidField
        );
    }

    #[test]
    fn staff_give_roles_to_their_own_people_and_to_newcomers_only() {
        let m2 = MarketId(2);
        assert!(roles_refusal(m2, AccountTie { market: m2, tied: true }).is_none());
        assert!(roles_refusal(m2, AccountTie { market: MarketId::FIRST, tied: false }).is_none());
        let refused = roles_refusal(m2, AccountTie { market: MarketId::FIRST, tied: true }).expect("refused");
        assert_eq!(refused.code, ErrorCode::Forbidden);
    }

    #[test]
    fn another_markets_things_are_not_there() {
        assert!(elsewhere(MarketId(2), MarketId(2), "batch").is_none());
        assert_eq!(elsewhere(MarketId(2), MarketId::FIRST, "batch").map(|r| r.code), Some(ErrorCode::NotFound));
    }
}
