//! Group-buys for quarantined buildings (团购): who may run one, opening it (the stock it sets
//! aside), joining it (atomic, against every item's maximum and each household's limit, with a
//! place in the drop's slot for each household), and closing it (each share becomes an order,
//! or nothing does and everything goes back). Each rule is one pure function over a snapshot
//! of the rows it needs; the store loads (and locks) the snapshot and writes what it returns.

use super::checkout::{ProductRow, SlotRow};
use super::order::{parts_of, GroupBuyOrigin, LineRecord, OrderRecord};
use super::prices::{highest_allowed, Cap, PriceSnapshot};
use super::slots::{NeedFlags, SlotState};
use super::time::to_api;
use chrono::{DateTime, Duration, Utc};
use shared::api::Address;
use shared::group_buy::{GroupBuyStatus, OnShortfall, SharePayment};
use shared::order::{OrderStatus, Payment, SlotKind};
use shared::{ErrorCode, Fen};
use std::collections::{BTreeMap, BTreeSet};

/// Longest title, in characters.
pub const MAX_TITLE: usize = 60;
/// Most buildings and items one group-buy may have.
pub const MAX_BUILDINGS: usize = 50;
pub const MAX_ITEMS: usize = 40;
/// Most that may be set aside of one item, and the longest head start.
pub const MAX_QUANTITY: i64 = 100_000;
pub const MAX_HEAD_START_MINUTES: i64 = 7 * 24 * 60;

pub use super::Refusal;

// ---------- who runs a group-buy ----------

/// Who is asking to run (open, close, see the shares of) a group-buy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Runner {
    pub user_id: i64,
    pub staff: bool,
    /// The buildings (ids) the caller leads, if they are a leader.
    pub leads: BTreeSet<i64>,
    /// The caller's market: a group-buy is of its slot's market, which must be theirs.
    pub market: shared::MarketId,
}

impl Runner {
    /// Staff run any group-buy; a leader those whose buildings are all theirs.
    pub fn runs(&self, buildings: &[i64]) -> bool {
        self.staff || (!buildings.is_empty() && buildings.iter().all(|b| self.leads.contains(b)))
    }
}

/// Who is looking at a group-buy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Viewer {
    pub user_id: i64,
    pub household_id: Option<i64>,
    pub runner: Runner,
    /// Volunteers see every open group-buy, to place shares for households without a phone.
    pub volunteer: bool,
}

/// What a viewer may see of a group-buy of `market` and `buildings`: nothing (None), or it, and
/// whether they run it. Its households see it, those who run it, and volunteers while it is
/// open, all of its market only (staff run any of theirs, not another market's).
/// `household_building`: the building of the viewer's household, if any.
pub fn sight(
    viewer: &Viewer,
    market: shared::MarketId,
    buildings: &[i64],
    household_building: Option<i64>,
    status: GroupBuyStatus,
) -> Option<Sight> {
    if market != viewer.runner.market {
        return None;
    }
    let lives_there = household_building.is_some_and(|b| buildings.contains(&b));
    let manage = viewer.runner.runs(buildings);
    (lives_there || manage || (viewer.volunteer && status == GroupBuyStatus::Open))
        .then_some(Sight { lives_there, manage })
}

/// What `sight` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sight {
    /// The viewer's household is one of its buildings' (its own share shows).
    pub lives_there: bool,
    /// The viewer runs it.
    pub manage: bool,
}

/// Whether a list of buildings (as `area::building_label` names them: `3`, or `七里山小区 3`)
/// has the building of `address`; an address naming no community matches a building of its
/// number.
pub fn names_building(buildings: &[String], address: &shared::api::Address) -> bool {
    let number = address.building.trim();
    let community = address.community.as_deref().map(str::trim).filter(|c| !c.is_empty());
    buildings.iter().any(|label| {
        let (theirs, n) = super::area::building_ref(label);
        n == number && (theirs.is_none() || community.is_none() || theirs == community)
    })
}

/// A share may be placed on behalf of a household only in one of the group-buy's buildings.
pub fn may_place_in(buildings: &[String], address: &shared::api::Address) -> Result<(), Refusal> {
    if names_building(buildings, address) {
        Ok(())
    } else {
        Err(Refusal::new(ErrorCode::NotEligible, "这个团购不在该楼栋 (this group-buy is for other buildings)"))
    }
}

/// A group-buy can be called off only while it is open.
pub fn may_call_off(status: GroupBuyStatus) -> Result<(), Refusal> {
    if status == GroupBuyStatus::Open {
        Ok(())
    } else {
        Err(Refusal::new(ErrorCode::GroupClosed, "团购已结束，不能取消 (it has already ended)"))
    }
}

/// Who may place a share on a household's behalf (代下单): staff, a leader of the household's
/// building, a volunteer whom staff assigned that building. Returns how the household is told
/// who placed it (role and masked phone) and whether the placer must keep off a share the
/// household placed itself (a volunteer must).
pub fn placer(
    staff: bool,
    leads_its_building: bool,
    serves_its_building: bool,
    masked_phone: &str,
) -> Result<(String, bool), Refusal> {
    let (role, keeps_off_own) = if staff {
        ("工作人员", false)
    } else if leads_its_building {
        ("团长", false)
    } else if serves_its_building {
        ("志愿者", true)
    } else {
        return Err(Refusal::new(
            ErrorCode::Forbidden,
            "只有负责这栋楼的志愿者、本楼团长和工作人员可以代下单 \
             (only a volunteer of its building, its leader or staff place shares for others)",
        ));
    };
    Ok((format!("{role} {masked_phone}").trim().to_owned(), keeps_off_own))
}

// ---------- opening ----------

/// `POST /group-buys` as the route parsed it (times parsed, nothing else checked).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenRequest {
    pub title: String,
    pub buildings: Vec<String>,
    /// (product, group price, maximum, per-household limit)
    pub items: Vec<(i64, i64, i64, i64)>,
    pub min_households: i64,
    pub deadline: DateTime<Utc>,
    pub opens_at: Option<DateTime<Utc>>,
    pub head_start_minutes: i64,
    pub slot_id: i64,
    pub on_shortfall: OnShortfall,
    pub now: DateTime<Utc>,
}

/// What opening needs: the named buildings that exist (number -> id), the named products as
/// they are (locked) with their prices of the day, the emergency price cap if it is on, the slot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenSnapshot {
    pub buildings: BTreeMap<String, i64>,
    pub products: BTreeMap<i64, ProductRow>,
    pub prices: BTreeMap<i64, PriceSnapshot>,
    pub cap: Option<Cap>,
    pub slot: Option<SlotRow>,
}

/// A group-buy to write: the row, its buildings and items, and each product's stock after
/// what is set aside.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenPlan {
    pub title: String,
    pub building_ids: Vec<i64>,
    /// (product, group price, maximum, per-household limit), in product order.
    pub items: Vec<(i64, i64, i64, i64)>,
    pub min_households: i64,
    pub opens_at: DateTime<Utc>,
    pub priority_opens_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub slot_id: i64,
    pub on_shortfall: OnShortfall,
    pub stock: Vec<(i64, i64)>,
}

/// Checks a new group-buy against its form and the rows: the first broken rule is refused
/// (400 naming the field, 403 for buildings the caller does not lead, 409 when a product has
/// not enough stock to set aside), or it becomes a plan that changes nothing else.
pub fn decide_open(s: &OpenSnapshot, r: &OpenRequest, runner: &Runner) -> Result<OpenPlan, Refusal> {
    let title = r.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return Err(Refusal::field("title", "标题须为1到60个字 (1 to 60 characters)"));
    }
    if r.buildings.is_empty() || r.buildings.len() > MAX_BUILDINGS {
        return Err(Refusal::field("buildings", "请选择1到50栋楼 (name 1 to 50 buildings)"));
    }
    let mut building_ids = BTreeSet::new();
    for number in &r.buildings {
        let id = s.buildings.get(number.trim()).ok_or_else(|| {
            Refusal::field("buildings", &format!("没有{}号楼 (no building {})", number.trim(), number.trim()))
        })?;
        building_ids.insert(*id);
    }
    let building_ids: Vec<i64> = building_ids.into_iter().collect();
    if !runner.runs(&building_ids) {
        return Err(Refusal::new(
            ErrorCode::Forbidden,
            "您只能为自己负责的楼栋开团 (a leader opens group-buys only for their own buildings)",
        ));
    }
    if r.items.is_empty() || r.items.len() > MAX_ITEMS {
        return Err(Refusal::field("items", "请选择1到40样商品 (1 to 40 items)"));
    }
    let mut seen = BTreeSet::new();
    for &(product, price, max, limit) in &r.items {
        if !seen.insert(product) {
            return Err(Refusal::field("items", &format!("商品{product}重复 (product {product} twice)")));
        }
        let p =
            s.products.get(&product).filter(|p| p.active).ok_or_else(|| {
                Refusal::field("items.product_id", &format!("没有商品{product} (no product {product})"))
            })?;
        if Fen::price(price).is_err() {
            return Err(Refusal::field("items.price_fen", "团购价须为正数 (a positive price in fen)"));
        }
        // A group price is a discount: never above the product's own price, and never above
        // what the emergency cap allows for it today (its own price may predate the cap).
        let own = p.price_fen;
        if price > own.get() {
            return Err(Refusal::field(
                "items.price_fen",
                &format!("{}的团购价不能高于原价¥{} (at most its own price, {} fen)", p.name, own.yuan(), own.get()),
            ));
        }
        let top = s.prices.get(&product).and_then(|snapshot| highest_allowed(snapshot, s.cap.as_ref()));
        if let Some(top) = top.filter(|top| price > *top) {
            return Err(Refusal::new(
                ErrorCode::PriceCapped,
                format!(
                    "稳物价：{}今天最高只能定¥{} (price cap: at most {top} fen today)",
                    p.name,
                    Fen::stored(top).yuan()
                ),
            ));
        }
        if !(1..=MAX_QUANTITY).contains(&max) {
            return Err(Refusal::field("items.max_quantity", "数量须在1到100000之间 (1 to 100000)"));
        }
        if !(1..=max).contains(&limit) {
            return Err(Refusal::field("items.per_household_limit", "每户限购须在1到最大数量之间 (1 to max_quantity)"));
        }
        if p.stock < max {
            return Err(Refusal::new(
                ErrorCode::OutOfStock,
                format!("{} 只剩{}{}，不够预留{} (only {} left to set aside)", p.name, p.stock, p.unit, max, p.stock),
            ));
        }
    }
    if !(1..=100_000).contains(&r.min_households) {
        return Err(Refusal::field("min_households", "成团户数须在1到100000之间 (1 to 100000)"));
    }
    if r.deadline <= r.now {
        return Err(Refusal::field("deadline", "截止时间须在将来 (the deadline must be in the future)"));
    }
    if !(0..=MAX_HEAD_START_MINUTES).contains(&r.head_start_minutes) {
        return Err(Refusal::field("priority_head_start_minutes", "须在0到10080分钟之间 (0 to 10080)"));
    }
    let head_start = Duration::minutes(r.head_start_minutes);
    let opens_at = r.opens_at.unwrap_or(r.now + head_start);
    if opens_at >= r.deadline {
        return Err(Refusal::field("opens_at", "开团时间须早于截止时间 (must be before the deadline)"));
    }
    let slot = s
        .slot
        .as_ref()
        .filter(|slot| slot.market_id == runner.market)
        .ok_or_else(|| Refusal::field("slot_id", "没有这个时段 (no such slot)"))?;
    if let Some(p) = r.items.iter().filter_map(|item| s.products.get(&item.0)).find(|p| p.market_id != slot.market_id) {
        return Err(Refusal::field("items.product_id", &format!("没有商品{} (no product {})", p.id, p.id)));
    }
    if slot.kind != SlotKind::Delivery {
        return Err(Refusal::field("slot_id", "团购须选送货时段 (the drop needs a delivery slot)"));
    }
    if slot.state.closed || slot.state.cutoff_at < r.deadline {
        return Err(Refusal::field(
            "slot_id",
            "送货时段的截单时间须不早于团购截止时间 (the slot's cut-off must not be before the deadline)",
        ));
    }
    // The drop is the stalls' work on the slot's day: none of them may be closed or resting then.
    let day = crate::domain::time::shanghai_date(slot.starts_at);
    for p in r.items.iter().filter_map(|item| s.products.get(&item.0)) {
        if let Some(refusal) =
            super::setup::stall_refusal(&p.vendor_name, !p.stall_closed, p.stall_closed_on.as_deref(), &day)
        {
            return Err(refusal);
        }
    }
    let mut items = r.items.clone();
    items.sort_by_key(|i| i.0);
    let stock = items.iter().filter_map(|&(p, _, max, _)| s.products.get(&p).map(|row| (p, row.stock - max))).collect();
    Ok(OpenPlan {
        title: title.to_owned(),
        building_ids,
        items,
        min_households: r.min_households,
        opens_at,
        priority_opens_at: opens_at - head_start,
        deadline: r.deadline,
        slot_id: r.slot_id,
        on_shortfall: r.on_shortfall,
        stock,
    })
}

// ---------- joining ----------

/// One item of a group-buy as it stands.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ItemState {
    pub product_id: i64,
    pub name: String,
    pub unit: String,
    pub price_fen: Fen,
    pub max_quantity: i64,
    pub per_household_limit: i64,
    pub joined_quantity: i64,
}

/// A group-buy as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupBuyState {
    pub id: i64,
    pub status: GroupBuyStatus,
    pub min_households: i64,
    pub joined_households: i64,
    pub opens_at: DateTime<Utc>,
    pub priority_opens_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub slot_id: i64,
    pub on_shortfall: OnShortfall,
    pub building_ids: Vec<i64>,
    /// By product.
    pub items: BTreeMap<i64, ItemState>,
}

impl GroupBuyState {
    /// Joining is over: closed, or past the deadline (the closing job may not have run yet).
    pub fn is_closed(&self, now: DateTime<Utc>) -> bool {
        self.status != GroupBuyStatus::Open || now >= self.deadline
    }

    /// When this household may start joining.
    pub fn opens_for(&self, priority: bool) -> DateTime<Utc> {
        if priority {
            self.priority_opens_at
        } else {
            self.opens_at
        }
    }
}

/// A household's share as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareState {
    /// product -> quantity, every quantity above zero.
    pub lines: BTreeMap<i64, i64>,
    pub user_id: i64,
    pub placed_by: Option<i64>,
    pub placed_by_label: Option<String>,
    pub priority_booking: bool,
    pub payment: SharePayment,
    pub joined_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A household as on record: where it is and what staff flagged it as.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdState {
    pub building_id: i64,
    pub flags: NeedFlags,
}

/// One join, change or leave, as the route parsed it.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinJob {
    pub group_buy_id: i64,
    pub household_id: i64,
    /// The resident whose order the share becomes (for a share placed on a household's behalf,
    /// a resident of the household if one has an account, else the one who placed it).
    pub user_id: i64,
    /// Who placed it on the household's behalf (代下单), and how the household is told.
    pub placed_by: Option<(i64, String)>,
    /// The placer may not change a share the household placed itself (a volunteer's 代下单).
    pub keeps_off_own: bool,
    /// (product, quantity); quantity 0 leaves the item out.
    pub lines: Vec<(i64, i64)>,
    pub now: DateTime<Utc>,
}

/// What a batch of joins needs, as the store found it (and on PostgreSQL locked: the
/// group-buys, then their slots, each in id order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JoinSnapshot {
    pub group_buys: BTreeMap<i64, GroupBuyState>,
    pub slots: BTreeMap<i64, SlotState>,
    pub households: BTreeMap<i64, HouseholdState>,
    /// (group-buy, household) -> share, for the households of the batch.
    pub shares: BTreeMap<(i64, i64), ShareState>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JoinOutcome {
    /// The household's share now.
    Joined(ShareState),
    /// The household is no longer in it (or never was).
    Left,
    Refused(Refusal),
}

/// Every row a batch of joins changes, with its new value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JoinChanges {
    /// (group-buy, product) -> joined quantity.
    pub items: BTreeMap<(i64, i64), i64>,
    /// group-buy -> joined households.
    pub households: BTreeMap<i64, i64>,
    /// slot -> (booked, priority booked).
    pub slots: BTreeMap<i64, (i64, i64)>,
    /// (group-buy, household) -> the share now, or None: gone.
    pub shares: BTreeMap<(i64, i64), Option<ShareState>>,
}

/// Decides a batch of joins in order, each against the rows as the ones before it left them.
/// A refused join changes nothing, not even part of its lines.
pub fn decide_joins(s: &JoinSnapshot, jobs: &[JoinJob]) -> (Vec<JoinOutcome>, JoinChanges) {
    let mut now = s.clone();
    let mut changes = JoinChanges::default();
    let outcomes = jobs
        .iter()
        .map(|job| match join_one(&now, job) {
            Ok((outcome, applied)) => {
                applied.apply(&mut now, &mut changes);
                outcome
            }
            Err(refusal) => JoinOutcome::Refused(refusal),
        })
        .collect();
    (outcomes, changes)
}

/// What one accepted join changes.
struct Applied {
    group_buy: i64,
    household: i64,
    items: Vec<(i64, i64)>,
    households: i64,
    slot: Option<(i64, SlotState)>,
    share: Option<ShareState>,
}

impl Applied {
    fn apply(self, s: &mut JoinSnapshot, changes: &mut JoinChanges) {
        if let Some(gb) = s.group_buys.get_mut(&self.group_buy) {
            for &(product, joined) in &self.items {
                if let Some(item) = gb.items.get_mut(&product) {
                    item.joined_quantity = joined;
                }
                changes.items.insert((self.group_buy, product), joined);
            }
            gb.joined_households = self.households;
            changes.households.insert(self.group_buy, self.households);
        }
        if let Some((slot, state)) = self.slot {
            changes.slots.insert(slot, (state.booked, state.priority_booked));
            s.slots.insert(slot, state);
        }
        let key = (self.group_buy, self.household);
        match &self.share {
            Some(share) => s.shares.insert(key, share.clone()),
            None => s.shares.remove(&key),
        };
        changes.shares.insert(key, self.share);
    }
}

fn join_one(s: &JoinSnapshot, job: &JoinJob) -> Result<(JoinOutcome, Applied), Refusal> {
    let gb = s
        .group_buys
        .get(&job.group_buy_id)
        .ok_or_else(|| Refusal::new(ErrorCode::NotFound, "没有这个团购 (no such group-buy)"))?;
    let household =
        s.households.get(&job.household_id).filter(|h| gb.building_ids.contains(&h.building_id)).ok_or_else(|| {
            Refusal::new(ErrorCode::NotEligible, "这个团购不在您的楼栋 (this group-buy is for other buildings)")
        })?;
    if gb.is_closed(job.now) {
        return Err(Refusal::new(ErrorCode::GroupClosed, "团购已截止 (this group-buy is closed)"));
    }
    let priority = household.flags.is_priority();
    if job.now < gb.opens_for(priority) {
        return Err(Refusal::new(
            ErrorCode::NotOpenYet,
            format!("团购{}开始 (joining opens at {})", to_api(gb.opens_for(priority)), to_api(gb.opens_for(priority))),
        ));
    }
    let mut wanted: BTreeMap<i64, i64> = BTreeMap::new();
    for &(product, quantity) in &job.lines {
        let item = gb.items.get(&product).ok_or_else(|| {
            Refusal::field("items.product_id", &format!("团购里没有商品{product} (product {product} is not in it)"))
        })?;
        if quantity < 0 {
            return Err(Refusal::field("items.quantity", "数量不能为负 (must not be negative)"));
        }
        if wanted.insert(product, quantity).is_some() {
            return Err(Refusal::field("items", &format!("商品{product}重复 (product {product} twice)")));
        }
        if quantity > item.per_household_limit {
            return Err(Refusal::new(
                ErrorCode::OverLimit,
                format!(
                    "{} 每户限{}{} (at most {} per household)",
                    item.name, item.per_household_limit, item.unit, item.per_household_limit
                ),
            ));
        }
    }
    wanted.retain(|_, q| *q > 0);
    let key = (job.group_buy_id, job.household_id);
    let old = s.shares.get(&key);
    if job.keeps_off_own && old.is_some_and(|o| o.placed_by.is_none() && o.lines != wanted) {
        return Err(Refusal::new(
            ErrorCode::Forbidden,
            "这户自己下的团购，志愿者不能修改 (the household placed this share itself; a volunteer cannot change it)",
        ));
    }
    if old.is_some_and(|o| o.payment != SharePayment::Unpaid && o.lines != wanted) {
        return Err(Refusal::new(ErrorCode::GroupClosed, "已付款的份额不能再改 (a paid share cannot be changed)"));
    }
    // Every item's new total, all checked before anything is taken.
    let mut items = Vec::new();
    for (product, item) in &gb.items {
        let before = old.and_then(|o| o.lines.get(product)).copied().unwrap_or(0);
        let after = wanted.get(product).copied().unwrap_or(0);
        if before == after {
            continue;
        }
        let joined = item.joined_quantity - before + after;
        if joined > item.max_quantity {
            let left = (item.max_quantity - (item.joined_quantity - before)).max(0);
            return Err(Refusal::new(
                ErrorCode::GroupFull,
                format!("{} 只剩{}{}可团 (only {} {} left)", item.name, left, item.unit, left, item.unit),
            ));
        }
        items.push((*product, joined));
    }
    let mut households = gb.joined_households;
    let mut slot = None;
    let slot_now = || {
        s.slots
            .get(&gb.slot_id)
            .cloned()
            .ok_or_else(|| Refusal::new(ErrorCode::SlotClosed, "送货时段已取消 (the drop's slot is gone)"))
    };
    let share = match (old, wanted.is_empty()) {
        (None, true) => None,
        (None, false) => {
            let mut state = slot_now()?;
            if state.closed || state.places_for(priority, job.now) <= 0 {
                return Err(Refusal::new(ErrorCode::SlotFull, "送货时段已满 (the drop's slot is full)"));
            }
            state.take(priority);
            slot = Some((gb.slot_id, state));
            households += 1;
            Some(ShareState {
                lines: wanted,
                user_id: job.user_id,
                placed_by: job.placed_by.as_ref().map(|p| p.0),
                placed_by_label: job.placed_by.as_ref().map(|p| p.1.clone()),
                priority_booking: priority,
                payment: SharePayment::Unpaid,
                joined_at: job.now,
                updated_at: job.now,
            })
        }
        (Some(old), true) => {
            let mut state = slot_now()?;
            state.give_back(old.priority_booking);
            slot = Some((gb.slot_id, state));
            households -= 1;
            None
        }
        (Some(old), false) => Some(ShareState {
            lines: wanted,
            placed_by: job.placed_by.as_ref().map(|p| p.0).or(old.placed_by),
            placed_by_label: job.placed_by.as_ref().map(|p| p.1.clone()).or_else(|| old.placed_by_label.clone()),
            updated_at: job.now,
            ..old.clone()
        }),
    };
    let outcome = match &share {
        Some(share) => JoinOutcome::Joined(share.clone()),
        None => JoinOutcome::Left,
    };
    Ok((outcome, Applied { group_buy: job.group_buy_id, household: job.household_id, items, households, slot, share }))
}

/// The total of a share at the group prices.
pub fn share_total(gb: &GroupBuyState, lines: &BTreeMap<i64, i64>) -> Fen {
    lines.iter().filter_map(|(p, q)| gb.items.get(p).map(|i| i.price_fen.times(*q))).sum()
}

// ---------- closing ----------

/// How a group-buy is being ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// At the deadline by the server, or early by its leader or staff: it goes ahead if it can.
    Close,
    /// Called off by its leader or staff: nothing goes ahead.
    CallOff,
}

/// One share with where its household lives.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareAt {
    pub household_id: i64,
    pub address: Address,
    pub share: ShareState,
}

/// What closing needs (locked on PostgreSQL: the group-buy, its slot, its products).
#[derive(Debug, Clone, PartialEq)]
pub struct CloseSnapshot {
    pub group_buy: GroupBuyState,
    pub slot: SlotRow,
    /// Its items' products as they are now, by id (vendor, name, stock).
    pub products: BTreeMap<i64, ProductRow>,
    /// In (building, unit, room) order.
    pub shares: Vec<ShareAt>,
    /// Ids for the orders, one per share (the store reserves them).
    pub order_ids: Vec<i64>,
    /// A new hand-off code for each order.
    pub handoff_codes: Vec<String>,
}

/// The end of a group-buy: its new state, the orders its shares became, what goes back.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseDecision {
    pub status: GroupBuyStatus,
    pub outcome: String,
    /// (household, order).
    pub orders: Vec<(i64, OrderRecord)>,
    /// product -> stock after what is given back.
    pub stock: Vec<(i64, i64)>,
    /// The slot's (booked, priority booked) after the places are given back, when they are.
    pub slot: Option<(i64, i64)>,
    /// Paid shares of a group-buy that did not go ahead: (household, refund number).
    pub refunds: Vec<(i64, String)>,
}

/// The refund number of a household's paid share: unique, and the same however often it is
/// asked for, so a retried refund is never a second one.
pub fn refund_no(group_buy_id: i64, household_id: i64) -> String {
    format!("GB{group_buy_id}H{household_id}")
}

/// Ends a group-buy. None: it had already ended (closing twice changes nothing). It goes ahead
/// when the minimum was reached, or when `proceed` was chosen and at least one household joined.
pub fn decide_close(s: &CloseSnapshot, ending: Ending, now: DateTime<Utc>) -> Result<Option<CloseDecision>, TooFewIds> {
    let gb = &s.group_buy;
    if gb.status != GroupBuyStatus::Open {
        return Ok(None);
    }
    let joined = s.shares.len() as i64;
    let reached = joined >= gb.min_households;
    let ahead = ending == Ending::Close && joined > 0 && (reached || gb.on_shortfall == OnShortfall::Proceed);
    let mut stock = Vec::new();
    for (product, item) in &gb.items {
        let back = if ahead { item.max_quantity - item.joined_quantity } else { item.max_quantity };
        if back > 0 {
            if let Some(p) = s.products.get(product) {
                stock.push((*product, p.stock + back));
            }
        }
    }
    if !ahead {
        let mut slot = s.slot.state.clone();
        for share in &s.shares {
            slot.give_back(share.share.priority_booking);
        }
        let refunds = s
            .shares
            .iter()
            .filter(|sh| sh.share.payment == SharePayment::Paid)
            .map(|sh| (sh.household_id, refund_no(gb.id, sh.household_id)))
            .collect();
        let (status, outcome) = match ending {
            Ending::CallOff => (
                GroupBuyStatus::Cancelled,
                "团购已取消，预留的货已退回，不会收费 (called off: nothing is charged)".to_owned(),
            ),
            Ending::Close if joined == 0 => {
                (GroupBuyStatus::Failed, "没有住户参团，团购未成 (nobody joined; nothing is charged)".to_owned())
            }
            Ending::Close => (
                GroupBuyStatus::Failed,
                format!(
                    "未成团：{joined}户参团，最少需要{}户；不会收费 ({joined} households joined, {} were needed; nothing is charged)",
                    gb.min_households, gb.min_households
                ),
            ),
        };
        return Ok(Some(CloseDecision {
            status,
            outcome,
            orders: Vec::new(),
            stock,
            slot: (!s.shares.is_empty()).then_some((slot.booked, slot.priority_booked)),
            refunds,
        }));
    }
    if s.order_ids.len() < s.shares.len() || s.handoff_codes.len() < s.shares.len() {
        return Err(TooFewIds);
    }
    let mut orders = Vec::with_capacity(s.shares.len());
    for ((sh, id), code) in s.shares.iter().zip(&s.order_ids).zip(&s.handoff_codes) {
        let mut lines: Vec<LineRecord> = sh
            .share
            .lines
            .iter()
            .filter_map(|(product, quantity)| {
                let item = gb.items.get(product)?;
                let p = s.products.get(product)?;
                Some(LineRecord {
                    product_id: shared::ProductId(*product),
                    vendor_id: p.vendor_id,
                    name: item.name.clone(),
                    unit: item.unit.clone(),
                    quantity: *quantity,
                    price_fen: item.price_fen,
                    short: 0,
                })
            })
            .collect();
        lines.sort_by_key(|l| (l.vendor_id, l.product_id));
        let vendor_name = |vendor: i64| {
            s.products.values().find(|p| p.vendor_id == vendor).map(|p| p.vendor_name.clone()).unwrap_or_default()
        };
        let parts = parts_of(&lines, vendor_name);
        let (payment, status) = match sh.share.payment {
            SharePayment::Paid => (Payment::Wechat, OrderStatus::Paid),
            _ => (Payment::OnDelivery, OrderStatus::Placed),
        };
        orders.push((
            sh.household_id,
            OrderRecord {
                id: shared::OrderId(*id),
                user_id: sh.share.user_id,
                status,
                payment,
                total_fen: lines.iter().map(|l| l.price_fen.times(l.quantity)).sum(),
                slot_id: s.slot.id,
                slot_kind: s.slot.kind,
                slot_starts_at: s.slot.starts_at,
                slot_ends_at: s.slot.ends_at,
                address: Some(sh.address.clone()),
                note: None,
                handoff_code: code.clone(),
                priority_booking: sh.share.priority_booking,
                created_at: now,
                expires_at: None,
                lines,
                parts,
                timeline: vec![(status, now)],
                group_buy: Some(GroupBuyOrigin {
                    group_buy_id: shared::GroupBuyId(gb.id),
                    household_id: shared::HouseholdId(sh.household_id),
                    placed_by: sh.share.placed_by_label.clone(),
                }),
                pickup_point: None,
                at_point_at: None,
                collect_by: None,
                left_at_door: None,
                door_photo: false,
                paid_by_donations: false,
                standing_order_id: None,
            },
        ));
    }
    let outcome = if reached {
        format!("已成团：{joined}户参团，订单已生成 ({joined} households joined; the orders are placed)")
    } else {
        format!(
            "人数未满{}户，按约定照常成团：{joined}户的订单已生成 (fewer than {} joined; going ahead as agreed)",
            gb.min_households, gb.min_households
        )
    };
    Ok(Some(CloseDecision {
        status: GroupBuyStatus::Confirmed,
        outcome,
        orders,
        stock,
        slot: None,
        refunds: Vec::new(),
    }))
}

/// The store reserved fewer order ids or codes than there are shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("fewer order ids or hand-off codes than shares")]
pub struct TooFewIds;

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{GroupBuyId, ProductId, SlotId};

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(h * 3600, 0).unwrap_or_default()
    }

    fn item(product_id: i64, max: i64, limit: i64) -> ItemState {
        ItemState {
            product_id,
            name: format!("菜{product_id}"),
            unit: "斤".into(),
            price_fen: Fen::stored(100),
            max_quantity: max,
            per_household_limit: limit,
            joined_quantity: 0,
        }
    }

    /// Group-buy 1 for building 10: item 1 (max 5, 3 per household), item 2 (max 10, 10);
    /// opens at hour 2, for priority households at hour 1, deadline hour 10; slot 7 with 3
    /// places; households 100..=103 in building 10 (103 elderly), 200 in building 20.
    fn snapshot() -> JoinSnapshot {
        let mut s = JoinSnapshot::default();
        s.group_buys.insert(
            1,
            GroupBuyState {
                id: 1,
                status: GroupBuyStatus::Open,
                min_households: 2,
                joined_households: 0,
                opens_at: at(2),
                priority_opens_at: at(1),
                deadline: at(10),
                slot_id: 7,
                on_shortfall: OnShortfall::Cancel,
                building_ids: vec![10],
                items: [(1, item(1, 5, 3)), (2, item(2, 10, 10))].into_iter().collect(),
            },
        );
        s.slots.insert(
            7,
            SlotState {
                capacity: 3,
                booked: 0,
                priority_capacity: 0,
                priority_booked: 0,
                priority_release_at: None,
                cutoff_at: at(20),
                closed: false,
                household_limit: 1,
            },
        );
        for h in 100..=103 {
            let flags = NeedFlags { elderly: h == 103, ..NeedFlags::default() };
            s.households.insert(h, HouseholdState { building_id: 10, flags });
        }
        s.households.insert(200, HouseholdState { building_id: 20, flags: NeedFlags::default() });
        s
    }

    fn job(household: i64, lines: &[(i64, i64)], hour: i64) -> JoinJob {
        JoinJob {
            group_buy_id: 1,
            household_id: household,
            user_id: household * 10,
            placed_by: None,
            keeps_off_own: false,
            lines: lines.to_vec(),
            now: at(hour),
        }
    }

    #[test]
    fn a_volunteer_keeps_off_a_share_the_household_placed_itself() {
        let volunteer = |lines: &[(i64, i64)]| JoinJob {
            placed_by: Some((9, "志愿者 138****0201".into())),
            keeps_off_own: true,
            ..job(100, lines, 3)
        };
        // The household's own share: the volunteer's change is refused; staff's is not.
        let (out, _) = decide_joins(&snapshot(), &[job(100, &[(1, 1)], 3), volunteer(&[(1, 2)])]);
        assert_eq!((code(&out[0]), code(&out[1])), (None, Some(ErrorCode::Forbidden)));
        let staff = JoinJob { keeps_off_own: false, ..volunteer(&[(1, 2)]) };
        let (out, _) = decide_joins(&snapshot(), &[job(100, &[(1, 1)], 3), staff]);
        assert_eq!(code(&out[1]), None);
        // A share a volunteer placed, the volunteer may change.
        let (out, _) = decide_joins(&snapshot(), &[volunteer(&[(1, 1)]), volunteer(&[(1, 2)])]);
        assert_eq!((code(&out[0]), code(&out[1])), (None, None));
    }

    fn code(o: &JoinOutcome) -> Option<ErrorCode> {
        match o {
            JoinOutcome::Refused(r) => Some(r.code),
            _ => None,
        }
    }

    #[test]
    fn no_item_goes_over_its_maximum_and_a_refused_change_applies_none_of_its_lines() {
        let (out, ch) = decide_joins(
            &snapshot(),
            &[job(100, &[(1, 3), (2, 1)], 3), job(101, &[(1, 3), (2, 5)], 3), job(101, &[(1, 2), (2, 5)], 3)],
        );
        assert_eq!(code(&out[0]), None);
        // Only 2 of item 1 are left: the whole change is refused, item 2 untouched.
        assert_eq!(code(&out[1]), Some(ErrorCode::GroupFull));
        assert_eq!(code(&out[2]), None);
        assert_eq!(ch.items.get(&(1, 1)), Some(&5));
        assert_eq!(ch.items.get(&(1, 2)), Some(&6));
        assert_eq!(ch.households.get(&1), Some(&2));
        assert_eq!(ch.slots.get(&7), Some(&(2, 0)));
    }

    #[test]
    fn limits_eligibility_deadline_and_head_start() {
        let s = snapshot();
        let (out, ch) = decide_joins(
            &s,
            &[
                job(100, &[(1, 4)], 3),
                job(200, &[(1, 1)], 3),
                job(100, &[(1, 1)], 10),
                job(100, &[(1, 1)], 1),
                job(103, &[(1, 1)], 1),
                job(100, &[(9, 1)], 3),
                job(100, &[(1, -1)], 3),
            ],
        );
        let codes: Vec<_> = out.iter().map(code).collect();
        assert_eq!(
            codes,
            [
                Some(ErrorCode::OverLimit),
                Some(ErrorCode::NotEligible),
                Some(ErrorCode::GroupClosed),
                Some(ErrorCode::NotOpenYet),
                None,
                Some(ErrorCode::InvalidField),
                Some(ErrorCode::InvalidField),
            ]
        );
        // The elderly household's place came from the priority count.
        assert_eq!(ch.slots.get(&7), Some(&(1, 1)));
    }

    #[test]
    fn changing_keeps_the_place_and_leaving_gives_it_back() {
        let (out, ch) = decide_joins(
            &snapshot(),
            &[job(100, &[(1, 2)], 3), job(100, &[(1, 1), (2, 2)], 4), job(100, &[(1, 0)], 5)],
        );
        assert!(matches!(out[1], JoinOutcome::Joined(_)));
        assert_eq!(out[2], JoinOutcome::Left);
        assert_eq!(ch.items.get(&(1, 1)), Some(&0));
        assert_eq!(ch.items.get(&(1, 2)), Some(&0));
        assert_eq!(ch.households.get(&1), Some(&0));
        assert_eq!(ch.slots.get(&7), Some(&(0, 0)));
        assert_eq!(ch.shares.get(&(1, 100)), Some(&None));
    }

    #[test]
    fn a_full_slot_refuses_new_households_only() {
        let (out, _) = decide_joins(
            &snapshot(),
            &[
                job(100, &[(2, 1)], 3),
                job(101, &[(2, 1)], 3),
                job(102, &[(2, 1)], 3),
                job(103, &[(2, 1)], 3),
                job(100, &[(2, 2)], 3),
            ],
        );
        let codes: Vec<_> = out.iter().map(code).collect();
        assert_eq!(codes, [None, None, None, Some(ErrorCode::SlotFull), None]);
    }

    fn closing(shares: usize, on_shortfall: OnShortfall) -> CloseSnapshot {
        let mut s = snapshot();
        let jobs: Vec<JoinJob> = (0..shares as i64).map(|i| job(100 + i, &[(1, 1), (2, 2)], 3)).collect();
        let (_, ch) = decide_joins(&s, &jobs);
        let mut gb = s.group_buys.remove(&1).expect("group-buy 1");
        gb.on_shortfall = on_shortfall;
        for ((_, product), joined) in &ch.items {
            if let Some(i) = gb.items.get_mut(product) {
                i.joined_quantity = *joined;
            }
        }
        let slot_state = s.slots.get(&7).cloned().map(|mut st| {
            if let Some((b, p)) = ch.slots.get(&7) {
                st.booked = *b;
                st.priority_booked = *p;
            }
            st
        });
        let product = |id: i64| ProductRow {
            id: ProductId(id),
            vendor_id: 50 + id,
            vendor_name: format!("摊{id}"),
            name: format!("菜{id}"),
            unit: "斤".into(),
            price_fen: Fen::stored(150),
            stock: 7,
            per_order_limit: None,
            active: true,
            ..ProductRow::default()
        };
        CloseSnapshot {
            group_buy: gb,
            slot: SlotRow {
                market_id: shared::MarketId::FIRST,
                id: SlotId(7),
                kind: SlotKind::Delivery,
                starts_at: at(12),
                ends_at: at(13),
                state: slot_state.unwrap_or_else(|| unreachable!()),
            },
            products: [(1, product(1)), (2, product(2))].into_iter().collect(),
            shares: ch
                .shares
                .into_iter()
                .filter_map(|((_, h), share)| {
                    share.map(|share| ShareAt {
                        household_id: h,
                        address: Address {
                            building: "10".into(),
                            unit: "1".into(),
                            room: format!("{h}"),
                            community: None,
                        },
                        share,
                    })
                })
                .collect(),
            order_ids: vec![501, 502, 503],
            handoff_codes: vec!["111111".into(), "222222".into(), "333333".into()],
        }
    }

    fn ended(s: &CloseSnapshot, ending: Ending, hour: i64) -> CloseDecision {
        decide_close(s, ending, at(hour)).expect("ids for every share").expect("it was open")
    }

    #[test]
    fn reaching_the_minimum_confirms_with_one_order_per_share_and_the_rest_of_the_stock_back() {
        let d = ended(&closing(2, OnShortfall::Cancel), Ending::Close, 10);
        assert_eq!(d.status, GroupBuyStatus::Confirmed);
        assert_eq!(d.orders.len(), 2);
        let (household, order) = &d.orders[0];
        assert_eq!(*household, 100);
        assert_eq!(order.total_fen, Fen::stored(300));
        assert_eq!(order.parts.len(), 2);
        assert_eq!(order.group_buy.as_ref().map(|g| g.group_buy_id), Some(GroupBuyId(1)));
        // Item 1: max 5, 2 joined -> 3 back; item 2: max 10, 4 joined -> 6 back.
        assert_eq!(d.stock, vec![(1, 10), (2, 13)]);
        assert_eq!(d.slot, None);
    }

    #[test]
    fn a_shortfall_fails_or_proceeds_as_chosen_and_closing_twice_does_nothing() {
        let s = closing(1, OnShortfall::Cancel);
        let d = ended(&s, Ending::Close, 10);
        assert_eq!(d.status, GroupBuyStatus::Failed);
        assert!(d.orders.is_empty());
        assert_eq!(d.stock, vec![(1, 12), (2, 17)]);
        assert_eq!(d.slot, Some((0, 0)));
        let d = ended(&closing(1, OnShortfall::Proceed), Ending::Close, 10);
        assert_eq!(d.status, GroupBuyStatus::Confirmed);
        assert_eq!(d.orders.len(), 1);
        let mut done = s.clone();
        done.group_buy.status = GroupBuyStatus::Failed;
        assert_eq!(decide_close(&done, Ending::Close, at(11)), Ok(None));
    }

    #[test]
    fn paid_shares_of_a_failed_group_buy_get_a_refund_number_each() {
        let mut s = closing(1, OnShortfall::Cancel);
        s.shares[0].share.payment = SharePayment::Paid;
        let d = ended(&s, Ending::CallOff, 5);
        assert_eq!(d.status, GroupBuyStatus::Cancelled);
        assert_eq!(d.refunds, vec![(100, refund_no(1, 100))]);
    }

    #[test]
    fn only_volunteers_leaders_of_the_building_and_staff_place_shares_for_others() {
        let placed = placer;
        assert_eq!(placed(false, false, true, "138****0201"), Ok(("志愿者 138****0201".to_owned(), true)));
        assert_eq!(placed(false, true, false, "138****0301"), Ok(("团长 138****0301".to_owned(), false)));
        assert_eq!(placed(true, false, true, ""), Ok(("工作人员".to_owned(), false)));
        assert_eq!(placer(false, false, false, "139****0001").map_err(|r| r.code), Err(ErrorCode::Forbidden));
    }

    #[test]
    fn a_leader_runs_only_their_buildings() {
        let leader = Runner { user_id: 1, staff: false, leads: [5, 6].into_iter().collect(), ..Runner::default() };
        assert!(leader.runs(&[5]));
        assert!(leader.runs(&[5, 6]));
        assert!(!leader.runs(&[5, 7]));
        assert!(!leader.runs(&[]));
        assert!(Runner { staff: true, ..Runner::default() }.runs(&[9]));
    }

    #[test]
    fn opening_names_the_broken_field_and_sets_the_maximum_aside() {
        let product = ProductRow {
            id: ProductId(1),
            vendor_id: 9,
            vendor_name: "摊".into(),
            name: "白菜".into(),
            unit: "斤".into(),
            price_fen: Fen::stored(120),
            stock: 50,
            per_order_limit: None,
            active: true,
            ..ProductRow::default()
        };
        let slot = SlotRow {
            market_id: shared::MarketId::FIRST,
            id: SlotId(7),
            kind: SlotKind::Delivery,
            starts_at: at(30),
            ends_at: at(32),
            state: SlotState {
                capacity: 100,
                booked: 0,
                priority_capacity: 0,
                priority_booked: 0,
                priority_release_at: None,
                cutoff_at: at(29),
                closed: false,
                household_limit: 1,
            },
        };
        let s = OpenSnapshot {
            buildings: [("5".to_owned(), 50)].into_iter().collect(),
            products: [(1, product)].into_iter().collect(),
            // Its own price rose to 1.20 today from 1.00 in the morning; the cap is off.
            prices: [(1, PriceSnapshot { current: 120, day_open: 100, ceiling: None })].into_iter().collect(),
            cap: None,
            slot: Some(slot),
        };
        let r = OpenRequest {
            title: " 白菜团 ".into(),
            buildings: vec!["5".into()],
            items: vec![(1, 100, 40, 2)],
            min_households: 3,
            deadline: at(20),
            opens_at: None,
            head_start_minutes: 60,
            slot_id: 7,
            on_shortfall: OnShortfall::Cancel,
            now: at(1),
        };
        let staff = Runner { staff: true, ..Runner::default() };
        let plan = decide_open(&s, &r, &staff).expect("a good group-buy opens");
        assert_eq!(plan.title, "白菜团");
        assert_eq!(plan.stock, vec![(1, 10)]);
        assert_eq!(plan.opens_at - plan.priority_opens_at, Duration::minutes(60));
        let refused = |change: &dyn Fn(&mut OpenRequest), runner: &Runner| {
            let mut bad = r.clone();
            change(&mut bad);
            decide_open(&s, &bad, runner).expect_err("refused")
        };
        assert!(refused(&|b| b.deadline = at(30), &staff).message.starts_with("slot_id"));
        assert!(refused(&|b| b.items[0].3 = 41, &staff).message.starts_with("items.per_household_limit"));
        assert_eq!(refused(&|b| b.items[0].2 = 51, &staff).code, ErrorCode::OutOfStock);
        assert!(refused(&|b| b.buildings = vec!["6".into()], &staff).message.starts_with("buildings"));
        let other_leader = Runner { leads: [60].into_iter().collect(), ..Runner::default() };
        assert_eq!(refused(&|_| {}, &other_leader).code, ErrorCode::Forbidden);
        // A group price is never above the product's own, nor above what the cap allows today.
        assert!(refused(&|b| b.items[0].1 = 121, &staff).message.starts_with("items.price_fen"));
        assert!(decide_open(&s, &OpenRequest { items: vec![(1, 120, 40, 2)], ..r.clone() }, &staff).is_ok());
        let capped = OpenSnapshot { cap: Some(Cap { max_daily_rise_percent: 5 }), ..s.clone() };
        let at_price = OpenRequest { items: vec![(1, 106, 40, 2)], ..r.clone() };
        assert_eq!(decide_open(&capped, &at_price, &staff).expect_err("over the cap").code, ErrorCode::PriceCapped);
        let at_top = OpenRequest { items: vec![(1, 105, 40, 2)], ..r.clone() };
        assert!(decide_open(&capped, &at_top, &staff).is_ok());
        // The drop's day is the stall's work: a closed stall, or one resting that day, is refused.
        let with_stall = |closed: bool, closed_on: Option<String>| {
            let mut s = s.clone();
            let p = s.products.get_mut(&1).expect("product");
            (p.stall_closed, p.stall_closed_on) = (closed, closed_on);
            decide_open(&s, &r, &staff).map(|_| ()).map_err(|refusal| refusal.code)
        };
        let drop_day = crate::domain::time::shanghai_date(at(30));
        assert_eq!(with_stall(true, None), Err(ErrorCode::StallClosed));
        assert_eq!(with_stall(false, Some(drop_day)), Err(ErrorCode::StallClosed));
        assert_eq!(with_stall(false, Some("2020-01-01".into())), Ok(()), "resting another day is no matter");
    }
}

// ---------- paying a share ahead (WeChat Pay) ----------

/// A household's share as it stands when its resident asks to pay it.
#[derive(Debug, Clone, PartialEq)]
pub struct SharePayRequest {
    pub status: GroupBuyStatus,
    pub deadline: DateTime<Utc>,
    /// The share's total and payment; None: the household has no share.
    pub share: Option<(Fen, SharePayment)>,
}

/// How much paying the share asks for now, or why it cannot be paid.
pub fn decide_share_pay(r: &SharePayRequest, now: DateTime<Utc>) -> Result<Fen, Refusal> {
    let (total, payment) =
        r.share.ok_or_else(|| Refusal::new(ErrorCode::NotFound, "您还没有参团 (no share to pay)"))?;
    if r.status != GroupBuyStatus::Open || now >= r.deadline {
        return Err(Refusal::new(ErrorCode::GroupClosed, "团购已截止 (the group-buy has closed)"));
    }
    if payment != SharePayment::Unpaid {
        return Err(Refusal::new(ErrorCode::WrongState, "这份已经付过了 (the share is paid already)"));
    }
    if total.get() <= 0 {
        return Err(Refusal::new(ErrorCode::WrongState, "份额为空 (nothing to pay)"));
    }
    Ok(total)
}

/// A share's payment as the store read it (the group-buy and the share locked) when WeChat Pay
/// says money came for it.
#[derive(Debug, Clone, PartialEq)]
pub struct SharePaymentSnapshot {
    pub out_trade_no: String,
    /// What this prepay asked for.
    pub amount: Fen,
    /// The transaction already recorded for this prepay, if any.
    pub transaction_id: Option<String>,
    pub group_buy_open: bool,
    /// The share now: its total and payment; None if the household left.
    pub share: Option<(Fen, SharePayment)>,
}

/// What money for a share does, decided as for an order (`decide_payment`): it pays the share
/// only while the group-buy is open and the share, unpaid, still costs what was asked; money that
/// comes otherwise (closed, changed, left, paid already) is owed back.
pub fn decide_share_payment(
    s: Option<&SharePaymentSnapshot>,
    notice: &super::payment::PaymentNotice,
    merchant: &super::payment::Merchant<'_>,
) -> Result<super::payment::PaymentOutcome, Refusal> {
    let snapshot = s.map(|s| {
        let waiting = s.group_buy_open
            && s.share.is_some_and(|(total, payment)| payment == SharePayment::Unpaid && total == s.amount);
        super::payment::PaymentSnapshot {
            order_id: 0,
            status: match (&s.transaction_id, waiting) {
                (Some(_), _) => OrderStatus::Paid,
                (None, true) => OrderStatus::PendingPayment,
                (None, false) => OrderStatus::Cancelled,
            },
            total: s.amount,
            transaction_id: s.transaction_id.clone(),
            paid_by_pool: false,
        }
    });
    super::payment::decide_payment(snapshot.as_ref(), notice, merchant)
}

#[cfg(test)]
mod share_payment_tests {
    use super::*;
    use crate::domain::payment::{Merchant, PaymentNotice, PaymentOutcome};

    const ME: Merchant<'static> = Merchant { mchid: "1900000001", appid: "wx-demo" };

    fn notice(total: i64, transaction: &str) -> PaymentNotice {
        PaymentNotice {
            mchid: ME.mchid.into(),
            appid: ME.appid.into(),
            out_trade_no: "FXG1H2N1".into(),
            transaction_id: transaction.into(),
            trade_state: "SUCCESS".into(),
            total,
            success_time: None,
        }
    }

    fn paying() -> SharePaymentSnapshot {
        SharePaymentSnapshot {
            out_trade_no: "FXG1H2N1".into(),
            amount: Fen::stored(900),
            transaction_id: None,
            group_buy_open: true,
            share: Some((Fen::stored(900), SharePayment::Unpaid)),
        }
    }

    #[test]
    fn money_pays_an_open_unchanged_unpaid_share_once() {
        let s = paying();
        assert_eq!(decide_share_payment(Some(&s), &notice(900, "T1"), &ME), Ok(PaymentOutcome::Paid));
        let mut paid = s.clone();
        paid.transaction_id = Some("T1".into());
        paid.share = Some((Fen::stored(900), SharePayment::Paid));
        assert_eq!(decide_share_payment(Some(&paid), &notice(900, "T1"), &ME), Ok(PaymentOutcome::AlreadyPaid));
        assert_eq!(decide_share_payment(Some(&paid), &notice(900, "T2"), &ME), Ok(PaymentOutcome::RefundLate));
        assert!(decide_share_payment(Some(&s), &notice(899, "T1"), &ME).is_err(), "the wrong amount");
        assert!(decide_share_payment(None, &notice(900, "T1"), &ME).is_err());
    }

    #[test]
    fn money_for_a_closed_changed_left_or_paid_share_goes_back() {
        let mut closed = paying();
        closed.group_buy_open = false;
        let mut changed = paying();
        changed.share = Some((Fen::stored(1_200), SharePayment::Unpaid));
        let mut left = paying();
        left.share = None;
        let mut other = paying();
        other.share = Some((Fen::stored(900), SharePayment::Paid));
        for s in [closed, changed, left, other] {
            assert_eq!(
                decide_share_payment(Some(&s), &notice(900, "T9"), &ME),
                Ok(PaymentOutcome::RefundLate),
                "{s:?}"
            );
        }
    }

    #[test]
    fn a_share_is_paid_while_open_once_and_not_empty() {
        let now = Utc::now();
        let mut r = SharePayRequest {
            status: GroupBuyStatus::Open,
            deadline: now + chrono::Duration::hours(1),
            share: Some((Fen::stored(900), SharePayment::Unpaid)),
        };
        assert_eq!(decide_share_pay(&r, now), Ok(Fen::stored(900)));
        assert_eq!(
            decide_share_pay(&r, now + chrono::Duration::hours(2)).map_err(|e| e.code),
            Err(ErrorCode::GroupClosed)
        );
        r.share = Some((Fen::stored(900), SharePayment::Paid));
        assert_eq!(decide_share_pay(&r, now).map_err(|e| e.code), Err(ErrorCode::WrongState));
        r.share = None;
        assert_eq!(decide_share_pay(&r, now).map_err(|e| e.code), Err(ErrorCode::NotFound));
        r.share = Some((Fen::stored(900), SharePayment::Unpaid));
        r.status = GroupBuyStatus::Failed;
        assert_eq!(decide_share_pay(&r, now).map_err(|e| e.code), Err(ErrorCode::GroupClosed));
    }
}
