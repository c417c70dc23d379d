//! The 傅鲜生 market server: JSON API under `/api/v1`, the storefront at `/`.

pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod feed;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod photos;
pub mod qr;
pub mod routes;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod wechat;

pub use config::Config;
pub use startup::Application;
