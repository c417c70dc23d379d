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
