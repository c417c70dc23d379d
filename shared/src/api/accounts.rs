//! Logging in, who the caller is, households.

use super::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SmsCodeRequest {
    /// Mainland mobile number, 11 digits starting with 1.
    pub phone: Phone,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SmsCodeResponse {
    pub sent: bool,
    /// Only in demo mode: the code itself, so a demo can log in without a phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_code: Option<String>,
    /// Seconds until the code expires.
    pub expires_in: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub phone: Phone,
    pub code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WechatLoginRequest {
    /// The code from `wx.login()`; single use, valid about five minutes.
    pub code: String,
}

/// Whether the caller belongs to the household at their address: a `member` sees its flags,
/// orders and shares and gets its priority; a `pending` resident's request waits for a member or
/// staff (goods may be delivered to the door meanwhile, nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Membership {
    Member,
    Pending,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Household {
    pub id: HouseholdId,
    /// e.g. `七里山小区`
    pub community: String,
    /// Building number, e.g. `3` for 3号楼.
    pub building: String,
    pub unit: String,
    pub room: String,
    /// The flags: present only for the household's members and staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantined: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardship: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elderly: Option<bool>,
    /// In the caller's own `user`: whether they are a member of it or waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership: Option<Membership>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    pub id: i64,
    /// The market it belongs to. The storefront never reads it (every answer is already of the
    /// caller's market), so its bundles do not carry the code to.
    #[cfg_attr(target_arch = "wasm32", serde(skip))]
    pub market_id: MarketId,
    /// Absent for a WeChat user who has not bound a phone.
    pub phone: Option<Phone>,
    pub roles: Vec<Role>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// The caller's household, if one is on record.
    #[serde(default)]
    pub household: Option<Household>,
    /// The stall a vendor account keeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<i64>,
    /// The buildings a leader (团长) runs group-buys for, or a volunteer serves (staff assign
    /// them with the roles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leader_buildings: Vec<String>,
}

impl Household {
    /// Whether the household gets the slots' priority reserve (see `order::is_priority`).
    pub fn is_priority(&self) -> bool {
        let flag = |f: Option<bool>| f.unwrap_or(false);
        crate::order::is_priority(flag(self.quarantined), flag(self.hardship), flag(self.elderly))
    }
}

impl User {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginResponse {
    /// Bearer token for the `Authorization` header.
    pub token: String,
    pub user: User,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DemoWechatCodeRequest {
    /// A stable id of the browser, so the same device is the same simulated WeChat user.
    pub device: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DemoWechatCodeResponse {
    pub code: String,
}

/// A resident waiting to join the caller's household (members see these), or any household's
/// (staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HouseholdRequest {
    /// The waiting resident's user id: approve or reject with it.
    pub id: i64,
    /// Masked, e.g. `139****0001`.
    pub phone: Option<String>,
    /// RFC 3339.
    pub requested_at: Option<String>,
}

/// A request answered: the resident is now a member (`approved`) or their request is gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RequestAnswered {
    pub id: i64,
    pub approved: bool,
}

/// `PUT /admin/households/{id}/register`: the phones living there, the whole register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetRegister {
    pub phones: Vec<Phone>,
}

/// `POST /me/household/invites`: a member invites a phone into their household; its resident
/// is a member at once (now, if they asked already, or when they give this address).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Invite {
    pub phone: Phone,
}

/// The phones invited into (or recorded on) the caller's household, masked like `139****0001`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Invited {
    pub phones: Vec<String>,
}

/// `POST /admin/users/{phone}/erase`: the person is gone; their orders stay for the accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Erased {
    /// The id their kept orders still carry.
    pub user_id: i64,
    pub orders_kept: i64,
}

/// One person of a household as staff see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HouseholdPerson {
    pub id: i64,
    /// Absent for a WeChat user who has not bound a phone.
    pub phone: Option<String>,
    /// For a resident waiting to join: since when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<String>,
}

/// `GET /admin/households/{id}/people`: who lives there, who waits to, and the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HouseholdPeople {
    pub household_id: HouseholdId,
    pub members: Vec<HouseholdPerson>,
    pub waiting: Vec<HouseholdPerson>,
    pub register: Vec<Phone>,
}

/// A household's register as it now stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Register {
    pub household_id: HouseholdId,
    pub phones: Vec<Phone>,
}
