//! The 傅鲜生 storefront, in bundles so that a phone downloads only the pages it uses
//! (`shared::storefront` says which page is whose): `market` (browse, log in, the account: every
//! resident's first visit), `shop` (cart, checkout, orders) and `workers` (staff's pages now;
//! vendors' and volunteers' next). All are built from this library; each binary (`src/bin/`)
//! keeps only what its own app reaches. A link to another bundle's page loads that page
//! (`components::Elsewhere`); the login and the language are kept in `storage` for all of them.

pub mod api;
pub mod components;
pub mod i18n;
pub mod market;
pub mod session;
pub mod shop;
pub mod storage;
pub mod workers;
