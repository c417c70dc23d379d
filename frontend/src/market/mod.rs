//! The residents' first bundle: browsing the market, logging in, the account. What a resident's
//! phone downloads on the first visit.

mod account;
mod app;
mod catalog;
mod login;

pub use account::MePage;
pub use app::App;
pub use catalog::{HomePage, ProductPage, ProductsPage};
pub use login::LoginPage;
