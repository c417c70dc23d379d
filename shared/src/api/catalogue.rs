//! The catalogue: categories, stalls, products, boxes, a product's price record; lists in pages.

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Category {
    /// Stable key used in filters, e.g. `vegetable`.
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// A single emoji that stands for the category.
    pub icon: String,
    pub product_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Vendor {
    pub id: i64,
    /// The market it belongs to. The storefront never reads it (every answer is already of the
    /// caller's market), so its bundles do not carry the code to.
    #[cfg_attr(target_arch = "wasm32", serde(skip))]
    pub market_id: MarketId,
    pub name: String,
    /// Stall number in the market hall, e.g. `A03`.
    pub stall_no: String,
    pub category: String,
    pub description: String,
    pub product_count: i64,
    /// False: closed (停业) until staff open it again.
    #[serde(default = "crate::api::yes")]
    pub open: bool,
    /// A day it rests (休市), `YYYY-MM-DD`.
    #[serde(default)]
    pub closed_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Product {
    pub id: ProductId,
    /// The market it belongs to. The storefront never reads it (every answer is already of the
    /// caller's market), so its bundles do not carry the code to.
    #[cfg_attr(target_arch = "wasm32", serde(skip))]
    pub market_id: MarketId,
    pub vendor_id: i64,
    pub vendor_name: String,
    pub name: String,
    /// 斤, 个, 盒, 袋, 把 ...
    pub unit: String,
    pub price_fen: Fen,
    pub stock: i64,
    pub category: String,
    /// Rationing: at most this many per order, when set.
    pub per_order_limit: Option<i64>,
    /// A 菜盒子 (vegetable box) made of other products.
    pub is_box: bool,
    pub description: String,
    /// Where it comes from, e.g. `山东寿光` (empty: not said).
    #[serde(default)]
    pub origin: String,
    /// False: retired (only staff and its stall see it; it is never deleted once ordered).
    pub on_sale: bool,
    /// Its photo, when it has one.
    #[serde(default)]
    pub photo: Option<Photo>,
}

/// A product's photo: a small picture for lists and a larger one for its page (JPEG, never
/// changing: a new photo has new addresses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Photo {
    pub thumb_url: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BoxItem {
    pub product_id: ProductId,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProductDetail {
    #[serde(flatten)]
    pub product: Product,
    /// What is in the box; empty unless `is_box`.
    pub box_items: Vec<BoxItem>,
}

/// Read without serde's `flatten` (which buffers every field and, in the residents' first
/// download, costs 5 KB): the product's fields and the box's items side by side. A field added
/// to `Product` must be added here too; the compiler says so (every field is named below).
impl<'de> Deserialize<'de> for ProductDetail {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Flat {
            id: ProductId,
            #[cfg_attr(target_arch = "wasm32", serde(skip))]
            #[serde(default)]
            market_id: MarketId,
            vendor_id: i64,
            vendor_name: String,
            name: String,
            unit: String,
            price_fen: Fen,
            stock: i64,
            category: String,
            per_order_limit: Option<i64>,
            is_box: bool,
            description: String,
            #[serde(default)]
            origin: String,
            on_sale: bool,
            #[serde(default)]
            photo: Option<Photo>,
            box_items: Vec<BoxItem>,
        }
        let f = Flat::deserialize(d)?;
        let product = Product {
            id: f.id,
            market_id: f.market_id,
            vendor_id: f.vendor_id,
            vendor_name: f.vendor_name,
            name: f.name,
            unit: f.unit,
            price_fen: f.price_fen,
            stock: f.stock,
            category: f.category,
            per_order_limit: f.per_order_limit,
            is_box: f.is_box,
            description: f.description,
            origin: f.origin,
            on_sale: f.on_sale,
            photo: f.photo,
        };
        Ok(ProductDetail { product, box_items: f.box_items })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct List<T> {
    pub items: Vec<T>,
}

/// A page of a long list, in a stable order: `next_cursor` (given back as `cursor`) asks for the
/// page after it; `null` on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `limit` and `cursor` of a paged list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Items per page (1 to 500, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Items per page when `limit` is not given, and the most a page may hold.
pub const DEFAULT_LIMIT: i64 = 200;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    /// The market whose list this is (default: the caller's when logged in, else the first).
    #[serde(default)]
    pub market_id: Option<MarketId>,
    /// Category id, e.g. `vegetable`.
    pub category: Option<String>,
    pub vendor_id: Option<i64>,
    /// Text to find in the product name.
    pub q: Option<String>,
    /// Products per page (1 to 500, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateProductRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_fen: Option<Fen>,
    /// Staff only: the most the product may cost while the emergency price cap is on; 0 clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_ceiling_fen: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// 斤, 个, 盒, 袋, 把 ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The category's key, e.g. `vegetable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// At most this many per order; 0 lifts the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_order_limit: Option<i64>,
    /// Where it comes from; empty clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `false` retires the product (it leaves the catalogue and carts cannot buy it; never
    /// deleted), `true` puts it on sale again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_sale: Option<bool>,
}

/// One price a product had, for the price-stability record (稳物价).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PricePoint {
    pub price_fen: Fen,
    /// RFC 3339, +08:00
    pub changed_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_page_reads_back_what_the_server_writes() {
        let product = Product {
            id: ProductId(7),
            market_id: MarketId(2),
            vendor_id: 3,
            vendor_name: "张记".into(),
            name: "菜盒子".into(),
            unit: "盒".into(),
            price_fen: Fen::new(2990).expect("fen"),
            stock: 5,
            category: "box".into(),
            per_order_limit: Some(2),
            is_box: true,
            description: "一周的菜".into(),
            origin: "崇明".into(),
            on_sale: true,
            photo: Some(Photo { thumb_url: "/photos/a.t.jpg".into(), url: "/photos/a.jpg".into() }),
        };
        let item = BoxItem { product_id: ProductId(1), name: "土豆".into(), unit: "斤".into(), quantity: 2 };
        let detail = ProductDetail { product, box_items: vec![item] };
        let text = serde_json::to_string(&detail).expect("json");
        assert!(text.contains("\"name\":\"菜盒子\"") && text.contains("\"box_items\":[{"), "flat: {text}");
        assert_eq!(serde_json::from_str::<ProductDetail>(&text).expect("read back"), detail);
    }
}
