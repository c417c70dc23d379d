//! Pure market rules, no I/O: slot capacity and the priority reserve, checkout validation and
//! its refusals, times at the edges in Asia/Shanghai.

pub mod checkout;
pub mod group_buy;
pub mod order;
pub mod slots;
pub mod stall;
pub mod time;
