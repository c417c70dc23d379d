//! The ids a client or the server could pass one for another (an order's for a slot's, a
//! product's for a household's): each its own type, like `Fen` and `Phone`, so the compiler
//! catches the mix-up on both sides. On the wire each is the plain integer it wraps.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The integer it wraps (for SQL parameters and URLs).
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    )*};
}

ids! {
    /// An order.
    OrderId,
    /// One stall's part of an order.
    PartId,
    /// A product (a 菜盒子 box is a product too).
    ProductId,
    /// A delivery or pickup slot.
    SlotId,
    /// A household: one flat of one building.
    HouseholdId,
    /// A delivery batch: a slot's orders for one building (or one group-buy's drop).
    BatchId,
    /// A group-buy.
    GroupBuyId,
}

/// A market: the root of the buildings it serves, its stalls, slots, group-buys, pickup points
/// and gates. The default is the first market, which everything made before there were several
/// belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct MarketId(pub i64);

impl MarketId {
    /// The market every deployment starts with.
    pub const FIRST: MarketId = MarketId(1);

    pub fn get(self) -> i64 {
        self.0
    }
}

impl Default for MarketId {
    fn default() -> Self {
        Self::FIRST
    }
}

impl fmt::Display for MarketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_integer_on_the_wire() {
        assert_eq!(serde_json::to_string(&OrderId(42)).ok().as_deref(), Some("42"));
        assert_eq!(serde_json::from_str::<SlotId>("7").ok(), Some(SlotId(7)));
        assert_eq!("15".parse::<ProductId>().ok(), Some(ProductId(15)));
        assert_eq!(GroupBuyId(3).to_string(), "3");
    }
}
