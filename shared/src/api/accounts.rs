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
    pub quarantined: bool,
    pub hardship: bool,
    pub elderly: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    pub id: i64,
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
    /// The buildings a leader (团长) runs group-buys for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leader_buildings: Vec<String>,
}

impl Household {
    /// Whether the household gets the slots' priority reserve (see `order::is_priority`).
    pub fn is_priority(&self) -> bool {
        crate::order::is_priority(self.quarantined, self.hardship, self.elderly)
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
