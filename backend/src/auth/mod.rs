//! Who is calling: JWTs, SMS codes, and the extractors that make a handler state who may call it.

mod extract;
mod jwt;
mod keys;
pub mod sms;

pub use extract::{AuthUser, ProducerUser, StaffUser, VendorUser};
pub use jwt::{Claims, JwtKeys};
pub use sms::{new_code, CodeKey, SmsSender};
