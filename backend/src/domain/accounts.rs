//! Binding a phone to a WeChat login (getuserphonenumber): the WeChat account gets the phone, or,
//! when a phone account already has it, the two become one (the phone account, which may hold
//! roles and a home, keeps its id and takes the WeChat login, the orders and everything else of
//! the WeChat account). Nothing a resident did is lost either way.

use super::Refusal;
use shared::ErrorCode;

/// An account as the store read (and locked) it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub phone: Option<String>,
    pub openid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindPlan {
    /// It already has this phone: nothing to do.
    AlreadyBound,
    /// The phone is nobody's: it becomes the caller's.
    SetPhone,
    /// A phone account has it: the caller's WeChat account is folded into that one.
    MergeInto(i64),
}

pub fn decide_bind(caller: &Account, phone: &str, holder: Option<&Account>) -> Result<BindPlan, Refusal> {
    if caller.openid.is_none() {
        return Err(Refusal::new(ErrorCode::WechatRequired, "请用微信登录后再绑定手机号 (log in with WeChat first)"));
    }
    match (&caller.phone, holder) {
        (Some(p), _) if p == phone => Ok(BindPlan::AlreadyBound),
        (Some(_), _) => {
            Err(Refusal::new(ErrorCode::WrongState, "这个微信已绑定了别的手机号 (already bound to another phone)"))
        }
        (None, None) => Ok(BindPlan::SetPhone),
        (None, Some(h)) if h.id == caller.id => Ok(BindPlan::AlreadyBound),
        (None, Some(h)) if h.openid.is_some() => Err(Refusal::new(
            ErrorCode::WrongState,
            "这个手机号已绑定了另一个微信 (the phone belongs to another WeChat account)",
        )),
        (None, Some(h)) => Ok(BindPlan::MergeInto(h.id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(id: i64, phone: Option<&str>, openid: Option<&str>) -> Account {
        Account { id, phone: phone.map(str::to_owned), openid: openid.map(str::to_owned) }
    }

    #[test]
    fn a_phone_goes_to_the_wechat_account_or_the_two_become_one() {
        let w = acct(7, None, Some("o1"));
        assert_eq!(decide_bind(&w, "13900000001", None), Ok(BindPlan::SetPhone));
        let phone_account = acct(3, Some("13900000001"), None);
        assert_eq!(decide_bind(&w, "13900000001", Some(&phone_account)), Ok(BindPlan::MergeInto(3)));
        let bound = acct(7, Some("13900000001"), Some("o1"));
        assert_eq!(decide_bind(&bound, "13900000001", Some(&bound)), Ok(BindPlan::AlreadyBound));
    }

    #[test]
    fn never_onto_another_wechat_or_a_second_phone_or_without_wechat() {
        let w = acct(7, None, Some("o1"));
        let other_wechat = acct(3, Some("13900000001"), Some("o2"));
        assert_eq!(decide_bind(&w, "13900000001", Some(&other_wechat)).map_err(|r| r.code), Err(ErrorCode::WrongState));
        let bound = acct(7, Some("13900000002"), Some("o1"));
        assert!(decide_bind(&bound, "13900000001", None).is_err());
        let phone_only = acct(7, Some("13900000002"), None);
        assert_eq!(decide_bind(&phone_only, "13900000002", None).map_err(|r| r.code), Err(ErrorCode::WechatRequired));
    }
}
