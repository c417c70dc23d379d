//! Cart and checkout: a resident's cart (here), delivery slots (`slots.rs`), the checkout engine
//! that turns many carts into orders per commit (`engine.rs`) and the orders themselves: reading,
//! cancelling, expiring (`orders.rs`).

pub mod engine;
pub mod orders;
pub mod slots;

pub use orders::{CancelOutcome, OrderOwner, Orders};
pub use slots::{NewSlot, SlotRecord, Slots};

use super::db::{args, Db};
use super::StoreResult;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// A cart line with the product as it is now.
#[derive(Debug, Clone, Deserialize)]
pub struct CartLineRecord {
    pub product_id: i64,
    pub quantity: i64,
    pub price_fen_at_add: i64,
    pub vendor_id: i64,
    pub vendor_name: String,
    pub name: String,
    pub unit: String,
    pub price_fen: i64,
    pub stock: i64,
    pub per_order_limit: Option<i64>,
    pub active: bool,
    /// Its photo's key, when it has one.
    pub photo: Option<String>,
}

pub struct Cart {
    db: Db,
}

impl Cart {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The resident's cart, by stall and product.
    pub async fn lines(&self, user_id: i64) -> StoreResult<Vec<CartLineRecord>> {
        Ok(self
            .db
            .all(
                "SELECT c.product_id, c.quantity, c.price_fen_at_add, p.vendor_id, v.name AS vendor_name, p.name, \
                 p.unit, p.price_fen, p.stock, p.per_order_limit, p.active, p.photo FROM cart_items c \
                 JOIN products p ON p.id = c.product_id JOIN vendors v ON v.id = p.vendor_id \
                 WHERE c.user_id = $1 ORDER BY p.vendor_id, c.product_id",
                &args![user_id],
            )
            .await?)
    }

    /// Sets a line's quantity (0 removes it), remembering today's price.
    pub async fn set_quantity(
        &self,
        user_id: i64,
        product_id: i64,
        quantity: i64,
        price_fen: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        if quantity == 0 {
            self.db
                .exec("DELETE FROM cart_items WHERE user_id = $1 AND product_id = $2", &args![user_id, product_id])
                .await?;
        } else {
            self.db
                .exec(
                    "INSERT INTO cart_items (user_id, product_id, quantity, price_fen_at_add, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, product_id) DO UPDATE SET \
                     quantity = excluded.quantity, price_fen_at_add = excluded.price_fen_at_add, \
                     updated_at = excluded.updated_at",
                    &args![user_id, product_id, quantity, price_fen, now],
                )
                .await?;
        }
        Ok(())
    }
}
