//! The market's gates and the visits through them (扫码入场). Whether a scan is a new visit is
//! `domain::gate::decide_entry`'s; this keeps the rows.

use super::db::{args, Db};
use super::setup::{record, Audit};
use super::StoreResult;
use crate::domain::gate::{decide_entry, Entry};
use crate::domain::time::to_api;
use crate::domain::Refusal;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::api::{GateEntry, Visit};
use shared::ErrorCode;

pub struct Gates {
    db: Db,
}

/// A gate as stored.
#[derive(Debug, Clone, Deserialize)]
pub struct GateRow {
    pub id: i64,
    pub name: String,
    pub code: String,
}

impl Gates {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Staff put up a gate with its first code. A name in use in the market: refused.
    pub async fn add(
        &self,
        market: shared::MarketId,
        name: &str,
        code: &str,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<GateRow, Refusal>> {
        let mut tx = self.db.begin().await?;
        let taken: Option<i64> =
            tx.opt("SELECT id FROM gates WHERE name = $1 AND market_id = $2", &args![name, market]).await?;
        if taken.is_some() {
            return Ok(Err(Refusal::new(ErrorCode::WrongState, format!("已有“{name}” (a gate of this name exists)"))));
        }
        let gate: GateRow = tx
            .one(
                "INSERT INTO gates (name, code, created_at, market_id) VALUES ($1, $2, $3, $4) RETURNING id, name, code",
                &args![name, code, now, market],
            )
            .await?;
        let entry = Audit { at: now, actor: Some(by), subject: "gate", subject_id: gate.id.to_string(), action: "add" };
        record(&mut tx, entry, None, Some(&serde_json::json!({ "name": name }))).await?;
        tx.commit().await?;
        Ok(Ok(gate))
    }

    /// `market`'s gates.
    pub async fn all(&self, market: shared::MarketId) -> StoreResult<Vec<GateRow>> {
        Ok(self
            .db
            .all("SELECT id, name, code FROM gates WHERE market_id = $1 ORDER BY id LIMIT 100", &args![market])
            .await?)
    }

    /// A new code for a gate (a poster that went astray stops working). None: no such gate.
    pub async fn rotate(
        &self,
        market: shared::MarketId,
        id: i64,
        code: &str,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<GateRow>> {
        let mut tx = self.db.begin().await?;
        let gate: Option<GateRow> = tx
            .opt(
                "UPDATE gates SET code = $2, rotated_at = $3 WHERE id = $1 AND market_id = $4 RETURNING id, name, code",
                &args![id, code, now, market],
            )
            .await?;
        if gate.is_some() {
            let entry =
                Audit { at: now, actor: Some(by), subject: "gate", subject_id: id.to_string(), action: "rotate" };
            record::<()>(&mut tx, entry, None, None).await?;
        }
        tx.commit().await?;
        Ok(gate)
    }

    /// A person scans a gate's code: a visit with their phone and door as they are now, unless
    /// `domain::gate::decide_entry` finds it the same visit. None: no gate has that code.
    pub async fn enter(&self, code: &str, user: i64, now: DateTime<Utc>) -> StoreResult<Option<GateEntry>> {
        let Some(gate) =
            self.db.opt::<GateRow>("SELECT id, name, code FROM gates WHERE code = $1", &args![code]).await?
        else {
            return Ok(None);
        };
        let mut tx = self.db.begin().await?;
        // One scan of a person at a time: a phone held up twice records one visit.
        let sql = tx.locked("SELECT id FROM users WHERE id = $1");
        let _: Option<i64> = tx.opt(&sql, &args![user]).await?;
        let last: Option<DateTime<Utc>> = tx
            .opt(
                "SELECT entered_at FROM gate_visits WHERE user_id = $1 AND gate_id = $2 ORDER BY entered_at DESC LIMIT 1",
                &args![user, gate.id],
            )
            .await?;
        let entered_at = match decide_entry(last, now) {
            Entry::Again(at) => {
                tx.commit().await?;
                return Ok(Some(GateEntry { gate: gate.name, entered_at: to_api(at), repeated: true }));
            }
            Entry::New => now,
        };
        tx.exec(
            "INSERT INTO gate_visits (gate_id, user_id, phone, building, community, unit, room, entered_at) \
             SELECT $1, u.id, u.phone, b.number, b.community, h.unit, h.room, $3 FROM users u \
             LEFT JOIN households h ON h.id = u.household_id LEFT JOIN buildings b ON b.id = h.building_id \
             WHERE u.id = $2",
            &args![gate.id, user, entered_at],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(GateEntry { gate: gate.name, entered_at: to_api(entered_at), repeated: false }))
    }

    /// Every visit through `market`'s gates in [from, to), for one phone or everyone, oldest
    /// first (at most 20,000).
    pub async fn visits(
        &self,
        market: shared::MarketId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        phone: Option<&str>,
    ) -> StoreResult<Vec<Visit>> {
        #[derive(Deserialize)]
        struct Row {
            id: i64,
            gate: String,
            entered_at: DateTime<Utc>,
            phone: Option<String>,
            building: Option<String>,
            community: Option<String>,
            unit: Option<String>,
            room: Option<String>,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT v.id, g.name AS gate, v.entered_at, v.phone, v.building, v.community, v.unit, v.room \
                 FROM gate_visits v JOIN gates g ON g.id = v.gate_id \
                 WHERE v.entered_at >= $1 AND v.entered_at < $2 AND ($3 IS NULL OR v.phone = $3) AND g.market_id = $4 \
                 ORDER BY v.entered_at, v.id LIMIT 20000",
                &args![from, to, phone, market],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Visit {
                id: r.id,
                gate: r.gate,
                entered_at: to_api(r.entered_at),
                phone: r.phone,
                building: r.building.unwrap_or_default(),
                community: r.community.unwrap_or_default(),
                unit: r.unit.unwrap_or_default(),
                room: r.room.unwrap_or_default(),
            })
            .collect())
    }

    /// Forgets the visits older than `before` (the contact trace's retention).
    pub async fn forget(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        Ok(self.db.exec("DELETE FROM gate_visits WHERE entered_at < $1", &args![before]).await?)
    }
}
