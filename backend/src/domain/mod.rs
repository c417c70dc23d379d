//! Pure market rules, no I/O: slot capacity and the priority reserve, checkout validation and
//! its refusals, times at the edges in Asia/Shanghai.

pub mod accounts;
pub mod area;
pub mod books;
pub mod catalogue_import;
pub mod checkout;
pub mod delivery;
pub mod donations;
pub mod gate;
pub mod group_buy;
pub mod households;
pub mod lots;
pub mod markets;
pub mod notices;
pub mod order;
pub mod payment;
pub mod points;
pub mod prices;
pub mod setup;
pub mod slots;
pub mod stall;
pub mod standing;
pub mod supply;
pub mod time;

/// A refusal decided by a rule: its code (`shared::ErrorCode`, what clients switch on), words a
/// resident understands and, when waiting helps, how long to wait.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Refusal {
    pub code: shared::ErrorCode,
    pub message: String,
    /// Seconds after which asking again may succeed (a rate limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl Refusal {
    pub fn new(code: shared::ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after: None }
    }

    /// Too many at once: ask again in `seconds`.
    pub fn wait(message: impl Into<String>, seconds: u64) -> Self {
        Self { retry_after: Some(seconds.max(1)), ..Self::new(shared::ErrorCode::TooManyRequests, message) }
    }

    /// 400 naming the field: `field: why`.
    pub fn field(field: &str, why: &str) -> Self {
        Self::new(shared::ErrorCode::InvalidField, format!("{field}: {why}"))
    }
}
