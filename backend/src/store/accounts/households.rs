//! Households: the flats the market delivers to, a resident's home, staff's search and the
//! flags (quarantined, hardship, elderly) that give priority.

use super::sessions::Sessions;
use crate::domain::area::{pick_building, BuildingAt};
use crate::domain::checkout::is_address_part;
use crate::domain::households::{
    decide_invite, decide_membership, may_answer, plan_register_import, AddressKey, Approver, JoinFacts, RegisterLine,
    RegisterPlan, RegisterSnapshot,
};
use crate::domain::Refusal;
use crate::store::db::{self, args, Arg, Db, Tx};
use crate::store::{like_escaped, StoreResult};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::api::{Address, Household, Membership};
use shared::MarketId;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Which households staff look for: a building's number, a unit, the start of a room number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdFilter {
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
}

/// A household with its building, as the API shows it.
pub(crate) const HOUSEHOLD_SELECT: &str = "SELECT h.id, b.community, b.number AS building, h.unit, h.room, \
     h.quarantined, h.hardship, h.elderly FROM households h JOIN buildings b ON b.id = h.building_id";

#[derive(Deserialize)]
pub(crate) struct HouseholdRow {
    id: shared::HouseholdId,
    community: String,
    building: String,
    unit: String,
    room: String,
    quarantined: bool,
    hardship: bool,
    elderly: bool,
}

impl From<HouseholdRow> for Household {
    fn from(r: HouseholdRow) -> Self {
        Household {
            id: r.id,
            community: r.community,
            building: r.building,
            unit: r.unit,
            room: r.room,
            quarantined: Some(r.quarantined),
            hardship: Some(r.hardship),
            elderly: Some(r.elderly),
            membership: None,
        }
    }
}

/// One phone on a household's register, with the address.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegisterEntry {
    pub community: String,
    pub building: String,
    pub unit: String,
    pub room: String,
    pub phone: String,
}

/// A resident waiting to join a household (or, listed as a member, one living there).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JoinRequest {
    pub id: i64,
    pub phone: Option<String>,
    pub requested_at: Option<DateTime<Utc>>,
}

pub struct Households {
    db: Db,
    sessions: Arc<Sessions>,
}

impl Households {
    pub fn new(db: Db, sessions: Arc<Sessions>) -> Self {
        Self { db, sessions }
    }

    /// The household at this address (made if new) becomes the user's home if
    /// `domain::households::decide_membership` says they are a member, else their request to
    /// join it. None: no such building; Err: the address does not say which of several.
    pub async fn set_home(
        &self,
        user_id: i64,
        address: &Address,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Option<Membership>, Refusal>> {
        #[derive(Deserialize)]
        struct Facts {
            already_member: bool,
            on_register: bool,
            has_members: bool,
        }
        let mut tx = self.db.begin().await?;
        let prefer: MarketId = tx.one("SELECT market_id FROM users WHERE id = $1", &args![user_id]).await?;
        let household = match at_address(&mut tx, address, prefer).await? {
            Ok(Some(household)) => household,
            Ok(None) => return Ok(Ok(None)),
            Err(refusal) => return Ok(Err(refusal)),
        };
        let sql = tx.locked("SELECT id FROM users WHERE id = $1");
        let _: Option<i64> = tx.opt(&sql, &args![user_id]).await?;
        let facts: Facts = tx
            .one(
                "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND household_id = $2) AS already_member, \
                 EXISTS (SELECT 1 FROM household_register r JOIN users u ON u.phone = r.phone \
                         WHERE r.household_id = $2 AND u.id = $1) AS on_register, \
                 EXISTS (SELECT 1 FROM users WHERE household_id = $2 AND id <> $1) AS has_members",
                &args![user_id, household.id],
            )
            .await?;
        let flagged = [household.quarantined, household.hardship, household.elderly].contains(&Some(true));
        let facts = JoinFacts {
            already_member: facts.already_member,
            on_register: facts.on_register,
            has_members: facts.has_members,
            flagged,
        };
        let membership = decide_membership(&facts);
        match membership {
            Membership::Member => {
                tx.exec(
                    "UPDATE users SET household_id = $2, pending_household_id = NULL, pending_since = NULL WHERE id = $1",
                    &args![user_id, household.id],
                )
                .await?
            }
            Membership::Pending => {
                tx.exec(
                    "UPDATE users SET household_id = NULL, pending_household_id = $2, \
                     pending_since = CASE WHEN pending_household_id = $2 THEN pending_since ELSE $3 END WHERE id = $1",
                    &args![user_id, household.id, now],
                )
                .await?
            }
        };
        tx.commit().await?;
        self.sessions.forget_user(user_id);
        Ok(Ok(Some(membership)))
    }

    /// The members of a household, in id order (at most 1,000).
    pub async fn members(&self, household_id: i64) -> StoreResult<Vec<JoinRequest>> {
        Ok(self
            .db
            .all(
                "SELECT id, phone, NULL AS requested_at FROM users WHERE household_id = $1 ORDER BY id LIMIT 1000",
                &args![household_id],
            )
            .await?)
    }

    /// The residents waiting to join a household, oldest first.
    pub async fn requests(&self, household_id: i64) -> StoreResult<Vec<JoinRequest>> {
        Ok(self
            .db
            .all(
                "SELECT id, phone, pending_since AS requested_at FROM users WHERE pending_household_id = $1 \
                 ORDER BY pending_since, id LIMIT 1000",
                &args![household_id],
            )
            .await?)
    }

    /// Answers a resident's request to join, as `approver` (`domain::households::may_answer`):
    /// approved, they become a member; rejected, their request is gone.
    pub async fn answer_request(
        &self,
        approver: Approver,
        requester: i64,
        approve: bool,
    ) -> StoreResult<Result<(), Refusal>> {
        let mut tx = self.db.begin().await?;
        let sql = tx.locked("SELECT pending_household_id FROM users WHERE id = $1");
        let pending: Option<Option<i64>> = tx.opt(&sql, &args![requester]).await?;
        let household = match may_answer(approver, pending.flatten()) {
            Ok(h) => h,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let write = if approve {
            "UPDATE users SET household_id = $2, pending_household_id = NULL, pending_since = NULL WHERE id = $1"
        } else {
            "UPDATE users SET pending_household_id = NULL, pending_since = NULL WHERE id = $1 AND pending_household_id = $2"
        };
        tx.exec(write, &args![requester, household]).await?;
        tx.commit().await?;
        self.sessions.forget_user(requester);
        Ok(Ok(()))
    }

    /// Staff take a member out of a household, or turn down a resident waiting to join it.
    /// False: they were neither.
    pub async fn remove_member(&self, household_id: i64, user_id: i64) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let removed = tx
            .exec(
                "UPDATE users SET household_id = NULL WHERE id = $1 AND household_id = $2",
                &args![user_id, household_id],
            )
            .await?;
        let turned_down = tx
            .exec(
                "UPDATE users SET pending_household_id = NULL, pending_since = NULL \
                 WHERE id = $1 AND pending_household_id = $2",
                &args![user_id, household_id],
            )
            .await?;
        tx.commit().await?;
        self.sessions.forget_user(user_id);
        Ok(removed + turned_down > 0)
    }

    /// Staff record the phones living in a household (the whole register, replacing it); a
    /// resident waiting to join it whose phone is on it becomes a member at once. None: no such
    /// household.
    pub async fn set_register(
        &self,
        household_id: i64,
        phones: &[String],
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.db.begin().await?;
        let sql = tx.locked("SELECT id FROM households WHERE id = $1");
        if tx.opt::<i64>(&sql, &args![household_id]).await?.is_none() {
            return Ok(None);
        }
        tx.exec("DELETE FROM household_register WHERE household_id = $1", &args![household_id]).await?;
        for phone in phones {
            tx.exec(
                "INSERT INTO household_register (household_id, phone, added_by, added_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (household_id, phone) DO NOTHING",
                &args![household_id, phone.as_str(), by, now],
            )
            .await?;
        }
        let let_in = let_in_registered(&mut tx, &[household_id]).await?;
        let register: Vec<String> = tx
            .all("SELECT phone FROM household_register WHERE household_id = $1 ORDER BY phone", &args![household_id])
            .await?;
        tx.commit().await?;
        for user in let_in {
            self.sessions.forget_user(user);
        }
        Ok(Some(register))
    }

    /// Staff's register file: `domain::households::plan_register_import` over their market's
    /// buildings (another market's building 3 is not theirs) and the registers of the file's
    /// addresses (locked when applying); applied, all or nothing,
    /// when `apply` and no row is an error: the addresses put on record, the phones on their
    /// registers, and residents waiting there whose phone is now on it let in. The plan and how
    /// many were let in.
    pub async fn import_register(
        &self,
        market: MarketId,
        lines: &[RegisterLine],
        apply: bool,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<(RegisterPlan, usize)> {
        #[derive(Deserialize)]
        struct Flat {
            id: i64,
            unit: String,
            room: String,
        }
        #[derive(Deserialize)]
        struct Entry {
            household_id: i64,
            phone: String,
        }
        let mut tx = self.db.begin().await?;
        #[derive(Deserialize)]
        struct Building {
            number: String,
            #[serde(flatten)]
            at: BuildingAt,
        }
        let mut snapshot = RegisterSnapshot::default();
        let buildings = "SELECT id, number, market_id, community FROM buildings WHERE market_id = $1 ORDER BY id";
        for b in tx.all::<Building>(buildings, &args![market]).await? {
            snapshot.buildings.entry(b.number).or_default().push(b.at);
        }
        // The file's addresses the market serves, by building (each line's building as the
        // rule will pick it; a line it refuses adds nothing).
        let mut wanted: BTreeMap<i64, BTreeSet<(String, String)>> = BTreeMap::new();
        for line in lines {
            let (building, unit, room) = (line.building.trim(), line.unit.trim(), line.room.trim());
            let found = snapshot.buildings.get(building).map_or(&[][..], Vec::as_slice);
            let named = Some(line.community.trim()).filter(|c| !c.is_empty());
            let Ok(Some(at)) = pick_building(found, named, None, building) else { continue };
            if is_address_part(unit) && is_address_part(room) {
                wanted.entry(at.id).or_default().insert((unit.to_owned(), room.to_owned()));
            }
        }
        // Building by building: its flats (the file's new ones put on record first when
        // applying; then all locked as the register's other writers lock them) and registers.
        let flats_sql = "SELECT id, unit, room FROM households WHERE building_id = $1";
        let mut households: HashMap<AddressKey, i64> = HashMap::new();
        for (&building, addresses) in &wanted {
            let mut flats: Vec<Flat> = tx.all(flats_sql, &args![building]).await?;
            if apply {
                let known: BTreeSet<(&str, &str)> = flats.iter().map(|f| (f.unit.as_str(), f.room.as_str())).collect();
                let new: Vec<&(String, String)> =
                    addresses.iter().filter(|(u, r)| !known.contains(&(u.as_str(), r.as_str()))).collect();
                for chunk in new.chunks(db::ROWS_PER_INSERT) {
                    let mut bound = Vec::with_capacity(chunk.len() * 3);
                    for (unit, room) in chunk {
                        bound.extend(args![building, unit.as_str(), room.as_str()]);
                    }
                    let sql = format!(
                        "INSERT INTO households (building_id, unit, room) VALUES {} \
                         ON CONFLICT (building_id, unit, room) DO NOTHING",
                        db::values(chunk.len(), 3)
                    );
                    tx.exec(&sql, &bound).await?;
                }
                flats = tx.all(&tx.locked(flats_sql), &args![building]).await?;
            }
            let mut key_of = HashMap::new();
            for flat in flats {
                if addresses.contains(&(flat.unit.clone(), flat.room.clone())) {
                    let key = (building, flat.unit, flat.room);
                    snapshot.registers.insert(key.clone(), Vec::new());
                    key_of.insert(flat.id, key.clone());
                    households.insert(key, flat.id);
                }
            }
            let entries: Vec<Entry> = tx
                .all(
                    "SELECT r.household_id, r.phone FROM household_register r \
                     JOIN households h ON h.id = r.household_id WHERE h.building_id = $1 ORDER BY r.phone",
                    &args![building],
                )
                .await?;
            for entry in entries {
                if let Some(register) = key_of.get(&entry.household_id).and_then(|k| snapshot.registers.get_mut(k)) {
                    register.push(entry.phone);
                }
            }
        }
        let plan = plan_register_import(lines, &snapshot);
        if !apply || !plan.clean() {
            return Ok((plan, 0));
        }
        let adds: Vec<(i64, &str)> =
            plan.add.iter().filter_map(|(key, phone)| Some((*households.get(key)?, phone.as_str()))).collect();
        for chunk in adds.chunks(db::ROWS_PER_INSERT) {
            let mut bound = Vec::with_capacity(chunk.len() * 4);
            for &(household, phone) in chunk {
                bound.extend(args![household, phone, by, now]);
            }
            let sql = format!(
                "INSERT INTO household_register (household_id, phone, added_by, added_at) VALUES {} \
                 ON CONFLICT (household_id, phone) DO NOTHING",
                db::values(chunk.len(), 4)
            );
            tx.exec(&sql, &bound).await?;
        }
        let touched: BTreeSet<i64> = adds.iter().map(|(h, _)| *h).collect();
        let let_in = let_in_registered(&mut tx, &touched.into_iter().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        for user in &let_in {
            self.sessions.forget_user(*user);
        }
        Ok((plan, let_in.len()))
    }

    /// Every register entry with its address, for the spreadsheet staff edit and bring back:
    /// (community, building, unit, room, phone), by address.
    pub async fn registers(&self, market: MarketId) -> StoreResult<Vec<RegisterEntry>> {
        Ok(self
            .db
            .all(
                "SELECT b.community, b.number AS building, h.unit, h.room, r.phone FROM household_register r \
                 JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id \
                 WHERE b.market_id = $1 ORDER BY b.community, b.number, h.unit, h.room, r.phone",
                &args![market],
            )
            .await?)
    }

    /// A member of `member_of` invites `phone` into their household (`domain::households::
    /// decide_invite` over the register as locked); a resident with that phone waiting to join it
    /// is a member at once. The register as it now stands.
    pub async fn invite(
        &self,
        member_of: Option<i64>,
        phone: &str,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Vec<String>, Refusal>> {
        let mut tx = self.db.begin().await?;
        let household = match member_of {
            Some(h) => {
                let sql = tx.locked("SELECT id FROM households WHERE id = $1");
                tx.opt::<i64>(&sql, &args![h]).await?
            }
            None => None,
        };
        let register = self.register_in(&mut tx, household).await?;
        let add = match decide_invite(household, &register, phone) {
            Ok(add) => add,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let Some(household) = household else { return Ok(Ok(register)) };
        let mut let_in = Vec::new();
        if add {
            tx.exec(
                "INSERT INTO household_register (household_id, phone, added_by, added_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (household_id, phone) DO NOTHING",
                &args![household, phone, by, now],
            )
            .await?;
            let_in = let_in_registered(&mut tx, &[household]).await?;
        }
        let register = self.register_in(&mut tx, Some(household)).await?;
        tx.commit().await?;
        for user in let_in {
            self.sessions.forget_user(user);
        }
        Ok(Ok(register))
    }

    /// The phones on a household's register, in order.
    pub async fn register_of(&self, household_id: i64) -> StoreResult<Vec<String>> {
        let mut tx = self.db.begin().await?;
        let register = self.register_in(&mut tx, Some(household_id)).await?;
        tx.commit().await?;
        Ok(register)
    }

    async fn register_in(&self, tx: &mut Tx, household_id: Option<i64>) -> StoreResult<Vec<String>> {
        let Some(household_id) = household_id else { return Ok(Vec::new()) };
        Ok(tx
            .all("SELECT phone FROM household_register WHERE household_id = $1 ORDER BY phone", &args![household_id])
            .await?)
    }

    /// The household at this address in `market`'s area (by preference), put on record if new
    /// (a share placed for a household without a phone). None: no such building.
    pub async fn at(&self, market: MarketId, address: &Address) -> StoreResult<Result<Option<Household>, Refusal>> {
        let mut tx = self.db.begin().await?;
        let household = at_address(&mut tx, address, market).await?;
        tx.commit().await?;
        Ok(household)
    }

    pub async fn get(&self, id: i64) -> StoreResult<Option<Household>> {
        let row: Option<HouseholdRow> = self.db.opt(&format!("{HOUSEHOLD_SELECT} WHERE h.id = $1"), &args![id]).await?;
        Ok(row.map(Into::into))
    }

    /// A resident with an account in the household, if any (the first to have one).
    pub async fn resident(&self, household_id: i64) -> StoreResult<Option<i64>> {
        Ok(self.db.one("SELECT MIN(id) AS id FROM users WHERE household_id = $1", &args![household_id]).await?)
    }

    /// Households matching `filter` in the order of buildings, units, rooms: at most `limit` after
    /// the household `after`, and the id to go on from when there are more. Keyset paging on
    /// (building, unit, room, id): a page costs the same however deep.
    pub async fn search(
        &self,
        market: MarketId,
        filter: &HouseholdFilter,
        limit: i64,
        after: Option<i64>,
    ) -> StoreResult<(Vec<Household>, Option<i64>)> {
        let room = filter.room.as_deref().map(|r| format!("{}%", like_escaped(r)));
        let rows: Vec<HouseholdRow> = self
            .db
            .all(
                &format!(
                    "{HOUSEHOLD_SELECT} WHERE b.market_id = $6 AND (CAST($1 AS TEXT) IS NULL OR b.number = $1) \
                     AND (CAST($2 AS TEXT) IS NULL OR h.unit = $2) \
                     AND (CAST($3 AS TEXT) IS NULL OR h.room LIKE $3 ESCAPE '\\') \
                     AND (CAST($4 AS BIGINT) IS NULL OR (h.building_id, h.unit, h.room, h.id) > \
                          (SELECT k.building_id, k.unit, k.room, k.id FROM households k WHERE k.id = $4)) \
                     ORDER BY h.building_id, h.unit, h.room, h.id LIMIT $5"
                ),
                &args![filter.building.as_deref(), filter.unit.as_deref(), room, after, limit + 1, market],
            )
            .await?;
        let more = rows.len() as i64 > limit;
        let shown: Vec<Household> = rows.into_iter().take(limit as usize).map(Into::into).collect();
        let next = if more { shown.last().map(|h| h.id.get()) } else { None };
        Ok((shown, next))
    }

    /// The market of the household's building; None: no such household.
    pub async fn market_of(&self, id: i64) -> StoreResult<Option<MarketId>> {
        Ok(self
            .db
            .opt(
                "SELECT b.market_id FROM households h JOIN buildings b ON b.id = h.building_id WHERE h.id = $1",
                &args![id],
            )
            .await?)
    }

    /// Sets the flags given (None: unchanged). None: no such household.
    pub async fn flag(
        &self,
        id: i64,
        quarantined: Option<bool>,
        hardship: Option<bool>,
        elderly: Option<bool>,
    ) -> StoreResult<Option<Household>> {
        let mut tx = self.db.begin().await?;
        let changed = tx
            .exec(
                "UPDATE households SET quarantined = COALESCE($2, quarantined), hardship = COALESCE($3, hardship), \
                 elderly = COALESCE($4, elderly) WHERE id = $1",
                &args![id, quarantined, hardship, elderly],
            )
            .await?;
        if changed == 0 {
            return Ok(None);
        }
        let row: HouseholdRow = tx.one(&format!("{HOUSEHOLD_SELECT} WHERE h.id = $1"), &args![id]).await?;
        tx.commit().await?;
        // Everyone living there.
        self.sessions.forget_all();
        Ok(Some(row.into()))
    }
}

/// The household at `address` (made if new), its building picked by
/// `domain::area::pick_building` (`prefer`: the market of whoever gives the address). Ok(None):
/// no such building.
async fn at_address(
    tx: &mut Tx,
    address: &Address,
    prefer: MarketId,
) -> StoreResult<Result<Option<Household>, Refusal>> {
    let number = address.building.trim();
    let found: Vec<BuildingAt> =
        tx.all("SELECT id, market_id, community FROM buildings WHERE number = $1 ORDER BY id", &args![number]).await?;
    let building = match pick_building(&found, address.community.as_deref(), Some(prefer), number) {
        Ok(Some(building)) => building.id,
        Ok(None) => return Ok(Ok(None)),
        Err(refusal) => return Ok(Err(refusal)),
    };
    let (unit, room) = (address.unit.trim(), address.room.trim());
    tx.exec(
        "INSERT INTO households (building_id, unit, room) VALUES ($1, $2, $3) \
         ON CONFLICT (building_id, unit, room) DO NOTHING",
        &args![building, unit, room],
    )
    .await?;
    let row: HouseholdRow = tx
        .one(
            &format!("{HOUSEHOLD_SELECT} WHERE h.building_id = $1 AND h.unit = $2 AND h.room = $3"),
            &args![building, unit, room],
        )
        .await?;
    Ok(Ok(Some(row.into())))
}

/// Lets in every resident waiting to join one of these households whose phone is on its
/// register: their ids (whose remembered sessions are to be forgotten after the commit).
async fn let_in_registered(tx: &mut Tx, households: &[i64]) -> StoreResult<Vec<i64>> {
    #[derive(Deserialize)]
    struct Waiting {
        id: i64,
        household_id: i64,
    }
    let sql = format!(
        "SELECT u.id, u.pending_household_id AS household_id FROM users u JOIN household_register r \
         ON r.phone = u.phone AND r.household_id = u.pending_household_id WHERE u.pending_household_id IN {}",
        tx.list(1)
    );
    let waiting: Vec<Waiting> = tx.all(&sql, &[Arg::json(&households)]).await?;
    for w in &waiting {
        tx.exec(
            "UPDATE users SET household_id = $2, pending_household_id = NULL, pending_since = NULL WHERE id = $1",
            &args![w.id, w.household_id],
        )
        .await?;
    }
    Ok(waiting.into_iter().map(|w| w.id).collect())
}
