//! PostgreSQL, shared by several server processes. Anything that must happen once across all
//! of them (migrations, seeding, rate-limit checks) takes a PostgreSQL advisory lock.

use super::common::{
    impl_store, sms_retention_cutoff, BoxItemRow, CategoryRow, ProductRow, UserRow, VendorRow, PRODUCT_SELECT,
};
use super::postgres_checkout::CheckoutEngine;
use super::postgres_sessions::SessionLookups;
use super::sessions::Sessions;
#[allow(clippy::wildcard_imports)]
use super::shopping::*;
use super::{
    like_pattern, Answer, CancelOutcome, CartLineRecord, CheckoutJob, NewSlot, OrderOwner, Seed, SlotChange,
    SlotChangeOutcome, SlotRecord, SmsCodeRecord, SmsIssue, SmsIssueOutcome, StoreError, StoreResult, UserRecord,
};
use crate::domain::order::{CancelDecision, EndingSnapshot, GiveBack};
use chrono::{DateTime, Utc};
use shared::api::{Address, Category, Household, Order, OrderSummary, Product, ProductDetail, ProductQuery, Vendor};
use shared::order::OrderStatus;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Postgres as Db;
use std::time::Duration;

pub struct PgStore {
    pool: PgPool,
    engine: CheckoutEngine,
    /// Not used: another process's logout must be refused here at once (see sessions.rs).
    sessions: std::sync::Arc<Sessions>,
    group_buys: super::group_buys::GroupBuys,
    stalls: super::stalls::Stalls,
    payments: super::payments::Payments,
    prices: super::prices::Prices,
    notices: super::notices::Notices,
    accounts: super::accounts::Accounts,
    donations: super::donations::Donations,
    bulk: super::bulk::Bulk,
    batches: super::batches::Batches,
    /// Asked instead, at every request, the waiting requests together (postgres_sessions.rs).
    lookups: SessionLookups,
}

impl PgStore {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        // More connections are not faster on two cores (docs/database-facts.md): 8 is the measured best.
        // No ping before each use: it doubled the round trips of every request (authenticated
        // reads went from 1.7k to 2.8k/s without it); a broken connection fails one query and is
        // dropped by the pool.
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        super::migrations::migrator(super::migrations::POSTGRES).run(&pool).await?;
        let engine = CheckoutEngine::start(pool.connect_options().as_ref().clone());
        let lookups = SessionLookups::start(pool.clone());
        let sessions = std::sync::Arc::new(Sessions::off());
        let group_buys =
            super::group_buys::GroupBuys::start(super::sql::Pool::Postgres(pool.clone()), sessions.clone());
        let stalls = super::stalls::Stalls::new(super::sql::Pool::Postgres(pool.clone()));
        let batches = super::batches::Batches::new(super::sql::Pool::Postgres(pool.clone()));
        let payments = super::payments::Payments::new(super::sql::Pool::Postgres(pool.clone()));
        let prices = super::prices::Prices::new(super::sql::Pool::Postgres(pool.clone()));
        let notices = super::notices::Notices::new(super::sql::Pool::Postgres(pool.clone()));
        let accounts = super::accounts::Accounts::new(super::sql::Pool::Postgres(pool.clone()), sessions.clone());
        let donations = super::donations::Donations::new(super::sql::Pool::Postgres(pool.clone()));
        let bulk = super::bulk::Bulk::new(super::sql::Pool::Postgres(pool.clone()));
        Ok(Self {
            engine,
            pool,
            sessions,
            group_buys,
            stalls,
            batches,
            payments,
            prices,
            notices,
            accounts,
            donations,
            bulk,
            lookups,
        })
    }

    fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    fn session_lookups(&self) -> Option<&SessionLookups> {
        Some(&self.lookups)
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

    async fn close_now(&self) {
        self.pool.close().await;
    }
}

impl_store!(
    PgStore,
    kind = "postgres",
    roles_agg = "string_agg(r.role, ',')",
    sms_lock = "SELECT pg_advisory_xact_lock(74460002)",
    seed_lock = "SELECT pg_advisory_xact_lock(74460001)",
    lock = " FOR NO KEY UPDATE",
    lock_products = " FOR NO KEY UPDATE OF p"
);
