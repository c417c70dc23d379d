//! The area the market serves: its buildings, each in a community (小区). An address names a
//! building by its number (`3-1-302`), and by its community too when two communities of the
//! market both have that number; a number is its community's once.

use super::checkout::is_address_part;
use super::Refusal;
use shared::api::{NewBuilding, UpdateBuilding};
use shared::ErrorCode;

/// The most units (单元) a building has.
pub const MAX_UNITS: i64 = 20;
/// The longest compound name, in characters.
pub const MAX_COMMUNITY_CHARS: usize = 40;

/// A building as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BuildingState {
    pub community: String,
    pub building: String,
    pub units: i64,
    pub closed: bool,
}

fn units_ok(units: i64) -> Result<i64, Refusal> {
    if (1..=MAX_UNITS).contains(&units) {
        Ok(units)
    } else {
        Err(Refusal::new(ErrorCode::InvalidField, format!("units: 1 to {MAX_UNITS} (单元数为1到{MAX_UNITS})")))
    }
}

/// A new building (`number_taken`: its community has a building with that number): its compound's
/// name (1 to 40 characters, no control characters), a short number, 1 to 20 units.
pub fn decide_new_building(new: &NewBuilding, number_taken: bool) -> Result<BuildingState, Refusal> {
    let community = new.community.trim();
    if community.is_empty()
        || community.chars().count() > MAX_COMMUNITY_CHARS
        || community.chars().any(char::is_control)
    {
        return Err(Refusal::new(
            ErrorCode::InvalidField,
            format!("community: 1 to {MAX_COMMUNITY_CHARS} characters (小区名称)"),
        ));
    }
    let building = new.building.trim();
    if !is_address_part(building) {
        return Err(Refusal::new(ErrorCode::InvalidField, "building: a short number such as 3 or 12A (楼号)"));
    }
    let units = units_ok(new.units.unwrap_or(1))?;
    if number_taken {
        return Err(Refusal::new(
            ErrorCode::AlreadyExists,
            format!("{community}已有{building}号楼 (building {building} of {community} is on record already)"),
        ));
    }
    Ok(BuildingState { community: community.to_owned(), building: building.to_owned(), units, closed: false })
}

/// A building's units changed, or it closed (deliveries to the gate) or opened again.
pub fn decide_building_change(now: &BuildingState, change: &UpdateBuilding) -> Result<BuildingState, Refusal> {
    let mut next = now.clone();
    if let Some(units) = change.units {
        next.units = units_ok(units)?;
    }
    if let Some(closed) = change.closed {
        next.closed = closed;
    }
    Ok(next)
}

/// One row of a list of buildings as staff bring it (小区, 楼号, 单元数, 封闭); None: no such column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildingLine {
    pub row: u32,
    pub community: String,
    pub building: String,
    pub units: Option<String>,
    pub closed: Option<String>,
}

/// The verdict on each row, and the buildings to add and change (when no row is an error).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildingsPlan {
    pub rows: Vec<shared::api::ImportRow>,
    pub create: Vec<BuildingState>,
    /// (before, after) of buildings on record.
    pub update: Vec<(BuildingState, BuildingState)>,
}

/// A list of buildings, row by row: a (community, number) not on record is a new building (by
/// `decide_new_building`), one on record is changed (its units, closed) or unchanged; a row with
/// no community names the building of that number when only one community has it. A number
/// several communities have with no community, a building twice in the list, or a bad cell is
/// an error with its column. Nothing is applied while any row is an error.
pub fn plan_buildings(lines: &[BuildingLine], on_record: &[BuildingState]) -> BuildingsPlan {
    use shared::api::{ImportAction, ImportError, ImportRow};
    let mut plan = BuildingsPlan::default();
    let mut seen: Vec<(String, String, u32)> = Vec::new();
    for line in lines {
        let mut errors: Vec<ImportError> = Vec::new();
        let fault = |errors: &mut Vec<ImportError>, column: &str, reason: String| {
            errors.push(ImportError { column: Some(column.into()), reason })
        };
        let number = line.building.trim().to_owned();
        let units = match line.units.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            None => None,
            Some(u) => match u.parse::<i64>() {
                Ok(n) if (1..=MAX_UNITS).contains(&n) => Some(n),
                _ => {
                    fault(&mut errors, "单元数", format!("“{u}”应为1到{MAX_UNITS}的整数 (1 to {MAX_UNITS})"));
                    None
                }
            },
        };
        let closed = match line.closed.as_deref().map(str::trim).unwrap_or("") {
            "" => None,
            "是" | "封闭" | "yes" | "y" | "true" | "1" => Some(true),
            "否" | "开放" | "no" | "n" | "false" | "0" => Some(false),
            other => {
                fault(&mut errors, "封闭", format!("“{other}”应为“是”或“否” (yes or no)"));
                None
            }
        };
        let named = line.community.trim();
        let with_number: Vec<&BuildingState> = on_record.iter().filter(|b| b.building == number).collect();
        let ambiguous = named.is_empty() && with_number.len() > 1;
        let found = match with_number.as_slice() {
            _ if !named.is_empty() => with_number.iter().find(|b| b.community == named).copied(),
            [one] => Some(*one),
            [] => None,
            _ => {
                fault(
                    &mut errors,
                    "小区",
                    format!("有几个小区都有{number}号楼，请写明小区 (several communities have a building {number})"),
                );
                None
            }
        };
        let community = found.map_or(named, |b| b.community.as_str()).to_owned();
        if let Some((_, _, row)) = seen.iter().find(|(c, n, _)| *n == number && *c == community) {
            fault(&mut errors, "楼号", format!("与第{row}行重复 (the same building as row {row})"));
        }
        let action = match found {
            Some(_) if !errors.is_empty() => ImportAction::Error,
            None if ambiguous => ImportAction::Error,
            Some(b) => {
                let after =
                    BuildingState { units: units.unwrap_or(b.units), closed: closed.unwrap_or(b.closed), ..b.clone() };
                if after == *b {
                    ImportAction::Unchanged
                } else {
                    plan.update.push((b.clone(), after));
                    ImportAction::Update
                }
            }
            None => {
                let new = NewBuilding {
                    community: line.community.clone(),
                    building: number.clone(),
                    units: Some(units.unwrap_or(1)),
                };
                match decide_new_building(&new, false) {
                    Ok(made) if errors.is_empty() => {
                        plan.create.push(BuildingState { closed: closed.unwrap_or(false), ..made });
                        ImportAction::Create
                    }
                    Ok(_) => ImportAction::Error,
                    Err(refusal) => {
                        let column = if refusal.message.starts_with("community") { "小区" } else { "楼号" };
                        fault(&mut errors, column, refusal.message);
                        ImportAction::Error
                    }
                }
            }
        };
        if action != ImportAction::Error {
            seen.push((community, number, line.row));
        }
        plan.rows.push(ImportRow { row: line.row, action, errors });
    }
    if plan.rows.iter().any(|r| r.action == ImportAction::Error) {
        plan.create.clear();
        plan.update.clear();
    }
    plan
}

/// A building with the number an address names, as found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct BuildingAt {
    pub id: i64,
    pub market_id: shared::MarketId,
    pub community: String,
}

/// The building an address means, among those with its number: the one in the community it
/// names, else the only one, else the only one in `prefer` (the market the address is for).
/// Ok(None): no such building; Err: several communities have it and the address does not say
/// which.
pub fn pick_building<'a>(
    found: &'a [BuildingAt],
    community: Option<&str>,
    prefer: Option<shared::MarketId>,
    number: &str,
) -> Result<Option<&'a BuildingAt>, Refusal> {
    let community = community.map(str::trim).filter(|c| !c.is_empty());
    let named: Vec<&BuildingAt> = found.iter().filter(|b| community.is_none_or(|c| b.community == c)).collect();
    match named.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        several => {
            let mut in_market = several.iter().filter(|b| prefer.is_none_or(|m| b.market_id == m));
            match (in_market.next(), in_market.next()) {
                (Some(one), None) => Ok(Some(*one)),
                _ => Err(Refusal::field(
                    "address.community",
                    &format!("有几个小区都有{number}号楼，请写明小区 (several communities have a building {number}; name yours)"),
                )),
            }
        }
    }
}

pub use shared::api::building_ref;

/// How a building is named in such a list: its number, with its community before it when
/// another community of the market has a building of that number too (`shared`).
pub fn building_label(community: &str, number: &str, shared: bool) -> String {
    if shared {
        format!("{community} {number}")
    } else {
        number.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(community: &str, building: &str, units: Option<i64>) -> NewBuilding {
        NewBuilding { community: community.into(), building: building.into(), units }
    }

    #[test]
    fn a_building_has_a_compound_a_short_number_and_one_to_twenty_units() {
        let made = decide_new_building(&new(" 七里山小区 ", " 12A ", None), false).expect("made");
        assert_eq!(
            made,
            BuildingState { community: "七里山小区".into(), building: "12A".into(), units: 1, closed: false }
        );
        let refused = |b: NewBuilding, taken| decide_new_building(&b, taken).map_err(|r| r.code);
        assert_eq!(refused(new("", "3", None), false), Err(ErrorCode::InvalidField));
        assert_eq!(refused(new(&"小".repeat(41), "3", None), false), Err(ErrorCode::InvalidField));
        assert_eq!(refused(new("七里山\n小区", "3", None), false), Err(ErrorCode::InvalidField));
        assert_eq!(refused(new("七里山小区", "三号楼", None), false), Err(ErrorCode::InvalidField));
        assert_eq!(refused(new("七里山小区", "3", Some(0)), false), Err(ErrorCode::InvalidField));
        assert_eq!(refused(new("七里山小区", "3", Some(21)), false), Err(ErrorCode::InvalidField));
        assert_eq!(refused(new("七里山小区", "3", Some(20)), true), Err(ErrorCode::AlreadyExists));
    }

    #[test]
    fn a_building_closes_and_opens_and_keeps_its_units_in_range() {
        let now = BuildingState { community: "c".into(), building: "3".into(), units: 2, closed: false };
        let closed = decide_building_change(&now, &UpdateBuilding { units: None, closed: Some(true) }).expect("closed");
        assert!(closed.closed);
        assert_eq!(closed.units, 2);
        let more = decide_building_change(&closed, &UpdateBuilding { units: Some(4), closed: None }).expect("units");
        assert_eq!((more.units, more.closed), (4, true));
        assert!(decide_building_change(&now, &UpdateBuilding { units: Some(99), closed: None }).is_err());
    }

    #[test]
    fn a_list_of_buildings_adds_changes_and_keeps() {
        use shared::api::ImportAction::*;
        let on_record =
            [BuildingState { community: "七里山小区".into(), building: "3".into(), units: 3, closed: false }];
        let line = |row, community: &str, building: &str, units: Option<&str>, closed: Option<&str>| BuildingLine {
            row,
            community: community.into(),
            building: building.into(),
            units: units.map(str::to_owned),
            closed: closed.map(str::to_owned),
        };
        let plan = plan_buildings(
            &[
                line(2, "七里山小区", "3", Some("3"), None),
                line(3, "七里山小区", "3A", Some("2"), Some("是")),
                line(4, "", "3", None, Some("是")),
            ],
            &on_record,
        );
        let actions: Vec<_> = plan.rows.iter().map(|r| r.action).collect();
        assert_eq!(actions, [Unchanged, Create, Error], "row 4 names building 3 a second time");
        assert!(plan.create.is_empty(), "all or nothing");
        let plan =
            plan_buildings(&[line(2, "新村", "12", None, None), line(3, "", "3", Some("4"), Some("是"))], &on_record);
        assert_eq!(plan.rows.iter().map(|r| r.action).collect::<Vec<_>>(), [Create, Update]);
        assert_eq!((plan.create[0].units, plan.update[0].1.units, plan.update[0].1.closed), (1, 4, true));
        let plan = plan_buildings(&[line(2, "别的小区", "3", None, None)], &on_record);
        assert_eq!(plan.rows[0].action, Create, "another community may have a building 3 too");
        let two = [on_record[0].clone(), BuildingState { community: "别的小区".into(), ..on_record[0].clone() }];
        let plan = plan_buildings(&[line(2, "别的小区", "3", Some("5"), None)], &two);
        assert_eq!((plan.rows[0].action, plan.update[0].0.community.as_str()), (Update, "别的小区"));
        let bad = plan_buildings(
            &[
                line(2, "", "3", None, None),
                line(3, "x", "3楼", None, None),
                line(4, "x", "9", Some("99"), Some("maybe")),
            ],
            &two,
        );
        let columns: Vec<Vec<String>> =
            bad.rows.iter().map(|r| r.errors.iter().filter_map(|e| e.column.clone()).collect()).collect();
        assert_eq!(
            columns,
            [vec!["小区".to_owned()], vec!["楼号".to_owned()], vec!["单元数".to_owned(), "封闭".to_owned()]]
        );
    }

    #[test]
    fn a_listed_building_is_its_number_or_its_community_and_number() {
        assert_eq!(building_ref(" 3 "), (None, "3"));
        assert_eq!(building_ref("七里山小区 3"), (Some("七里山小区"), "3"));
        assert_eq!(building_ref("绿地 新城  12A"), (Some("绿地 新城"), "12A"));
        assert_eq!(building_label("七里山小区", "3", false), "3");
        let label = building_label("七里山小区", "3", true);
        assert_eq!(building_ref(&label), (Some("七里山小区"), "3"), "a label reads back as the building");
    }

    #[test]
    fn an_address_picks_its_building_by_community_then_by_market() {
        use shared::MarketId;
        let at =
            |id, market, community: &str| BuildingAt { id, market_id: MarketId(market), community: community.into() };
        let found = [at(1, 1, "七里山小区"), at(7, 2, "翠苑小区")];
        let id = |picked: Result<Option<&BuildingAt>, Refusal>| picked.map(|b| b.map(|b| b.id));
        assert_eq!(id(pick_building(&found[..1], None, Some(MarketId(2)), "3")), Ok(Some(1)));
        assert_eq!(id(pick_building(&found, Some(" 翠苑小区 "), Some(MarketId::FIRST), "3")), Ok(Some(7)));
        assert_eq!(id(pick_building(&found, None, Some(MarketId(2)), "3")), Ok(Some(7)));
        assert_eq!(id(pick_building(&found, None, Some(MarketId::FIRST), "3")), Ok(Some(1)));
        assert_eq!(id(pick_building(&found, Some("绿地新城"), Some(MarketId::FIRST), "3")), Ok(None));
        assert_eq!(id(pick_building(&[], None, Some(MarketId::FIRST), "3")), Ok(None));
        assert!(pick_building(&found, None, Some(MarketId(3)), "3").is_err());
        let refused = pick_building(&found, None, None, "3").expect_err("refused");
        assert_eq!(refused.code, ErrorCode::InvalidField);
        // Two communities of one market, both with a building 3: the address must say which.
        let one_market = [at(1, 1, "七里山小区"), at(9, 1, "翠苑小区")];
        assert!(pick_building(&one_market, None, Some(MarketId::FIRST), "3").is_err());
        assert_eq!(id(pick_building(&one_market, Some("翠苑小区"), Some(MarketId::FIRST), "3")), Ok(Some(9)));
    }
}
