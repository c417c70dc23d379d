//! What the 傅鲜生 server and the storefront both speak: request and response bodies, the
//! domain newtypes that are valid by construction, and the machine-readable error codes.
//!
//! Compiles to native and to wasm32; no I/O lives here.

pub mod api;
pub mod domain;
pub mod error;
pub mod group_buy;
pub mod ids;
pub mod order;
pub mod storefront;

pub use domain::{Fen, Phone, Role, SmsCode};
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use ids::{BatchId, GroupBuyId, HouseholdId, MarketId, OrderId, PartId, ProductId, SlotId};
