//! Money: WeChat Pay's payments and refunds (`payments.rs`) and the donation pool
//! (`donations.rs`).

pub mod donations;
pub mod payments;
