//! The black-box API suite: the real server on port 0, over HTTP, on SQLite and PostgreSQL.

mod auth;
mod catalog;
mod errors;
mod rush;
mod shopping;
mod sms_gateway;
mod tokens;
mod wechat;
