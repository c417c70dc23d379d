//! The market's gate (扫码入场): residents scan the gate's code with the phone they order with;
//! staff see who was inside in a time window beside the hand-offs.

use super::*;

/// `POST /admin/gates`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewGate {
    /// e.g. `北门`.
    pub name: String,
}

/// A gate as staff see it: the code its poster carries, the address the code opens and the QR
/// code to print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Gate {
    pub id: i64,
    pub name: String,
    pub code: String,
    /// `https://<this server>/gate?code=<code>`.
    pub url: String,
    /// The poster's QR code (SVG) of `url`.
    pub qr_svg: String,
}

/// `POST /gate/visits`: the code the resident's phone read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EnterGate {
    pub code: String,
}

/// What the resident's phone shows at the gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GateEntry {
    pub gate: String,
    pub entered_at: String,
    /// Scanned again within minutes: the first visit stands, nothing new is recorded.
    #[serde(default)]
    pub repeated: bool,
}

/// One visit through a gate (staff): who, their door then, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Visit {
    pub id: i64,
    pub gate: String,
    pub entered_at: String,
    #[serde(default)]
    pub phone: Option<String>,
    pub building: String,
    /// The building's community (小区).
    #[serde(default)]
    pub community: String,
    pub unit: String,
    pub room: String,
}

/// `GET /admin/visits` and `/admin/investigation.csv`: a time range (RFC 3339), and a phone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct VisitQuery {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// Items per page (1 to 500, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}
