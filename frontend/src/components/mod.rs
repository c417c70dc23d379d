mod nav;
mod product_card;
mod status;

pub use nav::{BottomNav, TopBar};
pub use product_card::{category_icon as category_icon_of, ProductCard};
pub use status::{ErrorNote, Loading};

/// `¥12.50` from fen.
pub fn yuan(fen: i64) -> String {
    format!("¥{}.{:02}", fen / 100, fen % 100)
}
