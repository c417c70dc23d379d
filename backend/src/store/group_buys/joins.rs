//! The join queue: the joins waiting in this process are decided together in one transaction
//! with one commit (2,000 households of a building pressing "join" at once is the normal case).
//! On PostgreSQL several processes do the same; the group-buy's row lock orders their batches.

use super::{state_in, ShareLineRow, ShareRow};
use crate::domain::group_buy::{
    decide_joins, share_total, HouseholdState, JoinChanges, JoinJob, JoinOutcome, JoinSnapshot, ShareState,
};
use crate::domain::notices::{share_holds, share_placed_for};
use crate::domain::slots::NeedFlags;
use crate::store::checkout::slots::{slot_in, write_places};
use crate::store::db::{self, args, Arg, Db, Tx};
use crate::store::notices::NOTICE_INSERT;
use crate::store::queue::{deliver, gather, jobs_of, Queue, Waiting};
use crate::store::{retryable, StoreResult};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use tokio::sync::mpsc;

/// At most this many joins share one commit.
const MAX_BATCH: usize = 256;

/// Starts the queue's task; it ends when the sender is dropped.
pub(super) fn start(db: Db) -> mpsc::Sender<Waiting<JoinJob, JoinOutcome>> {
    let (joins, queue) = mpsc::channel(8192);
    tokio::spawn(run(db, queue));
    joins
}

async fn run(db: Db, mut queue: Queue<JoinJob, JoinOutcome>) {
    while let Some(first) = queue.recv().await {
        let batch = gather(first, &mut queue, MAX_BATCH, |w| w.jobs.len());
        match commit(&db, &jobs_of(&batch)).await {
            Ok(outcomes) => deliver(batch, outcomes),
            Err(e) => {
                // Nothing of a failed batch was kept (one transaction): each caller's joins are
                // tried again on their own, so one that cannot be written fails nobody else.
                if batch.len() > 1 {
                    tracing::warn!(error = %e, size = batch.len(), "join batch failed; retrying one by one");
                }
                for w in batch {
                    let mut result = commit(&db, &w.jobs).await;
                    if matches!(&result, Err(e) if retryable(e)) {
                        result = commit(&db, &w.jobs).await;
                    }
                    let _ = w.reply.send(result);
                }
            }
        }
    }
}

/// Load (and lock), decide, write, commit: one transaction for the batch.
async fn commit(db: &Db, jobs: &[JoinJob]) -> StoreResult<Vec<JoinOutcome>> {
    let mut tx = db.begin().await?;
    let snapshot = load(&mut tx, jobs).await?;
    let (outcomes, changes) = decide_joins(&snapshot, jobs);
    write(&mut tx, &snapshot, &changes).await?;
    tell_proxy_steps(&mut tx, &snapshot, jobs, &outcomes).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// Each share placed, changed or withdrawn on a household's behalf (a volunteer, leader or staff
/// for a household without a smartphone) is told to its members, in the same transaction: told
/// once, and never of a step that did not happen.
async fn tell_proxy_steps(
    tx: &mut Tx,
    s: &JoinSnapshot,
    jobs: &[JoinJob],
    outcomes: &[JoinOutcome],
) -> StoreResult<()> {
    for (job, outcome) in jobs.iter().zip(outcomes) {
        let Some((_, placer)) = &job.placed_by else { continue };
        let holds = match (outcome, s.group_buys.get(&job.group_buy_id)) {
            (JoinOutcome::Joined(share), Some(g)) => Some(share_holds(g, &share.lines)),
            (JoinOutcome::Left, _) => None,
            _ => continue,
        };
        let (title, text) = share_placed_for(job.group_buy_id, placer, holds.as_deref());
        let household = job.household_id;
        let members: Vec<i64> =
            tx.all("SELECT id FROM users WHERE household_id = $1 ORDER BY id", &args![household]).await?;
        let at = job.now.timestamp_nanos_opt().unwrap_or_default();
        for user in members {
            let dedupe = format!("group_buy_proxy:{household}:{user}:{at}");
            tx.exec(
                NOTICE_INSERT,
                &args![user, None::<i64>, "group_buy_proxy", dedupe, title.clone(), text.clone(), job.now],
            )
            .await?;
        }
    }
    Ok(())
}

/// What the joins need: their group-buys (locked, in id order), the slots of those (locked,
/// in id order), the households and their shares. Households and shares are read with one
/// statement each for the whole batch: the batch holds the group-buy's lock meanwhile.
async fn load(tx: &mut Tx, jobs: &[JoinJob]) -> StoreResult<JoinSnapshot> {
    let mut s = JoinSnapshot::default();
    for id in jobs.iter().map(|j| j.group_buy_id).collect::<BTreeSet<_>>() {
        if let Some(gb) = state_in(tx, id).await? {
            s.group_buys.insert(id, gb);
        }
    }
    for slot in s.group_buys.values().map(|g| g.slot_id).collect::<BTreeSet<_>>() {
        if let Some(row) = slot_in(tx, slot, true).await? {
            s.slots.insert(slot, row.state);
        }
    }
    #[derive(Deserialize)]
    struct Household {
        id: i64,
        building_id: i64,
        quarantined: bool,
        hardship: bool,
        elderly: bool,
    }
    let households = Arg::json(&jobs.iter().map(|j| j.household_id).collect::<BTreeSet<_>>());
    let sql =
        format!("SELECT id, building_id, quarantined, hardship, elderly FROM households WHERE id IN {}", tx.list(1));
    for h in tx.all::<Household>(&sql, &[households]).await? {
        let flags = NeedFlags { quarantined: h.quarantined, hardship: h.hardship, elderly: h.elderly };
        s.households.insert(h.id, HouseholdState { building_id: h.building_id, flags });
    }
    for &gb in s.group_buys.keys() {
        let asked =
            Arg::json(&jobs.iter().filter(|j| j.group_buy_id == gb).map(|j| j.household_id).collect::<Vec<_>>());
        let sql = format!(
            "SELECT household_id, product_id, quantity FROM group_buy_share_lines \
             WHERE group_buy_id = $1 AND household_id IN {}",
            tx.list(2)
        );
        let mut lines: BTreeMap<i64, BTreeMap<i64, i64>> = BTreeMap::new();
        for l in tx.all::<ShareLineRow>(&sql, &[Arg::Int(gb), asked.clone()]).await? {
            lines.entry(l.household_id).or_default().insert(l.product_id, l.quantity);
        }
        let sql = format!(
            "SELECT household_id, user_id, placed_by, placed_by_label, priority_booking, payment_status, joined_at, \
             updated_at FROM group_buy_shares WHERE group_buy_id = $1 AND household_id IN {}",
            tx.list(2)
        );
        for r in tx.all::<ShareRow>(&sql, &[Arg::Int(gb), asked]).await? {
            let household = r.household_id;
            s.shares.insert((gb, household), r.with_lines(lines.remove(&household).unwrap_or_default()));
        }
    }
    Ok(s)
}

async fn write(tx: &mut Tx, s: &JoinSnapshot, ch: &JoinChanges) -> StoreResult<()> {
    for (&(gb, product), joined) in &ch.items {
        tx.exec(
            "UPDATE group_buy_items SET joined_quantity = $3 WHERE group_buy_id = $1 AND product_id = $2",
            &args![gb, product, *joined],
        )
        .await?;
    }
    for (&gb, households) in &ch.households {
        tx.exec("UPDATE group_buys SET joined_households = $2 WHERE id = $1", &args![gb, *households]).await?;
    }
    for (&slot, &(booked, priority_booked)) in &ch.slots {
        write_places(tx, shared::SlotId(slot), booked, priority_booked).await?;
    }
    for &gb in ch.shares.keys().map(|(gb, _)| gb).collect::<BTreeSet<_>>() {
        let changed: Vec<(i64, Option<&ShareState>)> =
            ch.shares.iter().filter(|((g, _), _)| *g == gb).map(|((_, h), share)| (*h, share.as_ref())).collect();
        // Every changed share's lines go, then the shares that went, then the rest are written anew.
        let all = Arg::json(&changed.iter().map(|(h, _)| *h).collect::<Vec<_>>());
        let gone = Arg::json(&changed.iter().filter(|(_, share)| share.is_none()).map(|(h, _)| *h).collect::<Vec<_>>());
        let sql =
            format!("DELETE FROM group_buy_share_lines WHERE group_buy_id = $1 AND household_id IN {}", tx.list(2));
        tx.exec(&sql, &[Arg::Int(gb), all]).await?;
        let sql = format!("DELETE FROM group_buy_shares WHERE group_buy_id = $1 AND household_id IN {}", tx.list(2));
        tx.exec(&sql, &[Arg::Int(gb), gone]).await?;
        let kept: Vec<(i64, &ShareState)> = changed.iter().filter_map(|(h, share)| share.map(|sh| (*h, sh))).collect();
        if kept.is_empty() {
            continue;
        }
        let group_buy = s.group_buys.get(&gb);
        // Multi-row statements of bound values: measured faster here than one JSON parameter
        // (BENCHMARKS.md, 2026-12-06).
        for chunk in kept.chunks(db::ROWS_PER_INSERT / 4) {
            let mut bound = Vec::with_capacity(chunk.len() * 10);
            for (household, share) in chunk {
                let total = group_buy.map(|g| share_total(g, &share.lines)).unwrap_or_default();
                bound.extend(args![
                    gb,
                    *household,
                    share.user_id,
                    share.placed_by,
                    share.placed_by_label.clone(),
                    total,
                    share.priority_booking,
                    share.payment.as_str(),
                    share.joined_at,
                    share.updated_at
                ]);
            }
            let sql = format!(
                "INSERT INTO group_buy_shares (group_buy_id, household_id, user_id, placed_by, placed_by_label, \
                 total_fen, priority_booking, payment_status, joined_at, updated_at) VALUES {} \
                 ON CONFLICT (group_buy_id, household_id) DO UPDATE SET placed_by = excluded.placed_by, \
                 placed_by_label = excluded.placed_by_label, total_fen = excluded.total_fen, \
                 updated_at = excluded.updated_at",
                db::values(chunk.len(), 10)
            );
            tx.exec(&sql, &bound).await?;
        }
        let lines: Vec<(i64, i64, i64)> =
            kept.iter().flat_map(|(h, share)| share.lines.iter().map(move |(p, q)| (*h, *p, *q))).collect();
        for chunk in lines.chunks(db::ROWS_PER_INSERT) {
            let mut bound = Vec::with_capacity(chunk.len() * 4);
            for &(household, product, quantity) in chunk {
                bound.extend(args![gb, household, product, quantity]);
            }
            let sql = format!(
                "INSERT INTO group_buy_share_lines (group_buy_id, household_id, product_id, quantity) VALUES {}",
                db::values(chunk.len(), 4)
            );
            tx.exec(&sql, &bound).await?;
        }
    }
    Ok(())
}
