//! Slot capacity with a priority reserve: part of a slot can be held for priority households
//! (quarantined, hardship, elderly) until a set time, after which it opens to all; and what
//! staff may change of a slot once orders are in it.

use chrono::{DateTime, Utc};

/// The most orders one slot can take.
pub const MAX_SLOT_CAPACITY: i64 = 100_000;
pub const CAPACITY_RANGE: &str = "容量须在0到100000单之间 (capacity must be 0 to 100000 orders)";
/// The most open orders staff may let one household have in one slot.
pub const MAX_HOUSEHOLD_LIMIT: i64 = 20;
pub const HOUSEHOLD_LIMIT_RANGE: &str = "每户单数上限须在1到20之间 (household_limit must be 1 to 20)";

#[derive(Debug, Clone, PartialEq)]
pub struct SlotState {
    pub capacity: i64,
    pub booked: i64,
    pub priority_capacity: i64,
    /// Orders placed by priority households.
    pub priority_booked: i64,
    pub priority_release_at: Option<DateTime<Utc>>,
    pub cutoff_at: DateTime<Utc>,
    pub closed: bool,
    /// Open orders one household may have in the slot: 1 unless staff raised it, so that a
    /// script with free accounts cannot book a slot's every place for one door.
    pub household_limit: i64,
}

impl SlotState {
    /// Places still held back for priority households at `now`.
    pub fn reserve_held(&self, now: DateTime<Utc>) -> i64 {
        match self.priority_release_at {
            Some(release) if now < release => (self.priority_capacity - self.priority_booked).max(0),
            _ => 0,
        }
    }

    pub fn is_closed(&self, now: DateTime<Utc>) -> bool {
        self.closed || now >= self.cutoff_at
    }

    /// Places anyone can still take.
    pub fn remaining(&self, now: DateTime<Utc>) -> i64 {
        (self.capacity - self.booked - self.reserve_held(now)).max(0)
    }

    /// Places a priority household can still take.
    pub fn priority_remaining(&self) -> i64 {
        (self.capacity - self.booked).max(0)
    }

    /// Places a household can still take at `now`: a priority one may use the reserve.
    pub fn places_for(&self, priority: bool, now: DateTime<Utc>) -> i64 {
        if priority {
            self.priority_remaining()
        } else {
            self.remaining(now)
        }
    }

    /// Takes one place (check `places_for` first).
    pub fn take(&mut self, priority: bool) {
        self.booked += 1;
        if priority {
            self.priority_booked += 1;
        }
    }

    /// Gives back a place taken by `take`.
    pub fn give_back(&mut self, priority: bool) {
        self.booked = (self.booked - 1).max(0);
        if priority {
            self.priority_booked = (self.priority_booked - 1).max(0);
        }
    }
}

/// The rules a slot keeps whether it is opened or adjusted: the message for the first one
/// such a slot would break, if any.
pub fn broken_rule(
    starts_at: DateTime<Utc>,
    cutoff_at: DateTime<Utc>,
    capacity: i64,
    priority_capacity: i64,
    household_limit: i64,
) -> Option<&'static str> {
    if cutoff_at > starts_at {
        return Some("截单时间不能晚于开始时间 (cutoff_at must not be after starts_at)");
    }
    if !(0..=MAX_SLOT_CAPACITY).contains(&capacity) {
        return Some(CAPACITY_RANGE);
    }
    if !(0..=capacity).contains(&priority_capacity) {
        return Some("优先预留须在0到容量之间 (priority_capacity must be 0 to capacity)");
    }
    if !(1..=MAX_HOUSEHOLD_LIMIT).contains(&household_limit) {
        return Some(HOUSEHOLD_LIMIT_RANGE);
    }
    None
}

/// What staff change of a slot (None: unchanged).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlotChange {
    pub capacity: Option<i64>,
    pub priority_capacity: Option<i64>,
    pub priority_release_at: Option<DateTime<Utc>>,
    pub cutoff_at: Option<DateTime<Utc>>,
    pub closed: Option<bool>,
    pub household_limit: Option<i64>,
}

/// A slot as changed, decided over the slot as it is (locked): the capacity within range and
/// never below the orders already booked, then the rules every slot keeps (`broken_rule`).
pub fn decide_change(
    slot: &super::checkout::SlotRow,
    change: &SlotChange,
) -> Result<super::checkout::SlotRow, super::Refusal> {
    use super::Refusal;
    use shared::ErrorCode;
    let mut changed = slot.clone();
    let s = &mut changed.state;
    if let Some(capacity) = change.capacity {
        if !(0..=MAX_SLOT_CAPACITY).contains(&capacity) {
            return Err(Refusal::new(ErrorCode::InvalidField, CAPACITY_RANGE));
        }
        if capacity < s.booked {
            let booked = s.booked;
            return Err(Refusal::new(
                ErrorCode::CapacityBelowBooked,
                format!("已有{booked}单，容量不能少于{booked} ({booked} orders are already booked)"),
            ));
        }
        s.capacity = capacity;
    }
    s.priority_capacity = change.priority_capacity.unwrap_or(s.priority_capacity);
    s.priority_release_at = change.priority_release_at.or(s.priority_release_at);
    s.cutoff_at = change.cutoff_at.unwrap_or(s.cutoff_at);
    s.closed = change.closed.unwrap_or(s.closed);
    s.household_limit = change.household_limit.unwrap_or(s.household_limit);
    if let Some(rule) = broken_rule(changed.starts_at, s.cutoff_at, s.capacity, s.priority_capacity, s.household_limit)
    {
        return Err(Refusal::new(ErrorCode::InvalidField, rule));
    }
    Ok(changed)
}

/// What staff have flagged a household as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
pub struct NeedFlags {
    pub quarantined: bool,
    pub hardship: bool,
    pub elderly: bool,
}

impl NeedFlags {
    /// Whether they get the slots' priority reserve (shared's one rule).
    pub fn is_priority(self) -> bool {
        shared::order::is_priority(self.quarantined, self.hardship, self.elderly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(h * 3600, 0).unwrap_or_default()
    }

    #[test]
    fn reserve_is_held_until_release() {
        let s = SlotState {
            capacity: 10,
            booked: 6,
            priority_capacity: 3,
            priority_booked: 1,
            priority_release_at: Some(at(5)),
            cutoff_at: at(8),
            closed: false,
            household_limit: 1,
        };
        assert_eq!(s.reserve_held(at(4)), 2);
        assert_eq!(s.remaining(at(4)), 2);
        assert_eq!(s.priority_remaining(), 4);
        assert_eq!(s.reserve_held(at(5)), 0);
        assert_eq!(s.remaining(at(6)), 4);
        assert!(!s.is_closed(at(7)));
        assert!(s.is_closed(at(8)));
    }

    #[test]
    fn a_change_keeps_the_booked_orders_and_the_slot_rules() {
        use crate::domain::checkout::SlotRow;
        use shared::ErrorCode;
        let state = SlotState {
            capacity: 10,
            booked: 6,
            priority_capacity: 3,
            priority_booked: 1,
            priority_release_at: None,
            cutoff_at: at(8),
            closed: false,
            household_limit: 1,
        };
        let slot = SlotRow {
            market_id: shared::MarketId::FIRST,
            id: shared::SlotId(1),
            kind: shared::order::SlotKind::Delivery,
            starts_at: at(9),
            ends_at: at(11),
            state,
        };
        let code = |change: SlotChange| decide_change(&slot, &change).map(|s| s.state).map_err(|r| r.code);
        let to = |capacity| SlotChange { capacity: Some(capacity), ..SlotChange::default() };
        assert_eq!(code(to(6)).map(|s| s.capacity), Ok(6));
        assert_eq!(code(to(5)), Err(ErrorCode::CapacityBelowBooked));
        assert_eq!(code(to(-1)), Err(ErrorCode::InvalidField));
        assert_eq!(code(to(100_001)), Err(ErrorCode::InvalidField));
        let reserve = SlotChange { capacity: Some(7), priority_capacity: Some(8), ..SlotChange::default() };
        assert_eq!(code(reserve), Err(ErrorCode::InvalidField), "the reserve within the capacity");
        let late = SlotChange { cutoff_at: Some(at(10)), ..SlotChange::default() };
        assert_eq!(code(late), Err(ErrorCode::InvalidField), "the cut-off not after the start");
        let raised = SlotChange { household_limit: Some(3), ..SlotChange::default() };
        assert_eq!(code(raised).map(|s| s.household_limit), Ok(3));
        for limit in [0, 21] {
            let wrong = SlotChange { household_limit: Some(limit), ..SlotChange::default() };
            assert_eq!(code(wrong), Err(ErrorCode::InvalidField), "household_limit {limit}");
        }
        let closed = code(SlotChange { closed: Some(true), ..SlotChange::default() }).expect("closed");
        assert!(closed.closed && closed.capacity == 10);
    }
}
