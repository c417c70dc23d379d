mod account;
mod catalog;
mod login;

pub use account::{CartPage, GroupPage, MePage, NotFound, OrdersPage};
pub use catalog::{HomePage, ProductPage, ProductsPage};
pub use login::LoginPage;
