//! Checkout: what a valid request is, why a checkout can be refused, what a refusal says, and
//! the decision itself: `decide` takes a batch of checkouts and a snapshot of the rows they need
//! and says, for each in turn, the order it makes or why it is refused, and how the rows change.
//! Both stores only load (and lock) the snapshot, call `decide` and write what it says.

use super::area::{pick_building, BuildingAt};
use super::households::{decide_membership, JoinFacts};
use super::order::{parts_of, LineRecord, OrderRecord};
use super::points::{point_refusal, PointRow};
use super::slots::{NeedFlags, SlotState};
use super::Refusal;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::api::{Address, CheckoutRequest, Membership, Order};
use shared::order::{OrderStatus, Payment, SlotKind};
use shared::{ErrorCode, Fen, HouseholdId, MarketId, OrderId, ProductId, SlotId};
use std::collections::{HashMap, HashSet};

pub const MAX_NOTE_CHARS: usize = 200;
pub const MAX_KEY_CHARS: usize = 128;
/// One line of a cart: at most this many of one product.
pub const MAX_LINE_QUANTITY: i64 = 99;

/// Why the market says no to a checkout or a cart line: one `Refusal` each, with its code.
impl Refusal {
    pub fn cart_empty() -> Self {
        Refusal::new(ErrorCode::CartEmpty, "购物车是空的 (the cart is empty)")
    }

    pub fn no_such_slot() -> Self {
        Refusal::new(ErrorCode::NotFound, "没有这个配送时段 (no such time slot)")
    }

    pub fn slot_closed() -> Self {
        Refusal::new(ErrorCode::SlotClosed, "该时段已截止下单 (this slot no longer takes orders)")
    }

    pub fn slot_full() -> Self {
        Refusal::new(ErrorCode::SlotFull, "该时段已约满，请选择其他时段 (this slot is full; choose another)")
    }

    /// `left` of the product's `unit` can still be had (0: sold out or no longer sold).
    pub fn out_of_stock(name: &str, unit: &str, left: i64) -> Self {
        let message = if left <= 0 {
            format!("{name} 已售完 ({name} is sold out)")
        } else {
            format!("{name} 只剩{left}{unit} (only {left} {unit} left)")
        };
        Refusal::new(ErrorCode::OutOfStock, message)
    }

    pub fn over_limit(name: &str, limit: i64) -> Self {
        Refusal::new(ErrorCode::OverLimit, format!("{name} 每单限购{limit} ({name}: at most {limit} per order)"))
    }

    /// The household has as many open orders in the slot as the slot allows one household.
    pub fn household_slot_taken(limit: i64) -> Self {
        let message = if limit <= 1 {
            "您家在这个时段已有一张订单，请选择其他时段 (your household already has an order in this slot; \
             choose another)"
                .to_owned()
        } else {
            format!(
                "您家在这个时段已有{limit}张订单，请选择其他时段 (your household already has {limit} orders in this \
                 slot; choose another)"
            )
        };
        Refusal::new(ErrorCode::HouseholdSlotTaken, message)
    }

    pub fn address_needed() -> Self {
        Refusal::new(
            ErrorCode::InvalidField,
            "送货上门需要填写楼号、单元和房间号 (delivery needs building, unit and room)",
        )
    }

    /// The address names a building the community does not have.
    pub fn no_building(building: &str) -> Self {
        Refusal::new(ErrorCode::InvalidField, format!("没有{building}号楼 (no building {building})"))
    }

    /// A product in the cart is sold by another market's stall than the slot's market.
    pub fn other_market(name: &str) -> Self {
        Refusal::new(
            ErrorCode::InvalidField,
            format!("{name} 是另一个市场的商品，请从购物车里删去 ({name} is sold by another market; remove it from the cart)"),
        )
    }
}

/// Checks the parts of a checkout request that need no database.
pub fn validate(req: &CheckoutRequest) -> Result<(), (ErrorCode, String)> {
    if let Some(note) = &req.note {
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err((ErrorCode::InvalidField, format!("note is limited to {MAX_NOTE_CHARS} characters")));
        }
        if note.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err((
                ErrorCode::InvalidField,
                "备注里有不能显示的字符 (the note has characters that cannot be shown)".into(),
            ));
        }
    }
    if let Some(a) = &req.address {
        validate_address(a)?;
    }
    Ok(())
}

pub fn validate_address(a: &Address) -> Result<(), (ErrorCode, String)> {
    for (field, value) in [("building", &a.building), ("unit", &a.unit), ("room", &a.room)] {
        if !is_address_part(value) {
            return Err((ErrorCode::InvalidField, format!("address.{field} must be a short number such as 3 or 501")));
        }
    }
    if let Some(c) = &a.community {
        if c.trim().chars().count() > 40 || c.chars().any(char::is_control) {
            return Err((ErrorCode::InvalidField, "address.community: at most 40 characters".into()));
        }
    }
    Ok(())
}

/// A building, unit or room as the market writes them: a short number such as 3, 2 or 501
/// (letters and `-` allowed: 3A, B-2), surrounding spaces ignored.
pub fn is_address_part(value: &str) -> bool {
    let v = value.trim();
    !v.is_empty() && v.chars().count() <= 10 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

pub fn validate_key(key: &str) -> Result<(), (ErrorCode, String)> {
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err((
            ErrorCode::InvalidField,
            format!("Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters"),
        ));
    }
    Ok(())
}

/// A fingerprint of the request body, so a reused key with a different body is recognised.
pub fn request_hash(req: &CheckoutRequest) -> String {
    let canonical = serde_json::to_string(req).unwrap_or_default();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// Six digits the resident shows the volunteer at the door.
pub fn new_handoff_code() -> String {
    use rand::Rng;
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
}

/// What a line of a cart or an order needs of its product.
#[derive(Debug, Clone, Copy)]
pub struct Offer<'a> {
    pub name: &'a str,
    pub unit: &'a str,
    pub active: bool,
    pub stock: i64,
    pub per_order_limit: Option<i64>,
}

/// Why `quantity` of a product cannot be bought in one order, if it cannot: no longer sold or
/// not enough left, then more than the per-order limit. The one rule for a cart line (refused
/// when put in, flagged when it went bad since) and for a checkout's line.
pub fn line_refusal(offer: Offer<'_>, quantity: i64) -> Option<Refusal> {
    if !offer.active || offer.stock < quantity {
        let left = if offer.active { offer.stock.max(0) } else { 0 };
        return Some(Refusal::out_of_stock(offer.name, offer.unit, left));
    }
    offer.per_order_limit.filter(|limit| quantity > *limit).map(|limit| Refusal::over_limit(offer.name, limit))
}

// ---------- the decision ----------

/// One press of "pay", as the route parsed it (the priority and the address to deliver to are
/// decided from the snapshot).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutJob {
    pub user_id: i64,
    pub key: String,
    pub request_hash: String,
    pub slot_id: SlotId,
    pub payment: Payment,
    /// As the request gave it; without one, the home on record.
    pub address: Option<Address>,
    pub note: Option<String>,
    pub handoff_code: String,
    pub now: DateTime<Utc>,
    /// When the order expires if it waits for WeChat payment.
    pub pay_by: DateTime<Utc>,
    /// What to buy, (product, quantity) in product order, instead of the resident's cart (a
    /// standing order's items); the cart is then left as it is.
    pub lines: Option<Vec<(ProductId, i64)>>,
    /// Collected at this pickup point instead of at the door.
    pub pickup_point_id: Option<i64>,
}

impl CheckoutJob {
    /// The building number the request names, trimmed, if any.
    pub fn building(&self) -> Option<&str> {
        self.address.as_ref().map(|a| a.building.trim())
    }
}

/// An Idempotency-Key that was already there before this batch.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredKey {
    pub request_hash: String,
    /// Its first answer (kept as JSON text); none while its checkout is still running.
    #[serde(deserialize_with = "Answer::from_stored")]
    pub answer: Option<Answer>,
}

/// A resident's household as on record.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Home {
    pub building: String,
    pub unit: String,
    pub room: String,
    pub flags: NeedFlags,
    /// The household they are a member of (none: a request still waiting, or a new household
    /// made by this batch).
    #[serde(default)]
    pub household_id: Option<HouseholdId>,
    /// The market its building belongs to: the resident's market.
    #[serde(default)]
    pub market_id: MarketId,
    /// The community its building is in.
    #[serde(default)]
    pub community: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlotRow {
    pub id: SlotId,
    pub market_id: MarketId,
    pub kind: SlotKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub state: SlotState,
}

/// A product as stored, with its stall's name: what the market's rules and the catalogue read.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct ProductRow {
    pub id: ProductId,
    pub vendor_id: i64,
    pub vendor_name: String,
    pub name: String,
    pub unit: String,
    pub price_fen: Fen,
    pub stock: i64,
    pub per_order_limit: Option<i64>,
    /// On sale (a product that was ever ordered is retired, never deleted).
    pub active: bool,
    pub category: String,
    pub is_box: bool,
    pub description: String,
    /// Its category's place in the catalogue's order.
    pub category_sort: i64,
    /// Where it comes from, e.g. `山东寿光` (empty: not said).
    #[serde(default)]
    pub origin: String,
    /// The name its photo is stored under (`photos.rs`), when it has one.
    #[serde(default)]
    pub photo: Option<String>,
    /// Its stall is closed (停业); the day it rests (休市), if any.
    #[serde(default)]
    pub stall_closed: bool,
    #[serde(default)]
    pub stall_closed_on: Option<String>,
    /// Its stall's market.
    #[serde(default)]
    pub market_id: MarketId,
}

/// A household that already exists at an address the batch names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HouseholdAt {
    pub id: HouseholdId,
    pub flags: NeedFlags,
    /// Someone is a member of it already.
    #[serde(default)]
    pub has_members: bool,
    /// The batch's residents whose phones are on its register.
    #[serde(default)]
    pub registered: Vec<i64>,
}

/// An open order (not a group-buy's) already in one of the batch's slots, of a resident of the
/// batch or of a member of a household the batch's residents are (or become) members of: who
/// placed it and the household they are a member of, if any.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BookedOrder {
    pub slot_id: SlotId,
    pub user_id: i64,
    pub household_id: Option<HouseholdId>,
}

impl BookedOrder {
    /// Whether it is an order of `user`'s household in `slot`: theirs, or of a fellow member.
    /// A resident who is no member anywhere (a request still waiting) is a household of one, so
    /// an order to someone's door never takes that household's turn.
    fn is_of(&self, slot: SlotId, user: i64, household: Option<HouseholdId>) -> bool {
        self.slot_id == slot && (self.user_id == user || household.is_some_and(|h| self.household_id == Some(h)))
    }
}

/// What a batch of checkouts needs, as the store found it (and on PostgreSQL locked: the keys,
/// then the slots, then the products, each in order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckoutSnapshot {
    /// The batch's keys that were there before the batch claimed the rest.
    pub keys: HashMap<(i64, String), StoredKey>,
    /// Each resident's cart: (product, quantity) in product order.
    pub carts: HashMap<i64, Vec<(ProductId, i64)>>,
    /// The residents' homes on record.
    pub homes: HashMap<i64, Home>,
    pub slots: HashMap<SlotId, SlotRow>,
    /// The products in the carts of the checkouts whose keys are new.
    pub products: HashMap<ProductId, ProductRow>,
    /// Building number -> every building with it (two communities, of one market or of two,
    /// may both have a building 3), in id order, for the numbers the batch's addresses name.
    pub buildings: HashMap<String, Vec<BuildingAt>>,
    /// (building id, unit, room) -> the household there, for the batch's addresses.
    pub households: HashMap<(i64, String, String), HouseholdAt>,
    /// The open orders already in the batch's slots of its residents and their fellow members
    /// (read after the slots were locked, so none can come in meanwhile), each once.
    pub booked: Vec<BookedOrder>,
    /// Ids for new orders, used in turn; at least one per new key.
    pub order_ids: Vec<OrderId>,
    /// The pickup points the batch's jobs name.
    pub points: HashMap<i64, PointRow>,
    /// (point, slot) -> the point's orders in that slot already (read after the slot was locked).
    pub point_booked: HashMap<(i64, SlotId), i64>,
}

/// What one checkout gets: the order placed or why not (or, for a key seen before, its first
/// answer again), as the market decided it; the routes render it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// The new order, as its resident sees it.
    Placed(Box<Order>),
    Refused(Refusal),
    /// The key was used before with a different request.
    KeyMismatch,
    /// The key's first checkout has not finished.
    KeyInUse,
}

impl Answer {
    /// How a key's first answer is kept: JSON text.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A kept answer (JSON text, or none while its checkout runs).
    pub fn from_stored<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Answer>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| serde_json::from_str(&t).map_err(serde::de::Error::custom)).transpose()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotBooking {
    pub slot_id: SlotId,
    pub booked: i64,
    pub priority_booked: i64,
}

/// A first order's address becomes the resident's home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHome {
    pub user_id: i64,
    pub building_id: i64,
    pub unit: String,
    pub room: String,
    /// The household already there; none: make it.
    pub household_id: Option<HouseholdId>,
    /// A member at once (`domain::households`); else the address is their request to join,
    /// and their order goes to the door with no priority.
    pub member: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyAnswer {
    pub user_id: i64,
    pub key: String,
    pub answer: Answer,
}

/// Every row the batch changes, with its new values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckoutChanges {
    /// Slots whose bookings changed, in slot order.
    pub slots: Vec<SlotBooking>,
    /// (product, new stock), in product order.
    pub stock: Vec<(ProductId, i64)>,
    pub orders: Vec<OrderRecord>,
    /// (user, product, quantity): cart lines bought; a line changed meanwhile stays.
    pub cart_removals: Vec<(i64, ProductId, i64)>,
    /// In (building, unit, room, user) order.
    pub homes: Vec<NewHome>,
    /// The first answer of each key this batch claimed.
    pub key_answers: Vec<KeyAnswer>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutDecision {
    /// One per job, in the jobs' order.
    pub answers: Vec<Answer>,
    pub changes: CheckoutChanges,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the snapshot has {have} order ids for {need} new checkouts")]
pub struct TooFewOrderIds {
    pub have: usize,
    pub need: usize,
}

/// Decides a batch of checkouts, in the order given, each against the rows as the ones before
/// it left them. A key seen earlier in the batch, or before it, gets its first answer again
/// (or a mismatch); only a new key is decided. Refusals are reported in this order: unknown
/// building, empty cart, no such slot, slot closed, the household's orders in the slot at its
/// limit (the resident's own and their fellow members'), slot full (the priority reserve held back
/// unless the household is a priority one), no address for a delivery, then each cart line in
/// product order: out of stock (or no longer sold), over the per-order limit. A refused checkout
/// changes nothing but its key's answer; the address of a resident with no home on record
/// becomes their home once its building is known, whatever the checkout's fate.
pub fn decide(snapshot: &CheckoutSnapshot, jobs: &[CheckoutJob]) -> Result<CheckoutDecision, TooFewOrderIds> {
    let mut batch = Batch {
        snapshot,
        slots: HashMap::new(),
        stock: HashMap::new(),
        bought: HashSet::new(),
        homes: HashMap::new(),
        new_homes: Vec::new(),
        orders: Vec::new(),
        placed: Vec::new(),
        cart_removals: Vec::new(),
        key_answers: Vec::new(),
        point_taken: HashMap::new(),
    };
    let mut first: HashMap<(i64, &str), (&str, usize)> = HashMap::new();
    let mut ids = snapshot.order_ids.iter().copied();
    let mut answers: Vec<Answer> = Vec::with_capacity(jobs.len());
    for (n, job) in jobs.iter().enumerate() {
        let id = (job.user_id, job.key.as_str());
        if let Some((hash, earlier)) = first.get(&id) {
            let answer = if *hash == job.request_hash { answers[*earlier].clone() } else { Answer::KeyMismatch };
            answers.push(answer);
            continue;
        }
        first.insert(id, (job.request_hash.as_str(), n));
        if let Some(stored) = snapshot.keys.get(&(job.user_id, job.key.clone())) {
            answers.push(match &stored.answer {
                _ if stored.request_hash != job.request_hash => Answer::KeyMismatch,
                Some(first) => first.clone(),
                None => Answer::KeyInUse,
            });
            continue;
        }
        let answer = match batch.one(job) {
            Ok(order) => {
                let Some(id) = ids.next() else {
                    let need = jobs.len();
                    return Err(TooFewOrderIds { have: snapshot.order_ids.len(), need });
                };
                let order = order.with_id(id);
                let shown = order.to_api();
                batch.orders.push(order);
                Answer::Placed(Box::new(shown))
            }
            Err(refusal) => Answer::Refused(refusal),
        };
        batch.key_answers.push(KeyAnswer { user_id: job.user_id, key: job.key.clone(), answer: answer.clone() });
        answers.push(answer);
    }
    Ok(CheckoutDecision { answers, changes: batch.changes() })
}

/// The building an address means (`area::pick_building`), among those with its number in the
/// slot's market (in any market when the slot is unknown): no such building, or several
/// communities with that number and the address naming none, is refused.
pub(crate) fn building_in(
    buildings: &HashMap<String, Vec<BuildingAt>>,
    market: Option<MarketId>,
    address: &Address,
) -> Result<BuildingAt, Refusal> {
    let number = address.building.trim();
    let found: Vec<BuildingAt> = buildings
        .get(number)
        .into_iter()
        .flatten()
        .filter(|b| market.is_none_or(|m| b.market_id == m))
        .cloned()
        .collect();
    match pick_building(&found, address.community.as_deref(), market, number)? {
        Some(b) => Ok(b.clone()),
        None => Err(Refusal::no_building(number)),
    }
}

/// The rows as the batch has left them so far.
struct Batch<'a> {
    snapshot: &'a CheckoutSnapshot,
    slots: HashMap<SlotId, SlotState>,
    stock: HashMap<ProductId, i64>,
    /// Residents whose cart an order of this batch took.
    bought: HashSet<i64>,
    homes: HashMap<i64, Home>,
    new_homes: Vec<NewHome>,
    orders: Vec<OrderRecord>,
    /// The orders of this batch as the household limit counts them.
    placed: Vec<BookedOrder>,
    cart_removals: Vec<(i64, ProductId, i64)>,
    key_answers: Vec<KeyAnswer>,
    /// (point, slot) -> orders this batch sent there.
    point_taken: HashMap<(i64, SlotId), i64>,
}

impl Batch<'_> {
    /// One checkout with a new key: the order it makes (its id still to be given) or why not.
    fn one(&mut self, job: &CheckoutJob) -> Result<OrderRecord, Refusal> {
        let s = self.snapshot;
        let user = job.user_id;
        let mut given = job.address.as_ref().map(|a| Address {
            building: a.building.trim().to_owned(),
            unit: a.unit.trim().to_owned(),
            room: a.room.trim().to_owned(),
            community: a.community.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned),
        });
        if let Some(a) = &mut given {
            let market = s.slots.get(&job.slot_id).map(|slot| slot.market_id);
            let building = building_in(&s.buildings, market, a)?;
            a.community = Some(building.community.clone());
            let (building_market, building_id) = (building.market_id, building.id);
            if self.home(user).is_none() {
                let there = s.households.get(&(building_id, a.unit.clone(), a.room.clone()));
                // A member made earlier in this batch counts as one.
                let joined_now = self
                    .new_homes
                    .iter()
                    .any(|h| h.member && h.building_id == building_id && h.unit == a.unit && h.room == a.room);
                let facts = JoinFacts {
                    already_member: false,
                    on_register: there.is_some_and(|h| h.registered.contains(&user)),
                    has_members: joined_now || there.is_some_and(|h| h.has_members),
                    flagged: there.is_some_and(|h| h.flags != NeedFlags::default()),
                };
                let member = decide_membership(&facts) == Membership::Member;
                self.new_homes.push(NewHome {
                    user_id: user,
                    building_id,
                    unit: a.unit.clone(),
                    room: a.room.clone(),
                    household_id: there.map(|h| h.id),
                    member,
                });
                let home = Home {
                    building: a.building.clone(),
                    unit: a.unit.clone(),
                    room: a.room.clone(),
                    flags: there.filter(|_| member).map(|h| h.flags).unwrap_or_default(),
                    household_id: there.filter(|_| member).map(|h| h.id),
                    market_id: building_market,
                    community: building.community,
                };
                self.homes.insert(user, home);
            }
        }
        let home = self.home(user).cloned();
        let priority = home.as_ref().is_some_and(|h| h.flags.is_priority());
        let cart: &[(ProductId, i64)] = match &job.lines {
            Some(lines) => lines,
            None if self.bought.contains(&user) => &[],
            None => s.carts.get(&user).map_or(&[], Vec::as_slice),
        };
        if cart.is_empty() {
            return Err(Refusal::cart_empty());
        }
        let row = s.slots.get(&job.slot_id).ok_or_else(Refusal::no_such_slot)?;
        // A resident shops in the market of their home: another market's slot is not theirs.
        if home.as_ref().is_some_and(|h| h.market_id != row.market_id) {
            return Err(Refusal::no_such_slot());
        }
        let slot = self.slots.entry(row.id).or_insert_with(|| row.state.clone());
        if slot.is_closed(job.now) {
            return Err(Refusal::slot_closed());
        }
        // The household: the resident and their fellow members.
        let household = home.as_ref().and_then(|h| h.household_id);
        let theirs = s.booked.iter().chain(&self.placed).filter(|o| o.is_of(row.id, user, household)).count() as i64;
        if theirs >= slot.household_limit {
            return Err(Refusal::household_slot_taken(slot.household_limit));
        }
        if slot.places_for(priority, job.now) <= 0 {
            return Err(Refusal::slot_full());
        }
        let point = match job.pickup_point_id {
            Some(id) => {
                let key = (id, row.id);
                let taken =
                    s.point_booked.get(&key).copied().unwrap_or(0) + self.point_taken.get(&key).copied().unwrap_or(0);
                let point = s.points.get(&id).filter(|p| p.market_id == row.market_id);
                if let Some(refusal) = point_refusal(point, row.kind, row.starts_at, row.ends_at, taken) {
                    return Err(refusal);
                }
                point
            }
            None => None,
        };
        let address = match row.kind {
            _ if point.is_some() => None,
            SlotKind::Pickup => None,
            SlotKind::Delivery => Some(
                given
                    .or_else(|| {
                        home.map(|h| Address {
                            building: h.building,
                            unit: h.unit,
                            room: h.room,
                            community: Some(h.community),
                        })
                    })
                    .ok_or_else(Refusal::address_needed)?,
            ),
        };
        let mut lines = Vec::with_capacity(cart.len());
        let mut taken = Vec::with_capacity(cart.len());
        let mut vendors: HashMap<i64, String> = HashMap::new();
        let day = crate::domain::time::shanghai_date(row.starts_at);
        for &(product_id, quantity) in cart {
            let Some(p) = s.products.get(&product_id) else {
                return Err(Refusal::out_of_stock("", "", 0));
            };
            if p.market_id != row.market_id {
                return Err(Refusal::other_market(&p.name));
            }
            let stock = self.stock.get(&product_id).copied().unwrap_or(p.stock);
            let offer =
                Offer { name: &p.name, unit: &p.unit, active: p.active, stock, per_order_limit: p.per_order_limit };
            if let Some(refusal) = line_refusal(offer, quantity) {
                return Err(refusal);
            }
            if let Some(refusal) =
                super::setup::stall_refusal(&p.vendor_name, !p.stall_closed, p.stall_closed_on.as_deref(), &day)
            {
                return Err(refusal);
            }
            taken.push((product_id, stock - quantity));
            vendors.entry(p.vendor_id).or_insert_with(|| p.vendor_name.clone());
            lines.push(LineRecord {
                product_id,
                vendor_id: p.vendor_id,
                name: p.name.clone(),
                unit: p.unit.clone(),
                quantity,
                price_fen: p.price_fen,
                short: 0,
            });
        }

        // Taken: the place, the stock, the cart.
        self.slots.entry(row.id).or_insert_with(|| row.state.clone()).take(priority);
        self.stock.extend(taken);
        if job.lines.is_none() {
            self.cart_removals.extend(lines.iter().map(|l| (user, l.product_id, l.quantity)));
            self.bought.insert(user);
        }
        self.placed.push(BookedOrder { slot_id: row.id, user_id: user, household_id: household });
        if let Some(p) = point {
            *self.point_taken.entry((p.id, row.id)).or_default() += 1;
        }
        lines.sort_by_key(|l| (l.vendor_id, l.product_id));
        let parts = parts_of(&lines, |vendor| vendors.get(&vendor).cloned().unwrap_or_default());
        let status = job.payment.initial_status();
        let note = job.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        Ok(OrderRecord {
            id: OrderId(0),
            user_id: user,
            status,
            payment: job.payment,
            total_fen: lines.iter().map(|l| l.price_fen.times(l.quantity)).sum(),
            slot_id: row.id,
            slot_kind: row.kind,
            slot_starts_at: row.starts_at,
            slot_ends_at: row.ends_at,
            address,
            note,
            handoff_code: job.handoff_code.clone(),
            priority_booking: priority,
            created_at: job.now,
            expires_at: (status == OrderStatus::PendingPayment).then_some(job.pay_by),
            lines,
            parts,
            timeline: vec![(status, job.now)],
            group_buy: None,
            left_at_door: None,
            door_photo: false,
            paid_by_donations: false,
            standing_order_id: None,
            pickup_point: point.map(PointRow::place),
            at_point_at: None,
            collect_by: None,
        })
    }

    fn home(&self, user: i64) -> Option<&Home> {
        self.homes.get(&user).or_else(|| self.snapshot.homes.get(&user))
    }

    fn changes(self) -> CheckoutChanges {
        let mut slots: Vec<SlotBooking> = self
            .slots
            .into_iter()
            .filter(|(id, state)| self.snapshot.slots.get(id).is_some_and(|row| row.state != *state))
            .map(|(slot_id, state)| SlotBooking {
                slot_id,
                booked: state.booked,
                priority_booked: state.priority_booked,
            })
            .collect();
        slots.sort_by_key(|s| s.slot_id);
        let mut stock: Vec<(ProductId, i64)> = self.stock.into_iter().collect();
        stock.sort_unstable();
        let mut homes = self.new_homes;
        homes.sort_by(|a, b| {
            (a.building_id, &a.unit, &a.room, a.user_id).cmp(&(b.building_id, &b.unit, &b.room, b.user_id))
        });
        CheckoutChanges {
            slots,
            stock,
            orders: self.orders,
            cart_removals: self.cart_removals,
            homes,
            key_answers: self.key_answers,
        }
    }
}

impl OrderRecord {
    fn with_id(mut self, id: OrderId) -> Self {
        self.id = id;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).unwrap_or_default()
    }

    fn home(building: &str, priority: bool) -> Home {
        Home {
            building: building.into(),
            unit: "1".into(),
            room: "101".into(),
            flags: NeedFlags { elderly: priority, ..NeedFlags::default() },
            household_id: None,
            market_id: shared::MarketId::FIRST,
            community: "七里山小区".into(),
        }
    }

    fn product(id: i64, vendor_id: i64, stock: i64, limit: Option<i64>) -> ProductRow {
        ProductRow {
            id: ProductId(id),
            vendor_id,
            vendor_name: format!("摊{vendor_id}"),
            name: format!("菜{id}"),
            unit: "斤".into(),
            price_fen: Fen::stored(100 * id),
            stock,
            per_order_limit: limit,
            active: true,
            ..ProductRow::default()
        }
    }

    /// A market: slot 1 (delivery, 2 places, 1 held for priority until hour 5, cut-off hour 10),
    /// slot 2 (pickup, closed at hour 1), products 10 (stock 3, limit 2) and 11 (stock 50) of
    /// two stalls, buildings 3 and 5, residents 1..=4 with carts; 1 and 2 have homes, 2 is a
    /// priority household.
    fn market() -> CheckoutSnapshot {
        let slot = |id, kind, capacity, priority_capacity, cutoff| SlotRow {
            id,
            market_id: shared::MarketId::FIRST,
            kind,
            starts_at: at(12),
            ends_at: at(14),
            state: SlotState {
                capacity,
                booked: 0,
                priority_capacity,
                priority_booked: 0,
                priority_release_at: Some(at(5)),
                cutoff_at: at(cutoff),
                closed: false,
                household_limit: 1,
            },
        };
        CheckoutSnapshot {
            carts: (1..=4).map(|u| (u, vec![(ProductId(10), 1), (ProductId(11), 2)])).collect(),
            homes: [(1, home("3", false)), (2, home("5", true))].into_iter().collect(),
            slots: [
                (SlotId(1), slot(SlotId(1), SlotKind::Delivery, 2, 1, 10)),
                (SlotId(2), slot(SlotId(2), SlotKind::Pickup, 9, 0, 1)),
            ]
            .into_iter()
            .collect(),
            products: [(ProductId(10), product(10, 7, 3, Some(2))), (ProductId(11), product(11, 8, 50, None))]
                .into_iter()
                .collect(),
            buildings: [("3", 103), ("5", 105)]
                .into_iter()
                .map(|(number, id)| {
                    let at = BuildingAt { id, market_id: shared::MarketId::FIRST, community: "七里山小区".into() };
                    (number.to_owned(), vec![at])
                })
                .collect(),
            order_ids: (500..520).map(OrderId).collect(),
            ..CheckoutSnapshot::default()
        }
    }

    fn job(user_id: i64, key: &str, slot_id: i64) -> CheckoutJob {
        CheckoutJob {
            user_id,
            key: key.into(),
            request_hash: format!("h-{slot_id}"),
            slot_id: SlotId(slot_id),
            payment: Payment::OnDelivery,
            address: None,
            note: None,
            handoff_code: "123456".into(),
            now: at(2),
            pay_by: at(3),
            lines: None,
            pickup_point_id: None,
        }
    }

    #[test]
    fn an_order_to_a_pickup_point_has_no_door_and_the_point_fills_up() {
        let mut s = market();
        if let Some(row) = s.slots.get_mut(&SlotId(1)) {
            row.state.capacity = 9;
        }
        s.points.insert(
            4,
            PointRow {
                market_id: shared::MarketId::FIRST,
                id: 4,
                name: "阳光花园自提点".into(),
                address: "阳光花园3号楼架空层".into(),
                opens: "00:00".into(),
                closes: "23:59".into(),
                capacity: 2,
                active: true,
            },
        );
        s.point_booked.insert((4, SlotId(1)), 1);
        let to_point = |u: i64| CheckoutJob { pickup_point_id: Some(4), ..job(u, "k", 1) };
        let d = decided(&s, &[to_point(1), to_point(3), CheckoutJob { pickup_point_id: Some(9), ..job(4, "k", 1) }]);
        assert_eq!(codes(&d), ["created", "slot_full", "not_found"]);
        let placed = &d.changes.orders[0];
        assert_eq!(placed.address, None, "collected at the point, not at the door");
        assert_eq!(placed.pickup_point.as_ref().map(|p| p.id), Some(4));
        // The market's own counter (a pickup slot) takes no point.
        if let Some(row) = s.slots.get_mut(&SlotId(2)) {
            row.state.cutoff_at = at(10);
        }
        let d = decided(&s, &[CheckoutJob { pickup_point_id: Some(4), ..job(1, "k", 2) }]);
        assert_eq!(codes(&d), ["invalid_field"]);
    }

    fn codes(d: &CheckoutDecision) -> Vec<String> {
        d.answers
            .iter()
            .map(|a| match a {
                Answer::Placed(_) => "created".to_owned(),
                Answer::Refused(r) => r.code.as_str().to_owned(),
                Answer::KeyMismatch => "mismatch".to_owned(),
                Answer::KeyInUse => "in_use".to_owned(),
            })
            .collect()
    }

    fn decided(s: &CheckoutSnapshot, jobs: &[CheckoutJob]) -> CheckoutDecision {
        decide(s, jobs).expect("enough order ids")
    }

    #[test]
    fn the_reserve_is_held_for_priority_households_until_release() {
        let mut s = market();
        s.homes.insert(3, Home { room: "103".into(), ..home("3", false) });
        // One place for anyone, one held: resident 1 takes the first, resident 3 is refused,
        // priority resident 2 takes the held one.
        let d = decided(&s, &[job(1, "a", 1), job(3, "a", 1), job(2, "a", 1)]);
        assert_eq!(codes(&d), ["created", "slot_full", "created"]);
        assert_eq!(d.changes.slots, vec![SlotBooking { slot_id: SlotId(1), booked: 2, priority_booked: 1 }]);
        assert_eq!(d.changes.stock, vec![(ProductId(10), 1), (ProductId(11), 46)]);
        let priority: Vec<bool> = d.changes.orders.iter().map(|o| o.priority_booking).collect();
        assert_eq!(priority, [false, true]);
        // After the release time the held place is anyone's.
        let mut late = job(3, "b", 1);
        late.now = at(6);
        assert_eq!(codes(&decided(&s, &[job(1, "a", 1), late])), ["created", "created"]);
    }

    #[test]
    fn a_standing_orders_lines_are_bought_instead_of_the_cart_which_stays() {
        let mut s = market();
        s.slots.get_mut(&SlotId(1)).expect("slot").state.capacity = 10;
        let mut standing = job(1, "standing:4:2026-12-09:0", 1);
        standing.lines = Some(vec![(ProductId(11), 5)]);
        let d = decided(&s, &[standing]);
        assert_eq!(codes(&d), ["created"]);
        assert_eq!(d.changes.orders[0].lines.len(), 1);
        assert_eq!(d.changes.orders[0].lines[0].quantity, 5);
        assert!(d.changes.cart_removals.is_empty(), "the cart is the resident's, untouched");
        assert_eq!(d.changes.stock, vec![(ProductId(11), 45)]);
        // The same rules: over the per-order limit is refused.
        let mut over = job(2, "standing:5:2026-12-09:0", 1);
        over.lines = Some(vec![(ProductId(10), 3)]);
        assert_eq!(codes(&decided(&s, &[over])), ["over_limit"]);
    }

    #[test]
    fn refusals_come_in_their_order_and_take_nothing() {
        let mut s = market();
        s.carts.insert(5, Vec::new());
        let mut unknown = job(1, "b", 1);
        unknown.address = Some(Address { building: "99".into(), unit: "1".into(), room: "1".into(), community: None });
        let mut gone = job(2, "c", 1);
        gone.slot_id = SlotId(77);
        let no_address = job(4, "d", 1); // no home on record, no address given
        let d = decided(&s, &[unknown, job(5, "a", 1), gone, job(3, "e", 2), no_address]);
        assert_eq!(codes(&d), ["invalid_field", "cart_empty", "not_found", "slot_closed", "invalid_field"]);
        assert!(d.changes.orders.is_empty() && d.changes.slots.is_empty() && d.changes.stock.is_empty());
        assert_eq!(d.changes.key_answers.len(), 5, "every refusal is its key's first answer");
        if let Answer::Refused(r) = &d.answers[0] {
            assert_eq!(r.code, ErrorCode::InvalidField);
            assert!(r.message.contains("没有99号楼"));
        }

        // Lines in product order: stock first, then the limit; nothing of the order is taken.
        s.carts.insert(1, vec![(ProductId(10), 3), (ProductId(11), 1)]);
        s.carts.insert(2, vec![(ProductId(10), 1), (ProductId(11), 51)]);
        let d = decided(&s, &[job(1, "f", 1), job(2, "g", 1)]);
        assert_eq!(codes(&d), ["over_limit", "out_of_stock"]);
        assert!(d.changes.stock.is_empty());
        s.products.get_mut(&ProductId(10)).expect("10").active = false;
        s.carts.insert(1, vec![(ProductId(10), 1)]);
        assert_eq!(codes(&decided(&s, &[job(1, "h", 1)])), ["out_of_stock"]);
    }

    #[test]
    fn two_communities_with_a_building_3_need_the_address_to_say_which() {
        let mut s = market();
        s.slots.get_mut(&SlotId(1)).expect("slot").state.capacity = 10;
        let other = BuildingAt { id: 203, market_id: shared::MarketId::FIRST, community: "翠苑小区".into() };
        s.buildings.get_mut("3").expect("3").push(other);
        // Another market's building 3 is never the one meant.
        let far = BuildingAt { id: 903, market_id: shared::MarketId(2), community: "远方小区".into() };
        s.buildings.get_mut("3").expect("3").push(far);
        s.carts.extend((3..=6).map(|u| (u, vec![(ProductId(11), 1)])));
        let at = |community: Option<&str>| Address {
            building: "3".into(),
            unit: "2".into(),
            room: "501".into(),
            community: community.map(str::to_owned),
        };
        let mut unsaid = job(3, "a", 1);
        unsaid.address = Some(at(None));
        let mut named = job(4, "a", 1);
        named.address = Some(at(Some(" 翠苑小区 ")));
        let mut elsewhere = job(5, "a", 1);
        elsewhere.address = Some(at(Some("远方小区")));
        let d = decided(&s, &[unsaid, named, elsewhere]);
        assert_eq!(codes(&d), ["invalid_field", "created", "invalid_field"]);
        if let Answer::Refused(r) = &d.answers[0] {
            assert!(r.message.contains("请写明小区"), "{}", r.message);
        }
        let order = &d.changes.orders[0];
        assert_eq!(order.address.as_ref().and_then(|a| a.community.as_deref()), Some("翠苑小区"));
        assert_eq!(d.changes.homes.iter().map(|h| (h.user_id, h.building_id)).collect::<Vec<_>>(), [(4, 203)]);
        // A home on record carries its community to the order that uses it.
        s.homes.insert(6, Home { community: "翠苑小区".into(), ..home("3", false) });
        let d = decided(&s, &[job(6, "a", 1)]);
        let order = &d.changes.orders[0];
        assert_eq!(order.address.as_ref().and_then(|a| a.community.as_deref()), Some("翠苑小区"));
    }

    #[test]
    fn one_open_order_per_household_and_slot_unless_raised() {
        let mut s = market();
        s.slots.get_mut(&SlotId(1)).expect("slot").state.capacity = 10;
        s.carts.extend((5..=7).map(|u| (u, vec![(ProductId(11), 1)])));
        // Residents 1 and 3 are members of household 31; 5 already has an open order in the
        // slot; 4 orders to household 31's door without being its member (a request waiting);
        // 6 is a member of household 32 where 7's phone is on the register.
        let member = |h: i64| Some(HouseholdId(h));
        s.homes.get_mut(&1).expect("1").household_id = member(31);
        s.homes.insert(3, Home { household_id: member(31), ..home("3", false) });
        s.homes.insert(5, Home { room: "501".into(), household_id: member(35), ..home("5", false) });
        s.homes.insert(6, Home { room: "601".into(), household_id: member(32), ..home("3", false) });
        let flat_32 = Address { building: "3".into(), unit: "1".into(), room: "601".into(), community: None };
        s.households.insert(
            (103, "1".into(), "601".into()),
            HouseholdAt { id: HouseholdId(32), flags: NeedFlags::default(), has_members: true, registered: vec![7] },
        );
        s.booked.push(BookedOrder { slot_id: SlotId(1), user_id: 5, household_id: member(35) });
        let mut to_door = job(4, "a", 1);
        to_door.address = Some(Address { building: "3".into(), unit: "1".into(), room: "101".into(), community: None });
        let mut registered = job(7, "a", 1);
        registered.address = Some(flat_32);
        let jobs = [job(1, "a", 1), job(3, "a", 1), to_door, job(5, "a", 1), job(6, "a", 1), registered];
        let d = decided(&s, &jobs);
        assert_eq!(
            codes(&d),
            ["created", "household_slot_taken", "created", "household_slot_taken", "created", "household_slot_taken"]
        );
        if let Answer::Refused(r) = &d.answers[1] {
            assert!(r.message.contains("已有一张订单"), "{}", r.message);
        }
        assert_eq!(d.changes.slots, vec![SlotBooking { slot_id: SlotId(1), booked: 3, priority_booked: 0 }]);
        assert!(d.changes.homes.iter().any(|h| h.user_id == 7 && h.member), "7 joined household 32 all the same");

        // Staff raised the slot's limit to 2: a second order of the household goes in, not a third.
        s.slots.get_mut(&SlotId(1)).expect("slot").state.household_limit = 2;
        s.homes.insert(4, Home { household_id: member(31), ..home("3", false) });
        let d = decided(&s, &[job(1, "a", 1), job(3, "a", 1), job(4, "a", 1), job(5, "a", 1)]);
        assert_eq!(codes(&d), ["created", "created", "household_slot_taken", "created"]);
        if let Answer::Refused(r) = &d.answers[2] {
            assert!(r.message.contains("已有2张订单"), "{}", r.message);
        }
        // The order in another slot takes no turn here.
        s.slots.get_mut(&SlotId(1)).expect("slot").state.household_limit = 1;
        s.booked[0].slot_id = SlotId(2);
        assert_eq!(codes(&decided(&s, &[job(5, "a", 1)])), ["created"]);
    }

    #[test]
    fn stock_runs_out_in_the_order_of_the_batch() {
        let mut s = market();
        s.slots.get_mut(&SlotId(1)).expect("slot").state.capacity = 10;
        s.carts = (1..=4).map(|u| (u, vec![(ProductId(10), 2)])).collect();
        s.homes.extend((3..=4).map(|u| (u, Home { room: format!("10{u}"), ..home("3", false) })));
        let d = decided(&s, &[job(1, "a", 1), job(2, "a", 1), job(3, "a", 1)]);
        assert_eq!(codes(&d), ["created", "out_of_stock", "out_of_stock"]);
        assert_eq!(d.changes.stock, vec![(ProductId(10), 1)]);
        let o = &d.changes.orders[0];
        assert_eq!(
            (o.id, o.total_fen.get(), o.address.as_ref().map(|a| a.building.as_str())),
            (OrderId(500), 2000, Some("3"))
        );
        assert_eq!(d.changes.cart_removals, vec![(1, ProductId(10), 2)]);
    }

    #[test]
    fn a_key_gets_its_first_answer_again() {
        let mut s = market();
        let first = Answer::Refused(Refusal::slot_full());
        s.keys.insert((1, "old".into()), StoredKey { request_hash: "h-1".into(), answer: Some(first.clone()) });
        s.keys.insert((1, "busy".into()), StoredKey { request_hash: "h-1".into(), answer: None });
        let mut other_body = job(1, "new", 2);
        other_body.request_hash = "different".into();
        let d = decided(&s, &[job(1, "old", 1), job(1, "busy", 1), job(1, "new", 1), job(1, "new", 1), other_body]);
        assert_eq!(d.answers[0], first);
        assert_eq!(d.answers[1], Answer::KeyInUse);
        assert_eq!(codes(&d)[2..], ["created", "created", "mismatch"]);
        assert_eq!(d.answers[2], d.answers[3], "the same order, not a second one");
        assert_eq!(d.changes.orders.len(), 1);
        assert_eq!(d.changes.key_answers.len(), 1);
        // Two keys for one cart: the second finds it bought.
        assert_eq!(codes(&decided(&s, &[job(1, "x", 1), job(1, "y", 1)])), ["created", "cart_empty"]);
    }

    #[test]
    fn a_first_address_becomes_the_home_in_the_same_decision() {
        let mut s = market();
        s.slots.get_mut(&SlotId(1)).expect("slot").state.capacity = 10;
        // Resident 4 has no home; the household at 5-2-202 exists, is quarantined, has a member,
        // and staff put resident 4's phone on its register.
        let quarantined = HouseholdAt {
            id: HouseholdId(42),
            flags: NeedFlags { quarantined: true, ..NeedFlags::default() },
            has_members: true,
            registered: vec![4],
        };
        s.households.insert((105, "2".into(), "202".into()), quarantined.clone());
        let mut first = job(4, "a", 1);
        first.address = Some(Address { building: " 5 ".into(), unit: "2".into(), room: "202".into(), community: None });
        let mut newcomer = job(3, "a", 1);
        newcomer.address =
            Some(Address { building: "3".into(), unit: "9".into(), room: "909".into(), community: None });
        let d = decided(&s, &[first, newcomer, job(4, "b", 1)]);
        assert_eq!(codes(&d), ["created", "created", "cart_empty"]);
        assert_eq!(
            d.changes.homes,
            vec![
                NewHome {
                    user_id: 3,
                    building_id: 103,
                    unit: "9".into(),
                    room: "909".into(),
                    household_id: None,
                    member: true
                },
                NewHome {
                    user_id: 4,
                    building_id: 105,
                    unit: "2".into(),
                    room: "202".into(),
                    household_id: Some(HouseholdId(42)),
                    member: true
                },
            ]
        );
        // The quarantined household's first order gets the priority reserve.
        assert!(d.changes.orders[0].priority_booking);
        assert!(!d.changes.orders[1].priority_booking);
        // Not on the register: the address is only a request to join; the order goes to that
        // door without the priority the household's flag would give.
        let mut s2 = market();
        s2.slots.get_mut(&SlotId(1)).expect("slot").state.capacity = 10;
        s2.households.insert((105, "2".into(), "202".into()), HouseholdAt { registered: vec![], ..quarantined });
        let mut stranger = job(4, "a", 1);
        stranger.address =
            Some(Address { building: "5".into(), unit: "2".into(), room: "202".into(), community: None });
        let d2 = decided(&s2, &[stranger]);
        assert_eq!(codes(&d2), ["created"]);
        assert!(!d2.changes.homes[0].member);
        assert!(!d2.changes.orders[0].priority_booking);
        // Two newcomers to one empty, plain address in one batch: the first is its member, the
        // second waits for them.
        let mut s3 = market();
        s3.slots.get_mut(&SlotId(1)).expect("slot").state.capacity = 10;
        let (mut a, mut b) = (job(3, "a", 1), job(4, "a", 1));
        a.address = Some(Address { building: "3".into(), unit: "9".into(), room: "909".into(), community: None });
        b.address = a.address.clone();
        let d3 = decided(&s3, &[a, b]);
        assert_eq!(d3.changes.homes.iter().map(|h| h.member).collect::<Vec<_>>(), [true, false]);
        // A resident with a home who gives another address keeps their home.
        let mut elsewhere = job(1, "c", 1);
        elsewhere.address =
            Some(Address { building: "5".into(), unit: "1".into(), room: "101".into(), community: None });
        let d = decided(&s, &[elsewhere]);
        assert!(d.changes.homes.is_empty());
        assert_eq!(d.changes.orders[0].address.as_ref().map(|a| a.building.as_str()), Some("5"));
    }

    #[test]
    fn the_new_order_is_what_a_later_read_shows() {
        let s = market();
        let mut j = job(1, "a", 1);
        j.payment = Payment::Wechat;
        j.note = Some("  放门口 ".into());
        let d = decided(&s, &[j]);
        let o = &d.changes.orders[0];
        assert_eq!(o.status, OrderStatus::PendingPayment);
        assert_eq!(o.expires_at, Some(at(3)));
        assert_eq!(o.note.as_deref(), Some("放门口"));
        let parts: Vec<(i64, i64)> = o.parts.iter().map(|p| (p.vendor_id, p.subtotal_fen.get())).collect();
        assert_eq!(parts, [(7, 1000), (8, 2200)]);
        assert_eq!(d.answers[0], Answer::Placed(Box::new(o.to_api())));
        let shown: serde_json::Value = serde_json::from_str(&o.to_json()).unwrap_or_default();
        assert_eq!(shown["id"], 500);
        assert_eq!(shown["slot_starts_at"], crate::domain::time::to_api(at(12)));
        assert_eq!(shown["timeline"][0]["status"], "pending_payment");
    }

    #[test]
    fn too_few_order_ids_is_an_error_not_a_guess() {
        let mut s = market();
        s.order_ids.clear();
        assert!(decide(&s, &[job(1, "a", 1)]).is_err());
    }

    fn req(note: Option<&str>) -> CheckoutRequest {
        CheckoutRequest {
            pickup_point_id: None,
            slot_id: shared::SlotId(1),
            address: Some(Address { building: "3".into(), unit: "2".into(), room: "501".into(), community: None }),
            payment: Payment::OnDelivery,
            note: note.map(Into::into),
        }
    }

    #[test]
    fn validation_and_hash() {
        assert!(validate(&req(Some("放门口"))).is_ok());
        assert!(validate(&req(Some(&"长".repeat(201)))).is_err());
        assert!(validate(&req(Some("放门口\n不用敲门"))).is_ok());
        assert!(validate(&req(Some("a\u{0}b"))).is_err());
        assert_eq!(request_hash(&req(None)), request_hash(&req(None)));
        assert_ne!(request_hash(&req(None)), request_hash(&req(Some("x"))));
        let bad = Address { building: "3号楼; DROP".into(), unit: "2".into(), room: "501".into(), community: None };
        assert!(validate_address(&bad).is_err());
        assert!(validate_key("abc-123").is_ok());
        assert!(validate_key("").is_err());
        assert!(validate_key("有中文").is_err());
    }

    #[test]
    fn an_answer_is_kept_and_read_back_as_it_was() {
        let d = decided(&market(), &[job(1, "a", 1), job(3, "a", 1)]);
        for answer in &d.answers {
            let kept: StoredKey = serde_json::from_value(serde_json::json!({
                "request_hash": "h", "answer": answer.to_stored(),
            }))
            .expect("kept");
            assert_eq!(kept.answer.as_ref(), Some(answer));
        }
        let running: StoredKey =
            serde_json::from_value(serde_json::json!({ "request_hash": "h", "answer": null })).expect("running");
        assert_eq!(running.answer, None);
    }

    #[test]
    fn a_line_refusal_says_how_many_are_left() {
        let offer = |active, stock, limit| Offer { name: "鸡蛋", unit: "盒", active, stock, per_order_limit: limit };
        assert_eq!(line_refusal(offer(true, 3, None), 3), None);
        assert_eq!(
            line_refusal(offer(true, 3, None), 4).map(|r| r.message).as_deref(),
            Some("鸡蛋 只剩3盒 (only 3 盒 left)")
        );
        assert_eq!(
            line_refusal(offer(true, 0, None), 1).map(|r| r.message).as_deref(),
            Some("鸡蛋 已售完 (鸡蛋 is sold out)")
        );
        // No longer sold: sold out, whatever the stock says.
        assert_eq!(
            line_refusal(offer(false, 9, None), 1).map(|r| r.message).as_deref(),
            Some("鸡蛋 已售完 (鸡蛋 is sold out)")
        );
        // Not enough comes before the per-order limit.
        assert_eq!(line_refusal(offer(true, 3, Some(2)), 4).map(|r| r.code), Some(ErrorCode::OutOfStock));
        assert_eq!(line_refusal(offer(true, 9, Some(2)), 3).map(|r| r.code), Some(ErrorCode::OverLimit));
    }
}
