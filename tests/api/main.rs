//! The black-box API suite: the real server on port 0, over HTTP, on SQLite and PostgreSQL.

mod auth;
mod authorization;
mod catalog;
mod catalogue_file;
mod crash;
mod delivery;
mod differential;
mod donations;
mod errors;
mod first_day;
mod gate;
mod group_buys;
mod lots;
mod markets;
mod notices;
mod operations;
mod payments;
mod photos;
mod points;
mod prices;
mod producers;
mod rush;
mod scale;
mod shopping;
mod sms_gateway;
mod standing;
mod storefront;
mod tokens;
mod trust;
mod vendors;
mod wechat;

/// The server binary the tests start as a second process sharing PostgreSQL.
pub const SERVER_BIN: &str = env!("CARGO_BIN_EXE_fxs-server");
