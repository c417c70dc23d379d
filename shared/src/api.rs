//! Request and response bodies of `/api/v1`, exactly as `docs/contract.md` and the OpenAPI description
//! give them.

use crate::domain::{Fen, Phone, Role};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

// ---------- auth ----------

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SmsCodeRequest {
    /// Mainland mobile number, 11 digits starting with 1.
    pub phone: Phone,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SmsCodeResponse {
    pub sent: bool,
    /// Only in demo mode: the code itself, so a demo can log in without a phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_code: Option<String>,
    /// Seconds until the code expires.
    pub expires_in: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub phone: Phone,
    pub code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WechatLoginRequest {
    /// The code from `wx.login()`; single use, valid about five minutes.
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Household {
    pub id: i64,
    /// e.g. `七里山小区`
    pub community: String,
    /// Building number, e.g. `3` for 3号楼.
    pub building: String,
    pub unit: String,
    pub room: String,
    pub quarantined: bool,
    pub hardship: bool,
    pub elderly: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    pub id: i64,
    /// Absent for a WeChat user who has not bound a phone.
    pub phone: Option<Phone>,
    pub roles: Vec<Role>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// The caller's household, if one is on record.
    #[serde(default)]
    pub household: Option<Household>,
    /// The stall a vendor account keeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<i64>,
    /// The buildings a leader (团长) runs group-buys for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leader_buildings: Vec<String>,
}

impl Household {
    /// Whether the household gets the slots' priority reserve (see `order::is_priority`).
    pub fn is_priority(&self) -> bool {
        crate::order::is_priority(self.quarantined, self.hardship, self.elderly)
    }
}

impl User {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginResponse {
    /// Bearer token for the `Authorization` header.
    pub token: String,
    pub user: User,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DemoWechatCodeRequest {
    /// A stable id of the browser, so the same device is the same simulated WeChat user.
    pub device: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DemoWechatCodeResponse {
    pub code: String,
}

// ---------- catalog ----------

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
    pub name: String,
    /// Stall number in the market hall, e.g. `A03`.
    pub stall_no: String,
    pub category: String,
    pub description: String,
    pub product_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Product {
    pub id: i64,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BoxItem {
    pub product_id: i64,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProductDetail {
    #[serde(flatten)]
    pub product: Product,
    /// What is in the box; empty unless `is_box`.
    pub box_items: Vec<BoxItem>,
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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateProductRequest {
    pub stock: Option<i64>,
    pub price_fen: Option<Fen>,
    /// Staff only: the most the product may cost while the emergency price cap is on; 0 clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_ceiling_fen: Option<i64>,
}

/// One price a product had, for the price-stability record (稳物价).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PricePoint {
    pub price_fen: Fen,
    /// RFC 3339, +08:00
    pub changed_at: String,
}

// ---------- cart ----------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CartItem {
    pub product_id: i64,
    pub vendor_id: i64,
    pub vendor_name: String,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    /// Today's price; checkout charges this.
    pub price_fen: Fen,
    pub line_total_fen: Fen,
    pub stock: i64,
    pub per_order_limit: Option<i64>,
    /// False when the stall has less than `quantity` left (or stopped selling it).
    pub available: bool,
    /// The price when the line was added, if it has changed since.
    pub price_was_fen: Option<Fen>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Cart {
    pub items: Vec<CartItem>,
    pub total_fen: Fen,
    /// True when some line cannot be bought as it is (sold out, over stock or limit).
    pub has_problems: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetCartQuantity {
    /// 0 removes the line.
    pub quantity: i64,
}

// ---------- slots ----------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Slot {
    pub id: i64,
    pub kind: crate::order::SlotKind,
    /// RFC 3339, +08:00
    pub starts_at: String,
    pub ends_at: String,
    /// Orders close at this moment.
    pub cutoff_at: String,
    /// Orders the slot can take.
    pub capacity: i64,
    /// Places left for anyone (the priority reserve not counted while it is held).
    pub remaining: i64,
    pub booked: i64,
    /// Places held for priority households (quarantined, hardship, elderly) ...
    pub priority_capacity: i64,
    /// ... until this moment, after which they open to all.
    pub priority_release_at: Option<String>,
    /// Places left for a priority household.
    pub priority_remaining: i64,
    /// Closed by staff or past its cut-off.
    pub closed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct SlotQuery {
    /// A day in Asia/Shanghai, `YYYY-MM-DD`; without it, the slots still open from today on.
    pub date: Option<String>,
    /// Items per page (1 to 500, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateSlot {
    pub kind: crate::order::SlotKind,
    pub starts_at: String,
    pub ends_at: String,
    pub cutoff_at: String,
    pub capacity: i64,
    #[serde(default)]
    pub priority_capacity: i64,
    #[serde(default)]
    pub priority_release_at: Option<String>,
}

/// Staff flag a household; only the flags given change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FlagHousehold {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantined: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardship: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elderly: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateSlot {
    pub capacity: Option<i64>,
    pub priority_capacity: Option<i64>,
    pub priority_release_at: Option<String>,
    pub cutoff_at: Option<String>,
    pub closed: Option<bool>,
}

// ---------- orders ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Building number in 七里山小区, e.g. `3`.
    pub building: String,
    pub unit: String,
    pub room: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    pub slot_id: i64,
    /// Needed for delivery slots; ignored for pickup.
    #[serde(default)]
    pub address: Option<Address>,
    pub payment: crate::order::Payment,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderLine {
    pub product_id: i64,
    pub vendor_id: i64,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    pub price_fen: Fen,
    /// What is paid for: the price times what comes (the quantity less any shortage).
    pub line_total_fen: Fen,
    /// How much of it the stall could not supply (it does not come and is not paid for).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub short_quantity: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderPart {
    pub vendor_id: i64,
    pub vendor_name: String,
    pub status: String,
    pub subtotal_fen: Fen,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderEvent {
    pub status: crate::order::OrderStatus,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Order {
    pub id: i64,
    pub status: crate::order::OrderStatus,
    pub total_fen: Fen,
    pub slot_id: i64,
    pub slot_kind: crate::order::SlotKind,
    pub slot_starts_at: String,
    pub slot_ends_at: String,
    pub payment: crate::order::Payment,
    pub address: Option<Address>,
    pub note: Option<String>,
    pub created_at: String,
    /// When an unpaid order expires.
    pub expires_at: Option<String>,
    /// Six digits the resident tells the volunteer at the door; only the resident sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_code: Option<String>,
    /// The hand-off code as a QR code (an SVG document, `shared::order::handoff_qr_text`), with
    /// the code, on the one order's page while it is on its way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_qr: Option<String>,
    /// Money owed back or paid back (one order's page only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<Refund>,
    pub items: Vec<OrderLine>,
    /// One part per stall.
    pub parts: Vec<OrderPart>,
    /// What happened, oldest first.
    pub timeline: Vec<OrderEvent>,
    /// The group-buy whose share this order is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_buy_id: Option<i64>,
    /// 代下单: who placed it on the household's behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed_by: Option<String>,
    /// Nobody was home: the volunteer left it at the door, with this note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_at_door: Option<String>,
    /// Paid by the donation pool (爱心捐助): the household pays nothing (who gave is not told).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paid_by_donations: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderSummary {
    pub id: i64,
    pub status: crate::order::OrderStatus,
    pub total_fen: Fen,
    pub slot_id: i64,
    pub slot_starts_at: String,
    pub item_count: i64,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_buy_id: Option<i64>,
}

// ---------- a stall's console ----------

/// A stall's part of an order, as the stall sees it: what to supply and where it goes, never
/// the resident's full phone or the hand-off code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VendorPart {
    /// The part's id, for `/vendor/orders/{id}/confirm` and `/packed`.
    pub id: i64,
    pub order_id: i64,
    pub order_status: crate::order::OrderStatus,
    /// `pending`, `confirmed` or `packed`.
    pub status: String,
    pub slot_id: i64,
    pub slot_starts_at: String,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    /// e.g. `139****0001`.
    pub phone: Option<String>,
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_buy_id: Option<i64>,
    pub items: Vec<VendorLine>,
    pub subtotal_fen: Fen,
}

/// One message of a stall's live feed (`GET /vendor/events`, server-sent events named
/// `order`): an order with a part at the stall was placed or took a step. The console reloads
/// what it shows; the message says enough to pick the slot it concerns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StallEvent {
    /// The step's place in the order timeline (also the event's SSE `id`).
    pub id: i64,
    pub order_id: i64,
    /// The stall's part of the order.
    pub part_id: i64,
    pub slot_id: i64,
    /// The order's status after the step.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VendorLine {
    pub product_id: i64,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    pub price_fen: Fen,
    /// What the stall said it cannot supply.
    pub short_quantity: i64,
}

/// `POST /vendor/orders/{id}/confirm`: what of its lines the stall cannot supply (none: all).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfirmPart {
    #[serde(default)]
    pub shortages: Vec<Shortage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Shortage {
    pub product_id: i64,
    /// How much will not come.
    pub quantity: i64,
}

/// `GET /vendor/orders`: the slot to show (all open orders when absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct VendorOrdersQuery {
    pub slot_id: Option<i64>,
    /// Items per page (1 to 500, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}

// ---------- delivery batches ----------

/// A slot's orders for one building (or one group-buy's drop), carried by one volunteer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Batch {
    pub id: i64,
    pub slot_id: i64,
    pub slot_starts_at: String,
    /// The building's number, or a group-buy drop's buildings (`3、5`).
    pub building: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_buy_id: Option<i64>,
    /// How many orders it holds.
    pub orders: i64,
    pub status: crate::order::BatchStatus,
    /// The volunteer who claimed it (masked phone).
    #[serde(default)]
    pub volunteer: Option<String>,
    /// Since when it has been there (made, for an open one; claimed, for a claimed one).
    pub since: String,
    /// The households, by building, unit and room: only for its volunteer and staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Vec<Stop>>,
}

/// One household on a batch's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Stop {
    pub order_id: i64,
    pub building: String,
    pub unit: String,
    pub room: String,
    /// e.g. `139****0001`.
    pub phone: Option<String>,
    pub note: Option<String>,
    pub status: crate::order::OrderStatus,
    pub items: Vec<StopItem>,
    /// Wrong hand-off codes typed so far.
    pub handoff_attempts: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StopItem {
    pub name: String,
    pub unit: String,
    /// What comes: the quantity less any shortage.
    pub quantity: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct BatchesQuery {
    pub slot_id: i64,
    /// Items per page (1 to 500, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `POST /orders/{id}/handoff`: the code the resident shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HandoffRequest {
    pub code: String,
}

/// A hand-off at a door, for a contact trace (staff): who delivered, when, to which household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Contact {
    pub order_id: i64,
    pub at: String,
    /// The volunteer's full phone: an investigation must reach them.
    pub volunteer_phone: Option<String>,
    pub building: String,
    pub unit: String,
    pub room: String,
    pub left_at_door: bool,
    pub slot_id: i64,
}

/// `GET /admin/contacts`: a time range (RFC 3339) and a volunteer's phone and/or a building.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    pub from: String,
    pub to: String,
    pub volunteer: Option<String>,
    pub building: Option<String>,
    /// Items per page (1 to 500, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `POST /orders/{id}/left-at-door`: nobody home; what the resident is told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LeftAtDoor {
    pub note: String,
}

/// `POST /orders/{id}/problem`: what went wrong with a delivered order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportProblem {
    pub text: String,
}

/// A resident's report, as staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    pub id: i64,
    pub order_id: i64,
    pub text: String,
    pub created_at: String,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    /// The resident's phone, masked.
    pub phone: Option<String>,
    /// Who delivered it (masked phone).
    pub delivered_by: Option<String>,
}

// ---------- payment ----------

/// `POST /orders/{id}/pay`: what the mini-program hands to `wx.requestPayment` (the field names
/// are the mini-program API's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RequestPayment {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    /// `prepay_id=...`
    pub package: String,
    /// `RSA`
    pub sign_type: String,
    pub pay_sign: String,
}

/// Money going back to the resident for an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Refund {
    pub amount_fen: Fen,
    /// `late_payment`, `second_payment`, `shortage`, `group_buy_failed`, `cancelled`
    pub reason: String,
    /// `due` (recorded), `requested` (WeChat Pay accepted it), `succeeded`, `failed`
    pub status: String,
}

/// `POST /demo/wechat-pay` (demo mode): the phone pays; `notify: false` plays a notification
/// lost on the way (the server must find the payment by asking).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DemoPayment {
    #[serde(flatten)]
    pub request: RequestPayment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<bool>,
}

// ---------- stable prices (稳物价) ----------

/// The emergency price cap: while on, no product rises more than `max_daily_rise_percent` above
/// its price at the start of the day, nor above its own ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriceCap {
    pub enabled: bool,
    /// 0 to 100.
    pub max_daily_rise_percent: i64,
}

/// The public price board: today's prices, the cap, and each product's move since the morning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PriceBoard {
    pub cap: PriceCap,
    pub items: Vec<PriceBoardItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PriceBoardItem {
    pub product_id: i64,
    pub name: String,
    pub unit: String,
    pub vendor_name: String,
    pub price_fen: Fen,
    /// Its price when the day began (its first price if it was first priced today).
    pub day_open_fen: Option<Fen>,
    /// The most it may cost while the cap is on, if staff set it.
    pub ceiling_fen: Option<Fen>,
}

/// `GET /admin/prices.csv`: Shanghai days, both included (`YYYY-MM-DD`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct PriceRecordQuery {
    pub from: String,
    pub to: String,
}

// ---------- notices ----------

/// Something the resident is told about their order (also sent to WeChat when they accepted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Notice {
    pub id: i64,
    pub order_id: Option<i64>,
    /// `confirmed`, `out_for_delivery`, `delivered`, `refund`
    pub kind: String,
    pub title: String,
    pub body: String,
    pub created_at: String,
}

/// `POST /me/subscriptions`: the kinds the resident just accepted in `wx.requestSubscribeMessage`
/// (each acceptance allows one message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    pub kinds: Vec<String>,
}

/// A refund not yet back with the resident, for staff (`GET /admin/refunds`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OpenRefund {
    pub out_refund_no: String,
    /// None for a paid group-buy share that never became an order (`group_buy_id` says which).
    pub order_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_buy_id: Option<i64>,
    pub amount_fen: Fen,
    pub reason: String,
    /// `due`, `requested` or `failed` (WeChat Pay refused it: staff must see to it).
    pub status: String,
}

// ---------- the donation pool (爱心捐助) ----------

/// A resident's gift (`POST /donations`): money (`amount_fen`), or `boxes` of the 菜盒子
/// `product_id` at its price now. Paid with WeChat Pay (`POST /donations/{id}/pay`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GiveRequest {
    #[serde(default)]
    pub amount_fen: Option<i64>,
    #[serde(default)]
    pub boxes: Option<i64>,
    #[serde(default)]
    pub product_id: Option<i64>,
}

/// A gift received outside WeChat Pay (an organisation's transfer, or boxes it paid the market
/// for), recorded by staff (`POST /admin/donations`): in the pool at once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecordGift {
    pub donor_name: String,
    #[serde(default)]
    pub amount_fen: Option<i64>,
    #[serde(default)]
    pub boxes: Option<i64>,
    #[serde(default)]
    pub product_id: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A gift, as its giver sees it: what it became.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Gift {
    pub id: i64,
    /// `pending_payment` (not paid yet) or `received` (in the pool).
    pub status: String,
    pub amount_fen: Fen,
    /// 菜盒子 given (0 for money).
    pub boxes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// Staff-recorded gifts: the organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub donor_name: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    /// Spent on households' orders so far.
    pub spent_fen: Fen,
    /// Households' orders (boxes of food) this gift paid for, wholly or in part.
    pub boxes_delivered: i64,
}

/// The pool at a glance (public: no household is named).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PoolSummary {
    pub balance_fen: Fen,
    /// Everything received, ever.
    pub received_fen: Fen,
    pub gifts: i64,
    /// Orders the pool paid (not counting those cancelled) and the households they went to.
    pub orders_paid: i64,
    pub households_helped: i64,
}

/// An order of a quarantined or hardship household waiting to be paid, for staff to pay from
/// the pool (`GET /admin/donations/needs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PoolNeed {
    pub order_id: i64,
    pub status: crate::order::OrderStatus,
    pub total_fen: Fen,
    pub slot_starts_at: String,
    pub household_id: i64,
    /// 3号楼 2单元 301
    pub address: String,
    pub quarantined: bool,
    pub hardship: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AllocateRequest {
    pub order_id: i64,
}

/// An order paid by the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Allocated {
    pub order_id: i64,
    pub amount_fen: Fen,
    /// The pool after it.
    pub balance_fen: Fen,
}

/// One move of the pool: a gift in, an allocation out, money back from a pool-paid order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LedgerEntry {
    pub id: i64,
    pub at: String,
    /// `gift`, `allocation` or `return`.
    pub kind: String,
    /// In (+) or out (-), fen.
    pub amount_fen: i64,
    /// The pool after it.
    pub balance_fen: Fen,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub donation_id: Option<i64>,
    /// Who gave (an organisation, or a resident's masked phone): staff only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub donor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<i64>,
    /// The household an allocation or return belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
    /// Staff who allocated or recorded it (masked phone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Ledger {
    pub balance_fen: Fen,
    pub entries: Vec<LedgerEntry>,
}

/// `GET /admin/donations/ledger` (and `.csv`): Shanghai days, both included (`YYYY-MM-DD`);
/// the last 31 days when left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}
