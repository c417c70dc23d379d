//! The data layer: one `Store` trait, two implementations (SQLite embedded, PostgreSQL shared).
//!
//! Most statements are the same text on both databases (`$1` placeholders work on both), so the
//! shared part of the implementation is written once in `common.rs` and instantiated for each
//! database; what differs (pools, locking, aggregation) lives in `sqlite.rs` and `postgres.rs`.

pub mod accounts;
mod batch;
pub mod batches;
pub mod bulk;
mod common;
pub mod donations;
pub mod group_buys;
mod migrations;
pub mod notices;
pub mod payments;
mod postgres;
mod postgres_checkout;
mod postgres_sessions;
pub mod prices;
mod sessions;
pub mod share_payments;
mod shopping;
pub mod sql;
mod sqlite;
mod sqlite_checkout;
pub mod stalls;

pub use crate::domain::checkout::{Answer, CheckoutJob};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use shared::api::{Address, Category, Household, Order, OrderSummary, Product, ProductDetail, ProductQuery, Vendor};
use shared::order::{OrderStatus, SlotKind};
use shared::Role;
use std::sync::Arc;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Something that must not happen did (a stopped engine, data that breaks the schema's
    /// promises, another process on the same SQLite file): the request fails, the cause is logged.
    #[error("{0}")]
    Broken(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// From the SQLite checkout engine (rusqlite).
    #[error("sqlite: {0}")]
    Sqlite(String),
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
    pub name: String,
    pub stall_no: String,
    pub category: &'static str,
    pub description: &'static str,
    pub owner_phone: String,
    pub products: Vec<SeedProduct>,
}

#[derive(Debug, Clone)]
pub struct SeedProduct {
    pub name: String,
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

common::row_struct! {
    /// A delivery or pickup slot as stored.
    #[derive(Debug, Clone, serde::Deserialize)]
    pub struct SlotRecord {
        id: i64,
        kind: String,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        cutoff_at: DateTime<Utc>,
        capacity: i64,
        booked: i64,
        priority_capacity: i64,
        priority_booked: i64,
        priority_release_at: Option<DateTime<Utc>>,
        closed: bool,
    }
}

impl SlotRecord {
    /// The slot as the domain's rules see it.
    pub fn into_row(self) -> crate::domain::checkout::SlotRow {
        crate::domain::checkout::SlotRow {
            id: self.id,
            kind: SlotKind::parse(&self.kind).unwrap_or(SlotKind::Delivery),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            state: crate::domain::slots::SlotState {
                capacity: self.capacity,
                booked: self.booked,
                priority_capacity: self.priority_capacity,
                priority_booked: self.priority_booked,
                priority_release_at: self.priority_release_at,
                cutoff_at: self.cutoff_at,
                closed: self.closed,
            },
        }
    }
}

common::row_struct! {
    /// A cart line with the product as it is now.
    #[derive(Debug, Clone)]
    pub struct CartLineRecord {
        product_id: i64,
        quantity: i64,
        price_fen_at_add: i64,
        vendor_id: i64,
        vendor_name: String,
        name: String,
        unit: String,
        price_fen: i64,
        stock: i64,
        per_order_limit: Option<i64>,
        active: bool,
    }
}

#[derive(Debug, Clone)]
pub struct NewSlot {
    pub kind: SlotKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cutoff_at: DateTime<Utc>,
    pub capacity: i64,
    pub priority_capacity: i64,
    pub priority_release_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct SlotChange {
    pub capacity: Option<i64>,
    pub priority_capacity: Option<i64>,
    pub priority_release_at: Option<DateTime<Utc>>,
    pub cutoff_at: Option<DateTime<Utc>>,
    pub closed: Option<bool>,
}

#[derive(Debug, Clone)]
pub enum SlotChangeOutcome {
    Changed(SlotRecord),
    NotFound,
    /// The slot as it would be breaks a rule (the reserve above the capacity, the cut-off after
    /// the start); nothing was changed.
    Invalid(&'static str),
    /// Capacity below the orders already booked.
    BelowBooked {
        booked: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    Cancelled,
    NotFound,
    NotCancellable(OrderStatus),
}

/// Whose an order is: the resident who placed it, and for a group-buy order the household
/// whose share it was (every member of the household may see it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderOwner {
    pub user_id: i64,
    pub household_id: Option<i64>,
}

impl OrderOwner {
    /// Whether this user, living in `household`, may see the order as its owner.
    pub fn is(&self, user_id: i64, household: Option<i64>) -> bool {
        self.user_id == user_id || (self.household_id.is_some() && self.household_id == household)
    }
}

/// Carts, slots, households, checkout and orders (see `shopping.rs`).
#[async_trait]
pub trait Shopping: Send + Sync + 'static {
    // ----- households -----
    /// Makes the household at this address (made if new) the user's home. None: no such building.
    async fn set_home(&self, user_id: i64, address: &Address) -> StoreResult<Option<Household>>;
    /// Households matching `filter` in the order of buildings, units, rooms: at most `limit` after
    /// the household `after`, and the id to go on from when there are more.
    async fn households(
        &self,
        filter: &HouseholdFilter,
        limit: i64,
        after: Option<i64>,
    ) -> StoreResult<(Vec<Household>, Option<i64>)>;
    async fn flag_household(
        &self,
        id: i64,
        quarantined: Option<bool>,
        hardship: Option<bool>,
        elderly: Option<bool>,
    ) -> StoreResult<Option<Household>>;

    // ----- slots -----
    async fn create_slot(&self, slot: &NewSlot, now: DateTime<Utc>) -> StoreResult<SlotRecord>;
    async fn change_slot(&self, id: i64, change: &SlotChange) -> StoreResult<SlotChangeOutcome>;
    async fn slot(&self, id: i64) -> StoreResult<Option<SlotRecord>>;
    /// Slots starting in [from, to), earliest first.
    async fn slots_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<SlotRecord>>;

    // ----- cart -----
    async fn cart(&self, user_id: i64) -> StoreResult<Vec<CartLineRecord>>;
    /// Sets a line's quantity (0 removes it), remembering today's price.
    async fn set_cart_quantity(
        &self,
        user_id: i64,
        product_id: i64,
        quantity: i64,
        price_fen: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    // ----- orders -----
    /// Each checkout takes its resident's whole cart in one atomic step (slot place, every line's
    /// stock, the order) or nothing, as `domain::checkout::decide` says; these are decided
    /// together, in this order, in one commit. One answer per checkout, in the same order.
    async fn checkout(&self, jobs: Vec<CheckoutJob>) -> StoreResult<Vec<Answer>>;
    /// The resident's orders and their household's group-buy orders, newest first: at most
    /// `limit` with ids below `before`, and the id to go on from when there are more.
    async fn orders_for_user(
        &self,
        user_id: i64,
        household_id: Option<i64>,
        limit: i64,
        before: Option<i64>,
    ) -> StoreResult<(Vec<OrderSummary>, Option<i64>)>;
    /// The order and whose it is.
    async fn order(&self, id: i64) -> StoreResult<Option<(OrderOwner, Order)>>;
    async fn cancel_order(&self, id: i64, user_id: i64, now: DateTime<Utc>) -> StoreResult<CancelOutcome>;
    /// Expires unpaid orders past their time, giving back stock and slot places. Returns their ids.
    async fn expire_unpaid(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<i64>>;
}

#[async_trait]
pub trait Store: Shopping {
    /// Which database this is, for logs and the start-up line.
    fn kind(&self) -> &'static str;

    // ----- users -----
    async fn user(&self, id: i64) -> StoreResult<Option<UserRecord>>;
    /// The user behind a token, unless the token was revoked. On SQLite the answer is
    /// remembered (sessions.rs): a store method that changes a user, their roles or household,
    /// or a token, must forget it after its commit. On PostgreSQL it is asked every time, with
    /// the other lookups waiting in the process (postgres_sessions.rs).
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
    /// A page of products on sale in the catalogue's order, and the cursor of the next page.
    async fn products(&self, filter: &ProductQuery, page: &ProductPage) -> StoreResult<(Vec<Product>, Option<String>)>;
    async fn product(&self, id: i64) -> StoreResult<Option<ProductDetail>>;
    /// (price_fen, changed_at) newest first.
    async fn price_history(&self, product_id: i64) -> StoreResult<Vec<(i64, DateTime<Utc>)>>;

    // ----- demo -----
    /// Seeds the demo market unless a market is already there. True when it seeded.
    async fn seed(&self, seed: &Seed, now: DateTime<Utc>) -> StoreResult<bool>;

    // ----- group-buys (group_buys.rs, one implementation for both databases) -----
    fn group_buys(&self) -> &group_buys::GroupBuys;
    /// A stall's console (stalls.rs, one implementation for both databases).
    fn stalls(&self) -> &stalls::Stalls;
    /// Delivery batches and hand-offs (batches.rs, one implementation for both databases).
    fn batches(&self) -> &batches::Batches;
    /// WeChat Pay's payments and refunds (payments.rs, one implementation for both databases).
    fn payments(&self) -> &payments::Payments;
    /// Stock, prices and the emergency price cap (prices.rs, one implementation for both databases).
    fn prices(&self) -> &prices::Prices;
    /// Notices to residents (notices.rs, one implementation for both databases).
    fn notices(&self) -> &notices::Notices;
    /// Phone binding and the folding of two accounts into one (accounts.rs).
    fn accounts(&self) -> &accounts::Accounts;
    /// The donation pool: gifts, allocations, money back, the ledger (donations.rs).
    fn donations(&self) -> &donations::Donations;
    /// Loading generated rows by the hundred thousand (bulk.rs): the seed-scale market's history.
    fn bulk(&self) -> &bulk::Bulk;

    /// Lets go of the database when the server stops (on SQLite, another process may open it
    /// from then on). Anything asked afterwards fails.
    async fn close(&self);
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

/// A product as the market's rules see it (`domain::checkout::ProductRow`), by id; the same text
/// for the SQLite checkout engine and for group-buys.
pub(crate) const PRODUCT_ROW_SELECT: &str = "SELECT p.id, p.vendor_id, v.name, p.name, p.unit, p.price_fen, p.stock, \
     p.per_order_limit, p.active FROM products p JOIN vendors v ON v.id = p.vendor_id WHERE p.id = $1";

// The writes of a new order's rows: one text for the SQLite checkout engine (rusqlite) and the
// group-buy close (sql.rs). `$13` is both created_at and updated_at; `$15`..`$17` are the
// group-buy's, NULL for an ordinary order.
pub(crate) const ORDER_INSERT: &str =
    "INSERT INTO orders (id, user_id, slot_id, status, payment, total_fen, building, \
     unit, room, note, handoff_code, priority_booking, created_at, expires_at, updated_at, group_buy_id, household_id, \
     placed_by_label) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $13, $15, $16, $17)";
pub(crate) const LINE_INSERT: &str = "INSERT INTO order_lines (order_id, product_id, vendor_id, name, unit, quantity, \
     price_fen) VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const PART_INSERT: &str =
    "INSERT INTO order_parts (order_id, vendor_id, status, subtotal_fen, updated_at) VALUES ($1, $2, $3, $4, $5)";
/// A step in an order's timeline, by whom.
pub(crate) const EVENT_INSERT: &str =
    "INSERT INTO order_events (order_id, status, at, by_user) VALUES ($1, $2, $3, $4)";

/// Where a product stands in the catalogue's order (boxes first, then category, stall, id): what
/// a products cursor says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductKey {
    pub is_box: bool,
    pub category_sort: i64,
    pub vendor_id: i64,
    pub id: i64,
}

impl ProductKey {
    /// `b1.3.12.305`: opaque to clients, given back as `cursor`.
    pub fn cursor(&self) -> String {
        format!("b{}.{}.{}.{}", u8::from(self.is_box), self.category_sort, self.vendor_id, self.id)
    }

    pub fn parse(cursor: &str) -> Option<Self> {
        let rest = cursor.strip_prefix('b')?;
        let parts: Vec<i64> = rest.split('.').map(|p| p.parse().ok()).collect::<Option<_>>()?;
        match parts[..] {
            [b @ (0 | 1), category_sort, vendor_id, id] => Some(Self { is_box: b == 1, category_sort, vendor_id, id }),
            _ => None,
        }
    }
}

/// Which households staff look for: a building's number, a unit, the start of a room number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdFilter {
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
}

/// Which page of products: at most `limit`, after `after` (None: the first page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductPage {
    pub limit: i64,
    pub after: Option<ProductKey>,
}

/// A stored phone as workers may see it (`139****0001`); None if there is none.
pub(crate) fn masked_phone(phone: Option<String>) -> Option<String> {
    phone.and_then(|p| shared::Phone::parse(&p).ok()).map(|p| p.masked())
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
