//! A household is its members'. Who becomes a member of an address at once, and who may let a
//! waiting resident in.

use super::checkout::is_address_part;
use super::Refusal;
use shared::api::{ImportAction, ImportError, ImportRow, Membership};
use shared::{ErrorCode, Phone};
use std::collections::HashMap;

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

/// One row of a register file as staff typed it: an address and a phone living there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterLine {
    /// The spreadsheet's row number (the heading is row 1).
    pub row: u32,
    /// May be empty; when given it must be the building's.
    pub community: String,
    pub building: String,
    pub unit: String,
    pub room: String,
    pub phone: String,
}

/// An address as a key: building (its id), unit and room, trimmed.
pub type AddressKey = (i64, String, String);

/// What the import rule needs of the database, as the store found it (and, when applying,
/// locked): the buildings on record and the registers of the file's addresses.
#[derive(Debug, Clone, Default)]
pub struct RegisterSnapshot {
    /// Building number -> the market's buildings with it (one per community that has it).
    pub buildings: HashMap<String, Vec<super::area::BuildingAt>>,
    /// The registers of the file's addresses as they stand (an address not on record has none).
    pub registers: HashMap<AddressKey, Vec<String>>,
}

/// The verdict on each row, and the phones to put on each address's register (when no row is
/// an error).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegisterPlan {
    pub rows: Vec<ImportRow>,
    pub add: Vec<(AddressKey, String)>,
}

impl RegisterPlan {
    /// Whether every row can be taken: only then is anything applied.
    pub fn clean(&self) -> bool {
        self.rows.iter().all(|r| r.action != ImportAction::Error)
    }
}

fn fault(errors: &mut Vec<ImportError>, column: &str, reason: String) {
    errors.push(ImportError { column: Some(column.to_owned()), reason });
}

/// The columns of a register file, as their headings are shown in errors.
pub const REGISTER_COLUMNS: [&str; 5] = ["小区", "楼号", "单元", "室", "手机"];

/// Staff's register file, row by row: a phone goes on its address's register (`create`), is
/// there already (`unchanged`, so the same file twice changes nothing), or the row is an error
/// with its column and reason (a phone that is not a mainland mobile, an address part that is
/// not a short number, a building the market does not serve, a community that is not the
/// building's, a register already holding `MAX_REGISTER` phones).
pub fn plan_register_import(lines: &[RegisterLine], snapshot: &RegisterSnapshot) -> RegisterPlan {
    let mut registers = snapshot.registers.clone();
    let mut plan = RegisterPlan::default();
    for line in lines {
        let mut errors = Vec::new();
        let phone = match Phone::parse(&line.phone) {
            Ok(phone) => Some(phone),
            Err(e) => {
                fault(&mut errors, "手机", e.text.to_owned());
                None
            }
        };
        for (column, value) in [("楼号", &line.building), ("单元", &line.unit), ("室", &line.room)] {
            if !is_address_part(value) {
                fault(&mut errors, column, "应为简短的编号，如 3、2、501 (a short number such as 3, 2 or 501)".into());
            }
        }
        let building = line.building.trim();
        let found = snapshot.buildings.get(building).map_or(&[][..], Vec::as_slice);
        let named = Some(line.community.trim()).filter(|c| !c.is_empty());
        let id = match super::area::pick_building(found, named, None, building) {
            Ok(Some(b)) => Some(b.id),
            Ok(None) if found.is_empty() => {
                if is_address_part(building) {
                    fault(
                        &mut errors,
                        "楼号",
                        format!("本市场不送{building}号楼 (the market does not serve this building)"),
                    );
                }
                None
            }
            Ok(None) => {
                let theirs = found.iter().map(|b| b.community.as_str()).collect::<Vec<_>>().join("、");
                fault(&mut errors, "小区", format!("{building}号楼属于{theirs} (the building is in {theirs})"));
                None
            }
            Err(refusal) => {
                fault(&mut errors, "小区", refusal.message);
                None
            }
        };
        let action = match (phone, id) {
            (Some(phone), Some(id)) if errors.is_empty() => {
                let key = (id, line.unit.trim().to_owned(), line.room.trim().to_owned());
                let register = registers.entry(key.clone()).or_default();
                if register.iter().any(|p| p == phone.as_str()) {
                    ImportAction::Unchanged
                } else if register.len() >= MAX_REGISTER {
                    fault(
                        &mut errors,
                        "手机",
                        format!("每户最多登记{MAX_REGISTER}个手机号 (at most {MAX_REGISTER} phones a household)"),
                    );
                    ImportAction::Error
                } else {
                    register.push(phone.as_str().to_owned());
                    plan.add.push((key, phone.as_str().to_owned()));
                    ImportAction::Create
                }
            }
            _ => ImportAction::Error,
        };
        plan.rows.push(ImportRow { row: line.row, action, errors });
    }
    if !plan.clean() {
        plan.add.clear();
    }
    plan
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

    fn line(row: u32, building: &str, room: &str, phone: &str) -> RegisterLine {
        RegisterLine {
            row,
            building: building.into(),
            unit: "1".into(),
            room: room.into(),
            phone: phone.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_register_file_is_checked_row_by_row_and_taken_whole_or_not_at_all() {
        let key = |room: &str| (3, "1".to_owned(), room.to_owned());
        let snapshot = RegisterSnapshot {
            buildings: HashMap::from([(
                "3".to_owned(),
                vec![super::super::area::BuildingAt {
                    id: 3,
                    market_id: shared::MarketId::FIRST,
                    community: "七里山小区".into(),
                }],
            )]),
            registers: HashMap::from([
                (key("101"), vec!["13900000001".to_owned()]),
                (key("102"), (0..MAX_REGISTER).map(|n| format!("1370000{n:04}")).collect()),
            ]),
        };
        let good = [
            line(2, "3", "101", "13900000001"),
            line(3, " 3 ", "101 ", "13900000002"),
            line(4, "3", "103", "13900000003"),
            line(5, "3", "103", "13900000003"),
        ];
        let plan = plan_register_import(&good, &snapshot);
        let actions: Vec<_> = plan.rows.iter().map(|r| (r.row, r.action)).collect();
        use ImportAction::*;
        assert_eq!(actions, [(2, Unchanged), (3, Create), (4, Create), (5, Unchanged)], "twice in a file: once");
        assert_eq!(plan.add, [(key("101"), "13900000002".into()), (key("103"), "13900000003".into())]);
        assert!(plan.clean());

        let empty = RegisterLine { row: 7, ..Default::default() };
        let mut elsewhere = line(8, "3", "104", "13900000008");
        elsewhere.community = "别的小区".into();
        let bad = [
            line(2, "3", "104", "13900000004"),
            line(3, "3", "104", "12345"),
            line(4, "99", "104", "13900000005"),
            line(5, "3", "5楼", "13900000006"),
            line(6, "3", "102", "13900000007"),
            empty,
            elsewhere,
        ];
        let plan = plan_register_import(&bad, &snapshot);
        assert!(!plan.clean());
        assert!(plan.add.is_empty(), "one bad row and nothing is applied");
        let columns =
            |row: usize| -> Vec<&str> { plan.rows[row].errors.iter().filter_map(|e| e.column.as_deref()).collect() };
        assert_eq!(plan.rows[0].action, Create, "a good row says what it would do");
        assert_eq!(columns(1), ["手机"]);
        assert_eq!(columns(2), ["楼号"], "a building the market does not serve");
        assert_eq!(columns(3), ["室"]);
        assert_eq!(columns(4), ["手机"], "a full register");
        assert_eq!(columns(5), ["手机", "楼号", "单元", "室"]);
        assert_eq!(columns(6), ["小区"]);
        assert!(plan.rows[1..].iter().all(|r| r.action == Error));
    }
}
