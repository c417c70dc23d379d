//! Slot capacity with a priority reserve: part of a slot can be held for priority households
//! (quarantined, hardship, elderly) until a set time, after which it opens to all. The store's
//! conditional UPDATE takes places by the same rule, atomically.

use chrono::{DateTime, Utc};

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
}

/// Whether a household gets the priority reserve.
pub fn is_priority(household: Option<&shared::api::Household>) -> bool {
    household.is_some_and(|h| h.quarantined || h.hardship || h.elderly)
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
        };
        assert_eq!(s.reserve_held(at(4)), 2);
        assert_eq!(s.remaining(at(4)), 2);
        assert_eq!(s.priority_remaining(), 4);
        assert_eq!(s.reserve_held(at(5)), 0);
        assert_eq!(s.remaining(at(6)), 4);
        assert!(!s.is_closed(at(7)));
        assert!(s.is_closed(at(8)));
    }
}
