//! Setting the market up (a real market's first day): the area it serves, and the record of
//! every change made to the set-up.

use super::*;

/// `POST /admin/buildings`: a building the market delivers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewBuilding {
    /// The residential compound (小区), e.g. `七里山小区`.
    pub community: String,
    /// The building's number as written on it, e.g. `3` or `12A`.
    pub building: String,
    /// Its units (单元), 1 to 20; 1 when not given.
    #[serde(default)]
    pub units: Option<i64>,
}

/// `PATCH /admin/buildings/{id}`: its units, or closed (a quarantined compound whose deliveries
/// go to its gate) and open again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateBuilding {
    #[serde(default)]
    pub units: Option<i64>,
    #[serde(default)]
    pub closed: Option<bool>,
}

/// A building of the area the market serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Building {
    pub id: i64,
    /// The market it belongs to. The storefront never reads it (every answer is already of the
    /// caller's market), so its bundles do not carry the code to.
    #[cfg_attr(target_arch = "wasm32", serde(skip))]
    pub market_id: MarketId,
    pub community: String,
    pub building: String,
    pub units: i64,
    /// Closed: deliveries go to the compound's gate, not to the door.
    pub closed: bool,
    /// Households on record in it.
    pub households: i64,
}

/// One change to the market's set-up: who made it, when, and what it was before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    /// The phone of whoever made it; absent for the server's own commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// What was changed: `building`, ...
    pub subject: String,
    pub subject_id: String,
    /// `create`, `update`, ...
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
}

/// `GET /admin/audit`: newest first, of one kind of subject if asked.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditQuery {
    /// `building`, ...
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `POST /admin/categories`: a category of goods (`sort`: its place in the list, small first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    /// Its Chinese name, e.g. `蔬菜`.
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub sort: Option<i64>,
    /// One emoji that stands for it; 🧺 when not given.
    #[serde(default)]
    pub icon: Option<String>,
}

/// `PATCH /admin/categories/{id}`: what changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateCategory {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub sort: Option<i64>,
    #[serde(default)]
    pub icon: Option<String>,
    /// `true` retires the category (out of the catalogue's list, no new goods; only when none of
    /// its goods is on sale), `false` brings it back.
    #[serde(default)]
    pub retired: Option<bool>,
}

/// `GET /admin/categories`: a category on record, retired ones too (staff bring those back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CategoryOnRecord {
    /// Its key, e.g. `vegetable`.
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub icon: String,
    /// Its place in the catalogue's order.
    pub sort: i64,
    /// Its goods on sale.
    pub product_count: i64,
    /// Out of the catalogue's list (no new goods in it) until brought back.
    pub retired: bool,
}

/// `POST /admin/stalls`: a stall of the market hall; its number is `hall` + `number` (`A` +
/// `03`: `A03`), or given one when left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStall {
    pub name: String,
    #[serde(default)]
    pub hall: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
    /// The category it mostly sells (a category's id); the first category when not given.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `PATCH /admin/stalls/{id}`: what changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateStall {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `false`: closed (停业) until opened again; nothing of it can be ordered.
    #[serde(default)]
    pub open: Option<bool>,
    /// `YYYY-MM-DD`: resting (休市) that day, nothing of it delivered or picked up then; `""`
    /// clears it.
    #[serde(default)]
    pub closed_on: Option<String>,
}

/// `POST /admin/products` (staff, `vendor_id` required) and `POST /vendor/products` (a stall
/// holder, for their own stall: no `vendor_id`): a product on sale at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    #[serde(default)]
    pub vendor_id: Option<i64>,
    /// The category's key, e.g. `vegetable`.
    pub category: String,
    pub name: String,
    /// 斤, 个, 盒, 袋, 把 ...
    pub unit: String,
    pub price_fen: Fen,
    pub stock: i64,
    #[serde(default)]
    pub per_order_limit: Option<i64>,
    /// Where it comes from, e.g. `山东寿光`.
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// One line of a 菜盒子: a product on sale and how many of its unit go in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BoxLine {
    pub product_id: i64,
    pub quantity: i64,
}

/// `POST /admin/boxes`: a 菜盒子 the market packs, on sale at once under the category `box`
/// (made, as 菜盒子, when the market has none). `vendor_id`: the stall that packs it (the stall
/// that packs the other boxes when left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewBox {
    pub name: String,
    pub price_fen: Fen,
    pub stock: i64,
    pub items: Vec<BoxLine>,
    #[serde(default)]
    pub vendor_id: Option<i64>,
    #[serde(default)]
    pub per_order_limit: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `PATCH /admin/boxes/{id}`: what changes; `items` replaces the contents; `on_sale: false`
/// retires the box.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateBox {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub price_fen: Option<Fen>,
    #[serde(default)]
    pub stock: Option<i64>,
    #[serde(default)]
    pub items: Option<Vec<BoxLine>>,
    /// 0 lifts the limit.
    #[serde(default)]
    pub per_order_limit: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub on_sale: Option<bool>,
}
