//! Accounts and households: who a user is (roles, stall, home), logging in by SMS code or
//! WeChat, tokens that were ended, the roles staff give, binding a phone to a WeChat login
//! (`binding.rs`), households (`households.rs`) and who is behind a token (`sessions.rs`).

mod binding;
mod erase;
pub use erase::Erased;
mod households;
mod roles;
mod sessions;

pub use households::{HouseholdFilter, Households, JoinRequest, RegisterEntry};
pub use sessions::Sessions;

use super::db::{args, Arg, Db, Tx};
use super::StoreResult;
use crate::domain::accounts::{decide_code, decide_code_issue, CodeDecision, CodeIssue, CodeRules, LoginCode};
use crate::domain::Refusal;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::api::{Household, Membership};
use shared::Role;
use std::collections::BTreeSet;
use std::sync::Arc;

/// A user as the server sees them: roles from the database, not from the token.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: i64,
    pub phone: Option<String>,
    pub display_name: Option<String>,
    pub roles: Vec<Role>,
    pub vendor_id: Option<i64>,
    /// The household they are a member of (their home, with its flags).
    pub household: Option<Household>,
    /// The household they asked to join and wait for (no flags: not theirs to see yet).
    pub pending: Option<Household>,
    /// Their market: their home's, or (no home yet) the one they work for or were made in.
    pub market_id: shared::MarketId,
}

/// The columns of `UserRow`, for `WHERE u.id = ...` and the like.
pub(super) const USER_SELECT: &str = "SELECT u.id, u.phone, u.display_name, \
     COALESCE(b.market_id, u.market_id) AS market_id, \
     (SELECT string_agg(r.role, ',') FROM user_roles r WHERE r.user_id = u.id) AS roles, \
     (SELECT v.id FROM vendors v WHERE v.owner_user_id = u.id) AS vendor_id, \
     h.id AS household_id, b.community, b.number AS building, h.unit, h.room, \
     h.quarantined, h.hardship, h.elderly, \
     ph.id AS pending_id, pb.community AS pending_community, pb.number AS pending_building, \
     ph.unit AS pending_unit, ph.room AS pending_room \
     FROM users u LEFT JOIN households h ON h.id = u.household_id LEFT JOIN buildings b ON b.id = h.building_id \
     LEFT JOIN households ph ON ph.id = u.pending_household_id LEFT JOIN buildings pb ON pb.id = ph.building_id";

/// A row of `USER_SELECT`.
#[derive(Deserialize)]
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
    pending_id: Option<i64>,
    pending_community: Option<String>,
    pending_building: Option<String>,
    pending_unit: Option<String>,
    pending_room: Option<String>,
    market_id: shared::MarketId,
}

impl From<UserRow> for UserRecord {
    fn from(r: UserRow) -> Self {
        let household = match (r.household_id, r.community, r.building, r.unit, r.room) {
            (Some(id), Some(community), Some(building), Some(unit), Some(room)) => Some(Household {
                id: shared::HouseholdId(id),
                community,
                building,
                unit,
                room,
                quarantined: Some(r.quarantined.unwrap_or(false)),
                hardship: Some(r.hardship.unwrap_or(false)),
                elderly: Some(r.elderly.unwrap_or(false)),
                membership: Some(Membership::Member),
            }),
            _ => None,
        };
        let pending = match (r.pending_id, r.pending_community, r.pending_building, r.pending_unit, r.pending_room) {
            (Some(id), Some(community), Some(building), Some(unit), Some(room)) => Some(Household {
                id: shared::HouseholdId(id),
                community,
                building,
                unit,
                room,
                quarantined: None,
                hardship: None,
                elderly: None,
                membership: Some(Membership::Pending),
            }),
            _ => None,
        };
        let mut roles: Vec<Role> = r.roles.as_deref().unwrap_or("").split(',').filter_map(Role::parse).collect();
        roles.sort();
        roles.dedup();
        UserRecord {
            id: r.id,
            phone: r.phone,
            display_name: r.display_name,
            roles,
            vendor_id: r.vendor_id,
            household,
            pending,
            market_id: r.market_id,
        }
    }
}

/// A login code asked for: where to, from which client, its hash and its lifetime.
#[derive(Debug, Clone)]
pub struct CodeRequest<'a> {
    pub phone: &'a str,
    pub client_ip: &'a str,
    pub code_hash: &'a str,
    pub now: DateTime<Utc>,
}

/// SMS codes older than this are deleted; the hourly limits only look back one hour.
fn code_retention_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::days(1)
}

/// Serialises the issuing of login codes across server processes (PostgreSQL).
const CODE_LOCK: i64 = 74460002;

pub struct Accounts {
    db: Db,
    sessions: Arc<Sessions>,
}

impl Accounts {
    pub fn new(db: Db, sessions: Arc<Sessions>) -> Self {
        Self { db, sessions }
    }

    // ---------- users ----------

    pub async fn user(&self, id: i64) -> StoreResult<Option<UserRecord>> {
        let row: Option<UserRow> = self.db.opt(&format!("{USER_SELECT} WHERE u.id = $1"), &args![id]).await?;
        Ok(row.map(Into::into))
    }

    /// The user behind a token, unless the token was ended (`sessions.rs`: remembered on
    /// SQLite, asked together on PostgreSQL).
    pub async fn session_user(&self, id: i64, jti: &str) -> StoreResult<Option<UserRecord>> {
        self.sessions.user(&self.db, id, jti).await
    }

    /// The user with this phone; a new resident if there is none.
    pub async fn user_for_phone(&self, phone: &str, now: DateTime<Utc>) -> StoreResult<UserRecord> {
        let mut tx = self.db.begin().await?;
        tx.exec(
            "INSERT INTO users (phone, created_at) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING",
            &args![phone, now],
        )
        .await?;
        let user = new_resident(&mut tx, "u.phone = $1", phone).await?;
        tx.commit().await?;
        // A user who had no role at all has one now.
        self.sessions.forget_user(user.id);
        Ok(user)
    }

    /// The user with this WeChat openid; a new resident if there is none.
    pub async fn user_for_openid(
        &self,
        openid: &str,
        session_key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<UserRecord> {
        let mut tx = self.db.begin().await?;
        tx.exec(
            "INSERT INTO users (wechat_openid, wechat_session_key, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (wechat_openid) DO UPDATE SET wechat_session_key = excluded.wechat_session_key",
            &args![openid, session_key, now],
        )
        .await?;
        let user = new_resident(&mut tx, "u.wechat_openid = $1", openid).await?;
        tx.commit().await?;
        self.sessions.forget_user(user.id);
        Ok(user)
    }

    // ---------- login codes ----------

    /// Records a new login code for a phone, unless the rules refuse it (too soon after the last
    /// one, too many this hour for the phone or the client): the counts and the new code in one
    /// transaction, so two requests at once cannot both slip under a limit.
    pub async fn issue_code(&self, request: CodeRequest<'_>, rules: &CodeRules) -> StoreResult<Result<(), Refusal>> {
        let mut tx = self.db.begin().await?;
        tx.advisory_lock(CODE_LOCK).await?;
        let window_start = rules.window_start(request.now);
        let issue = CodeIssue {
            last_sent: tx
                .opt("SELECT MAX(created_at) AS last FROM sms_codes WHERE phone = $1", &args![request.phone])
                .await?
                .flatten(),
            sent_to_phone: tx
                .one(
                    "SELECT COUNT(*) AS n FROM sms_codes WHERE phone = $1 AND created_at > $2",
                    &args![request.phone, window_start],
                )
                .await?,
            sent_to_client: tx
                .one(
                    "SELECT COUNT(*) AS n FROM sms_codes WHERE client_ip = $1 AND created_at > $2",
                    &args![request.client_ip, window_start],
                )
                .await?,
        };
        let expires_at = match decide_code_issue(&issue, rules, request.now) {
            Ok(expires_at) => expires_at,
            Err(refusal) => return Ok(Err(refusal)),
        };
        tx.exec(
            "INSERT INTO sms_codes (phone, code_hash, client_ip, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            &args![request.phone, request.code_hash, request.client_ip, request.now, expires_at],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Tries the code presented for a phone (as its hash) against the latest code sent there,
    /// as `domain::accounts::decide_code` decides: used up when right, one attempt more when
    /// wrong. The decision is written with one conditional write, only if the code's row is
    /// still as it was read; when another try changed it in between, the row is read and
    /// decided again. So 200 wrong codes at once count 200 attempts, and at most
    /// `max_attempts` of them are told "wrong" rather than "too many".
    pub async fn use_code(
        &self,
        phone: &str,
        presented_hash: &str,
        rules: &CodeRules,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<(), Refusal>> {
        loop {
            let code: Option<LoginCode> = self
                .db
                .opt(
                    "SELECT id, code_hash, expires_at, used_at, attempts FROM sms_codes \
                     WHERE phone = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
                    &args![phone],
                )
                .await?;
            let decision = decide_code(code.as_ref(), presented_hash, rules, now);
            let written = match (&decision, &code) {
                (CodeDecision::Accept, Some(code)) => {
                    self.db
                        .exec(
                            "UPDATE sms_codes SET used_at = $2 \
                             WHERE id = $1 AND used_at IS NULL AND attempts = $3",
                            &args![code.id, now, code.attempts],
                        )
                        .await?
                }
                (CodeDecision::Wrong(_), Some(code)) => {
                    self.db
                        .exec(
                            "UPDATE sms_codes SET attempts = attempts + 1 \
                             WHERE id = $1 AND used_at IS NULL AND attempts = $2",
                            &args![code.id, code.attempts],
                        )
                        .await?
                }
                _ => 1,
            };
            if written == 1 {
                return Ok(decision.into_result());
            }
        }
    }

    // ---------- tokens ----------

    /// Ends a login: its token is refused from now on, by every server process.
    pub async fn revoke_token(&self, jti: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        self.db
            .exec(
                "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
                &args![jti, expires_at],
            )
            .await?;
        self.sessions.forget_token(jti);
        Ok(())
    }

    /// Forgets ended tokens, codes nobody can use any more, and checkout Idempotency-Keys
    /// answered before `keys_before` (a retry days later is not a retry; the orders stay).
    pub async fn purge_expired(&self, now: DateTime<Utc>, keys_before: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.exec("DELETE FROM idempotency_keys WHERE created_at < $1 AND answer IS NOT NULL", &args![keys_before])
            .await?;
        tx.exec("DELETE FROM revoked_tokens WHERE expires_at < $1", &args![now]).await?;
        tx.exec("DELETE FROM sms_codes WHERE created_at < $1", &args![code_retention_cutoff(now)]).await?;
        tx.commit().await?;
        Ok(())
    }

    // ---------- roles ----------

    /// The buildings (ids) the user leads.
    pub async fn leads(&self, user_id: i64) -> StoreResult<BTreeSet<i64>> {
        let ids: Vec<i64> =
            self.db.all("SELECT building_id FROM leader_buildings WHERE user_id = $1", &args![user_id]).await?;
        Ok(ids.into_iter().collect())
    }

    /// The buildings the user leads, as a list names them (`building_labels`), in number order.
    pub async fn led_buildings(&self, user_id: i64) -> StoreResult<Vec<String>> {
        let ids: Vec<i64> = self.leads(user_id).await?.into_iter().collect();
        let rows: Vec<LabelRow> = self.db.all(&labels_sql(&self.db.list(1)), &[Arg::json(&ids)]).await?;
        Ok(rows.into_iter().map(|r| r.label().1).collect())
    }
}

impl Accounts {
    /// Gives the account of `phone` (made if new) `role` beside the roles it has: the first
    /// staff account of a new market (`fuxiansheng admin add-staff`). Whether it had it already.
    pub async fn add_role(&self, phone: &str, role: Role, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        tx.exec(
            "INSERT INTO users (phone, created_at) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING",
            &args![phone, now],
        )
        .await?;
        let user: i64 = tx.one("SELECT id FROM users WHERE phone = $1", &args![phone]).await?;
        let added = tx
            .exec(
                "INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT (user_id, role) DO NOTHING",
                &args![user, role.as_str()],
            )
            .await?;
        tx.commit().await?;
        self.sessions.forget_user(user);
        Ok(added == 0)
    }

    /// Takes back a code that could not be sent: it neither counts against the phone's limits
    /// nor holds up asking again.
    pub async fn withdraw_code(&self, phone: &str, code_hash: &str) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.exec("DELETE FROM sms_codes WHERE phone = $1 AND code_hash = $2", &args![phone, code_hash]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many accounts hold `role` (none with staff: a market's first day).
    pub async fn count_with_role(&self, role: Role) -> StoreResult<i64> {
        Ok(self.db.one("SELECT COUNT(*) AS n FROM user_roles WHERE role = $1", &args![role.as_str()]).await?)
    }
}

/// The user `which` names (`u.phone = $1`), made a resident if they have no role at all.
async fn new_resident(tx: &mut Tx, which: &str, value: &str) -> StoreResult<UserRecord> {
    tx.exec(
        &format!(
            "INSERT INTO user_roles (user_id, role) SELECT u.id, 'resident' FROM users u \
             WHERE {which} AND NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id)"
        ),
        &args![value],
    )
    .await?;
    let row: UserRow = tx.one(&format!("{USER_SELECT} WHERE {which}"), &args![value]).await?;
    Ok(row.into())
}

/// `market`'s building a list names (`domain::area::building_ref`: `3`, or `七里山小区 3`),
/// picked by `domain::area::pick_building`. Ok(None): no such building; Err: several
/// communities have that number and the name does not say which.
pub(crate) async fn building_id(
    tx: &mut Tx,
    market: shared::MarketId,
    named: &str,
) -> StoreResult<Result<Option<i64>, Refusal>> {
    let (community, number) = crate::domain::area::building_ref(named);
    let found: Vec<crate::domain::area::BuildingAt> = tx
        .all(
            "SELECT id, market_id, community FROM buildings WHERE market_id = $2 AND number = $1 ORDER BY id",
            &args![number, market],
        )
        .await?;
    Ok(crate::domain::area::pick_building(&found, community, Some(market), number).map(|b| b.map(|b| b.id)))
}

/// The names `building_ref` reads of these buildings (`domain::area::building_label`), by id.
pub(crate) async fn building_labels(tx: &mut Tx, ids: &[i64]) -> StoreResult<Vec<(i64, String)>> {
    let rows: Vec<LabelRow> = tx.all(&labels_sql(&tx.list(1)), &[Arg::json(&ids)]).await?;
    Ok(rows.into_iter().map(LabelRow::label).collect())
}

/// The buildings `list` (a bound list of ids) names, with how many of their market's buildings
/// share their number, in number order.
pub(crate) fn labels_sql(list: &str) -> String {
    format!(
        "SELECT b.id, b.community, b.number, (SELECT COUNT(*) FROM buildings o WHERE o.market_id = b.market_id \
         AND o.number = b.number) AS sharing FROM buildings b WHERE b.id IN {list} ORDER BY b.number, b.community"
    )
}

#[derive(Deserialize)]
pub(crate) struct LabelRow {
    id: i64,
    community: String,
    number: String,
    sharing: i64,
}

impl LabelRow {
    pub(crate) fn label(self) -> (i64, String) {
        (self.id, crate::domain::area::building_label(&self.community, &self.number, self.sharing > 1))
    }
}
