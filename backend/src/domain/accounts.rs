//! Binding a phone to a WeChat login (getuserphonenumber): the WeChat account gets the phone, or,
//! when a phone account already has it, the two become one (the phone account, which may hold
//! roles and a home, keeps its id and takes the WeChat login, the orders and everything else of
//! the WeChat account). Nothing a resident did is lost either way.

use super::Refusal;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::ErrorCode;
use std::time::Duration;
use subtle::ConstantTimeEq;

// ---------- login codes ----------

/// The market's rules for SMS login codes (set by configuration).
#[derive(Debug, Clone)]
pub struct CodeRules {
    /// How long a code can be used.
    pub code_ttl: Duration,
    /// The least time between two codes to one phone.
    pub resend_interval: Duration,
    pub per_phone_per_hour: i64,
    pub per_client_per_hour: i64,
    /// Wrong tries after which a code is dead.
    pub max_attempts: i64,
}

impl CodeRules {
    /// Where the hourly limits start counting.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::hours(1)
    }
}

/// What the rules need to know before a new code goes out, as the store counted it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeIssue {
    /// When the last code to this phone went out.
    pub last_sent: Option<DateTime<Utc>>,
    /// Codes to this phone, and from this client, in the last hour.
    pub sent_to_phone: i64,
    pub sent_to_client: i64,
}

/// Whether a new code may go out now; Ok: when it will expire.
pub fn decide_code_issue(s: &CodeIssue, rules: &CodeRules, now: DateTime<Utc>) -> Result<DateTime<Utc>, Refusal> {
    let resend = chrono::Duration::from_std(rules.resend_interval).unwrap_or_default();
    if let Some(last) = s.last_sent.filter(|last| *last > now - resend) {
        let wait = (last + resend - now).num_seconds().max(1) as u64;
        return Err(Refusal::wait(
            format!("验证码已发送，请{wait}秒后再试 (code already sent; retry in {wait} s)"),
            wait,
        ));
    }
    if s.sent_to_phone >= rules.per_phone_per_hour {
        return Err(Refusal::wait("该手机号请求验证码过于频繁，请一小时后再试 (too many codes for this phone)", 3600));
    }
    if s.sent_to_client >= rules.per_client_per_hour {
        return Err(Refusal::wait("请求过于频繁，请稍后再试 (too many codes from this client)", 3600));
    }
    Ok(now + chrono::Duration::from_std(rules.code_ttl).unwrap_or_default())
}

/// The latest code sent to a phone, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LoginCode {
    pub id: i64,
    pub code_hash: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub attempts: i64,
}

/// What presenting a code does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeDecision {
    /// The right code: it is used up and the resident is in.
    Accept,
    /// A wrong code: one attempt more is counted.
    Wrong(Refusal),
    /// No code to try (none sent, used, expired, too many wrong): nothing changes.
    Refused(Refusal),
}

impl CodeDecision {
    pub fn into_result(self) -> Result<(), Refusal> {
        match self {
            CodeDecision::Accept => Ok(()),
            CodeDecision::Wrong(r) | CodeDecision::Refused(r) => Err(r),
        }
    }
}

/// A code presented (as its keyed hash) against the latest code sent to that phone: refused when
/// none was sent, it was used, it expired or it was tried wrong too often; else right or wrong.
pub fn decide_code(
    code: Option<&LoginCode>,
    presented_hash: &str,
    rules: &CodeRules,
    now: DateTime<Utc>,
) -> CodeDecision {
    let Some(code) = code else {
        return CodeDecision::Refused(Refusal::new(ErrorCode::InvalidCode, "请先获取验证码 (request a code first)"));
    };
    if code.used_at.is_some() {
        return CodeDecision::Refused(Refusal::new(
            ErrorCode::CodeUsed,
            "验证码已使用，请重新获取 (this code was already used)",
        ));
    }
    if code.expires_at <= now {
        return CodeDecision::Refused(Refusal::new(
            ErrorCode::CodeExpired,
            "验证码已过期，请重新获取 (the code has expired)",
        ));
    }
    if code.attempts >= rules.max_attempts {
        return CodeDecision::Refused(Refusal::wait(
            "错误次数过多，请重新获取验证码 (too many wrong codes; request a new one)",
            60,
        ));
    }
    // Compared in constant time: how long a refusal takes says nothing of how close a guess was.
    if !bool::from(code.code_hash.as_bytes().ct_eq(presented_hash.as_bytes())) {
        return CodeDecision::Wrong(Refusal::new(ErrorCode::InvalidCode, "验证码不正确 (wrong code)"));
    }
    CodeDecision::Accept
}

// ---------- binding a phone ----------

/// An account as the store read (and locked) it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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

// ---------- erasing a resident ----------

/// What erasing a person needs to know of them, as the store read (and locked) it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EraseFacts {
    /// Their roles beyond `resident`.
    pub other_roles: Vec<shared::Role>,
    /// Their orders still under way (not delivered, cancelled or expired).
    pub open_orders: i64,
    /// Staff asking to erase themselves.
    pub is_self: bool,
}

/// Whether staff may erase this person now: a resident only (a stall holder, volunteer, leader
/// or staff member has their roles taken away first), never oneself, and not while an order of
/// theirs is under way (it is delivered or cancelled first, so nobody's goods are lost).
pub fn decide_erase(f: &EraseFacts) -> Result<(), Refusal> {
    if f.is_self {
        return Err(Refusal::new(ErrorCode::WrongState, "不能删除自己的账户 (staff cannot erase themselves)"));
    }
    if !f.other_roles.is_empty() {
        let roles: Vec<&str> = f.other_roles.iter().map(|r| r.as_str()).collect();
        return Err(Refusal::new(
            ErrorCode::WrongState,
            format!("请先取消其角色：{} (take their roles away first: {})", roles.join("、"), roles.join(", ")),
        ));
    }
    if f.open_orders > 0 {
        let n = f.open_orders;
        return Err(Refusal::new(
            ErrorCode::WrongState,
            format!("还有{n}张订单未完成，请先送达或取消 ({n} orders are under way; deliver or cancel them first)"),
        ));
    }
    Ok(())
}

/// The roles an account holds, as the audit records them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RolesState {
    pub roles: Vec<shared::Role>,
    /// The buildings they lead or serve, by number.
    pub buildings: Vec<String>,
    /// The stall they hold.
    pub stall_id: Option<i64>,
}

/// What a change of roles needs: the account's roles now, and the buildings and stall the
/// request names as the store found them.
#[derive(Debug, Clone, Default)]
pub struct RoleFacts {
    pub now: RolesState,
    /// The buildings asked for that are on record (by number).
    pub known_buildings: Vec<String>,
    /// Whether the stall asked for is on record.
    pub stall_exists: bool,
    /// Whether the account speaks for a producer (`POST /admin/producers` made it so).
    pub speaks_for_producer: bool,
}

/// Staff give an account exactly these roles: at least one; a leader needs the buildings they
/// run, a volunteer may have the buildings they serve (none: they serve any), nobody else has
/// buildings; a stall holder (`vendor`) holds the stall named, or keeps theirs (a new holder must
/// be given one); taking `vendor` away takes the stall away.
pub fn decide_roles(asked: &shared::group_buy::SetRoles, facts: &RoleFacts) -> Result<RolesState, Refusal> {
    let field = |m: String| Refusal::new(ErrorCode::InvalidField, m);
    let mut roles = Vec::new();
    for name in &asked.roles {
        let role = shared::Role::parse(name.trim()).ok_or_else(|| field(format!("roles: no role `{name}`")))?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles.sort();
    if roles.is_empty() {
        return Err(field("roles: give at least one role".into()));
    }
    let has = |r: shared::Role| roles.contains(&r);
    let (leader, volunteer, vendor) =
        (has(shared::Role::Leader), has(shared::Role::Volunteer), has(shared::Role::Vendor));
    if has(shared::Role::Producer) && !facts.speaks_for_producer {
        return Err(field("roles: `producer` is given by adding the producer (POST /api/v1/admin/producers)".into()));
    }
    if leader && asked.buildings.is_empty() {
        return Err(field("buildings: a leader needs the buildings they run".into()));
    }
    if !leader && !volunteer && !asked.buildings.is_empty() {
        return Err(field("buildings: only a leader or a volunteer has buildings".into()));
    }
    if asked.buildings.len() > super::group_buy::MAX_BUILDINGS {
        return Err(field(format!("buildings: at most {}", super::group_buy::MAX_BUILDINGS)));
    }
    let mut buildings = Vec::new();
    for number in &asked.buildings {
        let number = number.trim().to_owned();
        if !facts.known_buildings.contains(&number) {
            return Err(field(format!("buildings: 没有{number}号楼 (no building {number})")));
        }
        if !buildings.contains(&number) {
            buildings.push(number);
        }
    }
    buildings.sort();
    let stall_id = match (vendor, asked.stall_id) {
        (false, Some(_)) => return Err(field("stall_id: only a stall holder (`vendor`) holds a stall".into())),
        (false, None) => None,
        (true, Some(_)) if !facts.stall_exists => {
            return Err(field(format!("stall_id: no stall {}", asked.stall_id.unwrap_or_default())))
        }
        (true, Some(id)) => Some(id),
        (true, None) => match facts.now.stall_id {
            Some(id) => Some(id),
            None => return Err(field("stall_id: a new stall holder needs the stall they hold".into())),
        },
    };
    Ok(RolesState { roles, buildings, stall_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_with_their_buildings_and_stall() {
        use shared::group_buy::SetRoles;
        use shared::Role;
        let ask = |roles: &[&str], buildings: &[&str], stall_id: Option<i64>| SetRoles {
            roles: roles.iter().map(|r| r.to_string()).collect(),
            buildings: buildings.iter().map(|b| b.to_string()).collect(),
            stall_id,
        };
        let facts =
            RoleFacts { known_buildings: vec!["1".into(), "2".into()], stall_exists: true, ..Default::default() };
        let holder = decide_roles(&ask(&["vendor", "resident"], &[], Some(7)), &facts).expect("made");
        assert_eq!((holder.roles, holder.stall_id), (vec![Role::Resident, Role::Vendor], Some(7)));
        let volunteer = decide_roles(&ask(&["volunteer"], &["2", " 2", "1"], None), &facts).expect("made");
        assert_eq!(volunteer.buildings, ["1", "2"]);
        let keeps = RoleFacts { now: RolesState { stall_id: Some(3), ..Default::default() }, ..facts.clone() };
        assert_eq!(decide_roles(&ask(&["vendor"], &[], None), &keeps).map(|r| r.stall_id), Ok(Some(3)));
        assert_eq!(decide_roles(&ask(&["resident"], &[], None), &keeps).map(|r| r.stall_id), Ok(None), "taken away");
        let refused = |a: SetRoles, f: &RoleFacts| decide_roles(&a, f).is_err();
        assert!(refused(ask(&[], &[], None), &facts));
        assert!(refused(ask(&["king"], &[], None), &facts));
        assert!(refused(ask(&["leader"], &[], None), &facts), "a leader without buildings");
        assert!(refused(ask(&["resident"], &["1"], None), &facts), "buildings for a resident");
        assert!(refused(ask(&["volunteer"], &["9"], None), &facts), "a building not on record");
        assert!(refused(ask(&["vendor"], &[], None), &facts), "a new holder without a stall");
        assert!(refused(ask(&["resident"], &[], Some(7)), &facts), "a stall for a resident");
        let no_stall = RoleFacts { stall_exists: false, ..facts.clone() };
        assert!(refused(ask(&["vendor"], &[], Some(99)), &no_stall));
        assert!(refused(ask(&["producer"], &[], None), &facts), "producer comes with a producer");
        let farm = RoleFacts { speaks_for_producer: true, ..facts.clone() };
        assert_eq!(decide_roles(&ask(&["producer", "resident"], &[], None), &farm).map(|r| r.roles.len()), Ok(2));
    }

    #[test]
    fn only_a_resident_with_nothing_under_way_is_erased_and_never_oneself() {
        let code = |f: EraseFacts| decide_erase(&f).map_err(|r| r.code);
        assert_eq!(code(EraseFacts::default()), Ok(()));
        assert_eq!(code(EraseFacts { is_self: true, ..EraseFacts::default() }), Err(ErrorCode::WrongState));
        let vendor = EraseFacts { other_roles: vec![shared::Role::Vendor], ..EraseFacts::default() };
        assert!(decide_erase(&vendor).is_err_and(|r| r.message.contains("vendor")));
        let busy = EraseFacts { open_orders: 2, ..EraseFacts::default() };
        assert!(decide_erase(&busy).is_err_and(|r| r.message.contains("2")));
    }

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

    fn rules() -> CodeRules {
        CodeRules {
            code_ttl: Duration::from_secs(300),
            resend_interval: Duration::from_secs(60),
            per_phone_per_hour: 5,
            per_client_per_hour: 30,
            max_attempts: 5,
        }
    }

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap_or_default()
    }

    #[test]
    fn a_code_goes_out_unless_too_soon_or_too_many() {
        let r = rules();
        assert_eq!(decide_code_issue(&CodeIssue::default(), &r, at(0)), Ok(at(300)));
        let soon = CodeIssue { last_sent: Some(at(-20)), ..CodeIssue::default() };
        let refused = decide_code_issue(&soon, &r, at(0)).expect_err("too soon");
        assert_eq!((refused.code, refused.retry_after), (ErrorCode::TooManyRequests, Some(40)));
        let later = CodeIssue { last_sent: Some(at(-61)), ..CodeIssue::default() };
        assert!(decide_code_issue(&later, &r, at(0)).is_ok());
        let phone = CodeIssue { sent_to_phone: 5, ..CodeIssue::default() };
        assert_eq!(decide_code_issue(&phone, &r, at(0)).map_err(|e| e.retry_after), Err(Some(3600)));
        let client = CodeIssue { sent_to_client: 30, ..CodeIssue::default() };
        assert!(decide_code_issue(&client, &r, at(0)).is_err());
    }

    #[test]
    fn a_code_is_right_wrong_or_not_there_to_try() {
        let r = rules();
        let code = LoginCode { id: 1, code_hash: "h".into(), expires_at: at(300), used_at: None, attempts: 0 };
        assert_eq!(decide_code(Some(&code), "h", &r, at(10)), CodeDecision::Accept);
        assert!(
            matches!(decide_code(Some(&code), "x", &r, at(10)), CodeDecision::Wrong(e) if e.code == ErrorCode::InvalidCode)
        );
        let refused = |c: Option<&LoginCode>, now| match decide_code(c, "h", &r, now) {
            CodeDecision::Refused(e) => e.code,
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(None, at(10)), ErrorCode::InvalidCode);
        assert_eq!(refused(Some(&code), at(300)), ErrorCode::CodeExpired);
        let used = LoginCode { used_at: Some(at(5)), ..code.clone() };
        assert_eq!(refused(Some(&used), at(10)), ErrorCode::CodeUsed);
        let tried = LoginCode { attempts: 5, ..code };
        assert_eq!(refused(Some(&tried), at(10)), ErrorCode::TooManyRequests);
    }
}
