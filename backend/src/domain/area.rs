//! The area the market serves: its buildings. An address names a building by its number alone
//! (`3-1-302`), so a number is the market's once, whatever compound it is in.

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

/// A new building (`number_taken`: a building with that number is on record): its compound's
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
            format!("已有{building}号楼：地址只写楼号，全市场不能重号 (building {building} is on record already)"),
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
}
