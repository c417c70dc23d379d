//! PostgreSQL, shared by several server processes. Anything that must happen once across all
//! of them (migrations, seeding, rate-limit checks) takes a PostgreSQL advisory lock.

use super::common::{
    impl_store, sms_retention_cutoff, BoxItemRow, CategoryRow, ProductRow, UserRow, VendorRow, PRODUCT_SELECT,
};
#[allow(clippy::wildcard_imports)]
use super::shopping::*;
use super::{
    like_pattern, CancelOutcome, CartLineRecord, CheckoutInput, CheckoutOutcome, NewSlot, Seed, SlotChange,
    SlotChangeOutcome, SlotRecord, SmsCodeRecord, SmsIssue, SmsIssueOutcome, StoreError, StoreResult, UserRecord,
};
use chrono::{DateTime, Utc};
use shared::api::{Address, Category, Household, Order, OrderSummary, Product, ProductDetail, ProductQuery, Vendor};
use shared::order::OrderStatus;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Postgres as Db;
use std::time::Duration;

static REFUSALS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::domain::checkout::refusal_templates().to_string());

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        // More connections are not faster on two cores (perf-facts.md): 8 is the measured best.
        let pool =
            PgPoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
        super::migrations::migrator(super::migrations::POSTGRES).run(&pool).await?;
        Ok(Self { pool })
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
        self.pool.begin().await
    }

    /// One round trip: the database function `fxs_checkout` (migration 0003) does the whole
    /// checkout and renders its answer, holding hot rows only for its own run and the commit.
    async fn checkout_now(&self, i: &CheckoutInput) -> StoreResult<CheckoutOutcome> {
        let address = i.address.as_ref();
        let status = i.payment.initial_status();
        let (outcome, code, body): (String, i32, Option<String>) = sqlx::query_as(
            "SELECT outcome, status, body FROM fxs_checkout($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb)",
        )
        .bind(i.user_id)
        .bind(&i.key)
        .bind(&i.request_hash)
        .bind(i.slot_id)
        .bind(i.priority)
        .bind(i.payment.as_str())
        .bind(status.as_str())
        .bind(address.map(|a| a.building.trim().to_owned()))
        .bind(address.map(|a| a.unit.trim().to_owned()))
        .bind(address.map(|a| a.room.trim().to_owned()))
        .bind(i.note.as_deref().map(str::trim).filter(|n| !n.is_empty()))
        .bind(&i.handoff_code)
        .bind(i.now)
        .bind(i.expires_at)
        .bind(REFUSALS.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(match (outcome.as_str(), body) {
            ("answer", Some(body)) => CheckoutOutcome::Answer { status: code as u16, body },
            ("mismatch", _) => CheckoutOutcome::KeyMismatch,
            ("in_use", _) => CheckoutOutcome::KeyInUse,
            (other, _) => return Err(StoreError::Conflict(format!("fxs_checkout answered {other}"))),
        })
    }
}

impl_store!(
    PgStore,
    kind = "postgres",
    roles_agg = "string_agg(r.role, ',')",
    sms_lock = "SELECT pg_advisory_xact_lock(74460002)",
    seed_lock = "SELECT pg_advisory_xact_lock(74460001)"
);
