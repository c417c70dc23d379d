pub mod account;
mod catalog;
mod login;
mod orders;
pub mod shop;
mod staff;

pub use account::{GroupPage, MePage, NotFound};
pub use catalog::{HomePage, ProductPage, ProductsPage};
pub use login::LoginPage;
pub use orders::{OrderPage, OrdersPage};
pub use shop::{CartPage, CheckoutPage};
pub use staff::StaffPage;

/// `2026-11-30T08:00:00+08:00` -> (`2026-11-30`, `08:00`): the server always speaks Shanghai time.
fn day_and_time(rfc3339: &str) -> (String, String) {
    (rfc3339.get(..10).unwrap_or_default().to_owned(), rfc3339.get(11..16).unwrap_or_default().to_owned())
}
