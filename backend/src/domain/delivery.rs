//! From the stalls to the door: a volunteer claims a ready batch (one wins), picks it up (its
//! orders go out for delivery), and hands each order over with the resident's 6-digit code.
//! Each step is decided here over the rows the store has locked.

use super::Refusal;
use shared::order::{BatchStatus, OrderStatus, MAX_HANDOFF_ATTEMPTS};
use shared::ErrorCode;

/// A batch as locked: its stored state and the orders it holds (claimed: its own; open: those
/// waiting to join it).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSnapshot {
    pub id: i64,
    /// `open`, `claimed`, `out` or `done` as stored.
    pub stored: String,
    pub volunteer_id: Option<i64>,
    /// (order, status)
    pub orders: Vec<(i64, OrderStatus)>,
}

impl BatchSnapshot {
    /// What the batch is, as shown: an open one is waiting or ready by its orders.
    pub fn status(&self) -> BatchStatus {
        match self.stored.as_str() {
            "claimed" => BatchStatus::Claimed,
            "out" => BatchStatus::Out,
            "done" => BatchStatus::Done,
            _ => BatchStatus::of_open(self.orders.iter().map(|(_, s)| s)),
        }
    }
}

/// A slot's orders that no batch holds yet, counted by building (or group-buy) and status.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingOrders {
    pub slot_id: i64,
    pub building: String,
    /// The building's community: two communities' buildings 3 are two batches.
    pub community: String,
    pub group_buy_id: Option<i64>,
    /// A pickup point's drop is one batch.
    pub pickup_point_id: Option<i64>,
    pub status: OrderStatus,
    pub count: i64,
}

/// For each slot with any: how many of its open batches are ready (every order packed; a
/// group-buy's drop is one batch, whatever its buildings), and how many batches the volunteer
/// has (`mine`: the slot of each claimed or carried batch). (slot, ready, mine), by slot.
pub fn slot_work(waiting: &[WaitingOrders], mine: &[i64]) -> Vec<(i64, i64, i64)> {
    use std::collections::BTreeMap;
    // (slot, building, community, group-buy, pickup point): an open batch's key.
    type Key<'a> = (i64, &'a str, &'a str, Option<i64>, Option<i64>);
    let mut batches: BTreeMap<Key<'_>, Vec<OrderStatus>> = BTreeMap::new();
    for w in waiting.iter().filter(|w| w.count > 0) {
        let drop = w.group_buy_id.is_some() || w.pickup_point_id.is_some();
        let (building, community) = if drop { ("", "") } else { (w.building.as_str(), w.community.as_str()) };
        batches.entry((w.slot_id, building, community, w.group_buy_id, w.pickup_point_id)).or_default().push(w.status);
    }
    let mut work: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for ((slot, ..), statuses) in &batches {
        let ready = BatchStatus::of_open(statuses.iter()) == BatchStatus::Ready;
        work.entry(*slot).or_default().0 += i64::from(ready);
    }
    for slot in mine {
        work.entry(*slot).or_default().1 += 1;
    }
    work.into_iter().filter(|(_, (r, m))| r + m > 0).map(|(slot, (r, m))| (slot, r, m)).collect()
}

/// A done round: a volunteer's batch from its claim to its last door.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    pub volunteer_id: i64,
    pub claimed_at: chrono::DateTime<chrono::Utc>,
    pub done_at: chrono::DateTime<chrono::Utc>,
}

impl Round {
    /// Whole minutes from the claim to the last door (never negative).
    pub fn minutes(&self) -> i64 {
        (self.done_at - self.claimed_at).num_minutes().max(0)
    }
}

/// Each volunteer's rounds and minutes: (volunteer, rounds, minutes), by volunteer.
pub fn volunteer_hours(rounds: &[Round]) -> Vec<(i64, i64, i64)> {
    let mut by: std::collections::BTreeMap<i64, (i64, i64)> = std::collections::BTreeMap::new();
    for r in rounds {
        let e = by.entry(r.volunteer_id).or_default();
        e.0 += 1;
        e.1 += r.minutes();
    }
    by.into_iter().map(|(v, (n, m))| (v, n, m)).collect()
}

fn not_found() -> Refusal {
    Refusal::new(ErrorCode::NotFound, "没有这个配送批次 (no such batch)")
}

/// Claims a ready batch for a volunteer: the orders it holds become the batch's. Two volunteers
/// at once: the first takes it, the second finds it claimed (409 `already_claimed`).
pub fn decide_claim(batch: Option<&BatchSnapshot>) -> Result<Vec<i64>, Refusal> {
    let b = batch.ok_or_else(not_found)?;
    match b.status() {
        BatchStatus::Ready => Ok(b.orders.iter().map(|(id, _)| *id).collect()),
        BatchStatus::Waiting => {
            Err(Refusal::new(ErrorCode::WrongState, "摊位还没全部打包好 (not every stall has packed yet)"))
        }
        _ => Err(Refusal::new(ErrorCode::AlreadyClaimed, "这一批已被其他志愿者认领 (another volunteer has it)")),
    }
}

/// The batch's own volunteer picks it up: its orders go out for delivery.
pub fn decide_pickup(batch: Option<&BatchSnapshot>, volunteer: i64) -> Result<Vec<i64>, Refusal> {
    let b = batch.ok_or_else(not_found)?;
    if b.volunteer_id != Some(volunteer) {
        return Err(Refusal::new(ErrorCode::Forbidden, "这一批不是您认领的 (you did not claim this batch)"));
    }
    if b.status() != BatchStatus::Claimed {
        return Err(Refusal::new(
            ErrorCode::WrongState,
            format!("这一批已是{} (the batch is {})", b.status().as_str(), b.status().as_str()),
        ));
    }
    Ok(b.orders.iter().filter(|(_, s)| *s == OrderStatus::Packed).map(|(id, _)| *id).collect())
}

/// One order at the door, as locked with its batch.
#[derive(Debug, Clone, PartialEq)]
pub struct HandoffSnapshot {
    pub order_id: i64,
    pub status: OrderStatus,
    pub code: String,
    pub attempts: i64,
    pub batch: BatchSnapshot,
    /// How a delivered order went: left at the door (else with its code).
    pub left_at_door: bool,
    /// An order to a pickup point: its keeper, and whether it has been dropped there.
    pub point: Option<AtPointHandoff>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtPointHandoff {
    pub keeper: Option<i64>,
    pub dropped: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handoff {
    /// The code matched: delivered; `batch_done` when it was the batch's last order out.
    Delivered { batch_done: bool },
    /// A wrong code: nothing changes but the count of wrong codes, now `attempts`.
    Wrong { attempts: i64 },
    /// The same step again (a phone in a stairwell that sent it twice, not hearing the first
    /// answer): it was done; nothing changes.
    Again,
}

/// How an order is handed over: with the code the resident shows, or left at the door when
/// nobody is home (with a note the resident is told).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof<'a> {
    Code(&'a str),
    LeftAtDoor,
}

/// A hand-off at the door by the batch's volunteer (staff may too): the right code delivers; a
/// wrong one is counted, and after `MAX_HANDOFF_ATTEMPTS` the order takes no more. Left at the
/// door delivers without a code.
/// An order as a resident's report of a problem needs it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ReportedOrder {
    pub user_id: i64,
    /// Set for a group-buy order: the household whose share it was.
    pub household_id: Option<i64>,
    pub group_buy_id: Option<i64>,
    pub status: OrderStatus,
}

/// A resident reports a problem with an order: only their own (or their household's group-buy
/// order), once it is delivered. Another's order is answered as no order at all.
pub fn decide_report(order: Option<&ReportedOrder>, user_id: i64, household: Option<i64>) -> Result<(), Refusal> {
    let not_found = || Refusal::new(shared::ErrorCode::NotFound, "no such order");
    let o = order.ok_or_else(not_found)?;
    let households_order = o.group_buy_id.is_some() && o.household_id.is_some() && o.household_id == household;
    if o.user_id != user_id && !households_order {
        return Err(not_found());
    }
    if !shared::order::may_report_problem(o.status) {
        return Err(Refusal::new(
            shared::ErrorCode::WrongState,
            "送达后才能反馈问题 (problems are reported once the order is delivered)",
        ));
    }
    Ok(())
}

pub fn decide_handoff(
    order: Option<&HandoffSnapshot>,
    volunteer: i64,
    staff: bool,
    proof: Proof<'_>,
) -> Result<Handoff, Refusal> {
    let o = order.ok_or_else(|| Refusal::new(ErrorCode::NotFound, "no such order"))?;
    // An order dropped at a pickup point is its keeper's to hand over (or staff's), by its code
    // only; any other, the batch's volunteer's (or staff's) while the batch is out.
    let at_point = o.point.filter(|p| p.dropped);
    match at_point {
        Some(point) if !staff && point.keeper != Some(volunteer) => {
            return Err(Refusal::new(ErrorCode::Forbidden, "这单不在您的自提点 (not at your pickup point)"));
        }
        Some(_) if proof == Proof::LeftAtDoor => {
            return Err(Refusal::new(
                ErrorCode::WrongState,
                "自提点的订单凭收货码取货 (an order at a pickup point is collected with its code)",
            ));
        }
        None if !staff && o.batch.volunteer_id != Some(volunteer) => {
            return Err(Refusal::new(ErrorCode::Forbidden, "这单不在您认领的批次里 (not in a batch you claimed)"));
        }
        _ => {}
    }
    // The step already taken the same way (the same code, or left at the door) is answered as
    // done, so a step queued without signal can be sent again.
    if o.status == OrderStatus::Delivered {
        let same = match proof {
            Proof::Code(code) => !o.left_at_door && code.trim() == o.code,
            Proof::LeftAtDoor => o.left_at_door,
        };
        if same {
            return Ok(Handoff::Again);
        }
    }
    let batch_out = at_point.is_some() || o.batch.status() == BatchStatus::Out;
    if !batch_out || o.status != OrderStatus::OutForDelivery {
        return Err(Refusal::new(
            ErrorCode::WrongState,
            format!("订单是{}，不能交付 (the order is {})", o.status.as_str(), o.status.as_str()),
        ));
    }
    if let Proof::Code(code) = proof {
        if o.attempts >= MAX_HANDOFF_ATTEMPTS {
            return Err(Refusal::new(
                ErrorCode::HandoffLocked,
                "收货码错误次数太多，请联系工作人员重置 (too many wrong codes: staff must reset it)",
            ));
        }
        if code.trim() != o.code {
            return Ok(Handoff::Wrong { attempts: o.attempts + 1 });
        }
    }
    // A point's batch was done at the drop.
    let left = o.batch.orders.iter().filter(|(id, s)| *id != o.order_id && *s == OrderStatus::OutForDelivery).count();
    Ok(Handoff::Delivered { batch_done: at_point.is_none() && left == 0 })
}

/// A photo at the door, taken by the batch's volunteer (or staff) of an order they left there:
/// only a delivered order left at the door takes one (a new photo replaces the one before).
pub fn decide_door_photo(order: Option<&HandoffSnapshot>, volunteer: i64, staff: bool) -> Result<(), Refusal> {
    let o = order.ok_or_else(|| Refusal::new(ErrorCode::NotFound, "no such order"))?;
    if !staff && o.batch.volunteer_id != Some(volunteer) {
        return Err(Refusal::new(ErrorCode::Forbidden, "这单不在您认领的批次里 (not in a batch you claimed)"));
    }
    if o.status != OrderStatus::Delivered || !o.left_at_door {
        return Err(Refusal::new(
            ErrorCode::WrongState,
            "放在门口之后才能拍门口照片 (a photo at the door is taken once the order is left there)",
        ));
    }
    Ok(())
}

/// Who sees an order's photo at the door: its household (`mine`), staff, and the volunteer of
/// its batch. Anyone else is answered as if there were none.
pub fn may_see_door_photo(mine: bool, staff: bool, batch_volunteer: Option<i64>, user: i64) -> bool {
    mine || staff || batch_volunteer == Some(user)
}

/// Whether a batch waits too long: packed (ready) and unclaimed for more than `minutes` since
/// `since`.
pub fn is_late(
    status: BatchStatus,
    since: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
    minutes: i64,
) -> bool {
    status == BatchStatus::Ready && now - since > chrono::Duration::minutes(minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_batch_is_late_after_the_set_minutes_and_a_claimed_one_never() {
        let since = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let at = |m: i64| since + chrono::Duration::minutes(m);
        assert!(!is_late(BatchStatus::Ready, since, at(30), 30));
        assert!(is_late(BatchStatus::Ready, since, at(31), 30));
        assert!(is_late(BatchStatus::Ready, since, at(11), 10));
        assert!(!is_late(BatchStatus::Claimed, since, at(300), 30));
    }

    fn batch(stored: &str, volunteer: Option<i64>, orders: &[(i64, OrderStatus)]) -> BatchSnapshot {
        BatchSnapshot { id: 1, stored: stored.into(), volunteer_id: volunteer, orders: orders.to_vec() }
    }

    #[test]
    fn only_a_ready_open_batch_is_claimed() {
        use OrderStatus::*;
        assert_eq!(decide_claim(Some(&batch("open", None, &[(1, Packed), (2, Packed)]))), Ok(vec![1, 2]));
        let code = |r: Result<Vec<i64>, Refusal>| r.map_err(|e| e.code);
        assert_eq!(
            code(decide_claim(Some(&batch("open", None, &[(1, Packed), (2, Confirmed)])))),
            Err(ErrorCode::WrongState)
        );
        assert_eq!(code(decide_claim(Some(&batch("open", None, &[])))), Err(ErrorCode::WrongState));
        assert_eq!(
            code(decide_claim(Some(&batch("claimed", Some(7), &[(1, Packed)])))),
            Err(ErrorCode::AlreadyClaimed)
        );
        assert_eq!(code(decide_claim(None)), Err(ErrorCode::NotFound));
        assert_eq!(decide_pickup(Some(&batch("claimed", Some(7), &[(1, Packed)])), 7), Ok(vec![1]));
        assert_eq!(code(decide_pickup(Some(&batch("claimed", Some(7), &[(1, Packed)])), 8)), Err(ErrorCode::Forbidden));
        assert_eq!(
            code(decide_pickup(Some(&batch("out", Some(7), &[(1, OutForDelivery)])), 7)),
            Err(ErrorCode::WrongState)
        );
    }

    #[test]
    fn at_a_pickup_point_only_its_keeper_hands_over_and_only_by_code() {
        use OrderStatus::*;
        let done = batch("done", Some(7), &[(1, OutForDelivery)]);
        let at_point = |status, dropped| HandoffSnapshot {
            order_id: 1,
            status,
            code: "123456".into(),
            attempts: 0,
            batch: done.clone(),
            left_at_door: false,
            point: Some(AtPointHandoff { keeper: Some(30), dropped }),
        };
        let code = |r: Result<Handoff, Refusal>| r.map_err(|e| e.code);
        assert_eq!(
            decide_handoff(Some(&at_point(OutForDelivery, true)), 30, false, Proof::Code("123456")),
            Ok(Handoff::Delivered { batch_done: false })
        );
        assert_eq!(
            decide_handoff(Some(&at_point(OutForDelivery, true)), 30, false, Proof::Code("000000")),
            Ok(Handoff::Wrong { attempts: 1 })
        );
        assert_eq!(
            code(decide_handoff(Some(&at_point(OutForDelivery, true)), 7, false, Proof::Code("123456"))),
            Err(ErrorCode::Forbidden),
            "the volunteer's round ended at the drop"
        );
        assert_eq!(
            code(decide_handoff(Some(&at_point(OutForDelivery, true)), 30, false, Proof::LeftAtDoor)),
            Err(ErrorCode::WrongState)
        );
        assert_eq!(
            decide_handoff(Some(&at_point(Delivered, true)), 30, false, Proof::Code("123456")),
            Ok(Handoff::Again)
        );
        assert_eq!(
            code(decide_handoff(Some(&at_point(Cancelled, true)), 30, false, Proof::Code("123456"))),
            Err(ErrorCode::WrongState)
        );
        // Not dropped yet: the keeper has nothing to hand over.
        assert_eq!(
            code(decide_handoff(Some(&at_point(OutForDelivery, false)), 30, false, Proof::Code("123456"))),
            Err(ErrorCode::Forbidden)
        );
    }

    #[test]
    fn the_right_code_delivers_and_wrong_ones_are_counted_up_to_the_limit() {
        use OrderStatus::*;
        let out = batch("out", Some(7), &[(1, OutForDelivery), (2, OutForDelivery)]);
        let at_door = |attempts| HandoffSnapshot {
            order_id: 1,
            status: OutForDelivery,
            code: "123456".into(),
            attempts,
            batch: out.clone(),
            left_at_door: false,
            point: None,
        };
        assert_eq!(
            decide_handoff(Some(&at_door(0)), 7, false, Proof::Code("123456")),
            Ok(Handoff::Delivered { batch_done: false })
        );
        assert_eq!(
            decide_handoff(Some(&at_door(2)), 7, false, Proof::Code("000000")),
            Ok(Handoff::Wrong { attempts: 3 })
        );
        assert_eq!(
            decide_handoff(Some(&at_door(5)), 7, false, Proof::Code("123456")).map_err(|e| e.code),
            Err(ErrorCode::HandoffLocked)
        );
        assert_eq!(
            decide_handoff(Some(&at_door(0)), 8, false, Proof::Code("123456")).map_err(|e| e.code),
            Err(ErrorCode::Forbidden)
        );
        assert_eq!(
            decide_handoff(Some(&at_door(0)), 8, true, Proof::Code("123456")),
            Ok(Handoff::Delivered { batch_done: false })
        );
        let mut last = at_door(0);
        last.batch.orders[1].1 = Delivered;
        assert_eq!(
            decide_handoff(Some(&last), 7, false, Proof::Code("123456")),
            Ok(Handoff::Delivered { batch_done: true })
        );
        // Nobody home: left at the door, even after wrong codes.
        assert_eq!(
            decide_handoff(Some(&at_door(5)), 7, false, Proof::LeftAtDoor),
            Ok(Handoff::Delivered { batch_done: false })
        );
        // Sent again after it was done (no answer heard in the stairwell): done, nothing changes;
        // but not another way, not with a wrong code, not by someone else.
        let mut done = at_door(0);
        done.status = Delivered;
        done.batch.orders[0].1 = Delivered;
        assert_eq!(decide_handoff(Some(&done), 7, false, Proof::Code("123456")), Ok(Handoff::Again));
        assert_eq!(
            decide_handoff(Some(&done), 7, false, Proof::Code("000000")).map_err(|e| e.code),
            Err(ErrorCode::WrongState)
        );
        assert_eq!(
            decide_handoff(Some(&done), 7, false, Proof::LeftAtDoor).map_err(|e| e.code),
            Err(ErrorCode::WrongState)
        );
        assert_eq!(
            decide_handoff(Some(&done), 8, false, Proof::Code("123456")).map_err(|e| e.code),
            Err(ErrorCode::Forbidden)
        );
        let left = HandoffSnapshot { left_at_door: true, ..done };
        assert_eq!(decide_handoff(Some(&left), 7, false, Proof::LeftAtDoor), Ok(Handoff::Again));
    }

    #[test]
    fn a_photo_at_the_door_is_the_batch_volunteer_s_once_the_order_is_left_there() {
        let at_door = |status, left_at_door| HandoffSnapshot {
            order_id: 1,
            status,
            code: "123456".into(),
            attempts: 0,
            batch: batch("out", Some(7), &[(1, status)]),
            left_at_door,
            point: None,
        };
        let left = at_door(OrderStatus::Delivered, true);
        assert_eq!(decide_door_photo(Some(&left), 7, false), Ok(()));
        assert_eq!(decide_door_photo(Some(&left), 9, true), Ok(()));
        assert_eq!(decide_door_photo(Some(&left), 9, false).map_err(|r| r.code), Err(ErrorCode::Forbidden));
        assert_eq!(decide_door_photo(None, 7, false).map_err(|r| r.code), Err(ErrorCode::NotFound));
        for (status, left) in [(OrderStatus::Delivered, false), (OrderStatus::OutForDelivery, false)] {
            let o = at_door(status, left);
            assert_eq!(decide_door_photo(Some(&o), 7, false).map_err(|r| r.code), Err(ErrorCode::WrongState));
        }
        assert!(may_see_door_photo(true, false, Some(7), 3));
        assert!(may_see_door_photo(false, true, Some(7), 3));
        assert!(may_see_door_photo(false, false, Some(7), 7));
        assert!(!may_see_door_photo(false, false, Some(7), 3));
        assert!(!may_see_door_photo(false, false, None, 3));
    }

    #[test]
    fn a_problem_is_reported_on_ones_own_delivered_order() {
        use shared::ErrorCode;
        let order =
            |user_id, household_id, group_buy_id, status| ReportedOrder { user_id, household_id, group_buy_id, status };
        let delivered = order(1, None, None, OrderStatus::Delivered);
        assert_eq!(decide_report(Some(&delivered), 1, None), Ok(()));
        let code = |o: Option<&ReportedOrder>, user, household| decide_report(o, user, household).map_err(|r| r.code);
        assert_eq!(code(Some(&delivered), 2, None), Err(ErrorCode::NotFound), "not another's");
        assert_eq!(code(None, 1, None), Err(ErrorCode::NotFound));
        let share = order(1, Some(9), Some(4), OrderStatus::Delivered);
        assert_eq!(code(Some(&share), 2, Some(9)), Ok(()), "the household's group-buy order");
        assert_eq!(code(Some(&share), 2, Some(8)), Err(ErrorCode::NotFound));
        let placed = order(1, None, None, OrderStatus::Placed);
        assert_eq!(code(Some(&placed), 1, None), Err(ErrorCode::WrongState));
    }

    #[test]
    fn a_slot_has_work_when_a_batch_is_all_packed_or_is_the_volunteer_s() {
        let w = |slot: i64, building: &str, group_buy_id: Option<i64>, status: OrderStatus, count: i64| WaitingOrders {
            slot_id: slot,
            building: building.into(),
            community: String::new(),
            group_buy_id,
            pickup_point_id: None,
            status,
            count,
        };
        let waiting = [
            // Slot 1: building 3 all packed (ready), building 4 half packed (waiting).
            w(1, "3", None, OrderStatus::Packed, 2),
            w(1, "4", None, OrderStatus::Packed, 1),
            w(1, "4", None, OrderStatus::Confirmed, 1),
            // Slot 2: a group-buy's drop over two buildings is one ready batch.
            w(2, "5", Some(9), OrderStatus::Packed, 3),
            w(2, "6", Some(9), OrderStatus::Packed, 1),
            // Slot 3: nothing packed.
            w(3, "7", None, OrderStatus::Paid, 4),
        ];
        assert_eq!(slot_work(&waiting, &[3, 4]), vec![(1, 1, 0), (2, 1, 0), (3, 0, 1), (4, 0, 1)]);
        assert_eq!(slot_work(&[], &[]), vec![]);
    }

    #[test]
    fn a_volunteer_s_hours_run_from_the_claim_to_the_last_door() {
        let at = |m: i64| chrono::DateTime::from_timestamp(m * 60, 0).unwrap_or_default();
        let round = |v: i64, from: i64, to: i64| Round { volunteer_id: v, claimed_at: at(from), done_at: at(to) };
        let rounds = [round(7, 0, 45), round(7, 100, 130), round(8, 10, 5), round(9, 0, 61)];
        assert_eq!(rounds[0].minutes(), 45);
        assert_eq!(rounds[2].minutes(), 0, "a clock that ran backwards counts nothing");
        assert_eq!(volunteer_hours(&rounds), vec![(7, 2, 75), (8, 1, 0), (9, 1, 61)]);
    }
}
