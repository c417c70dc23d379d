//! Request and response bodies of `/api/v1`, exactly as `docs/contract.md` and the OpenAPI description
//! give them, one module per area of the market; every type is here at `shared::api::*`.

use crate::domain::{Fen, Phone, Role};
use crate::ids::{BatchId, GroupBuyId, HouseholdId, MarketId, OrderId, PartId, ProductId, SlotId};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

mod accounts;
mod cart;
mod catalogue;
mod delivery;
mod donations;
mod gate;
mod imports;
mod lots;
mod markets;
mod notices;
mod orders;
mod payment;
mod points;
mod prices;
mod producers;
mod setup;
mod slots;
mod stalls;
mod standing;

pub use accounts::*;
pub use cart::*;
pub use catalogue::*;
pub use delivery::*;
pub use donations::*;
pub use gate::*;
pub use imports::*;
pub use lots::*;
pub use markets::*;
pub use notices::*;
pub use orders::*;
pub use payment::*;
pub use points::*;
pub use prices::*;
pub use producers::*;
pub use setup::*;
pub use slots::*;
pub use stalls::*;
pub use standing::*;
