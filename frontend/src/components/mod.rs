//! Pieces both bundles use: the bars, the loading and error states, the login gate, product
//! cards, and how money and times are written.

mod elsewhere;
mod guard;
mod load;
mod nav;
mod product_card;
mod shell;
mod status;
mod stepper;

pub use elsewhere::{Elsewhere, NotFound};
pub use guard::{Guarded, LoginPrompt};
pub use load::Load;
pub use nav::{BottomNav, TopBar};
pub use product_card::{initial, thumb, ProductCard};
pub use shell::Shell;
pub use status::{ErrorNote, Loading};
pub use stepper::Stepper;

/// `2026-11-30T08:00:00+08:00` -> (`2026-11-30`, `08:00`): the server always speaks Shanghai time.
pub fn day_and_time(rfc3339: &str) -> (String, String) {
    (rfc3339.get(..10).unwrap_or_default().to_owned(), rfc3339.get(11..16).unwrap_or_default().to_owned())
}

/// The demo's community: what the community field of an address suggests.
pub const COMMUNITY: &str = "七里山小区";

/// An address's community (小区) as typed: none when left empty (a building number only one
/// community of the market has needs none).
pub fn community_of(typed: &str) -> Option<String> {
    Some(typed.trim().to_owned()).filter(|c| !c.is_empty())
}
