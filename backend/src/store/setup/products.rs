//! Products as staff and their stalls make and change them: every change through
//! `domain::setup`'s rules (and so the emergency price cap), every price in the public price
//! record, every change in the audit.

use super::{record, Audit, Setup};
use crate::domain::catalogue_import::{
    plan_catalogue_import, CatalogueLine, CataloguePlan, CatalogueSnapshot, KnownProduct, Planned,
};
use crate::domain::setup::{
    decide_box_change, decide_new_box, decide_new_product, decide_product_change, BoxPart, ProductChangeFacts,
    ProductFacts, ProductState, BOX_CATEGORY,
};
use crate::domain::Refusal;
use crate::store::catalogue::prices::{cap_in, price_snapshot};
use crate::store::db::{args, Tx};
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::api::{BoxLine, NewBox, NewProduct, UpdateBox, UpdateProductRequest};

impl Setup {
    /// A new product of stall `vendor_id` (`domain::setup::decide_new_product`): on sale at
    /// once, its first price in the public price record, the change in the audit. Its id; None:
    /// no such stall (in `market`, staff's; None: the holder's own stall).
    pub async fn add_product(
        &self,
        market: Option<shared::MarketId>,
        vendor_id: i64,
        new: &NewProduct,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Result<i64, Refusal>>> {
        let mut tx = self.db.begin().await?;
        let sql = tx.locked("SELECT id FROM vendors WHERE id = $1 AND market_id = COALESCE($2, market_id)");
        if tx.opt::<i64>(&sql, &args![vendor_id, market.map(shared::MarketId::get)]).await?.is_none() {
            return Ok(None);
        }
        let facts = ProductFacts {
            categories: tx.all("SELECT id FROM categories WHERE NOT retired ORDER BY id", &[]).await?,
            names_at_stall: tx.all("SELECT name FROM products WHERE vendor_id = $1", &args![vendor_id]).await?,
        };
        let made = match decide_new_product(vendor_id, new, &facts) {
            Ok(made) => made,
            Err(refusal) => return Ok(Some(Err(refusal))),
        };
        let id = insert_product(&mut tx, &made, false, &made, by, now).await?;
        tx.commit().await?;
        Ok(Some(Ok(id)))
    }

    /// Changes product `id` (`domain::setup::decide_product_change`) as `by`: a new price goes
    /// into the public price record, the change into the audit (`retire` / `restore` when only
    /// its sale changed). None: no such product (of a stall in `market`, staff's; None: the
    /// holder's own); Some(Err): refused, nothing changed.
    pub async fn change_product(
        &self,
        market: Option<shared::MarketId>,
        id: i64,
        change: &UpdateProductRequest,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Result<ProductState, Refusal>>> {
        let mut tx = self.db.begin().await?;
        let Some(before) = product_state(&mut tx, id).await? else { return Ok(None) };
        let of: shared::MarketId =
            tx.one("SELECT market_id FROM vendors WHERE id = $1", &args![before.vendor_id]).await?;
        if market.is_some_and(|market| market != of) {
            return Ok(None);
        }
        let facts = ProductChangeFacts {
            categories: tx.all("SELECT id FROM categories WHERE NOT retired ORDER BY id", &[]).await?,
            other_names_at_stall: tx
                .all("SELECT name FROM products WHERE vendor_id = $1 AND id <> $2", &args![before.vendor_id, id])
                .await?,
            day_open_fen: match change.price_fen {
                Some(_) => price_snapshot(&mut tx, id, now).await?.map_or(before.price_fen, |p| p.day_open),
                None => before.price_fen,
            },
            cap: cap_in(&mut tx, of).await?,
        };
        let after = match decide_product_change(&before, change, &facts) {
            Ok(after) => after,
            Err(refusal) => return Ok(Some(Err(refusal))),
        };
        if after != before {
            write_product(&mut tx, id, &before, &after, by, now).await?;
        }
        tx.commit().await?;
        Ok(Some(Ok(after)))
    }
}

/// A product without a photo.
#[derive(Debug, Clone, Deserialize)]
pub struct Unpictured {
    pub id: i64,
    pub name: String,
    pub category: String,
    pub is_box: bool,
}

/// One product as the catalogue's file shows it (`domain::catalogue_import::COLUMNS`).
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogueEntry {
    pub id: i64,
    pub stall_no: String,
    pub category: String,
    pub name: String,
    pub unit: String,
    pub price_fen: i64,
    pub stock: i64,
    pub per_order_limit: Option<i64>,
    pub origin: String,
    pub active: bool,
    pub description: String,
}

impl Setup {
    /// Staff's catalogue file (`domain::catalogue_import::plan_catalogue_import`) over their
    /// market's catalogue as it stands (its stalls, its products, every one locked; another
    /// market's stall or product is not there), under its cap; applied (every change through the
    /// price record and the audit, in one transaction) only when `apply` and no row is an error.
    pub async fn import_catalogue(
        &self,
        market: shared::MarketId,
        lines: &[CatalogueLine],
        apply: bool,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<CataloguePlan> {
        let mut tx = self.db.begin().await?;
        tx.advisory_lock(super::SETUP_LOCK).await?;
        let cap = cap_in(&mut tx, market).await?;
        // Each product's price when the day began (for the cap), in the one query.
        let sql = tx.locked_of(
            "SELECT p.id, p.vendor_id, p.category_id, p.name, p.unit, p.price_fen, p.stock, p.per_order_limit, \
             p.origin, p.description, p.active, p.price_ceiling_fen, p.is_box, \
             COALESCE((SELECT h.price_fen FROM price_history h WHERE h.product_id = p.id AND h.changed_at < $1 \
              ORDER BY h.changed_at DESC, h.id DESC LIMIT 1), \
              (SELECT h.price_fen FROM price_history h WHERE h.product_id = p.id ORDER BY h.changed_at, h.id LIMIT 1)) \
             AS day_open_fen FROM products p JOIN vendors v ON v.id = p.vendor_id WHERE v.market_id = $2 ORDER BY p.id",
            "p",
        );
        let start = crate::domain::time::shanghai_today_start(now);
        let rows: Vec<StateRow> = tx.all(&sql, &args![start, market]).await?;
        #[derive(Deserialize)]
        struct Stall {
            id: i64,
            stall_no: String,
        }
        let stalls: Vec<Stall> =
            tx.all("SELECT id, stall_no FROM vendors WHERE market_id = $1 ORDER BY id", &args![market]).await?;
        let snapshot = CatalogueSnapshot {
            categories: super::catalogue_facts(&mut tx, None)
                .await?
                .categories
                .into_iter()
                .filter(|c| !c.retired)
                .collect(),
            stalls: stalls.into_iter().map(|s| (s.id, s.stall_no)).collect(),
            products: rows
                .into_iter()
                .map(|r| KnownProduct {
                    id: r.id,
                    day_open_fen: r.day_open_fen.unwrap_or(r.price_fen),
                    is_box: r.is_box,
                    state: r.state(),
                })
                .collect(),
            cap,
        };
        let plan = plan_catalogue_import(lines, &snapshot);
        if !apply || !plan.clean() {
            return Ok(plan);
        }
        for change in &plan.changes {
            match change {
                Planned::Create(made) => {
                    insert_product(&mut tx, made, false, made, by, now).await?;
                }
                Planned::Update { id, before, after } => write_product(&mut tx, *id, before, after, by, now).await?,
            }
        }
        tx.commit().await?;
        Ok(plan)
    }

    /// Gives product `id` the photo stored under `key` (`photos.rs`), recorded in the audit.
    /// Its vendor; None: no such product.
    pub async fn set_photo(&self, id: i64, key: &str, by: i64, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
        #[derive(Deserialize, serde::Serialize, PartialEq)]
        struct Photo {
            vendor_id: i64,
            photo: Option<String>,
        }
        let mut tx = self.db.begin().await?;
        let sql = tx.locked("SELECT vendor_id, photo FROM products WHERE id = $1");
        let Some(before) = tx.opt::<Photo>(&sql, &args![id]).await? else { return Ok(None) };
        let after = Photo { vendor_id: before.vendor_id, photo: Some(key.to_owned()) };
        if after != before {
            tx.exec("UPDATE products SET photo = $2, updated_at = $3 WHERE id = $1", &args![id, key, now]).await?;
            let entry =
                Audit { at: now, actor: Some(by), subject: "product", subject_id: id.to_string(), action: "photo" };
            record(&mut tx, entry, Some(&before), Some(&after)).await?;
        }
        tx.commit().await?;
        Ok(Some(before.vendor_id))
    }

    /// The products on sale that have no photo yet (the demo draws theirs).
    pub async fn without_photo(&self) -> StoreResult<Vec<Unpictured>> {
        Ok(self
            .db
            .all(
                "SELECT id, name, category_id AS category, is_box FROM products WHERE active AND photo IS NULL ORDER BY id",
                &[],
            )
            .await?)
    }

    /// Every product but the boxes, on sale or retired, as the catalogue's file shows them: by
    /// stall, then in the catalogue's order.
    /// The market's catalogue as its file lists it (boxes apart).
    pub async fn catalogue_entries(&self, market: shared::MarketId) -> StoreResult<Vec<CatalogueEntry>> {
        Ok(self
            .db
            .all(
                "SELECT p.id, v.stall_no, COALESCE(c.name_zh, p.category_id) AS category, p.name, p.unit, p.price_fen, \
                 p.stock, p.per_order_limit, p.origin, p.active, p.description FROM products p \
                 JOIN vendors v ON v.id = p.vendor_id LEFT JOIN categories c ON c.id = p.category_id \
                 WHERE NOT p.is_box AND v.market_id = $1 ORDER BY v.stall_no, p.category_sort, p.id",
                &args![market],
            )
            .await?)
    }
}

/// A box as the audit records it: the product and what is in it.
#[derive(serde::Serialize)]
struct BoxRecord<'a> {
    #[serde(flatten)]
    product: &'a ProductState,
    items: &'a [(i64, i64)],
}

impl Setup {
    /// A new 菜盒子 (`domain::setup::decide_new_box`) of the market's stall asked for, or of the
    /// stall that packs its other boxes, of its goods; the category `box` is made (菜盒子, first
    /// in the list) when there is none. Its id.
    pub async fn add_box(
        &self,
        market: shared::MarketId,
        new: &NewBox,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<i64, Refusal>> {
        let mut tx = self.db.begin().await?;
        tx.advisory_lock(super::SETUP_LOCK).await?;
        let packer: Option<i64> = match new.vendor_id {
            Some(id) => {
                let sql = tx.locked("SELECT id FROM vendors WHERE id = $1 AND market_id = $2");
                tx.opt(&sql, &args![id, market]).await?
            }
            None => {
                tx.opt(
                    "SELECT p.vendor_id FROM products p JOIN vendors v ON v.id = p.vendor_id \
                     WHERE p.is_box AND v.market_id = $1 ORDER BY p.id LIMIT 1",
                    &args![market],
                )
                .await?
            }
        };
        let Some(vendor_id) = packer else {
            return Ok(Err(Refusal::field("vendor_id", "which stall packs the box (a stall on record)")));
        };
        let parts = box_parts(&mut tx, market, &new.items).await?;
        let names = tx.all("SELECT name FROM products WHERE vendor_id = $1", &args![vendor_id]).await?;
        let (made, lines) = match decide_new_box(vendor_id, new, names, &parts) {
            Ok(made) => made,
            Err(refusal) => return Ok(Err(refusal)),
        };
        tx.exec(
            "INSERT INTO categories (id, name_zh, name_en, icon, sort) VALUES ($1, '菜盒子', 'Veg boxes', '📦', 0) \
             ON CONFLICT (id) DO NOTHING",
            &args![BOX_CATEGORY],
        )
        .await?;
        let recorded = BoxRecord { product: &made, items: &lines };
        let id = insert_product(&mut tx, &made, true, &recorded, by, now).await?;
        write_lines(&mut tx, id, &lines).await?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// A box's name, price (under its market's cap), stock, limit, description, sale or contents
    /// (`domain::setup::decide_box_change`), in the audit. None: no such box in `market`.
    pub async fn change_box(
        &self,
        market: shared::MarketId,
        id: i64,
        change: &UpdateBox,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Result<(), Refusal>>> {
        let mut tx = self.db.begin().await?;
        let is_box: Option<bool> = tx
            .opt(
                "SELECT p.is_box FROM products p JOIN vendors v ON v.id = p.vendor_id WHERE p.id = $1 AND v.market_id = $2",
                &args![id, market],
            )
            .await?;
        if is_box != Some(true) {
            return Ok(None);
        }
        let Some(before) = product_state(&mut tx, id).await? else { return Ok(None) };
        let facts = ProductChangeFacts {
            categories: vec![before.category.clone()],
            other_names_at_stall: tx
                .all("SELECT name FROM products WHERE vendor_id = $1 AND id <> $2", &args![before.vendor_id, id])
                .await?,
            day_open_fen: match change.price_fen {
                Some(_) => price_snapshot(&mut tx, id, now).await?.map_or(before.price_fen, |p| p.day_open),
                None => before.price_fen,
            },
            cap: cap_in(&mut tx, market).await?,
        };
        let parts = box_parts(&mut tx, market, change.items.as_deref().unwrap_or_default()).await?;
        let (after, lines) = match decide_box_change(&before, change, &facts, &parts) {
            Ok(decided) => decided,
            Err(refusal) => return Ok(Some(Err(refusal))),
        };
        if after != before {
            write_product(&mut tx, id, &before, &after, by, now).await?;
        }
        if let Some(lines) = lines {
            #[derive(Deserialize)]
            struct Line {
                product_id: i64,
                quantity: i64,
            }
            let had: Vec<Line> = tx
                .all("SELECT product_id, quantity FROM box_items WHERE box_id = $1 ORDER BY product_id", &args![id])
                .await?;
            let had: Vec<(i64, i64)> = had.into_iter().map(|l| (l.product_id, l.quantity)).collect();
            let mut sorted = lines.clone();
            sorted.sort();
            if sorted != had {
                tx.exec("DELETE FROM box_items WHERE box_id = $1", &args![id]).await?;
                write_lines(&mut tx, id, &lines).await?;
                let entry =
                    Audit { at: now, actor: Some(by), subject: "product", subject_id: id.to_string(), action: "items" };
                record(&mut tx, entry, Some(&had), Some(&sorted)).await?;
            }
        }
        tx.commit().await?;
        Ok(Some(Ok(())))
    }
}

/// The products a box's lines name, as the box rule reads them: the market's (another market's
/// goods are not there to pack).
async fn box_parts(tx: &mut Tx, market: shared::MarketId, lines: &[BoxLine]) -> StoreResult<Vec<BoxPart>> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
        active: bool,
        is_box: bool,
    }
    let mut parts = Vec::new();
    for line in lines {
        let row: Option<Row> = tx
            .opt(
                "SELECT p.id, p.active, p.is_box FROM products p JOIN vendors v ON v.id = p.vendor_id \
                 WHERE p.id = $1 AND v.market_id = $2",
                &args![line.product_id, market],
            )
            .await?;
        parts.extend(row.map(|r| BoxPart { id: r.id, on_sale: r.active, is_box: r.is_box }));
    }
    Ok(parts)
}

async fn write_lines(tx: &mut Tx, box_id: i64, lines: &[(i64, i64)]) -> StoreResult<()> {
    for (product, quantity) in lines {
        tx.exec(
            "INSERT INTO box_items (box_id, product_id, quantity) VALUES ($1, $2, $3)",
            &args![box_id, *product, *quantity],
        )
        .await?;
    }
    Ok(())
}

/// A new product (or box) as decided: its row, its first price in the price record, the audit
/// entry (`recorded`: what it says was made).
async fn insert_product<R: serde::Serialize>(
    tx: &mut Tx,
    made: &ProductState,
    is_box: bool,
    recorded: &R,
    by: i64,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let id: i64 = tx
        .one(
            "INSERT INTO products (vendor_id, category_id, name, unit, price_fen, stock, per_order_limit, is_box, \
             description, origin, active, updated_at, category_sort) VALUES ($1, $2, $3, $4, $5, $6, $7, $12, $8, \
             $9, $10, $11, (SELECT sort FROM categories WHERE id = $2)) RETURNING id",
            &args![
                made.vendor_id,
                made.category.as_str(),
                made.name.as_str(),
                made.unit.as_str(),
                made.price_fen,
                made.stock,
                made.per_order_limit,
                made.description.as_str(),
                made.origin.as_str(),
                made.on_sale,
                now,
                is_box
            ],
        )
        .await?;
    tx.exec(
        "INSERT INTO price_history (product_id, price_fen, changed_at, changed_by) VALUES ($1, $2, $3, $4)",
        &args![id, made.price_fen, now, by],
    )
    .await?;
    record_stock(tx, id, made.stock, StockReason::Added, Some(by), now).await?;
    let entry = Audit { at: now, actor: Some(by), subject: "product", subject_id: id.to_string(), action: "create" };
    record(tx, entry, None, Some(recorded)).await?;
    Ok(id)
}

/// Why a product's stock changed from outside the market's rules (`stock_changes.reason`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum StockReason {
    /// The product was made with its first stock.
    Added,
    /// A stall or staff counted it anew.
    Counted,
}

/// Writes a change of product `id`'s stock made from outside the market's rules into the stock
/// ledger (orders and group-buys take and give back by the rules and write nothing there), so
/// `fuxiansheng check` can prove every unit is on the shelf, in an order or set aside.
pub(crate) async fn record_stock(
    tx: &mut Tx,
    id: i64,
    change: i64,
    reason: StockReason,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let reason = match reason {
        StockReason::Added => "added",
        StockReason::Counted => "counted",
    };
    tx.exec(
        "INSERT INTO stock_changes (product_id, change, reason, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5)",
        &args![id, change, reason, by, now],
    )
    .await?;
    Ok(())
}

/// A product's row as the set-up's rules read it (`day_open_fen`: its price when the day began,
/// where the query reads it).
#[derive(Deserialize)]
struct StateRow {
    id: i64,
    vendor_id: i64,
    category_id: String,
    name: String,
    unit: String,
    price_fen: i64,
    stock: i64,
    per_order_limit: Option<i64>,
    origin: String,
    description: String,
    active: bool,
    price_ceiling_fen: Option<i64>,
    is_box: bool,
    day_open_fen: Option<i64>,
}

impl StateRow {
    fn state(&self) -> ProductState {
        ProductState {
            vendor_id: self.vendor_id,
            category: self.category_id.clone(),
            name: self.name.clone(),
            unit: self.unit.clone(),
            price_fen: self.price_fen,
            stock: self.stock,
            per_order_limit: self.per_order_limit,
            origin: self.origin.clone(),
            description: self.description.clone(),
            on_sale: self.active,
            price_ceiling_fen: self.price_ceiling_fen,
        }
    }
}

/// Product `id` as the set-up's rules read it, locked on PostgreSQL. None: no such product.
pub(super) async fn product_state(tx: &mut Tx, id: i64) -> StoreResult<Option<ProductState>> {
    let sql = tx.locked(
        "SELECT id, vendor_id, category_id, name, unit, price_fen, stock, per_order_limit, origin, description, \
         active, price_ceiling_fen, is_box, CAST(NULL AS BIGINT) AS day_open_fen FROM products WHERE id = $1",
    );
    Ok(tx.opt::<StateRow>(&sql, &args![id]).await?.map(|r| r.state()))
}

/// Writes a product's change: its row, a new price into the price record, the audit entry.
pub(super) async fn write_product(
    tx: &mut Tx,
    id: i64,
    before: &ProductState,
    after: &ProductState,
    by: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.exec(
        "UPDATE products SET category_id = $2, name = $3, unit = $4, price_fen = $5, stock = $6, \
         per_order_limit = $7, origin = $8, description = $9, active = $10, price_ceiling_fen = $11, \
         updated_at = $12, category_sort = (SELECT sort FROM categories WHERE id = $2) WHERE id = $1",
        &args![
            id,
            after.category.as_str(),
            after.name.as_str(),
            after.unit.as_str(),
            after.price_fen,
            after.stock,
            after.per_order_limit,
            after.origin.as_str(),
            after.description.as_str(),
            after.on_sale,
            after.price_ceiling_fen,
            now
        ],
    )
    .await?;
    if after.price_fen != before.price_fen {
        tx.exec(
            "INSERT INTO price_history (product_id, price_fen, changed_at, changed_by) VALUES ($1, $2, $3, $4)",
            &args![id, after.price_fen, now, by],
        )
        .await?;
    }
    if after.stock != before.stock {
        record_stock(tx, id, after.stock - before.stock, StockReason::Counted, Some(by), now).await?;
    }
    let only_sale = ProductState { on_sale: after.on_sale, ..before.clone() } == *after;
    let action = match (before.on_sale, after.on_sale) {
        (true, false) if only_sale => "retire",
        (false, true) if only_sale => "restore",
        _ => "update",
    };
    let entry = Audit { at: now, actor: Some(by), subject: "product", subject_id: id.to_string(), action };
    record(tx, entry, Some(before), Some(after)).await
}
