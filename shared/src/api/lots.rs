//! Lots (批次) a stall takes in, with the certificate that must come with each
//! (承诺达标合格证) and the rapid tests done on it (农残快检); holds and recalls.

use super::*;

/// The certificate as printed on the paper (or read from its QR code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Certificate {
    /// The product as the certificate names it, e.g. `大白菜`.
    pub product: String,
    /// The quantity as printed, e.g. `500公斤` (a number is taken too).
    #[serde(deserialize_with = "text_or_number")]
    pub quantity: String,
    /// Where it was grown, e.g. `山东寿光`.
    pub origin: String,
    /// When it was issued: RFC 3339, or a day (`YYYY-MM-DD`, Shanghai).
    pub issued_at: String,
    /// Who issued it (the farm, cooperative or wholesaler).
    pub issuer: String,
    /// How to reach the issuer (a phone).
    pub contact: String,
    /// The QR code's text of an electronic certificate, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr: Option<String>,
}

fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(match Either::deserialize(d)? {
        Either::Text(t) => t,
        Either::Number(n) => n.to_string(),
    })
}

/// A rapid test done on a lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LotTest {
    /// e.g. `酶抑制率法`.
    pub method: String,
    /// `pass` (合格) or `fail` (不合格).
    pub result: String,
    /// Who tested it.
    pub by: String,
    /// When: RFC 3339.
    pub at: String,
}

/// `POST /vendor/lots`: a delivery the stall takes in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TakeInLot {
    pub product_id: ProductId,
    /// In the product's unit; added to its stock.
    pub quantity: i64,
    /// Required: without one, 400 `certificate_required`.
    #[serde(default)]
    pub certificate: Option<Certificate>,
    #[serde(default)]
    pub tests: Vec<LotTest>,
}

/// A lot as its stall, staff and residents see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Lot {
    pub id: i64,
    pub product_id: ProductId,
    pub product_name: String,
    pub vendor_id: i64,
    pub vendor_name: String,
    pub quantity: i64,
    /// Not packed into an order yet.
    pub remaining: i64,
    pub received_at: String,
    pub certificate: Certificate,
    /// The tests done on it, newest first.
    pub tests: Vec<LotTest>,
    /// Off sale (a failed test, a recall): why, and since when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
    /// A photo of the paper certificate, when the stall took one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_photo: Option<super::Photo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Held {
    pub reason: String,
    pub at: String,
}

/// `POST /admin/lots/{id}/hold`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HoldLot {
    pub reason: String,
}

/// `GET /tests?day=`: the public board of a day's rapid tests (公示).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TestBoardEntry {
    pub lot_id: i64,
    pub product_name: String,
    pub vendor_name: String,
    pub origin: String,
    pub test: LotTest,
    /// What was done with the lot: `on_sale`, or `held` with the reason.
    pub lot_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<String>,
}

/// One order line that had a lot (`GET /admin/lots/{id}/trace`): the household and who carried it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LotTraceEntry {
    pub order_id: OrderId,
    pub status: crate::order::OrderStatus,
    pub quantity: i64,
    #[serde(default)]
    pub household_id: Option<HouseholdId>,
    pub building: String,
    /// The building's community (小区).
    #[serde(default)]
    pub community: String,
    pub unit: String,
    pub room: String,
    /// The resident's phone (staff only), masked as nowhere else is needed.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub delivered_at: Option<String>,
    /// The volunteer who carried it (their phone).
    #[serde(default)]
    pub volunteer_phone: Option<String>,
}

/// `GET /products/{id}`: the product with the lots on sale, oldest first (sold first), each with
/// its certificate and tests; `lots` left out when there are none. Only the server writes it:
/// the storefront reads `ProductDetail` (the lots would cost the residents' first download)
/// and asks `GET /products/{id}/lots` where it shows them.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProductWithLots {
    #[serde(flatten)]
    pub detail: super::ProductDetail,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lots: Vec<Lot>,
}
