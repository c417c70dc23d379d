//! Supply: the lots stalls take in with their certificates and tests, which lots each order
//! line was packed from, holds, and a lot's trace to the households that had it. What may be
//! taken in, drawn and held is `domain::lots`'s; this keeps the rows.

use super::db::{args, Arg, Db, Tx};
use super::setup::{record, Audit};
use super::StoreResult;
use crate::domain::lots::{
    check_test, decide_hold, decide_take_in, draw_oldest_first, draws, failed_reason, Draw, HoldFacts,
};
use crate::domain::time::to_api;
use crate::domain::Refusal;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::api::{Certificate, Held, Lot, LotTest, LotTraceEntry, TakeInLot, TestBoardEntry};
use shared::order::OrderStatus;
use std::collections::{BTreeMap, HashMap};

pub struct Supply {
    db: Db,
}

const LOT_SELECT: &str = "SELECT l.id, l.product_id, p.name AS product_name, l.vendor_id, v.name AS vendor_name, \
     l.quantity, l.remaining, l.received_at, l.cert_product, l.cert_quantity, l.cert_origin, l.cert_issued_at, \
     l.cert_issuer, l.cert_contact, l.cert_qr, l.cert_photo, l.held_at, l.hold_reason \
     FROM lots l JOIN products p ON p.id = l.product_id JOIN vendors v ON v.id = l.vendor_id";

#[derive(Deserialize)]
struct LotRow {
    id: i64,
    product_id: i64,
    product_name: String,
    vendor_id: i64,
    vendor_name: String,
    quantity: i64,
    remaining: i64,
    received_at: DateTime<Utc>,
    cert_product: String,
    cert_quantity: String,
    cert_origin: String,
    cert_issued_at: DateTime<Utc>,
    cert_issuer: String,
    cert_contact: String,
    cert_qr: Option<String>,
    cert_photo: Option<String>,
    held_at: Option<DateTime<Utc>>,
    hold_reason: Option<String>,
}

#[derive(Deserialize)]
struct TestRow {
    lot_id: i64,
    method: String,
    passed: bool,
    tested_by: String,
    tested_at: DateTime<Utc>,
}

fn shown_test(t: TestRow) -> LotTest {
    LotTest {
        method: t.method,
        result: if t.passed { "pass" } else { "fail" }.into(),
        by: t.tested_by,
        at: to_api(t.tested_at),
    }
}

fn lot_of(r: LotRow, tests: Vec<LotTest>) -> Lot {
    Lot {
        id: r.id,
        product_id: shared::ProductId(r.product_id),
        product_name: r.product_name,
        vendor_id: r.vendor_id,
        vendor_name: r.vendor_name,
        quantity: r.quantity,
        remaining: r.remaining,
        received_at: to_api(r.received_at),
        certificate: Certificate {
            product: r.cert_product,
            quantity: r.cert_quantity,
            origin: r.cert_origin,
            issued_at: to_api(r.cert_issued_at),
            issuer: r.cert_issuer,
            contact: r.cert_contact,
            qr: r.cert_qr,
        },
        tests,
        held: match (r.held_at, r.hold_reason) {
            (Some(at), reason) => Some(Held { reason: reason.unwrap_or_default(), at: to_api(at) }),
            (None, _) => None,
        },
        certificate_photo: r.cert_photo.as_deref().map(crate::photos::urls),
    }
}

/// Writes a change of a product's stock that a lot made into the stock ledger.
async fn ledger(
    tx: &mut Tx,
    product: i64,
    change: i64,
    reason: &str,
    lot: i64,
    by: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO stock_changes (product_id, change, reason, changed_by, changed_at, lot_id) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &args![product, change, reason, by, now, lot],
    )
    .await?;
    Ok(())
}

impl Supply {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Lots with their tests (newest first), in the order of `rows`.
    async fn shown(&self, rows: Vec<LotRow>) -> StoreResult<Vec<Lot>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut tests: HashMap<i64, Vec<LotTest>> = HashMap::new();
        if !ids.is_empty() {
            let sql = format!(
                "SELECT lot_id, method, passed, tested_by, tested_at FROM lot_tests WHERE lot_id IN {} \
                 ORDER BY tested_at DESC, id DESC",
                self.db.list(1)
            );
            for t in self.db.all::<TestRow>(&sql, &[Arg::json(&ids)]).await? {
                tests.entry(t.lot_id).or_default().push(shown_test(t));
            }
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let t = tests.remove(&r.id).unwrap_or_default();
                lot_of(r, t)
            })
            .collect())
    }

    pub async fn lot(&self, id: i64) -> StoreResult<Option<Lot>> {
        let rows: Vec<LotRow> = self.db.all(&format!("{LOT_SELECT} WHERE l.id = $1"), &args![id]).await?;
        Ok(self.shown(rows).await?.pop())
    }

    /// A stall takes a lot in (`domain::lots::decide_take_in`): the lot, its tests, its quantity
    /// on the product's stock and in the ledger, the audit; a lot failing a test is recorded held
    /// and adds nothing.
    pub async fn take_in(
        &self,
        stall: i64,
        req: &TakeInLot,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Lot, Refusal>> {
        let mut tx = self.db.begin().await?;
        let sql = tx.locked("SELECT vendor_id FROM products WHERE id = $1");
        let product_stall: Option<i64> = tx.opt(&sql, &args![req.product_id.get()]).await?;
        let taken = match decide_take_in(stall, product_stall, req, now) {
            Ok(t) => t,
            Err(r) => return Ok(Err(r)),
        };
        let c = &taken.certificate.certificate;
        let held = taken.hold_reason.is_some();
        let id: i64 = tx
            .one(
                "INSERT INTO lots (vendor_id, product_id, quantity, remaining, cert_product, cert_quantity, \
                 cert_origin, cert_issued_at, cert_issuer, cert_contact, cert_qr, received_by, received_at, \
                 held_at, held_by, hold_reason) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
                &args![
                    stall,
                    req.product_id.get(),
                    taken.quantity,
                    if held { 0 } else { taken.quantity },
                    c.product.clone(),
                    c.quantity.clone(),
                    c.origin.clone(),
                    taken.certificate.issued_at,
                    c.issuer.clone(),
                    c.contact.clone(),
                    c.qr.clone(),
                    by,
                    now,
                    held.then_some(now),
                    held.then_some(by),
                    taken.hold_reason.clone()
                ],
            )
            .await?;
        for t in &taken.tests {
            insert_test(&mut tx, id, t, by).await?;
        }
        if !held {
            tx.exec(
                "UPDATE products SET stock = stock + $2, updated_at = $3 WHERE id = $1",
                &args![req.product_id.get(), taken.quantity, now],
            )
            .await?;
            ledger(&mut tx, req.product_id.get(), taken.quantity, "added", id, by, now).await?;
        }
        let entry = Audit { at: now, actor: Some(by), subject: "lot", subject_id: id.to_string(), action: "take_in" };
        record(&mut tx, entry, None, Some(&serde_json::json!({ "product_id": req.product_id, "quantity": taken.quantity, "certificate": c, "held": held }))).await?;
        tx.commit().await?;
        Ok(Ok(self.lot(id).await?.ok_or(sqlx::Error::RowNotFound)?))
    }

    /// A rapid test done on a lot after it was taken in (its stall's, or staff's); a failed one
    /// holds the lot as staff's hold does. None: not the stall's lot (or no such lot).
    pub async fn add_test(
        &self,
        lot: i64,
        stall: Option<i64>,
        test: &LotTest,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Result<Lot, Refusal>>> {
        let checked = match check_test(test, now) {
            Ok(t) => t,
            Err(r) => return Ok(Some(Err(r))),
        };
        let mut tx = self.db.begin().await?;
        let facts = hold_facts(&mut tx, lot).await?;
        let Some((vendor, product, facts)) = facts else { return Ok(None) };
        if stall.is_some_and(|s| s != vendor) {
            return Ok(None);
        }
        insert_test(&mut tx, lot, &checked, by).await?;
        if !checked.passed && !facts.held {
            if let Err(r) = hold(&mut tx, (lot, product), &facts, &failed_reason(&checked), by, now).await? {
                return Ok(Some(Err(r)));
            }
        }
        tx.commit().await?;
        Ok(self.lot(lot).await?.map(Ok))
    }

    /// Staff stop a lot (`domain::lots::decide_hold`): off sale at once, what of it was for sale
    /// leaves the stock (and the ledger says so), the audit records who and why.
    pub async fn hold(&self, lot: i64, reason: &str, by: i64, now: DateTime<Utc>) -> StoreResult<Result<Lot, Refusal>> {
        let mut tx = self.db.begin().await?;
        let facts = hold_facts(&mut tx, lot).await?;
        let Some((_, product, facts)) = facts else {
            return Ok(Err(Refusal::new(shared::ErrorCode::NotFound, "没有这个批次 (no such lot)")));
        };
        if let Err(r) = hold(&mut tx, (lot, product), &facts, reason, by, now).await? {
            return Ok(Err(r));
        }
        tx.commit().await?;
        Ok(Ok(self.lot(lot).await?.ok_or(sqlx::Error::RowNotFound)?))
    }

    /// The photo of a lot's paper certificate (already stored under `key`), by its stall (or
    /// staff, `stall` None); a new one replaces the last. None: not the stall's lot (or none).
    pub async fn set_certificate_photo(
        &self,
        lot: i64,
        stall: Option<i64>,
        key: &str,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Lot>> {
        let mut tx = self.db.begin().await?;
        let changed = tx
            .exec(
                "UPDATE lots SET cert_photo = $3 WHERE id = $1 AND ($2 IS NULL OR vendor_id = $2)",
                &args![lot, stall, key],
            )
            .await?;
        if changed == 0 {
            return Ok(None);
        }
        let entry = Audit {
            at: now,
            actor: Some(by),
            subject: "lot",
            subject_id: lot.to_string(),
            action: "certificate_photo",
        };
        record(&mut tx, entry, None, Some(&serde_json::json!({ "photo": key }))).await?;
        tx.commit().await?;
        self.lot(lot).await
    }

    /// A product's lots on sale (not held, something of them not packed yet), oldest first: what
    /// residents see on the product's page.
    pub async fn on_sale(&self, product: i64) -> StoreResult<Vec<Lot>> {
        let rows: Vec<LotRow> = self
            .db
            .all(
                &format!("{LOT_SELECT} WHERE l.product_id = $1 AND l.held_at IS NULL AND l.remaining > 0 ORDER BY l.id LIMIT 20"),
                &args![product],
            )
            .await?;
        self.shown(rows).await
    }

    /// A stall's lots (or every stall's, for staff), newest first, at most `limit` before the
    /// lot `before`.
    pub async fn lots(
        &self,
        market: Option<shared::MarketId>,
        stall: Option<i64>,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Lot>> {
        let rows: Vec<LotRow> = self
            .db
            .all(
                &format!(
                    "{LOT_SELECT} WHERE ($1 IS NULL OR l.vendor_id = $1) AND ($2 IS NULL OR l.id < $2) \
                     AND ($4 IS NULL OR v.market_id = $4) \
                     ORDER BY l.id DESC LIMIT $3"
                ),
                &args![stall, before, limit, market.map(shared::MarketId::get)],
            )
            .await?;
        self.shown(rows).await
    }

    /// The market of the lot's stall; None: no such lot.
    pub async fn lot_market(&self, id: i64) -> StoreResult<Option<shared::MarketId>> {
        Ok(self
            .db
            .opt("SELECT v.market_id FROM lots l JOIN vendors v ON v.id = l.vendor_id WHERE l.id = $1", &args![id])
            .await?)
    }

    /// The public board (公示): every rapid test of the market's stalls' lots done in [from, to),
    /// oldest first, with its lot and what was done with it.
    pub async fn tests_between(
        &self,
        market: shared::MarketId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<TestBoardEntry>> {
        #[derive(Deserialize)]
        struct Row {
            lot_id: i64,
            method: String,
            passed: bool,
            tested_by: String,
            tested_at: DateTime<Utc>,
            product_name: String,
            vendor_name: String,
            cert_origin: String,
            held_at: Option<DateTime<Utc>>,
            hold_reason: Option<String>,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT t.lot_id, t.method, t.passed, t.tested_by, t.tested_at, p.name AS product_name, \
                 v.name AS vendor_name, l.cert_origin, l.held_at, l.hold_reason FROM lot_tests t \
                 JOIN lots l ON l.id = t.lot_id JOIN products p ON p.id = l.product_id JOIN vendors v ON v.id = l.vendor_id \
                 WHERE v.market_id = $3 AND t.tested_at >= $1 AND t.tested_at < $2 ORDER BY t.tested_at, t.id LIMIT 1000",
                &args![from, to, market],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| TestBoardEntry {
                lot_id: r.lot_id,
                product_name: r.product_name,
                vendor_name: r.vendor_name,
                origin: r.cert_origin,
                lot_status: if r.held_at.is_some() { "held" } else { "on_sale" }.into(),
                hold_reason: r.held_at.and(r.hold_reason),
                test: shown_test(TestRow {
                    lot_id: r.lot_id,
                    method: r.method,
                    passed: r.passed,
                    tested_by: r.tested_by,
                    tested_at: r.tested_at,
                }),
            })
            .collect())
    }

    /// The residents whose orders were packed from the lot: (user, order), to be told of a hold.
    pub async fn holders(&self, lot: i64) -> StoreResult<Vec<(i64, i64)>> {
        #[derive(Deserialize)]
        struct Row {
            user_id: i64,
            order_id: i64,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT DISTINCT o.user_id, o.id AS order_id FROM order_line_lots x JOIN orders o ON o.id = x.order_id \
                 WHERE x.lot_id = $1 AND o.status <> 'cancelled' ORDER BY o.id",
                &args![lot],
            )
            .await?;
        Ok(rows.into_iter().map(|r| (r.user_id, r.order_id)).collect())
    }

    /// The stalls whose orders not yet delivered were packed from the lot (the lot's own stall, or
    /// the stall that packed a 菜盒子 holding it): (the stall holder's account, those orders), to
    /// be told to take it back out.
    pub async fn stalls_holding(&self, lot: i64) -> StoreResult<Vec<(i64, Vec<i64>)>> {
        #[derive(Deserialize)]
        struct Row {
            owner_user_id: i64,
            order_id: i64,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT DISTINCT v.owner_user_id, o.id AS order_id FROM order_line_lots x \
                 JOIN orders o ON o.id = x.order_id \
                 JOIN order_lines ol ON ol.order_id = x.order_id AND ol.product_id = x.line_product_id \
                 JOIN vendors v ON v.id = ol.vendor_id \
                 WHERE x.lot_id = $1 AND v.owner_user_id IS NOT NULL \
                 AND o.status NOT IN ('delivered', 'cancelled', 'expired') ORDER BY v.owner_user_id, o.id",
                &args![lot],
            )
            .await?;
        let mut stalls: Vec<(i64, Vec<i64>)> = Vec::new();
        for r in rows {
            match stalls.last_mut() {
                Some((owner, orders)) if *owner == r.owner_user_id => orders.push(r.order_id),
                _ => stalls.push((r.owner_user_id, vec![r.order_id])),
            }
        }
        Ok(stalls)
    }

    /// Every order packed from the lot (its own lines and its boxes' contents, added up): the
    /// order, its household's door, the resident's phone, when it was delivered and who carried it
    /// (a recall's list).
    pub async fn trace(&self, lot: i64) -> StoreResult<Vec<LotTraceEntry>> {
        #[derive(Deserialize)]
        struct Row {
            order_id: i64,
            status: OrderStatus,
            quantity: i64,
            household_id: Option<i64>,
            building: Option<String>,
            community: Option<String>,
            unit: Option<String>,
            room: Option<String>,
            phone: Option<String>,
            delivered_at: Option<DateTime<Utc>>,
            volunteer_phone: Option<String>,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT o.id AS order_id, o.status, x.quantity, COALESCE(o.household_id, u.household_id) AS household_id, \
                 o.building, o.community, o.unit, o.room, u.phone, o.delivered_at, d.phone AS volunteer_phone \
                 FROM (SELECT order_id, CAST(SUM(quantity) AS BIGINT) AS quantity FROM order_line_lots \
                 WHERE lot_id = $1 GROUP BY order_id) x \
                 JOIN orders o ON o.id = x.order_id JOIN users u ON u.id = o.user_id \
                 LEFT JOIN users d ON d.id = o.delivered_by ORDER BY o.id",
                &args![lot],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| LotTraceEntry {
                order_id: shared::OrderId(r.order_id),
                status: r.status,
                quantity: r.quantity,
                household_id: r.household_id.map(shared::HouseholdId),
                building: r.building.unwrap_or_default(),
                community: r.community.unwrap_or_default(),
                unit: r.unit.unwrap_or_default(),
                room: r.room.unwrap_or_default(),
                phone: r.phone,
                delivered_at: r.delivered_at.map(to_api),
                volunteer_phone: r.volunteer_phone,
            })
            .collect())
    }
}

async fn insert_test(tx: &mut Tx, lot: i64, t: &crate::domain::lots::CheckedTest, by: i64) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO lot_tests (lot_id, method, passed, result, tested_by, tested_at, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &args![lot, t.method.clone(), t.passed, t.result.clone(), t.by.clone(), t.at, by],
    )
    .await?;
    Ok(())
}

/// The lot (locked) and its product's stock (locked), as a hold needs them; its stall and
/// product.
async fn hold_facts(tx: &mut Tx, lot: i64) -> StoreResult<Option<(i64, i64, HoldFacts)>> {
    #[derive(Deserialize)]
    struct Row {
        vendor_id: i64,
        product_id: i64,
        remaining: i64,
        held_at: Option<DateTime<Utc>>,
    }
    let sql = tx.locked("SELECT vendor_id, product_id, remaining, held_at FROM lots WHERE id = $1");
    let Some(row) = tx.opt::<Row>(&sql, &args![lot]).await? else { return Ok(None) };
    let sql = tx.locked("SELECT stock FROM products WHERE id = $1");
    let stock: i64 = tx.one(&sql, &args![row.product_id]).await?;
    Ok(Some((
        row.vendor_id,
        row.product_id,
        HoldFacts { held: row.held_at.is_some(), remaining: row.remaining, stock },
    )))
}

/// Holds a locked lot: off sale, what of it was for sale out of the stock.
async fn hold(
    tx: &mut Tx,
    (lot, product): (i64, i64),
    facts: &HoldFacts,
    reason: &str,
    by: i64,
    now: DateTime<Utc>,
) -> StoreResult<Result<(), Refusal>> {
    let off = match decide_hold(Some(facts), reason) {
        Ok(off) => off,
        Err(r) => return Ok(Err(r)),
    };
    tx.exec(
        "UPDATE lots SET held_at = $2, held_by = $3, hold_reason = $4 WHERE id = $1",
        &args![lot, now, by, reason.trim()],
    )
    .await?;
    if off > 0 {
        tx.exec("UPDATE products SET stock = stock - $2, updated_at = $3 WHERE id = $1", &args![product, off, now])
            .await?;
        ledger(tx, product, -off, "held", lot, by, now).await?;
    }
    let entry = Audit { at: now, actor: Some(by), subject: "lot", subject_id: lot.to_string(), action: "hold" };
    record(tx, entry, None, Some(&serde_json::json!({ "reason": reason.trim(), "off_sale": off }))).await?;
    Ok(Ok(()))
}

/// Packing draws each of an order's lines (product, quantity) from lots on sale, oldest first
/// (`domain::lots::draw_oldest_first`): a product's line from its own, a 菜盒子's from its
/// contents' (`domain::lots::draws`), and records which for which line: called by the stall's
/// "packed" step in its own transaction.
pub(crate) async fn draw_lots(tx: &mut Tx, order_id: i64, lines: &[(i64, i64)]) -> StoreResult<()> {
    #[derive(Deserialize)]
    struct Open {
        id: i64,
        remaining: i64,
    }
    #[derive(Deserialize)]
    struct Item {
        box_id: i64,
        product_id: i64,
        quantity: i64,
    }
    if lines.is_empty() {
        return Ok(());
    }
    // The contents of the lines that are boxes, in one read.
    let ids: Vec<i64> = lines.iter().map(|(line, _)| *line).collect();
    let sql = format!(
        "SELECT box_id, product_id, quantity FROM box_items WHERE box_id IN {} ORDER BY box_id, product_id",
        tx.list(1)
    );
    let items: Vec<Item> = tx.all(&sql, &[super::db::Arg::json(&ids)]).await?;
    let mut contents: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for i in items {
        contents.entry(i.box_id).or_default().push((i.product_id, i.quantity));
    }
    for Draw { line, product, quantity: want } in draws(lines, &contents) {
        let sql = tx.locked(
            "SELECT id, remaining FROM lots WHERE product_id = $1 AND held_at IS NULL AND remaining > 0 ORDER BY id",
        );
        let open: Vec<Open> = tx.all(&sql, &args![product]).await?;
        let lots: Vec<(i64, i64)> = open.iter().map(|o| (o.id, o.remaining)).collect();
        for (lot, take) in draw_oldest_first(&lots, want) {
            tx.exec("UPDATE lots SET remaining = remaining - $2 WHERE id = $1", &args![lot, take]).await?;
            tx.exec(
                "INSERT INTO order_line_lots (order_id, line_product_id, product_id, lot_id, quantity) \
                 VALUES ($1, $2, $3, $4, $5)",
                &args![order_id, line, product, lot, take],
            )
            .await?;
        }
    }
    Ok(())
}
