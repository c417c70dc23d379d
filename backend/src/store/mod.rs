//! The data layer: one `Store` trait, two implementations (SQLite embedded, PostgreSQL shared).
//!
//! Most statements are the same text on both databases (`$1` placeholders work on both), so the
//! shared part of the implementation is written once in `common.rs` and instantiated for each
//! database; what differs (pools, locking, aggregation) lives in `sqlite.rs` and `postgres.rs`.

mod common;
mod migrations;
mod postgres;
mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use shared::api::{Category, Household, Product, ProductDetail, ProductQuery, Vendor};
use shared::Role;
use std::sync::Arc;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(sqlx::Error::Migrate(Box::new(e)))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A user as the server sees them: roles from the database, not from the token.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: i64,
    pub phone: Option<String>,
    pub display_name: Option<String>,
    pub roles: Vec<Role>,
    pub vendor_id: Option<i64>,
    pub household: Option<Household>,
}

common::row_struct! {
    /// The latest code sent to a phone.
    #[derive(Debug, Clone)]
    pub struct SmsCodeRecord {
        id: i64,
        code_hash: String,
        expires_at: DateTime<Utc>,
        used_at: Option<DateTime<Utc>>,
        attempts: i64,
    }
}

/// Limits checked and the code recorded in one step, so two requests at once cannot both slip
/// under a limit.
#[derive(Debug, Clone)]
pub struct SmsIssue<'a> {
    pub phone: &'a str,
    pub client_ip: &'a str,
    pub code_hash: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// No code for this phone may have been sent after this moment.
    pub resend_after: DateTime<Utc>,
    /// Window for the hourly limits.
    pub window_start: DateTime<Utc>,
    pub per_phone: i64,
    pub per_ip: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsIssueOutcome {
    Issued,
    /// Too soon after the last code to this phone.
    ResendTooSoon {
        last_sent: DateTime<Utc>,
    },
    PhoneLimit,
    IpLimit,
}

/// What to seed for the demo market (see `demo.rs`).
#[derive(Debug, Clone, Default)]
pub struct Seed {
    pub categories: Vec<SeedCategory>,
    pub vendors: Vec<SeedVendor>,
    pub boxes: Vec<SeedBox>,
    pub buildings: Vec<SeedBuilding>,
    pub accounts: Vec<SeedAccount>,
}

#[derive(Debug, Clone)]
pub struct SeedCategory {
    pub id: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub icon: &'static str,
}

#[derive(Debug, Clone)]
pub struct SeedVendor {
    pub name: &'static str,
    pub stall_no: String,
    pub category: &'static str,
    pub description: &'static str,
    pub owner_phone: String,
    pub products: Vec<SeedProduct>,
}

#[derive(Debug, Clone)]
pub struct SeedProduct {
    pub name: &'static str,
    pub unit: &'static str,
    pub price_fen: i64,
    pub stock: i64,
    pub per_order_limit: Option<i64>,
    pub description: &'static str,
}

#[derive(Debug, Clone)]
pub struct SeedBox {
    /// Stall number of the stall that packs the box.
    pub stall_no: String,
    pub product: SeedProduct,
    /// (product name, quantity)
    pub contents: Vec<(&'static str, i64)>,
}

#[derive(Debug, Clone)]
pub struct SeedBuilding {
    pub community: &'static str,
    pub number: String,
    pub units: i64,
    pub floors: i64,
}

#[derive(Debug, Clone)]
pub struct SeedAccount {
    pub phone: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// (building number, unit, room, quarantined, hardship, elderly)
    pub household: Option<SeedHousehold>,
}

#[derive(Debug, Clone)]
pub struct SeedHousehold {
    pub building: String,
    pub unit: String,
    pub room: String,
    pub quarantined: bool,
    pub hardship: bool,
    pub elderly: bool,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which database this is, for logs and the start-up line.
    fn kind(&self) -> &'static str;

    // ----- users -----
    async fn user(&self, id: i64) -> StoreResult<Option<UserRecord>>;
    /// The user behind a token, unless the token was revoked.
    async fn session_user(&self, id: i64, jti: &str) -> StoreResult<Option<UserRecord>>;
    /// The user with this phone; a new resident if there is none.
    async fn user_for_phone(&self, phone: &str, now: DateTime<Utc>) -> StoreResult<UserRecord>;
    /// The user with this WeChat openid; a new resident if there is none.
    async fn user_for_openid(&self, openid: &str, session_key: &str, now: DateTime<Utc>) -> StoreResult<UserRecord>;

    // ----- SMS codes and tokens -----
    async fn issue_sms_code(&self, issue: SmsIssue<'_>) -> StoreResult<SmsIssueOutcome>;
    async fn latest_sms_code(&self, phone: &str) -> StoreResult<Option<SmsCodeRecord>>;
    async fn record_failed_attempt(&self, code_id: i64) -> StoreResult<()>;
    /// Marks the code used; false when someone else used it first.
    async fn consume_sms_code(&self, code_id: i64, now: DateTime<Utc>) -> StoreResult<bool>;
    async fn revoke_token(&self, jti: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// Forgets revocations and codes nobody can use any more.
    async fn purge_expired(&self, now: DateTime<Utc>) -> StoreResult<()>;

    // ----- catalog -----
    async fn categories(&self) -> StoreResult<Vec<Category>>;
    async fn vendors(&self) -> StoreResult<Vec<Vendor>>;
    async fn vendor(&self, id: i64) -> StoreResult<Option<Vendor>>;
    async fn products(&self, filter: &ProductQuery) -> StoreResult<Vec<Product>>;
    async fn product(&self, id: i64) -> StoreResult<Option<ProductDetail>>;
    /// Sets stock and/or price; a price change is written to the price history.
    async fn update_product(
        &self,
        id: i64,
        stock: Option<i64>,
        price_fen: Option<i64>,
        by_user: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Product>>;
    /// (price_fen, changed_at) newest first.
    async fn price_history(&self, product_id: i64) -> StoreResult<Vec<(i64, DateTime<Utc>)>>;

    // ----- demo -----
    /// Seeds the demo market unless a market is already there. True when it seeded.
    async fn seed(&self, seed: &Seed, now: DateTime<Utc>) -> StoreResult<bool>;
}

pub type DynStore = Arc<dyn Store>;

/// Opens the configured database and brings its schema up to date.
pub async fn connect(config: &crate::config::Config) -> StoreResult<DynStore> {
    match &config.database_url {
        Some(url) => Ok(Arc::new(PgStore::connect(url).await?)),
        None => {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
            Ok(Arc::new(SqliteStore::open(&config.data_dir.join("fuxiansheng.db")).await?))
        }
    }
}

/// Escapes `%`, `_` and `\` so user text is matched literally by `LIKE ... ESCAPE '\'`.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

pub(crate) fn parse_roles(joined: Option<&str>) -> Vec<Role> {
    let mut roles: Vec<Role> = joined.unwrap_or("").split(',').filter_map(Role::parse).collect();
    roles.sort();
    roles.dedup();
    roles
}
