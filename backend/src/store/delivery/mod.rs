//! Stalls and delivery: each stall's console over its parts of orders (`stalls.rs`) and the
//! batches volunteers carry to the buildings, with every hand-off (`batches.rs`).

pub mod batches;
pub mod stalls;
