//! A household is its members'. Who becomes a member of an address at once, and who may let a
//! waiting resident in.

use super::Refusal;
use shared::api::Membership;
use shared::ErrorCode;

/// What the rule needs to know of an address a resident asks for, as the store found it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JoinFacts {
    /// The resident is a member of it already (asking for their own address again).
    pub already_member: bool,
    /// The resident's phone is on the household's register (staff recorded it, or a member
    /// invited it).
    pub on_register: bool,
    /// Someone is a member already.
    pub has_members: bool,
    /// Staff flagged it (quarantined, hardship, elderly): a flag is worth something (priority,
    /// early access, the pool), so nobody takes it by typing an address.
    pub flagged: bool,
}

/// A member at once when on the register, or when the address has no member yet and no flag;
/// otherwise the request waits for a member or staff.
pub fn decide_membership(f: &JoinFacts) -> Membership {
    if f.already_member || f.on_register || (!f.has_members && !f.flagged) {
        Membership::Member
    } else {
        Membership::Pending
    }
}

/// Who answers a waiting request: a member of that very household, or staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Approver {
    pub staff: bool,
    /// The household the approver is a member of.
    pub member_of: Option<i64>,
}

/// Whether `approver` may answer a request to join `household` (None: there is no such
/// request): a request of another household is not theirs to see (404, as for any object).
pub fn may_answer(approver: Approver, household: Option<i64>) -> Result<i64, Refusal> {
    match household {
        Some(h) if approver.staff || approver.member_of == Some(h) => Ok(h),
        _ => Err(Refusal::new(ErrorCode::NotFound, "没有这个入户申请 (no such request)")),
    }
}

/// The most phones one household's register holds.
pub const MAX_REGISTER: usize = 20;

/// Whether a member of `member_of` may put `phone` on their household's `register` (as it now
/// stands): only a member invites (403); a phone already there changes nothing (`Ok(false)`);
/// a full register takes no more (409 `over_limit`).
pub fn decide_invite(member_of: Option<i64>, register: &[String], phone: &str) -> Result<bool, Refusal> {
    if member_of.is_none() {
        return Err(Refusal::new(
            ErrorCode::Forbidden,
            "只有本户成员才能邀请家人 (only a member of the household can invite)",
        ));
    }
    if register.iter().any(|p| p == phone) {
        return Ok(false);
    }
    if register.len() >= MAX_REGISTER {
        return Err(Refusal::new(
            ErrorCode::OverLimit,
            format!("每户最多登记{MAX_REGISTER}个手机号 (at most {MAX_REGISTER} phones a household)"),
        ));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_register_an_empty_unflagged_address_or_nothing() {
        let at = |on_register, has_members, flagged| {
            decide_membership(&JoinFacts { on_register, has_members, flagged, already_member: false })
        };
        assert_eq!(at(false, false, false), Membership::Member, "the first at a plain address");
        assert_eq!(at(false, true, false), Membership::Pending, "someone lives there");
        assert_eq!(at(false, false, true), Membership::Pending, "a flagged address is not taken by typing it");
        assert_eq!(at(true, true, true), Membership::Member, "staff or a member put the phone on the register");
        let again = JoinFacts { already_member: true, has_members: true, flagged: true, on_register: false };
        assert_eq!(decide_membership(&again), Membership::Member, "a member keeps their own home");
    }

    #[test]
    fn only_a_member_invites_and_the_register_has_room_for_twenty() {
        let phones: Vec<String> = (0..MAX_REGISTER).map(|n| format!("1390000{n:04}")).collect();
        assert_eq!(decide_invite(None, &[], "13900000001").map_err(|r| r.code), Err(ErrorCode::Forbidden));
        assert_eq!(decide_invite(Some(7), &[], "13900000001"), Ok(true));
        assert_eq!(decide_invite(Some(7), &phones, "13900000001"), Ok(false), "there already");
        assert_eq!(decide_invite(Some(7), &phones, "13700000001").map_err(|r| r.code), Err(ErrorCode::OverLimit));
        assert_eq!(decide_invite(Some(7), &phones[1..], "13700000001"), Ok(true));
    }

    #[test]
    fn only_a_member_of_that_household_or_staff_answers() {
        let member = Approver { staff: false, member_of: Some(7) };
        assert_eq!(may_answer(member, Some(7)), Ok(7));
        assert_eq!(may_answer(member, Some(8)).map_err(|r| r.code), Err(ErrorCode::NotFound));
        assert_eq!(may_answer(member, None).map_err(|r| r.code), Err(ErrorCode::NotFound));
        let stranger = Approver { staff: false, member_of: None };
        assert!(may_answer(stranger, Some(7)).is_err());
        assert_eq!(may_answer(Approver { staff: true, member_of: None }, Some(8)), Ok(8));
    }
}
