//! The catalogue as residents browse it: categories, stalls, products and 菜盒子 boxes, a page at a
//! time in the catalogue's own order, and each product's price record. Stock and prices change
//! through `prices.rs`, the one path staff's and stalls' changes take.

pub mod prices;

use super::db::{args, Db, Tx};
use super::{like_pattern, StoreResult};
use crate::domain::checkout::ProductRow;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::api::{BoxItem, Category, Product, ProductDetail, ProductQuery, Vendor};
use shared::Fen;

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

/// Which page of products: at most `limit`, after `after` (None: the first page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductPage {
    pub limit: i64,
    pub after: Option<ProductKey>,
}

/// A product with its stall's name, every column the market's rules and the catalogue read
/// (`domain::checkout::ProductRow`); `WHERE p.id = $1` and the like follow.
pub(crate) const PRODUCT_SELECT: &str = "SELECT p.id, p.vendor_id, v.name AS vendor_name, p.name, p.unit, \
     p.price_fen, p.stock, p.per_order_limit, p.active, p.category_id AS category, p.is_box, p.description, \
     p.category_sort, p.origin, p.photo, NOT v.is_open AS stall_closed, v.closed_on AS stall_closed_on, v.market_id \
     FROM products p JOIN vendors v ON v.id = p.vendor_id";

/// The product `id` as it is, locked on PostgreSQL (its stock is about to change).
pub(crate) async fn product_locked(tx: &mut Tx, id: i64) -> StoreResult<Option<ProductRow>> {
    let sql = tx.locked_of(&format!("{PRODUCT_SELECT} WHERE p.id = $1"), "p");
    Ok(tx.opt(&sql, &args![id]).await?)
}

fn product(r: ProductRow) -> Product {
    Product {
        id: r.id,
        market_id: r.market_id,
        vendor_id: r.vendor_id,
        vendor_name: r.vendor_name,
        name: r.name,
        unit: r.unit,
        price_fen: r.price_fen,
        stock: r.stock,
        category: r.category,
        per_order_limit: r.per_order_limit,
        is_box: r.is_box,
        description: r.description,
        origin: r.origin,
        on_sale: r.active,
        photo: r.photo.as_deref().map(crate::photos::urls),
    }
}

const VENDOR_SELECT: &str =
    "SELECT v.id, v.market_id, v.name, v.stall_no, v.category_id AS category, v.description, v.is_open, v.closed_on, \
     (SELECT COUNT(*) FROM products p WHERE p.vendor_id = v.id AND p.active) AS product_count FROM vendors v";

#[derive(Deserialize)]
struct VendorRow {
    id: i64,
    market_id: shared::MarketId,
    name: String,
    stall_no: String,
    category: String,
    description: String,
    product_count: i64,
    is_open: bool,
    closed_on: Option<String>,
}

impl From<VendorRow> for Vendor {
    fn from(r: VendorRow) -> Self {
        Vendor {
            id: r.id,
            market_id: r.market_id,
            name: r.name,
            stall_no: r.stall_no,
            category: r.category,
            description: r.description,
            product_count: r.product_count,
            open: r.is_open,
            closed_on: r.closed_on,
        }
    }
}

#[derive(Deserialize)]
struct CategoryRow {
    id: String,
    name_zh: String,
    name_en: String,
    icon: String,
    product_count: i64,
}

#[derive(Deserialize)]
struct BoxItemRow {
    product_id: i64,
    name: String,
    unit: String,
    quantity: i64,
}

/// One entry of a product's price record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct PriceEntry {
    pub price_fen: Fen,
    pub changed_at: DateTime<Utc>,
}

pub struct Catalogue {
    db: Db,
}

impl Catalogue {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The categories (every market's one set), each with the number of `market`'s products
    /// on sale in it.
    pub async fn categories(&self, market: shared::MarketId) -> StoreResult<Vec<Category>> {
        let rows: Vec<CategoryRow> = self
            .db
            .all(
                "SELECT c.id, c.name_zh, c.name_en, c.icon, \
                 (SELECT COUNT(*) FROM products p JOIN vendors v ON v.id = p.vendor_id \
                  WHERE p.category_id = c.id AND p.active AND v.market_id = $1) AS product_count \
                 FROM categories c WHERE NOT c.retired ORDER BY c.sort, c.id",
                &args![market],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Category {
                id: r.id,
                name_zh: r.name_zh,
                name_en: r.name_en,
                icon: r.icon,
                product_count: r.product_count,
            })
            .collect())
    }

    /// Every category on record, retired ones too, in the catalogue's order (staff's list).
    pub async fn categories_on_record(&self) -> StoreResult<Vec<shared::api::CategoryOnRecord>> {
        #[derive(Deserialize)]
        struct Row {
            id: String,
            name_zh: String,
            name_en: String,
            icon: String,
            sort: i64,
            product_count: i64,
            retired: bool,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT c.id, c.name_zh, c.name_en, c.icon, c.sort, c.retired, \
                 (SELECT COUNT(*) FROM products p WHERE p.category_id = c.id AND p.active) AS product_count \
                 FROM categories c ORDER BY c.retired, c.sort, c.id",
                &args![],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| shared::api::CategoryOnRecord {
                id: r.id,
                name_zh: r.name_zh,
                name_en: r.name_en,
                icon: r.icon,
                sort: r.sort,
                product_count: r.product_count,
                retired: r.retired,
            })
            .collect())
    }

    /// Every stall of `market`, in stall-number order.
    pub async fn vendors(&self, market: shared::MarketId) -> StoreResult<Vec<Vendor>> {
        let rows: Vec<VendorRow> =
            self.db.all(&format!("{VENDOR_SELECT} WHERE v.market_id = $1 ORDER BY v.stall_no"), &args![market]).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn vendor(&self, id: i64) -> StoreResult<Option<Vendor>> {
        let row: Option<VendorRow> = self.db.opt(&format!("{VENDOR_SELECT} WHERE v.id = $1"), &args![id]).await?;
        Ok(row.map(Into::into))
    }

    /// A page of products on sale in the catalogue's order, and the cursor of the next page.
    /// Keyset paging in the list's own order (boxes first, then category, stall, id): a page
    /// costs the same however deep it is.
    pub async fn products(
        &self,
        market: shared::MarketId,
        filter: &ProductQuery,
        page: &ProductPage,
    ) -> StoreResult<(Vec<Product>, Option<String>)> {
        let pattern = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(like_pattern);
        let after = page.after;
        let rows: Vec<ProductRow> = self
            .db
            .all(
                &format!(
                    "{PRODUCT_SELECT} WHERE p.active AND v.market_id = $10 \
                     AND (CAST($1 AS TEXT) IS NULL OR p.category_id = $1) \
                     AND (CAST($2 AS BIGINT) IS NULL OR p.vendor_id = $2) \
                     AND (CAST($3 AS TEXT) IS NULL OR LOWER(p.name) LIKE LOWER($3) ESCAPE '\\' \
                          OR LOWER(p.description) LIKE LOWER($3) ESCAPE '\\' OR v.name LIKE $3 ESCAPE '\\') \
                     AND ($4 = 0 OR p.is_box < $5 OR (p.is_box = $5 AND (p.category_sort > $6 OR (p.category_sort = $6 AND \
                          (p.vendor_id > $7 OR (p.vendor_id = $7 AND p.id > $8)))))) \
                     ORDER BY p.is_box DESC, p.category_sort, p.vendor_id, p.id LIMIT $9"
                ),
                &args![
                    filter.category.as_deref(),
                    filter.vendor_id,
                    pattern,
                    i64::from(after.is_some()),
                    after.is_some_and(|a| a.is_box),
                    after.map_or(0, |a| a.category_sort),
                    after.map_or(0, |a| a.vendor_id),
                    after.map_or(0, |a| a.id),
                    page.limit + 1,
                    market
                ],
            )
            .await?;
        let more = rows.len() as i64 > page.limit;
        let shown: Vec<ProductRow> = rows.into_iter().take(page.limit as usize).collect();
        let next = more
            .then(|| {
                shown.last().map(|r| {
                    ProductKey {
                        is_box: r.is_box,
                        category_sort: r.category_sort,
                        vendor_id: r.vendor_id,
                        id: r.id.get(),
                    }
                    .cursor()
                })
            })
            .flatten();
        Ok((shown.into_iter().map(product).collect(), next))
    }

    /// A product on sale, with a box's contents.
    pub async fn product(&self, id: i64) -> StoreResult<Option<ProductDetail>> {
        self.detail(id, false).await
    }

    /// A product on sale or retired (for staff and its stall), with a box's contents.
    pub async fn product_detail_any(&self, id: i64) -> StoreResult<Option<ProductDetail>> {
        self.detail(id, true).await
    }

    async fn detail(&self, id: i64, retired_too: bool) -> StoreResult<Option<ProductDetail>> {
        let sql = format!("{PRODUCT_SELECT} WHERE p.id = $1 AND (p.active OR $2)");
        let row: Option<ProductRow> = self.db.opt(&sql, &args![id, retired_too]).await?;
        let Some(row) = row else { return Ok(None) };
        let items: Vec<BoxItemRow> = self
            .db
            .all(
                "SELECT b.product_id, p.name, p.unit, b.quantity FROM box_items b \
                 JOIN products p ON p.id = b.product_id WHERE b.box_id = $1 ORDER BY p.id",
                &args![id],
            )
            .await?;
        let box_items = items
            .into_iter()
            .map(|r| BoxItem {
                product_id: shared::ProductId(r.product_id),
                name: r.name,
                unit: r.unit,
                quantity: r.quantity,
            })
            .collect();
        Ok(Some(ProductDetail { product: product(row), box_items }))
    }

    /// Staff's search by name in `market`, on sale and retired alike (on sale first), at most 50.
    pub async fn find_any(&self, market: shared::MarketId, q: &str) -> StoreResult<Vec<Product>> {
        let rows: Vec<ProductRow> = self
            .db
            .all(
                &format!(
                    "{PRODUCT_SELECT} WHERE v.market_id = $2 AND LOWER(p.name) LIKE LOWER($1) ESCAPE '\\' \
                     ORDER BY p.active DESC, p.id LIMIT 50"
                ),
                &args![like_pattern(q.trim()), market],
            )
            .await?;
        Ok(rows.into_iter().map(product).collect())
    }

    /// A product on sale or retired (for staff and its stall).
    pub async fn product_any(&self, id: i64) -> StoreResult<Option<Product>> {
        let row: Option<ProductRow> = self.db.opt(&format!("{PRODUCT_SELECT} WHERE p.id = $1"), &args![id]).await?;
        Ok(row.map(product))
    }

    /// A product as the market's rules see it, on sale or not.
    pub async fn product_row(&self, id: i64) -> StoreResult<Option<ProductRow>> {
        Ok(self.db.opt(&format!("{PRODUCT_SELECT} WHERE p.id = $1"), &args![id]).await?)
    }

    /// Its price record, newest first.
    pub async fn price_history(&self, product_id: i64) -> StoreResult<Vec<PriceEntry>> {
        Ok(self
            .db
            .all(
                "SELECT price_fen, changed_at FROM price_history WHERE product_id = $1 \
                 ORDER BY changed_at DESC, id DESC",
                &args![product_id],
            )
            .await?)
    }
}
