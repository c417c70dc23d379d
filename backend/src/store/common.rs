//! The statements both databases share, written once. `impl_store!` expands this for a store
//! type that has `reader()` and `writer()` pools; the arguments carry the few SQL fragments
//! that differ between SQLite and PostgreSQL.

use chrono::{DateTime, Utc};
use shared::api::{BoxItem, Category, Household, Product, Vendor};

/// A row struct and its `FromRow` for both databases, reading each field from the column of
/// the same name. (sqlx's derive would pull its query macros and both drivers into a
/// proc-macro build: minutes on two cores for twenty lines.)
macro_rules! row_struct {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        $vis struct $name { $(pub $field: $ty),* }

        impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $name {
            fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> sqlx::Result<Self> {
                use sqlx::Row;
                Ok(Self { $($field: row.try_get(stringify!($field))?),* })
            }
        }

        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $name {
            fn from_row(row: &'r sqlx::postgres::PgRow) -> sqlx::Result<Self> {
                use sqlx::Row;
                Ok(Self { $($field: row.try_get(stringify!($field))?),* })
            }
        }
    };
}
pub(crate) use row_struct;

row_struct! {
pub(super) struct UserRow {
    id: i64,
    phone: Option<String>,
    display_name: Option<String>,
    roles: Option<String>,
    vendor_id: Option<i64>,
    household_id: Option<i64>,
    community: Option<String>,
    building: Option<String>,
    unit: Option<String>,
    room: Option<String>,
    quarantined: Option<bool>,
    hardship: Option<bool>,
    elderly: Option<bool>,
}
}

impl From<UserRow> for super::UserRecord {
    fn from(r: UserRow) -> Self {
        let household = match (r.household_id, r.community, r.building, r.unit, r.room) {
            (Some(id), Some(community), Some(building), Some(unit), Some(room)) => Some(Household {
                id,
                community,
                building,
                unit,
                room,
                quarantined: r.quarantined.unwrap_or(false),
                hardship: r.hardship.unwrap_or(false),
                elderly: r.elderly.unwrap_or(false),
            }),
            _ => None,
        };
        super::UserRecord {
            id: r.id,
            phone: r.phone,
            display_name: r.display_name,
            roles: super::parse_roles(r.roles.as_deref()),
            vendor_id: r.vendor_id,
            household,
        }
    }
}

row_struct! {
pub(super) struct CategoryRow {
    id: String,
    name_zh: String,
    name_en: String,
    icon: String,
    product_count: i64,
}
}

impl From<CategoryRow> for Category {
    fn from(r: CategoryRow) -> Self {
        Category { id: r.id, name_zh: r.name_zh, name_en: r.name_en, icon: r.icon, product_count: r.product_count }
    }
}

row_struct! {
pub(super) struct VendorRow {
    id: i64,
    name: String,
    stall_no: String,
    category: String,
    description: String,
    product_count: i64,
}
}

impl From<VendorRow> for Vendor {
    fn from(r: VendorRow) -> Self {
        Vendor {
            id: r.id,
            name: r.name,
            stall_no: r.stall_no,
            category: r.category,
            description: r.description,
            product_count: r.product_count,
        }
    }
}

row_struct! {
pub(super) struct ProductRow {
    id: i64,
    vendor_id: i64,
    vendor_name: String,
    name: String,
    unit: String,
    price_fen: i64,
    stock: i64,
    category: String,
    per_order_limit: Option<i64>,
    is_box: bool,
    description: String,
    category_sort: i64,
}
}

impl From<ProductRow> for Product {
    fn from(r: ProductRow) -> Self {
        Product {
            id: r.id,
            vendor_id: r.vendor_id,
            vendor_name: r.vendor_name,
            name: r.name,
            unit: r.unit,
            price_fen: shared::Fen::stored(r.price_fen),
            stock: r.stock,
            category: r.category,
            per_order_limit: r.per_order_limit,
            is_box: r.is_box,
            description: r.description,
        }
    }
}

row_struct! {
pub(super) struct BoxItemRow {
    product_id: i64,
    name: String,
    unit: String,
    quantity: i64,
}
}

impl From<BoxItemRow> for BoxItem {
    fn from(r: BoxItemRow) -> Self {
        BoxItem { product_id: r.product_id, name: r.name, unit: r.unit, quantity: r.quantity }
    }
}

/// SMS codes older than this are deleted; the hourly limits only look back one hour.
pub(super) fn sms_retention_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::days(1)
}

pub(super) const PRODUCT_SELECT: &str = "SELECT p.id, p.vendor_id, v.name AS vendor_name, p.name, p.unit, \
     p.price_fen, p.stock, p.category_id AS category, p.per_order_limit, p.is_box, p.description, \
     p.category_sort FROM products p JOIN vendors v ON v.id = p.vendor_id";

/// `roles_agg`: the string aggregate of role names; `sms_lock`, `seed_lock`: statements that
/// serialise SMS issuance and seeding across server processes (a no-op where one writer
/// connection already does); `lock`, `lock_products`: clauses that lock the rows a write reads.
macro_rules! impl_store {
    (
        $store:ty,
        kind = $kind:literal,
        roles_agg = $agg:literal,
        sms_lock = $sms_lock:literal,
        seed_lock = $seed_lock:literal,
        lock = $lock:literal,
        lock_products = $lock_products:literal
    ) => {
        const USER_SELECT: &str = concat!(
            "SELECT u.id, u.phone, u.display_name, ",
            "(SELECT ", $agg, " FROM user_roles r WHERE r.user_id = u.id) AS roles, ",
            "(SELECT v.id FROM vendors v WHERE v.owner_user_id = u.id) AS vendor_id, ",
            "h.id AS household_id, b.community, b.number AS building, h.unit, h.room, ",
            "h.quarantined, h.hardship, h.elderly ",
            "FROM users u LEFT JOIN households h ON h.id = u.household_id ",
            "LEFT JOIN buildings b ON b.id = h.building_id "
        );

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn kind(&self) -> &'static str {
                $kind
            }

            fn group_buys(&self) -> &$crate::store::group_buys::GroupBuys {
                &self.group_buys
            }

            fn stalls(&self) -> &$crate::store::stalls::Stalls {
                &self.stalls
            }

            fn batches(&self) -> &$crate::store::batches::Batches {
                &self.batches
            }

            fn payments(&self) -> &$crate::store::payments::Payments {
                &self.payments
            }

            fn prices(&self) -> &$crate::store::prices::Prices {
                &self.prices
            }

            fn notices(&self) -> &$crate::store::notices::Notices {
                &self.notices
            }

            fn accounts(&self) -> &$crate::store::accounts::Accounts {
                &self.accounts
            }

            fn donations(&self) -> &$crate::store::donations::Donations {
                &self.donations
            }

            fn bulk(&self) -> &$crate::store::bulk::Bulk {
                &self.bulk
            }

            async fn user(&self, id: i64) -> StoreResult<Option<UserRecord>> {
                let row: Option<UserRow> = sqlx::query_as(&format!("{USER_SELECT} WHERE u.id = $1"))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?;
                Ok(row.map(Into::into))
            }

            async fn session_user(&self, id: i64, jti: &str) -> StoreResult<Option<UserRecord>> {
                if let Some(lookups) = self.session_lookups() {
                    return lookups.get(id, jti).await;
                }
                let lookup = match self.sessions().get(id, jti) {
                    Ok(user) => return Ok(Some(user)),
                    Err(lookup) => lookup,
                };
                let row: Option<UserRow> = sqlx::query_as(&format!(
                    "{USER_SELECT} WHERE u.id = $1 AND NOT EXISTS (SELECT 1 FROM revoked_tokens t WHERE t.jti = $2)"
                ))
                .bind(id)
                .bind(jti)
                .fetch_optional(self.reader())
                .await?;
                let user: Option<UserRecord> = row.map(Into::into);
                if let Some(user) = &user {
                    self.sessions().keep(lookup, jti, user);
                }
                Ok(user)
            }

            async fn user_for_phone(&self, phone: &str, now: DateTime<Utc>) -> StoreResult<UserRecord> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO users (phone, created_at) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING")
                    .bind(phone)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                // A user with no role at all is new: they start as a resident.
                sqlx::query(
                    "INSERT INTO user_roles (user_id, role) SELECT u.id, 'resident' FROM users u \
                     WHERE u.phone = $1 AND NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id)",
                )
                .bind(phone)
                .execute(&mut *tx)
                .await?;
                let row: UserRow = sqlx::query_as(&format!("{USER_SELECT} WHERE u.phone = $1"))
                    .bind(phone)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                // A user who had no role at all has one now.
                self.sessions().forget_user(row.id);
                Ok(row.into())
            }

            async fn user_for_openid(&self, openid: &str, session_key: &str, now: DateTime<Utc>) -> StoreResult<UserRecord> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO users (wechat_openid, wechat_session_key, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (wechat_openid) DO UPDATE SET wechat_session_key = excluded.wechat_session_key",
                )
                .bind(openid)
                .bind(session_key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO user_roles (user_id, role) SELECT u.id, 'resident' FROM users u \
                     WHERE u.wechat_openid = $1 AND NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id)",
                )
                .bind(openid)
                .execute(&mut *tx)
                .await?;
                let row: UserRow = sqlx::query_as(&format!("{USER_SELECT} WHERE u.wechat_openid = $1"))
                    .bind(openid)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                // A user who had no role at all has one now.
                self.sessions().forget_user(row.id);
                Ok(row.into())
            }

            async fn issue_sms_code(&self, issue: SmsIssue<'_>) -> StoreResult<SmsIssueOutcome> {
                let mut tx = self.begin_write().await?;
                sqlx::query($sms_lock).execute(&mut *tx).await?;
                let last: Option<(DateTime<Utc>,)> = sqlx::query_as(
                    "SELECT created_at FROM sms_codes WHERE phone = $1 ORDER BY created_at DESC LIMIT 1",
                )
                .bind(issue.phone)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some((last_sent,)) = last {
                    if last_sent > issue.resend_after {
                        return Ok(SmsIssueOutcome::ResendTooSoon { last_sent });
                    }
                }
                let (by_phone,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM sms_codes WHERE phone = $1 AND created_at > $2")
                        .bind(issue.phone)
                        .bind(issue.window_start)
                        .fetch_one(&mut *tx)
                        .await?;
                if by_phone >= issue.per_phone {
                    return Ok(SmsIssueOutcome::PhoneLimit);
                }
                let (by_ip,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM sms_codes WHERE client_ip = $1 AND created_at > $2")
                        .bind(issue.client_ip)
                        .bind(issue.window_start)
                        .fetch_one(&mut *tx)
                        .await?;
                if by_ip >= issue.per_ip {
                    return Ok(SmsIssueOutcome::IpLimit);
                }
                sqlx::query(
                    "INSERT INTO sms_codes (phone, code_hash, client_ip, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(issue.phone)
                .bind(issue.code_hash)
                .bind(issue.client_ip)
                .bind(issue.now)
                .bind(issue.expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(SmsIssueOutcome::Issued)
            }

            async fn latest_sms_code(&self, phone: &str) -> StoreResult<Option<SmsCodeRecord>> {
                Ok(sqlx::query_as(
                    "SELECT id, code_hash, expires_at, used_at, attempts FROM sms_codes \
                     WHERE phone = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
                )
                .bind(phone)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn record_failed_attempt(&self, code_id: i64) -> StoreResult<()> {
                sqlx::query("UPDATE sms_codes SET attempts = attempts + 1 WHERE id = $1")
                    .bind(code_id)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn consume_sms_code(&self, code_id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE sms_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
                    .bind(code_id)
                    .bind(now)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_token(&self, jti: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
                    .bind(jti)
                    .bind(expires_at)
                    .execute(self.writer())
                    .await?;
                self.sessions().forget_token(jti);
                Ok(())
            }

            async fn purge_expired(&self, now: DateTime<Utc>) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1").bind(now).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM sms_codes WHERE created_at < $1")
                    .bind(sms_retention_cutoff(now))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn categories(&self) -> StoreResult<Vec<Category>> {
                let rows: Vec<CategoryRow> = sqlx::query_as(
                    "SELECT c.id, c.name_zh, c.name_en, c.icon, \
                     (SELECT COUNT(*) FROM products p WHERE p.category_id = c.id AND p.active) AS product_count \
                     FROM categories c ORDER BY c.sort",
                )
                .fetch_all(self.reader())
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn vendors(&self) -> StoreResult<Vec<Vendor>> {
                let rows: Vec<VendorRow> = sqlx::query_as(concat!(
                    "SELECT v.id, v.name, v.stall_no, v.category_id AS category, v.description, ",
                    "(SELECT COUNT(*) FROM products p WHERE p.vendor_id = v.id AND p.active) AS product_count ",
                    "FROM vendors v ORDER BY v.stall_no"
                ))
                .fetch_all(self.reader())
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn vendor(&self, id: i64) -> StoreResult<Option<Vendor>> {
                let row: Option<VendorRow> = sqlx::query_as(concat!(
                    "SELECT v.id, v.name, v.stall_no, v.category_id AS category, v.description, ",
                    "(SELECT COUNT(*) FROM products p WHERE p.vendor_id = v.id AND p.active) AS product_count ",
                    "FROM vendors v WHERE v.id = $1"
                ))
                .bind(id)
                .fetch_optional(self.reader())
                .await?;
                Ok(row.map(Into::into))
            }

            async fn products(&self, filter: &ProductQuery, page: &$crate::store::ProductPage) -> StoreResult<(Vec<Product>, Option<String>)> {
                let pattern = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(like_pattern);
                // Keyset paging in the list's own order (boxes first, then category, stall, id):
                // a page costs the same however deep it is.
                let after = page.after;
                let rows: Vec<ProductRow> = sqlx::query_as(&format!(
                    "{PRODUCT_SELECT} WHERE p.active \
                     AND (CAST($1 AS TEXT) IS NULL OR p.category_id = $1) \
                     AND (CAST($2 AS BIGINT) IS NULL OR p.vendor_id = $2) \
                     AND (CAST($3 AS TEXT) IS NULL OR LOWER(p.name) LIKE LOWER($3) ESCAPE '\\' \
                          OR LOWER(p.description) LIKE LOWER($3) ESCAPE '\\' OR v.name LIKE $3 ESCAPE '\\') \
                     AND ($4 = 0 OR p.is_box < $5 OR (p.is_box = $5 AND (p.category_sort > $6 OR (p.category_sort = $6 AND \
                          (p.vendor_id > $7 OR (p.vendor_id = $7 AND p.id > $8)))))) \
                     ORDER BY p.is_box DESC, p.category_sort, p.vendor_id, p.id LIMIT $9"
                ))
                .bind(filter.category.as_deref())
                .bind(filter.vendor_id)
                .bind(pattern)
                .bind(if after.is_some() { 1i64 } else { 0 })
                .bind(after.is_some_and(|a| a.is_box))
                .bind(after.map_or(0, |a| a.category_sort))
                .bind(after.map_or(0, |a| a.vendor_id))
                .bind(after.map_or(0, |a| a.id))
                .bind(page.limit + 1)
                .fetch_all(self.reader())
                .await?;
                let more = rows.len() as i64 > page.limit;
                let shown: Vec<ProductRow> = rows.into_iter().take(page.limit as usize).collect();
                let next = more.then(|| shown.last().map(|r| $crate::store::ProductKey {
                    is_box: r.is_box, category_sort: r.category_sort, vendor_id: r.vendor_id, id: r.id,
                }.cursor())).flatten();
                Ok((shown.into_iter().map(Into::into).collect(), next))
            }

            async fn product(&self, id: i64) -> StoreResult<Option<ProductDetail>> {
                let row: Option<ProductRow> =
                    sqlx::query_as(&format!("{PRODUCT_SELECT} WHERE p.id = $1 AND p.active"))
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await?;
                let Some(row) = row else { return Ok(None) };
                let items: Vec<BoxItemRow> = sqlx::query_as(
                    "SELECT b.product_id, p.name, p.unit, b.quantity FROM box_items b \
                     JOIN products p ON p.id = b.product_id WHERE b.box_id = $1 ORDER BY p.id",
                )
                .bind(id)
                .fetch_all(self.reader())
                .await?;
                Ok(Some(ProductDetail { product: row.into(), box_items: items.into_iter().map(Into::into).collect() }))
            }

            async fn price_history(&self, product_id: i64) -> StoreResult<Vec<(i64, DateTime<Utc>)>> {
                Ok(sqlx::query_as(
                    "SELECT price_fen, changed_at FROM price_history WHERE product_id = $1 ORDER BY changed_at DESC, id DESC",
                )
                .bind(product_id)
                .fetch_all(self.reader())
                .await?)
            }

            async fn close(&self) {
                self.close_now().await;
            }

            async fn seed(&self, seed: &Seed, now: DateTime<Utc>) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                sqlx::query($seed_lock).execute(&mut *tx).await?;
                let (vendors,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM vendors").fetch_one(&mut *tx).await?;
                if vendors > 0 {
                    return Ok(false);
                }
                for (sort, c) in seed.categories.iter().enumerate() {
                    sqlx::query("INSERT INTO categories (id, name_zh, name_en, icon, sort) VALUES ($1, $2, $3, $4, $5)")
                        .bind(c.id)
                        .bind(c.name_zh)
                        .bind(c.name_en)
                        .bind(c.icon)
                        .bind(sort as i64)
                        .execute(&mut *tx)
                        .await?;
                }
                let mut building_ids = std::collections::HashMap::new();
                for b in &seed.buildings {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO buildings (community, number, units, floors) VALUES ($1, $2, $3, $4) RETURNING id",
                    )
                    .bind(b.community)
                    .bind(&b.number)
                    .bind(b.units)
                    .bind(b.floors)
                    .fetch_one(&mut *tx)
                    .await?;
                    building_ids.insert(b.number.clone(), id);
                }
                let mut user_ids = std::collections::HashMap::new();
                for a in &seed.accounts {
                    let household_id = match &a.household {
                        Some(h) => {
                            let building = building_ids
                                .get(&h.building)
                                .copied()
                                .ok_or_else(|| StoreError::Broken(format!("no building {}", h.building)))?;
                            let (id,): (i64,) = sqlx::query_as(
                                "INSERT INTO households (building_id, unit, room, quarantined, hardship, elderly) \
                                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                            )
                            .bind(building)
                            .bind(&h.unit)
                            .bind(&h.room)
                            .bind(h.quarantined)
                            .bind(h.hardship)
                            .bind(h.elderly)
                            .fetch_one(&mut *tx)
                            .await?;
                            Some(id)
                        }
                        None => None,
                    };
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO users (phone, display_name, household_id, created_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (phone) DO UPDATE SET display_name = excluded.display_name, \
                         household_id = COALESCE(excluded.household_id, users.household_id) RETURNING id",
                    )
                    .bind(&a.phone)
                    .bind(&a.display_name)
                    .bind(household_id)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    for role in &a.roles {
                        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                            .bind(id)
                            .bind(role.as_str())
                            .execute(&mut *tx)
                            .await?;
                    }
                    user_ids.insert(a.phone.clone(), id);
                }
                let mut vendor_ids = std::collections::HashMap::new();
                let mut product_ids = std::collections::HashMap::new();
                for v in &seed.vendors {
                    let (vendor_id,): (i64,) = sqlx::query_as(
                        "INSERT INTO vendors (name, stall_no, category_id, description, owner_user_id) \
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(&v.name)
                    .bind(&v.stall_no)
                    .bind(v.category)
                    .bind(v.description)
                    .bind(user_ids.get(&v.owner_phone).copied())
                    .fetch_one(&mut *tx)
                    .await?;
                    vendor_ids.insert(v.stall_no.clone(), (vendor_id, v.category));
                    for p in &v.products {
                        let id = insert_seed_product(&mut tx, vendor_id, v.category, p, false, now).await?;
                        product_ids.insert(p.name.as_str(), id);
                    }
                }
                for b in &seed.boxes {
                    let (vendor_id, category) = vendor_ids
                        .get(&b.stall_no)
                        .copied()
                        .ok_or_else(|| StoreError::Broken(format!("no stall {}", b.stall_no)))?;
                    let box_id = insert_seed_product(&mut tx, vendor_id, category, &b.product, true, now).await?;
                    for (name, quantity) in &b.contents {
                        let item = product_ids
                            .get(name)
                            .copied()
                            .ok_or_else(|| StoreError::Broken(format!("box item {name} is not a product")))?;
                        sqlx::query("INSERT INTO box_items (box_id, product_id, quantity) VALUES ($1, $2, $3)")
                            .bind(box_id)
                            .bind(item)
                            .bind(*quantity)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                self.sessions().forget_all();
                Ok(true)
            }
        }

        $crate::store::shopping::shopping_helpers!(lock = $lock, lock_products = $lock_products);
        $crate::store::shopping::shopping_impl!($store);

        async fn insert_seed_product(
            tx: &mut sqlx::Transaction<'_, Db>,
            vendor_id: i64,
            category: &str,
            p: &$crate::store::SeedProduct,
            is_box: bool,
            now: DateTime<Utc>,
        ) -> StoreResult<i64> {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO products (vendor_id, category_id, name, unit, price_fen, stock, per_order_limit, is_box, \
                 description, updated_at, category_sort) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                 (SELECT sort FROM categories WHERE id = $2)) RETURNING id",
            )
            .bind(vendor_id)
            .bind(category)
            .bind(&p.name)
            .bind(p.unit)
            .bind(p.price_fen)
            .bind(p.stock)
            .bind(p.per_order_limit)
            .bind(is_box)
            .bind(p.description)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
            sqlx::query("INSERT INTO price_history (product_id, price_fen, changed_at) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(p.price_fen)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            Ok(id)
        }
    };
}

pub(super) use impl_store;
