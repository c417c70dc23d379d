//! Producers, their offers and the stalls' purchase lines (产销对接), and the supply plan's
//! counts. What may be offered and ordered is `domain::supply`'s; this keeps the rows.

use super::accounts::Sessions;
use super::db::{args, Db, Tx};
use super::setup::{record, Audit};
use super::StoreResult;
use crate::domain::supply::{check_offer, cutoff_at, decide_purchase, CheckedProducer, PurchaseFacts};
use crate::domain::time::{shanghai_day, to_api};
use crate::domain::Refusal;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::api::{NewOffer, Offer, OfferDay, Producer, PurchaseLine, PurchaseOrder, PurchaseRequest, SupplyPlanRow};
use shared::{ErrorCode, Fen, ProductId};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub struct Producers {
    db: Db,
    sessions: Arc<Sessions>,
}

const PRODUCER_SELECT: &str = "SELECT p.id, p.name, p.origin, p.contact, p.cutoff_hour, u.phone \
     FROM producers p LEFT JOIN users u ON u.id = p.owner_user_id";

#[derive(Deserialize)]
struct ProducerRow {
    id: i64,
    name: String,
    origin: String,
    contact: String,
    cutoff_hour: i64,
    phone: Option<String>,
}

impl From<ProducerRow> for Producer {
    fn from(r: ProducerRow) -> Self {
        Producer {
            id: r.id,
            name: r.name,
            origin: r.origin,
            contact: r.contact,
            cutoff_hour: r.cutoff_hour,
            phone: r.phone,
        }
    }
}

const OFFER_SELECT: &str = "SELECT o.id, o.producer_id, pr.name AS producer_name, pr.cutoff_hour, o.product, \
     o.quantity, o.unit, o.price_fen, o.origin, o.withdrawn_at FROM offers o JOIN producers pr ON pr.id = o.producer_id";

#[derive(Deserialize)]
struct OfferRow {
    id: i64,
    producer_id: i64,
    producer_name: String,
    cutoff_hour: i64,
    product: String,
    quantity: i64,
    unit: String,
    price_fen: i64,
    origin: String,
    withdrawn_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct DayRow {
    offer_id: i64,
    day: String,
    ordered: i64,
}

const LINE_SELECT: &str = "SELECT l.offer_id, l.day, o.producer_id, pr.name AS producer_name, pr.cutoff_hour, \
     o.product, o.unit, l.price_fen, l.quantity, l.product_id, p.name AS product_name, l.vendor_id, v.stall_no, \
     v.name AS vendor_name FROM purchase_lines l JOIN offers o ON o.id = l.offer_id \
     JOIN producers pr ON pr.id = o.producer_id JOIN products p ON p.id = l.product_id JOIN vendors v ON v.id = l.vendor_id";

#[derive(Deserialize)]
struct LineRow {
    offer_id: i64,
    day: String,
    producer_id: i64,
    producer_name: String,
    cutoff_hour: i64,
    product: String,
    unit: String,
    price_fen: i64,
    quantity: i64,
    product_id: i64,
    product_name: String,
    vendor_id: i64,
    stall_no: String,
    vendor_name: String,
}

/// When orders for `day` close and whether they still may change.
fn closes(day: &str, cutoff_hour: i64, now: DateTime<Utc>) -> (String, bool) {
    match cutoff_at(day, cutoff_hour) {
        Ok(at) => (to_api(at), now < at),
        Err(_) => (String::new(), false),
    }
}

fn line_of(r: LineRow, now: DateTime<Utc>) -> PurchaseLine {
    let (cutoff_at, open) = closes(&r.day, r.cutoff_hour, now);
    PurchaseLine {
        offer_id: r.offer_id,
        day: r.day,
        producer_id: r.producer_id,
        producer_name: r.producer_name,
        product: r.product,
        unit: r.unit,
        price_fen: Fen::stored(r.price_fen),
        quantity: r.quantity,
        product_id: ProductId(r.product_id),
        product_name: r.product_name,
        vendor_id: r.vendor_id,
        stall_no: r.stall_no,
        vendor_name: r.vendor_name,
        cutoff_at,
        open,
    }
}

fn bad_day(day: &str) -> Refusal {
    Refusal::field("day", &format!("{day:?} is not a date YYYY-MM-DD"))
}

impl Producers {
    pub fn new(db: Db, sessions: Arc<Sessions>) -> Self {
        Self { db, sessions }
    }

    /// Staff add a producer; the account of its phone (made if new) gets the `producer` role and
    /// speaks for it. A name taken, or a phone that speaks for another producer: refused.
    pub async fn add(
        &self,
        p: &CheckedProducer,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Producer, Refusal>> {
        let mut tx = self.db.begin().await?;
        tx.exec(
            "INSERT INTO users (phone, created_at) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING",
            &args![p.phone.as_str(), now],
        )
        .await?;
        let sql = tx.locked("SELECT id FROM users WHERE phone = $1");
        let user: i64 = tx.one(&sql, &args![p.phone.as_str()]).await?;
        let speaks: Option<String> =
            tx.opt("SELECT name FROM producers WHERE owner_user_id = $1", &args![user]).await?;
        if let Some(name) = speaks {
            return Ok(Err(Refusal::new(
                ErrorCode::WrongState,
                format!("这个手机号已代表“{name}” (this phone speaks for {name} already)"),
            )));
        }
        let taken: Option<i64> = tx.opt("SELECT id FROM producers WHERE name = $1", &args![p.name.as_str()]).await?;
        if taken.is_some() {
            return Ok(Err(Refusal::new(
                ErrorCode::WrongState,
                format!("已有“{}” (a producer of this name exists)", p.name),
            )));
        }
        let id: i64 = tx
            .one(
                "INSERT INTO producers (name, origin, contact, cutoff_hour, owner_user_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &args![p.name.as_str(), p.origin.as_str(), p.contact.as_str(), p.cutoff_hour, user, now],
            )
            .await?;
        tx.exec(
            "INSERT INTO user_roles (user_id, role) VALUES ($1, 'producer') ON CONFLICT (user_id, role) DO NOTHING",
            &args![user],
        )
        .await?;
        let entry = Audit { at: now, actor: Some(by), subject: "producer", subject_id: id.to_string(), action: "add" };
        let after = serde_json::json!({ "name": p.name, "origin": p.origin, "contact": p.contact, "cutoff_hour": p.cutoff_hour, "user_id": user });
        record(&mut tx, entry, None, Some(&after)).await?;
        tx.commit().await?;
        self.sessions.forget_user(user);
        Ok(Ok(self.producer(id).await?.ok_or(sqlx::Error::RowNotFound)?))
    }

    pub async fn producer(&self, id: i64) -> StoreResult<Option<Producer>> {
        Ok(self
            .db
            .opt::<ProducerRow>(&format!("{PRODUCER_SELECT} WHERE p.id = $1"), &args![id])
            .await?
            .map(Producer::from))
    }

    /// The producer an account speaks for.
    pub async fn of_user(&self, user: i64) -> StoreResult<Option<Producer>> {
        let sql = format!("{PRODUCER_SELECT} WHERE p.owner_user_id = $1");
        Ok(self.db.opt::<ProducerRow>(&sql, &args![user]).await?.map(Producer::from))
    }

    pub async fn all(&self) -> StoreResult<Vec<Producer>> {
        let rows: Vec<ProducerRow> =
            self.db.all(&format!("{PRODUCER_SELECT} ORDER BY p.id LIMIT 500"), &args![]).await?;
        Ok(rows.into_iter().map(Producer::from).collect())
    }

    /// Offers with their days (those from `from_day` on), in the order of `rows`.
    async fn shown(&self, rows: Vec<OfferRow>, from_day: &str, now: DateTime<Utc>) -> StoreResult<Vec<Offer>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut days: HashMap<i64, Vec<DayRow>> = HashMap::new();
        if !ids.is_empty() {
            let sql = format!(
                "SELECT offer_id, day, ordered FROM offer_days WHERE offer_id IN {} AND day >= $2 ORDER BY day",
                self.db.list(1)
            );
            for d in self.db.all::<DayRow>(&sql, &[super::db::Arg::json(&ids), from_day.into()]).await? {
                days.entry(d.offer_id).or_default().push(d);
            }
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let offer_days = days
                    .remove(&r.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| {
                        let (cutoff_at, open) = closes(&d.day, r.cutoff_hour, now);
                        OfferDay {
                            left: (r.quantity - d.ordered).max(0),
                            day: d.day,
                            ordered: d.ordered,
                            cutoff_at,
                            open,
                        }
                    })
                    .collect();
                Offer {
                    id: r.id,
                    producer_id: r.producer_id,
                    producer_name: r.producer_name,
                    product: r.product,
                    quantity: r.quantity,
                    unit: r.unit,
                    price_fen: Fen::stored(r.price_fen),
                    origin: r.origin,
                    withdrawn: r.withdrawn_at.is_some(),
                    days: offer_days,
                }
            })
            .collect())
    }

    /// A producer publishes an offer (`domain::supply::check_offer`) with its delivery days.
    pub async fn publish(
        &self,
        producer: &Producer,
        o: &NewOffer,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Offer, Refusal>> {
        let offer = match check_offer(o, &producer.origin, producer.cutoff_hour, now) {
            Ok(offer) => offer,
            Err(r) => return Ok(Err(r)),
        };
        let mut tx = self.db.begin().await?;
        let id: i64 = tx
            .one(
                "INSERT INTO offers (producer_id, product, quantity, unit, price_fen, origin, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                &args![
                    producer.id,
                    offer.product.as_str(),
                    offer.quantity,
                    offer.unit.as_str(),
                    offer.price_fen,
                    offer.origin.as_str(),
                    now
                ],
            )
            .await?;
        for day in &offer.days {
            tx.exec("INSERT INTO offer_days (offer_id, day) VALUES ($1, $2)", &args![id, day.as_str()]).await?;
        }
        tx.commit().await?;
        let first = offer.days.first().cloned().unwrap_or_default();
        Ok(Ok(self.offer(id, &first, now).await?.ok_or(sqlx::Error::RowNotFound)?))
    }

    async fn offer(&self, id: i64, from_day: &str, now: DateTime<Utc>) -> StoreResult<Option<Offer>> {
        let rows: Vec<OfferRow> = self.db.all(&format!("{OFFER_SELECT} WHERE o.id = $1"), &args![id]).await?;
        Ok(self.shown(rows, from_day, now).await?.pop())
    }

    /// The producer withdraws an offer: nothing more may be ordered of it (what was ordered
    /// stays). None: not theirs.
    pub async fn withdraw(
        &self,
        producer: i64,
        id: i64,
        today: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Offer>> {
        let changed = self
            .db
            .exec(
                "UPDATE offers SET withdrawn_at = COALESCE(withdrawn_at, $3) WHERE id = $1 AND producer_id = $2",
                &args![id, producer, now],
            )
            .await?;
        if changed == 0 {
            return Ok(None);
        }
        self.offer(id, today, now).await
    }

    /// A producer's own offers, newest first, with their days from `from_day` on.
    pub async fn own_offers(&self, producer: i64, from_day: &str, now: DateTime<Utc>) -> StoreResult<Vec<Offer>> {
        let rows: Vec<OfferRow> = self
            .db
            .all(&format!("{OFFER_SELECT} WHERE o.producer_id = $1 ORDER BY o.id DESC LIMIT 200"), &args![producer])
            .await?;
        self.shown(rows, from_day, now).await
    }

    /// Every offer delivering on `day` and not withdrawn, with that day only: what stalls may
    /// order from.
    pub async fn offers_on(&self, day: &str, now: DateTime<Utc>) -> StoreResult<Vec<Offer>> {
        let rows: Vec<OfferRow> = self
            .db
            .all(
                &format!(
                    "{OFFER_SELECT} WHERE o.withdrawn_at IS NULL AND EXISTS \
                     (SELECT 1 FROM offer_days d WHERE d.offer_id = o.id AND d.day = $1) ORDER BY o.product, o.id LIMIT 500"
                ),
                &args![day],
            )
            .await?;
        let mut offers = self.shown(rows, day, now).await?;
        for o in &mut offers {
            o.days.retain(|d| d.day == day);
        }
        Ok(offers)
    }

    /// A stall sets what it wants of offers on a day (`domain::supply::decide_purchase` for each
    /// line), all or nothing; the day's lines of the stall as they are after.
    pub async fn order(
        &self,
        stall: i64,
        req: &PurchaseRequest,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Vec<PurchaseLine>, Refusal>> {
        let day = req.day.trim();
        if shanghai_day(day).is_err() {
            return Ok(Err(bad_day(day)));
        }
        if req.lines.is_empty() || req.lines.len() > 100 {
            return Ok(Err(Refusal::field("lines", "1–100 lines")));
        }
        let mut asks: Vec<&shared::api::PurchaseAsk> = req.lines.iter().collect();
        // One order of locking for every stall, so two stalls never wait on each other.
        asks.sort_by_key(|a| a.offer_id);
        if asks.windows(2).any(|w| w[0].offer_id == w[1].offer_id) {
            return Ok(Err(Refusal::field("lines", "each offer once")));
        }
        let mut tx = self.db.begin().await?;
        for ask in asks {
            let facts = match purchase_facts(&mut tx, stall, ask, day).await? {
                Ok(facts) => facts,
                Err(r) => return Ok(Err(r)),
            };
            let change = match decide_purchase(&facts, ask.quantity, now) {
                Ok(change) => change,
                Err(r) => return Ok(Err(r)),
            };
            if change.quantity == 0 {
                tx.exec(
                    "DELETE FROM purchase_lines WHERE offer_id = $1 AND day = $2 AND vendor_id = $3",
                    &args![ask.offer_id, day, stall],
                )
                .await?;
            } else {
                tx.exec(
                    "INSERT INTO purchase_lines (offer_id, day, vendor_id, product_id, quantity, price_fen, updated_at) \
                     SELECT $1, $2, $3, $4, $5, o.price_fen, $6 FROM offers o WHERE o.id = $1 \
                     ON CONFLICT (offer_id, day, vendor_id) DO UPDATE SET product_id = excluded.product_id, \
                     quantity = excluded.quantity, updated_at = excluded.updated_at",
                    &args![ask.offer_id, day, stall, change.product_id, change.quantity, now],
                )
                .await?;
            }
            tx.exec(
                "UPDATE offer_days SET ordered = $3 WHERE offer_id = $1 AND day = $2",
                &args![ask.offer_id, day, change.ordered],
            )
            .await?;
        }
        let entry = Audit {
            at: now,
            actor: Some(by),
            subject: "purchase",
            subject_id: format!("{stall}:{day}"),
            action: "order",
        };
        record(&mut tx, entry, None, Some(&req.lines)).await?;
        tx.commit().await?;
        Ok(Ok(self.stall_lines(stall, day, now).await?))
    }

    /// A stall's purchase lines for a day.
    pub async fn stall_lines(&self, stall: i64, day: &str, now: DateTime<Utc>) -> StoreResult<Vec<PurchaseLine>> {
        let rows: Vec<LineRow> = self
            .db
            .all(
                &format!("{LINE_SELECT} WHERE l.vendor_id = $1 AND l.day = $2 ORDER BY pr.name, o.product, l.offer_id"),
                &args![stall, day],
            )
            .await?;
        Ok(rows.into_iter().map(|r| line_of(r, now)).collect())
    }

    /// A producer's purchase orders, one per delivery day from `from_day` on (at most 31 days),
    /// each with every stall's lines.
    pub async fn purchase_orders(
        &self,
        producer: i64,
        from_day: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<PurchaseOrder>> {
        let rows: Vec<LineRow> = self
            .db
            .all(
                &format!(
                    "{LINE_SELECT} WHERE o.producer_id = $1 AND l.day >= $2 \
                     ORDER BY l.day, o.product, l.offer_id, v.stall_no LIMIT 5000"
                ),
                &args![producer, from_day],
            )
            .await?;
        let mut days: BTreeMap<String, PurchaseOrder> = BTreeMap::new();
        for r in rows {
            let line = line_of(r, now);
            let order = days.entry(line.day.clone()).or_insert_with(|| PurchaseOrder {
                producer_id: line.producer_id,
                producer_name: line.producer_name.clone(),
                day: line.day.clone(),
                cutoff_at: line.cutoff_at.clone(),
                open: line.open,
                total_fen: Fen::ZERO,
                lines: Vec::new(),
            });
            order.total_fen = Fen::stored(order.total_fen.get() + line.price_fen.times(line.quantity).get());
            order.lines.push(line);
        }
        Ok(days.into_values().take(31).collect())
    }

    /// Tells each producer whose purchase order for today or tomorrow closed by `now` what to
    /// deliver, once (the notice's key is the producer and the day; one already told is not
    /// read again, so the job writes nothing on most passes). The number told.
    pub async fn announce_closed(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        #[derive(Deserialize)]
        struct Due {
            producer_id: i64,
            owner_user_id: i64,
            cutoff_hour: i64,
            day: String,
            lines: i64,
            total_fen: i64,
        }
        let today = crate::domain::time::shanghai_date(now);
        let tomorrow = crate::domain::time::shanghai_date(now + chrono::Duration::days(1));
        let rows: Vec<Due> = self
            .db
            .all(
                "SELECT pr.id AS producer_id, pr.owner_user_id, pr.cutoff_hour, l.day, COUNT(*) AS lines, \
                 CAST(SUM(l.quantity * l.price_fen) AS BIGINT) AS total_fen FROM purchase_lines l \
                 JOIN offers o ON o.id = l.offer_id JOIN producers pr ON pr.id = o.producer_id \
                 WHERE l.day IN ($1, $2) AND pr.owner_user_id IS NOT NULL \
                 AND NOT EXISTS (SELECT 1 FROM notices n \
                     WHERE n.dedupe = 'po-closed:' || CAST(pr.id AS TEXT) || ':' || l.day) \
                 GROUP BY pr.id, pr.owner_user_id, pr.cutoff_hour, l.day ORDER BY pr.id, l.day",
                &args![today, tomorrow],
            )
            .await?;
        let mut told = 0;
        for d in rows.into_iter().filter(|d| crate::domain::supply::closed(&d.day, d.cutoff_hour, now)) {
            let text = format!(
                "{} 的采购单已截止：{} 行，合计 {}。请按装车单送货。",
                d.day,
                d.lines,
                Fen::stored(d.total_fen).yuan()
            );
            let key = format!("po-closed:{}:{}", d.producer_id, d.day);
            self.db
                .exec(
                    super::notices::NOTICE_INSERT,
                    &args![d.owner_user_id, None::<i64>, "purchase_order_closed", key, "采购单已截止", text, now],
                )
                .await?;
            told += 1;
        }
        Ok(told)
    }

    /// The supply plan's counts for a day (its UTC bounds `[start, end)`): every active product
    /// with residents' demand or something on order that day. `domain::supply::plan` decides
    /// what is short.
    pub async fn plan_rows(
        &self,
        market: shared::MarketId,
        day: &str,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
    ) -> StoreResult<Vec<SupplyPlanRow>> {
        #[derive(Deserialize)]
        struct Count {
            product_id: i64,
            n: i64,
        }
        let ordered: Vec<Count> = self
            .db
            .all(
                "SELECT l.product_id, CAST(SUM(l.quantity) AS BIGINT) AS n FROM slots s \
                 JOIN orders o ON o.slot_id = s.id JOIN order_lines l ON l.order_id = o.id \
                 WHERE s.starts_at >= $1 AND s.starts_at < $2 AND o.status NOT IN ('cancelled', 'expired') \
                 GROUP BY l.product_id",
                &args![start, end],
            )
            .await?;
        let shared_out: Vec<Count> = self
            .db
            .all(
                "SELECT sl.product_id, CAST(SUM(sl.quantity) AS BIGINT) AS n FROM slots s \
                 JOIN group_buys g ON g.slot_id = s.id \
                 JOIN group_buy_shares sh ON sh.group_buy_id = g.id \
                 JOIN group_buy_share_lines sl ON sl.group_buy_id = sh.group_buy_id AND sl.household_id = sh.household_id \
                 WHERE s.starts_at >= $1 AND s.starts_at < $2 AND g.status IN ('open', 'confirmed') \
                 AND sh.order_id IS NULL GROUP BY sl.product_id",
                &args![start, end],
            )
            .await?;
        let on_order: Vec<Count> = self
            .db
            .all(
                "SELECT product_id, CAST(SUM(quantity) AS BIGINT) AS n FROM purchase_lines WHERE day = $1 GROUP BY product_id",
                &args![day],
            )
            .await?;
        let mut counts: HashMap<i64, [i64; 3]> = HashMap::new();
        for (i, list) in [ordered, shared_out, on_order].into_iter().enumerate() {
            for c in list {
                counts.entry(c.product_id).or_default()[i] += c.n;
            }
        }
        if counts.is_empty() {
            return Ok(Vec::new());
        }
        #[derive(Deserialize)]
        struct ProductRow {
            id: i64,
            name: String,
            unit: String,
            vendor_id: i64,
            stall_no: String,
            vendor_name: String,
            stock: i64,
        }
        let ids: Vec<i64> = counts.keys().copied().collect();
        let sql = format!(
            "SELECT p.id, p.name, p.unit, p.vendor_id, v.stall_no, v.name AS vendor_name, p.stock \
             FROM products p JOIN vendors v ON v.id = p.vendor_id WHERE p.id IN {} AND v.market_id = $2",
            self.db.list(1)
        );
        let products: Vec<ProductRow> = self.db.all(&sql, &args![super::db::Arg::json(&ids), market]).await?;
        Ok(products
            .into_iter()
            .map(|p| {
                let [ordered, group_buy, on_order] = counts.get(&p.id).copied().unwrap_or_default();
                SupplyPlanRow {
                    product_id: ProductId(p.id),
                    product_name: p.name,
                    unit: p.unit,
                    vendor_id: p.vendor_id,
                    stall_no: p.stall_no,
                    vendor_name: p.vendor_name,
                    ordered,
                    group_buy,
                    stock: p.stock,
                    on_order,
                    short: false,
                }
            })
            .collect())
    }
}

/// The offer's day (locked: two stalls ordering its last units wait for each other), the
/// stall's line on it and the stall's good the line is for.
async fn purchase_facts(
    tx: &mut Tx,
    stall: i64,
    ask: &shared::api::PurchaseAsk,
    day: &str,
) -> StoreResult<Result<PurchaseFacts, Refusal>> {
    #[derive(Deserialize)]
    struct OfferDayRow {
        ordered: i64,
        product: String,
        unit: String,
        quantity: i64,
        withdrawn_at: Option<DateTime<Utc>>,
        cutoff_hour: i64,
    }
    let sql = tx.locked_of(
        "SELECT d.ordered, o.product, o.unit, o.quantity, o.withdrawn_at, pr.cutoff_hour FROM offer_days d \
         JOIN offers o ON o.id = d.offer_id JOIN producers pr ON pr.id = o.producer_id \
         WHERE d.offer_id = $1 AND d.day = $2",
        "d",
    );
    let Some(offer) = tx.opt::<OfferDayRow>(&sql, &args![ask.offer_id, day]).await? else {
        return Ok(Err(Refusal::new(
            ErrorCode::NotFound,
            format!("没有这批供货：{}号供货{day}不送 (offer {} does not deliver on {day})", ask.offer_id, ask.offer_id),
        )));
    };
    #[derive(Deserialize)]
    struct Mine {
        quantity: i64,
        product_id: i64,
    }
    let mine: Option<Mine> = tx
        .opt(
            "SELECT quantity, product_id FROM purchase_lines WHERE offer_id = $1 AND day = $2 AND vendor_id = $3",
            &args![ask.offer_id, day, stall],
        )
        .await?;
    #[derive(Deserialize)]
    struct Good {
        id: i64,
        unit: String,
    }
    let good: Option<Good> = match (ask.product_id, &mine) {
        (Some(id), _) => {
            tx.opt("SELECT id, unit FROM products WHERE id = $1 AND vendor_id = $2", &args![id, stall]).await?
        }
        (None, Some(m)) => tx.opt("SELECT id, unit FROM products WHERE id = $1", &args![m.product_id]).await?,
        (None, None) => {
            tx.opt(
                "SELECT id, unit FROM products WHERE vendor_id = $1 AND name = $2 ORDER BY active DESC, id LIMIT 1",
                &args![stall, offer.product.as_str()],
            )
            .await?
        }
    };
    let Ok(cutoff) = cutoff_at(day, offer.cutoff_hour) else { return Ok(Err(bad_day(day))) };
    Ok(Ok(PurchaseFacts {
        offer_product: offer.product,
        offer_unit: offer.unit,
        offer_quantity: offer.quantity,
        ordered: offer.ordered,
        withdrawn: offer.withdrawn_at.is_some(),
        cutoff_at: cutoff,
        mine: mine.map_or(0, |m| m.quantity),
        product: good.map(|g| (g.id, g.unit)),
    }))
}
