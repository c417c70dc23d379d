//! The server's JSON API over `fetch`, with the `shared` types. Every call yields either the
//! body or a `Failure` carrying the server's error code and message.
//!
//! One request path for every call, not one per response type: the browser parses the JSON
//! (`JSON.parse`), and only the last step, turning it into a `shared` type, is generic. Pages
//! load their data through `components::Load`, which asks for a `path` of this module.

use serde::{de::DeserializeOwned, Serialize};
use shared::api::{
    Cart, CheckoutRequest, CreateSlot, DemoWechatCodeRequest, DemoWechatCodeResponse, FlagHousehold, Household, List,
    LoginRequest, LoginResponse, Order, SetCartQuantity, Slot, SmsCodeRequest, SmsCodeResponse, UpdateSlot, User,
    WechatLoginRequest,
};
use shared::{ErrorBody, Phone};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// HTTP status; 0 when the server could not be reached.
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Failure {
    fn network(e: impl std::fmt::Display) -> Self {
        Failure { status: 0, code: "network".into(), message: e.to_string() }
    }

    /// A refusal said here, not by the server (`message` as "中文 (English)").
    fn refused(status: u16, message: String) -> Self {
        Failure { status, code: "refused".into(), message }
    }

    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }

    /// What to tell the person: the server's words (in the page's language), or that the
    /// network is down.
    pub fn text(&self) -> String {
        if self.status == 0 {
            crate::i18n::now(crate::i18n::K::network_failed).to_owned()
        } else {
            crate::i18n::in_language(&self.message)
        }
    }
}

pub type ApiResult<T> = Result<T, Failure>;

/// The JSON the browser parsed, as a `shared` type.
pub fn parse<T: DeserializeOwned>(value: JsValue) -> ApiResult<T> {
    serde_wasm_bindgen::from_value(value).map_err(Failure::network)
}

/// The items of a list answer (`{"items": [...]}`).
pub fn items<T: DeserializeOwned>(value: JsValue) -> ApiResult<Vec<T>> {
    parse::<List<T>>(value).map(|l| l.items)
}

/// A paged list answer's `next_cursor` (None on the last page), read from the JSON as the browser
/// parsed it (no type of its own to decode: a smaller download).
pub fn next_cursor(value: &JsValue) -> Option<String> {
    js_sys::Reflect::get(value, &JsValue::from_str("next_cursor")).ok().and_then(|c| c.as_string())
}

/// The body as JSON text, through the browser's `JSON.stringify`.
fn json_text<B: Serialize>(body: &B) -> ApiResult<String> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let value = body.serialize(&serializer).map_err(Failure::network)?;
    js_sys::JSON::stringify(&value).map(String::from).map_err(|_| Failure::network("JSON.stringify"))
}

/// A request about to go: method, path and headers.
struct Call {
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
}

impl Call {
    fn new(method: &'static str, path: impl Into<String>) -> Self {
        Call { method, path: path.into(), headers: Vec::new() }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

fn js_failure(e: JsValue) -> Failure {
    Failure::network(e.as_string().unwrap_or_else(|| "fetch failed".into()))
}

/// Sends a request (with the login, if any) through the browser's `fetch`: the response,
/// whatever its status. `signal` can abort it, body included.
async fn fetch(
    call: &Call,
    body: Option<(&JsValue, &str)>,
    signal: Option<&web_sys::AbortSignal>,
) -> ApiResult<web_sys::Response> {
    let headers = web_sys::Headers::new().map_err(js_failure)?;
    for (name, value) in &call.headers {
        headers.set(name, value).map_err(js_failure)?;
    }
    if let Some(token) = crate::storage::token() {
        headers.set("Authorization", &format!("Bearer {token}")).map_err(js_failure)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(call.method);
    if let Some((body, content_type)) = body {
        headers.set("Content-Type", content_type).map_err(js_failure)?;
        init.set_body(body);
    }
    init.set_headers(&headers);
    if let Some(signal) = signal {
        init.set_signal(Some(signal));
    }
    let window = web_sys::window().ok_or_else(|| Failure::network("no window"))?;
    JsFuture::from(window.fetch_with_str_and_init(&in_market(call), &init))
        .await
        .map_err(js_failure)?
        .dyn_into()
        .map_err(js_failure)
}

/// The public lists that are of one market (`?market_id=`, else the caller's, else the first).
const MARKET_LISTS: [&str; 8] = [
    "/api/v1/categories",
    "/api/v1/vendors",
    "/api/v1/products",
    "/api/v1/slots",
    "/api/v1/pickup-points",
    "/api/v1/prices",
    "/api/v1/donations/pool",
    "/api/v1/tests",
];

/// The call's path, of the market this device chose (`storage::market`) when it reads one of
/// the market's public lists.
fn in_market(call: &Call) -> String {
    let (base, query) = call.path.split_once('?').unwrap_or((&call.path, ""));
    match crate::storage::market() {
        Some(market) if call.method == "GET" && MARKET_LISTS.contains(&base) && !query.contains("market_id=") => {
            let join = if query.is_empty() { '?' } else { '&' };
            format!("{}{join}market_id={market}", call.path)
        }
        _ => call.path.clone(),
    }
}

/// The JSON answer of a response; `null` for no body.
async fn json_of(res: &web_sys::Response) -> JsValue {
    match res.json() {
        Ok(promise) => JsFuture::from(promise).await.unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    }
}

/// Sends a request (with the login, if any) and reads its JSON answer; `null` for no body.
async fn exchange(call: Call, body: Option<String>) -> ApiResult<JsValue> {
    let body = body.map(|b| JsValue::from_str(&b));
    answer(fetch(&call, body.as_ref().map(|b| (b, "application/json")), None).await?).await
}

/// A response's JSON answer, or its refusal.
async fn answer(res: web_sys::Response) -> ApiResult<JsValue> {
    let value = json_of(&res).await;
    if res.ok() {
        return Ok(value);
    }
    Err(refusal(res.status(), value))
}

/// A refusal's error body as a `Failure`.
fn refusal(status: u16, value: JsValue) -> Failure {
    match serde_wasm_bindgen::from_value::<ErrorBody>(value) {
        Ok(body) => Failure { status, code: body.error.code, message: body.error.message },
        Err(_) => Failure { status, code: "http".into(), message: format!("HTTP {status}") },
    }
}

/// Listens to the server-sent events at `path` (with the login) until the stream ends, fails
/// or `signal` aborts it: `on_events` gets the names of the events (`ready`, `order`, ...) of
/// each piece that arrives, so a burst is taken in once.
pub async fn listen(path: &str, signal: &web_sys::AbortSignal, mut on_events: impl FnMut(&[String])) -> ApiResult<()> {
    let res = fetch(&Call::new("GET", path), None, Some(signal)).await?;
    if !res.ok() {
        return Err(refusal(res.status(), json_of(&res).await));
    }
    let body = res.body().ok_or_else(|| Failure::network("no body"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(js_failure)?;
        if js_sys::Reflect::get(&chunk, &JsValue::from_str("done")).map_or(true, |d| d.is_truthy()) {
            return Ok(());
        }
        let value = js_sys::Reflect::get(&chunk, &JsValue::from_str("value")).map_err(js_failure)?;
        pending.extend(js_sys::Uint8Array::new(&value).to_vec());
        let mut names = Vec::new();
        while let Some(end) = pending.windows(2).position(|w| w == b"\n\n") {
            let event: Vec<u8> = pending.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&event);
            names.extend(text.lines().find_map(|l| l.strip_prefix("event:")).map(|n| n.trim().to_owned()));
        }
        if !names.is_empty() {
            on_events(&names);
        }
    }
}

/// GET `path`: its JSON answer.
pub async fn get_json(path: String) -> ApiResult<JsValue> {
    exchange(Call::new("GET", path), None).await
}

/// GET a list shown whole however long it grows (a group-buy's shares, a slot's batches):
/// page after page of the most the server gives (500), following `next_cursor`; one answer
/// with every page's items.
pub async fn get_every_page(path: String) -> ApiResult<JsValue> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let all = js_sys::Array::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor.as_deref().map(|c| format!("&cursor={}", encode(c))).unwrap_or_default();
        let page = get_json(format!("{path}{sep}limit=500{after}")).await?;
        let items = js_sys::Reflect::get(&page, &JsValue::from_str("items")).unwrap_or(JsValue::UNDEFINED);
        if let Ok(items) = wasm_bindgen::JsCast::dyn_into::<js_sys::Array>(items) {
            for item in items.iter() {
                all.push(&item);
            }
        }
        cursor = next_cursor(&page);
        if cursor.is_none() {
            let _ = js_sys::Reflect::set(&page, &JsValue::from_str("items"), &all);
            return Ok(page);
        }
    }
}

async fn send<B: Serialize>(call: Call, body: &B) -> ApiResult<JsValue> {
    exchange(call, Some(json_text(body)?)).await
}

fn encode(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}

// ---------- what pages load (paths for `components::Load`) ----------

pub const CATEGORIES: &str = "/api/v1/categories";
pub const VENDORS: &str = "/api/v1/vendors";
/// Every category on record, retired ones too (staff).
pub const CATEGORIES_ON_RECORD: &str = "/api/v1/admin/categories";
pub const CART: &str = "/api/v1/cart";
pub const ORDERS: &str = "/api/v1/orders";
/// Refunds not yet back with residents (staff).
pub const OPEN_REFUNDS: &str = "/api/v1/admin/refunds";
/// The resident's notices.
pub const NOTICES: &str = "/api/v1/me/notices";
/// The public price board.
pub const PRICES: &str = "/api/v1/prices";
/// The donation pool at a glance (public).
pub const POOL: &str = "/api/v1/donations/pool";
/// The resident's gifts to the pool.
pub const MY_GIFTS: &str = "/api/v1/me/donations";
/// Flagged households' orders waiting to be paid (staff).
pub const POOL_NEEDS: &str = "/api/v1/admin/donations/needs";
/// The pool's ledger, the last 31 days (staff).
pub const POOL_LEDGER: &str = "/api/v1/admin/donations/ledger";
/// A stall's live feed (server-sent events).
pub const VENDOR_EVENTS: &str = "/api/v1/vendor/events";

pub fn vendor_path(id: i64) -> String {
    format!("/api/v1/vendors/{id}")
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductFilter {
    pub category: Option<String>,
    pub vendor_id: Option<i64>,
    pub q: Option<String>,
}

/// Products shown at once: a first page a slow phone gets quickly; more come when asked for.
pub const PRODUCTS_PER_PAGE: i64 = 40;

pub fn products_path(filter: &ProductFilter) -> String {
    let mut params = vec![format!("limit={PRODUCTS_PER_PAGE}")];
    if let Some(c) = &filter.category {
        params.push(format!("category={}", encode(c)));
    }
    if let Some(v) = filter.vendor_id {
        params.push(format!("vendor_id={v}"));
    }
    if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        params.push(format!("q={}", encode(q.trim())));
    }
    format!("/api/v1/products?{}", params.join("&"))
}

/// The page of `path` (a paged list) after `cursor`.
pub fn next_page(path: &str, cursor: &str) -> String {
    let join = if path.contains('?') { '&' } else { '?' };
    format!("{path}{join}cursor={}", encode(cursor))
}

pub fn product_path(id: i64) -> String {
    format!("/api/v1/products/{id}")
}

/// The price-stability record of a product, newest first.
pub fn prices_path(id: i64) -> String {
    format!("/api/v1/products/{id}/prices")
}

/// Slots from today on (no date), or of one `YYYY-MM-DD`.
pub fn slots_path(date: Option<&str>) -> String {
    match date {
        Some(d) => format!("/api/v1/slots?date={}", encode(d)),
        None => "/api/v1/slots".to_owned(),
    }
}

pub fn order_path(id: i64) -> String {
    format!("/api/v1/orders/{id}")
}

/// Households of a building, narrowed by unit and the start of a room number when given.
pub fn households_path(building: &str, unit: &str, room: &str) -> String {
    let mut path = format!("/api/v1/admin/households?building={}", encode(building));
    for (key, value) in [("unit", unit.trim()), ("room", room.trim())] {
        if !value.is_empty() {
            path.push_str(&format!("&{key}={}", encode(value)));
        }
    }
    path
}

// ---------- what people do ----------

pub async fn send_sms_code(phone: &Phone) -> ApiResult<SmsCodeResponse> {
    parse(send(Call::new("POST", "/api/v1/auth/sms-code"), &SmsCodeRequest { phone: phone.clone() }).await?)
}

pub async fn login(phone: &Phone, code: &str) -> ApiResult<LoginResponse> {
    let body = LoginRequest { phone: phone.clone(), code: code.to_owned() };
    parse(send(Call::new("POST", "/api/v1/auth/login"), &body).await?)
}

/// Demo mode: the simulator plays `wx.login()`, then we log in with its code as a mini-program would.
pub async fn wechat_login_demo(device: &str) -> ApiResult<LoginResponse> {
    let body = DemoWechatCodeRequest { device: device.to_owned() };
    let code: DemoWechatCodeResponse = parse(send(Call::new("POST", "/api/v1/demo/wechat-code"), &body).await?)?;
    parse(send(Call::new("POST", "/api/v1/auth/wechat"), &WechatLoginRequest { code: code.code }).await?)
}

pub async fn me() -> ApiResult<User> {
    parse(get_json("/api/v1/me".into()).await?)
}

pub async fn logout() -> ApiResult<()> {
    match exchange(Call::new("POST", "/api/v1/auth/logout"), None).await {
        Ok(_) => Ok(()),
        Err(f) if f.is_unauthorized() => Ok(()),
        Err(f) => Err(f),
    }
}

pub async fn cart() -> ApiResult<Cart> {
    parse(get_json(CART.into()).await?)
}

pub async fn set_cart(product_id: i64, quantity: i64) -> ApiResult<Cart> {
    parse(send(Call::new("PUT", format!("/api/v1/cart/items/{product_id}")), &SetCartQuantity { quantity }).await?)
}

/// Adds `quantity` to what the cart already holds of a product.
pub async fn add_to_cart(product_id: i64, quantity: i64) -> ApiResult<Cart> {
    let current = cart().await?.items.into_iter().find(|i| i.product_id.get() == product_id).map_or(0, |i| i.quantity);
    set_cart(product_id, current + quantity).await
}

/// 再来一单: the cart holds what the household's last own order held (a group-buy's share is
/// not one to repeat). `Ok(false)` when there is no order to repeat.
pub async fn order_again() -> ApiResult<bool> {
    let orders: Vec<shared::api::OrderSummary> = items(get_json(format!("{ORDERS}?limit=20")).await?)?;
    let Some(last) = orders.into_iter().find(|o| o.group_buy_id.is_none()) else { return Ok(false) };
    let order: shared::api::Order = parse(get_json(order_path(last.id.get())).await?)?;
    for line in order.items {
        set_cart(line.product_id.get(), line.quantity).await?;
    }
    Ok(true)
}

/// A fresh key for one press of "pay"; retries of that press reuse it.
pub fn new_idempotency_key() -> String {
    format!("web-{:x}-{:x}", (js_sys::Math::random() * 1e15) as u64, js_sys::Date::now() as u64)
}

/// Places the order. A network failure is retried with the same key, so a flaky connection
/// can never make two orders.
pub async fn checkout(key: &str, body: &CheckoutRequest) -> ApiResult<Order> {
    let body = json_text(body)?;
    let mut last = Failure::network("not sent");
    for attempt in 0..3 {
        if attempt > 0 {
            sleep(600 * attempt).await;
        }
        let req = Call::new("POST", "/api/v1/orders").header("Idempotency-Key", key);
        match exchange(req, Some(body.clone())).await {
            Ok(order) => return parse(order),
            Err(f) if f.status == 0 || f.code == "idempotency_key_in_use" => last = f,
            Err(f) => return Err(f),
        }
    }
    Err(last)
}

pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Switches the emergency price cap (staff).
pub async fn set_price_cap(cap: &shared::api::PriceCap) -> ApiResult<shared::api::PriceCap> {
    parse(send(Call::new("PUT", "/api/v1/admin/price-cap"), cap).await?)
}

/// The parameters for `wx.requestPayment` for an order waiting for payment.
pub async fn pay_order(id: i64) -> ApiResult<shared::api::RequestPayment> {
    parse(exchange(Call::new("POST", format!("/api/v1/orders/{id}/pay")), None).await?)
}

/// The parameters for `wx.requestPayment` for a gift to the donation pool.
pub async fn pay_gift(id: i64) -> ApiResult<shared::api::RequestPayment> {
    parse(exchange(Call::new("POST", format!("/api/v1/donations/{id}/pay")), None).await?)
}

/// Demo mode: the simulator plays the getPhoneNumber button for this phone; its one-time code.
pub async fn demo_phone_code(phone: &str) -> ApiResult<String> {
    #[derive(Serialize)]
    struct Phone<'a> {
        phone: &'a str,
    }
    let reply: shared::api::DemoWechatCodeResponse =
        parse(send(Call::new("POST", "/api/v1/demo/wechat-phone-code"), &Phone { phone }).await?)?;
    Ok(reply.code)
}

/// Binds the phone WeChat vouches for (getPhoneNumber's code); the answer is the login to keep.
pub async fn bind_phone(code: &str) -> ApiResult<LoginResponse> {
    parse(
        send(Call::new("POST", "/api/v1/me/phone/wechat"), &shared::api::WechatLoginRequest { code: code.to_owned() })
            .await?,
    )
}

/// The parameters for `wx.requestPayment` for the caller's share of a group-buy.
pub async fn pay_share(group_buy_id: i64) -> ApiResult<shared::api::RequestPayment> {
    parse(exchange(Call::new("POST", format!("/api/v1/group-buys/{group_buy_id}/share/pay")), None).await?)
}

/// A gift of money or 菜盒子 to the donation pool, to be paid.
pub async fn give(body: &shared::api::GiveRequest) -> ApiResult<shared::api::Gift> {
    parse(send(Call::new("POST", "/api/v1/donations"), body).await?)
}

/// An organisation's gift received outside WeChat Pay (staff).
pub async fn record_gift(body: &shared::api::RecordGift) -> ApiResult<shared::api::Gift> {
    parse(send(Call::new("POST", "/api/v1/admin/donations"), body).await?)
}

/// Pays a flagged household's order from the pool (staff).
pub async fn allocate(order_id: i64) -> ApiResult<shared::api::Allocated> {
    parse(
        send(
            Call::new("POST", "/api/v1/admin/donations/allocations"),
            &shared::api::AllocateRequest { order_id: shared::OrderId(order_id) },
        )
        .await?,
    )
}

/// Demo mode: the simulated phone pays (404 outside demo mode: pay in WeChat).
pub async fn demo_pay(params: &shared::api::RequestPayment) -> ApiResult<()> {
    send(Call::new("POST", "/api/v1/demo/wechat-pay"), params).await.map(|_| ())
}

/// 送爱心菜盒: the household at the door, the market's first 菜盒子 and the next delivery slot
/// that still takes orders, then one box sent, paid by the pool.
pub async fn send_gift_box(building: &str, unit: &str, room: &str) -> ApiResult<Order> {
    let households: Vec<Household> = items(get_json(households_path(building, unit, room)).await?)?;
    let household =
        households.into_iter().find(|h| h.unit == unit.trim() && h.room == room.trim()).ok_or_else(|| {
            Failure::refused(404, "没有这户，请核对楼号、单元和房号 (no such household: check the address)".into())
        })?;
    let boxes: Vec<shared::api::Product> = items(get_json("/api/v1/products?category=box".into()).await?)?;
    let first = boxes
        .into_iter()
        .find(|p| p.stock > 0)
        .ok_or_else(|| Failure::refused(409, "菜盒子已售完 (no box left)".into()))?;
    let slots: Vec<Slot> = items(get_json(slots_path(None)).await?)?;
    let now = js_sys::Date::now();
    let path = format!("/api/v1/admin/households/{}/gift-box", household.id);
    let mut why = Failure::refused(409, "没有还能下单的送货时段 (no delivery slot takes orders now)".into());
    // The next delivery slot that takes it: a full one, or one the household has an order in
    // already, gives way to the next.
    for slot in slots
        .iter()
        .filter(|s| s.kind == shared::order::SlotKind::Delivery && !s.closed && js_sys::Date::parse(&s.cutoff_at) > now)
    {
        let body = shared::api::GiftBox { product_id: first.id, slot_id: slot.id };
        match send(Call::new("POST", path.clone()), &body).await {
            Ok(order) => return parse(order),
            Err(f) if ["household_slot_taken", "slot_full", "slot_closed"].contains(&f.code.as_str()) => why = f,
            Err(f) => return Err(f),
        }
    }
    Err(why)
}

/// Whether the resident's notices also come by SMS.
pub const SMS_NOTICES: &str = "/api/v1/me/sms-notices";

pub async fn choose_sms(on: bool) -> ApiResult<shared::api::SmsNotices> {
    parse(send(Call::new("PUT", SMS_NOTICES), &shared::api::SmsNotices { on }).await?)
}

/// The resident's standing orders (常购).
pub const STANDING: &str = "/api/v1/me/standing-orders";

pub async fn create_standing(body: &shared::api::StandingOrderRequest) -> ApiResult<shared::api::StandingOrder> {
    parse(send(Call::new("POST", STANDING), body).await?)
}

pub async fn change_standing(id: i64, body: &shared::api::StandingOrderPatch) -> ApiResult<shared::api::StandingOrder> {
    parse(send(Call::new("PATCH", format!("{STANDING}/{id}")), body).await?)
}

pub async fn end_standing(id: i64) -> ApiResult<()> {
    exchange(Call::new("DELETE", format!("{STANDING}/{id}")), None).await.map(|_| ())
}

pub async fn cancel_order(id: i64) -> ApiResult<Order> {
    parse(exchange(Call::new("POST", format!("/api/v1/orders/{id}/cancel")), None).await?)
}

pub async fn create_slot(body: &CreateSlot) -> ApiResult<Slot> {
    parse(send(Call::new("POST", "/api/v1/admin/slots"), body).await?)
}

pub async fn add_category(body: &shared::api::NewCategory) -> ApiResult<shared::api::Category> {
    parse(send(Call::new("POST", "/api/v1/admin/categories"), body).await?)
}

/// Staff change a category: retire it, bring it back.
pub async fn change_category(id: &str, body: &shared::api::UpdateCategory) -> ApiResult<shared::api::Category> {
    parse(send(Call::new("PATCH", format!("/api/v1/admin/categories/{}", encode(id))), body).await?)
}

/// Staff change a stall: its name, category, description, opening (停业) or a day of rest (休市).
pub async fn change_stall(id: i64, body: &shared::api::UpdateStall) -> ApiResult<shared::api::Vendor> {
    parse(send(Call::new("PATCH", format!("/api/v1/admin/stalls/{id}")), body).await?)
}

/// A stall holder's own stall: closed (`open`) or a day of rest (`closed_on`).
pub async fn change_own_stall(body: &shared::api::UpdateStall) -> ApiResult<shared::api::Vendor> {
    parse(send(Call::new("PATCH", "/api/v1/vendor/stall"), body).await?)
}

pub async fn add_stall(body: &shared::api::NewStall) -> ApiResult<shared::api::Vendor> {
    parse(send(Call::new("POST", "/api/v1/admin/stalls"), body).await?)
}

/// Staff pack a new 菜盒子.
pub async fn add_box(body: &shared::api::NewBox) -> ApiResult<shared::api::ProductDetail> {
    parse(send(Call::new("POST", "/api/v1/admin/boxes"), body).await?)
}

/// Staff change a 菜盒子: its contents (replaced whole), name, price, how many.
pub async fn change_box(id: i64, body: &shared::api::UpdateBox) -> ApiResult<shared::api::ProductDetail> {
    parse(send(Call::new("PATCH", format!("/api/v1/admin/boxes/{id}")), body).await?)
}

/// The newest changes to the market's set-up (staff), of one kind of subject or all.
pub fn audit_path(subject: &str) -> String {
    if subject.is_empty() {
        "/api/v1/admin/audit?limit=50".to_owned()
    } else {
        format!("/api/v1/admin/audit?subject={}&limit=50", encode(subject))
    }
}

pub async fn add_product(body: &shared::api::NewProduct) -> ApiResult<shared::api::ProductDetail> {
    parse(send(Call::new("POST", "/api/v1/admin/products"), body).await?)
}

/// The buildings the market serves (staff).
pub const BUILDINGS: &str = "/api/v1/admin/buildings";

pub async fn add_building(body: &shared::api::NewBuilding) -> ApiResult<shared::api::Building> {
    parse(send(Call::new("POST", "/api/v1/admin/buildings"), body).await?)
}

pub async fn change_building(id: i64, body: &shared::api::UpdateBuilding) -> ApiResult<shared::api::Building> {
    parse(send(Call::new("PATCH", format!("/api/v1/admin/buildings/{id}")), body).await?)
}

pub async fn update_slot(id: i64, body: &UpdateSlot) -> ApiResult<Slot> {
    parse(send(Call::new("PATCH", format!("/api/v1/admin/slots/{id}")), body).await?)
}

/// Who lives in a household, who waits to, and its register (staff).
pub fn household_people_path(id: i64) -> String {
    format!("/api/v1/admin/households/{id}/people")
}

/// Staff let a waiting resident in (`admit`) or take a member out.
pub async fn household_member(household: i64, user: i64, admit: bool) -> ApiResult<()> {
    let method = if admit { "POST" } else { "DELETE" };
    exchange(Call::new(method, format!("/api/v1/admin/households/{household}/members/{user}")), None).await.map(|_| ())
}

/// Staff set a household's whole register of phones.
pub async fn set_register(household: i64, phones: Vec<shared::Phone>) -> ApiResult<()> {
    let body = shared::api::SetRegister { phones };
    send(Call::new("PUT", format!("/api/v1/admin/households/{household}/register")), &body).await.map(|_| ())
}

/// Staff bring in the register as a spreadsheet (CSV or XLSX): checked (`dry_run`) or applied.
pub async fn import_register(file: &web_sys::File, dry_run: bool) -> ApiResult<shared::api::RegisterImport> {
    let call = Call::new("POST", format!("/api/v1/admin/households/register/import?dry_run={dry_run}"));
    parse(answer(fetch(&call, Some((file.as_ref(), &file_kind(file))), None).await?).await?)
}

/// A chosen file's type as the browser tells it (the server reads the file by its bytes).
fn file_kind(file: &web_sys::File) -> String {
    let kind = file.type_();
    if kind.is_empty() {
        "application/octet-stream".to_owned()
    } else {
        kind
    }
}

/// Every household's register as a spreadsheet (the import's columns).
pub const REGISTER_CSV: &str = "/api/v1/admin/households/register.csv";

/// Staff erase a resident on request; their orders stay.
pub async fn erase_resident(phone: &shared::Phone) -> ApiResult<shared::api::Erased> {
    parse(exchange(Call::new("POST", format!("/api/v1/admin/users/{}/erase", phone.as_str())), None).await?)
}

pub async fn flag_household(id: i64, flags: &FlagHousehold) -> ApiResult<Household> {
    parse(send(Call::new("PATCH", format!("/api/v1/admin/households/{id}")), flags).await?)
}

pub async fn set_household(address: &shared::api::Address) -> ApiResult<User> {
    parse(send(Call::new("PUT", "/api/v1/me/household"), address).await?)
}

/// The residents waiting to join the caller's household.
pub const HOUSEHOLD_REQUESTS: &str = "/api/v1/me/household/requests";

/// The phones invited into the caller's household (masked).
pub const HOUSEHOLD_INVITES: &str = "/api/v1/me/household/invites";

/// A member invites a phone into their household.
pub async fn invite(phone: shared::Phone) -> ApiResult<shared::api::Invited> {
    parse(send(Call::new("POST", HOUSEHOLD_INVITES), &shared::api::Invite { phone }).await?)
}

/// A member lets a waiting resident in (`approve`) or turns them down.
pub async fn answer_request(id: i64, approve: bool) -> ApiResult<()> {
    let verb = if approve { "approve" } else { "reject" };
    exchange(Call::new("POST", format!("{HOUSEHOLD_REQUESTS}/{id}/{verb}")), None).await.map(|_| ())
}

// ---------- group-buys ----------

pub const GROUP_BUYS: &str = "/api/v1/group-buys";

pub fn group_buy_path(id: i64) -> String {
    format!("/api/v1/group-buys/{id}")
}

pub fn group_shares_path(id: i64) -> String {
    format!("/api/v1/group-buys/{id}/shares")
}

pub async fn open_group_buy(body: &shared::group_buy::OpenGroupBuy) -> ApiResult<shared::group_buy::GroupBuy> {
    parse(send(Call::new("POST", GROUP_BUYS), body).await?)
}

/// Joins or changes the caller's household's share; None: it left (all quantities 0).
pub async fn set_share(id: i64, body: &shared::group_buy::ShareRequest) -> ApiResult<Option<shared::group_buy::Share>> {
    parse(send(Call::new("PUT", format!("/api/v1/group-buys/{id}/share")), body).await?)
}

pub async fn leave_group_buy(id: i64) -> ApiResult<()> {
    exchange(Call::new("DELETE", format!("/api/v1/group-buys/{id}/share")), None).await.map(|_| ())
}

/// The household at an address of the group-buy's buildings, for a share placed on its behalf.
pub async fn household_for(id: i64, address: &shared::api::Address) -> ApiResult<Household> {
    parse(send(Call::new("POST", format!("/api/v1/group-buys/{id}/households")), address).await?)
}

pub async fn set_share_for(
    id: i64,
    household: i64,
    body: &shared::group_buy::ShareRequest,
) -> ApiResult<Option<shared::group_buy::Share>> {
    parse(send(Call::new("PUT", format!("/api/v1/group-buys/{id}/shares/{household}")), body).await?)
}

/// Closes it now (`close`) or calls it off (`cancel`).
pub async fn end_group_buy(id: i64, how: &str) -> ApiResult<shared::group_buy::GroupBuy> {
    parse(exchange(Call::new("POST", format!("/api/v1/group-buys/{id}/{how}")), None).await?)
}

/// Fetches a CSV with the login and hands it to the browser as a download.
pub async fn download_csv(path: String, filename: &str) -> ApiResult<()> {
    let headers = web_sys::Headers::new().map_err(js_failure)?;
    if let Some(token) = crate::storage::token() {
        headers.set("Authorization", &format!("Bearer {token}")).map_err(js_failure)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_headers(&headers);
    let window = web_sys::window().ok_or_else(|| Failure::network("no window"))?;
    let res: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&path, &init))
        .await
        .map_err(js_failure)?
        .dyn_into()
        .map_err(js_failure)?;
    if !res.ok() {
        return Err(Failure { status: res.status(), code: "http".into(), message: format!("HTTP {}", res.status()) });
    }
    let text = JsFuture::from(res.text().map_err(js_failure)?).await.map_err(js_failure)?;
    // `text()` drops the byte-order mark; spreadsheet programs need it to read the Chinese.
    let text = format!("\u{FEFF}{}", text.as_string().unwrap_or_default().trim_start_matches('\u{FEFF}'));
    let href = format!("data:text/csv;charset=utf-8,{}", encode(&text));
    let document = window.document().ok_or_else(|| Failure::network("no document"))?;
    let link: web_sys::HtmlElement =
        document.create_element("a").map_err(js_failure)?.dyn_into().map_err(|_| Failure::network("a"))?;
    link.set_attribute("href", &href).map_err(js_failure)?;
    link.set_attribute("download", filename).map_err(js_failure)?;
    link.click();
    Ok(())
}

/// Downloads a file of the API as it is (a spreadsheet, an XLSX workbook): fetched with the
/// login, saved under `filename`.
pub async fn download_file(path: &str, filename: &str) -> ApiResult<()> {
    let res = fetch(&Call::new("GET", path), None, None).await?;
    if !res.ok() {
        return Err(Failure { status: res.status(), code: "http".into(), message: format!("HTTP {}", res.status()) });
    }
    let blob: web_sys::Blob =
        JsFuture::from(res.blob().map_err(js_failure)?).await.map_err(js_failure)?.dyn_into().map_err(js_failure)?;
    let href = web_sys::Url::create_object_url_with_blob(&blob).map_err(js_failure)?;
    let window = web_sys::window().ok_or_else(|| Failure::network("no window"))?;
    let document = window.document().ok_or_else(|| Failure::network("no document"))?;
    let link: web_sys::HtmlElement =
        document.create_element("a").map_err(js_failure)?.dyn_into().map_err(|_| Failure::network("a"))?;
    link.set_attribute("href", &href).map_err(js_failure)?;
    link.set_attribute("download", filename).map_err(js_failure)?;
    link.click();
    Ok(())
}

// ---------- the market's goods and people (staff) ----------

/// Staff bring in a spreadsheet (CSV or XLSX) at `path` (the catalogue, the buildings): checked
/// (`dry_run`) or applied.
pub async fn import_sheet(path: &str, file: &web_sys::File, dry_run: bool) -> ApiResult<shared::api::CatalogueImport> {
    let call = Call::new("POST", format!("{path}?dry_run={dry_run}"));
    parse(answer(fetch(&call, Some((file.as_ref(), &file_kind(file))), None).await?).await?)
}

/// Staff's search of the goods by name, retired ones too.
pub fn find_products_path(q: &str) -> String {
    format!("/api/v1/admin/products?q={}", encode(q))
}

/// Staff change any product (fields left out stay).
pub async fn update_product(id: i64, body: &shared::api::UpdateProductRequest) -> ApiResult<shared::api::Product> {
    parse(send(Call::new("PATCH", format!("/api/v1/admin/products/{id}")), body).await?)
}

/// A product's photo from the phone's camera or gallery: staff for any product, a stall holder
/// (`own`) for their stall's.
pub async fn product_photo(id: i64, file: &web_sys::File, own: bool) -> ApiResult<shared::api::Product> {
    let who = if own { "vendor" } else { "admin" };
    let call = Call::new("PUT", format!("/api/v1/{who}/products/{id}/photo"));
    let kind = file.type_();
    let kind = if kind.is_empty() { "image/jpeg".to_owned() } else { kind };
    parse(answer(fetch(&call, Some((file.as_ref(), &kind)), None).await?).await?)
}

/// A photo of a lot's paper certificate (the stall's own lot).
pub async fn certificate_photo(lot: i64, file: &web_sys::File) -> ApiResult<shared::api::Lot> {
    let call = Call::new("PUT", format!("/api/v1/vendor/lots/{lot}/certificate-photo"));
    let kind = file.type_();
    let kind = if kind.is_empty() { "image/jpeg".to_owned() } else { kind };
    parse(answer(fetch(&call, Some((file.as_ref(), &kind)), None).await?).await?)
}

/// The volunteer's photo of an order left at the door: a picture from the camera, or one kept
/// on the phone while there was no signal.
pub async fn put_door_photo(id: i64, photo: &web_sys::Blob) -> ApiResult<Order> {
    let call = Call::new("PUT", format!("/api/v1/orders/{id}/door-photo"));
    let kind = photo.type_();
    let kind = if kind.is_empty() { "image/jpeg".to_owned() } else { kind };
    parse(answer(fetch(&call, Some((photo.as_ref(), &kind)), None).await?).await?)
}

/// The photo of an order left at the door, fetched with the login (it is private): an address
/// the page shows it from.
pub async fn door_photo(id: i64) -> ApiResult<String> {
    let res = fetch(&Call::new("GET", format!("/api/v1/orders/{id}/door-photo")), None, None).await?;
    if !res.ok() {
        return Err(refusal(res.status(), json_of(&res).await));
    }
    let blob: web_sys::Blob =
        JsFuture::from(res.blob().map_err(js_failure)?).await.map_err(js_failure)?.dyn_into().map_err(js_failure)?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(js_failure)
}

/// Accounts by the start of their phone and by role (staff).
pub fn users_path(phone: &str, role: &str) -> String {
    format!("/api/v1/admin/users?phone={}&role={}&limit=50", encode(phone), encode(role))
}

/// Staff give an account exactly these roles (with a stall or buildings).
pub async fn set_roles(phone: &str, body: &shared::group_buy::SetRoles) -> ApiResult<User> {
    parse(send(Call::new("PUT", format!("/api/v1/admin/users/{}/roles", encode(phone))), body).await?)
}

// ---------- a stall's console ----------

/// The caller's stall's parts: of one slot, or of every open order.
pub fn vendor_orders_path(slot_id: Option<i64>) -> String {
    match slot_id {
        Some(s) => format!("/api/v1/vendor/orders?slot_id={s}"),
        None => "/api/v1/vendor/orders".to_owned(),
    }
}

pub async fn confirm_part(id: i64, body: &shared::api::ConfirmPart) -> ApiResult<shared::api::VendorPart> {
    parse(send(Call::new("POST", format!("/api/v1/vendor/orders/{id}/confirm")), body).await?)
}

pub async fn pack_part(id: i64) -> ApiResult<shared::api::VendorPart> {
    parse(exchange(Call::new("POST", format!("/api/v1/vendor/orders/{id}/packed")), None).await?)
}

// ---------- delivery ----------

/// The caller's rounds as a volunteer (`shared::api::VolunteerHours`).
pub const MY_HOURS: &str = "/api/v1/me/volunteer-hours";

/// Which delivery slots have work for volunteers (`shared::api::SlotWork`).
pub const SLOT_WORK: &str = "/api/v1/batches/slots";

pub fn batches_path(slot_id: i64) -> String {
    format!("/api/v1/batches?slot_id={slot_id}")
}

pub fn batch_path(id: i64) -> String {
    format!("/api/v1/batches/{id}")
}

// ---------- markets ----------

/// The deployment's markets.
pub const MARKETS: &str = "/api/v1/markets";

/// Opens a market with its first staff member (the first market's staff).
pub async fn open_market(body: &shared::api::NewMarket) -> ApiResult<shared::api::Market> {
    parse(send(Call::new("POST", "/api/v1/admin/markets"), body).await?)
}

// ---------- pickup points (自提点) ----------

/// The open pickup points; with a slot, the places each has left in it.
pub fn points_path(slot_id: Option<i64>) -> String {
    match slot_id {
        Some(id) => format!("/api/v1/pickup-points?slot_id={id}"),
        None => "/api/v1/pickup-points".to_owned(),
    }
}

/// Every point with its keeper (staff).
pub const ALL_POINTS: &str = "/api/v1/admin/pickup-points";

/// What waits at the caller's points, and what is on its way (`shared::api::PointOrder`).
pub const KEEPER_ORDERS: &str = "/api/v1/keeper/orders";

/// Staff set a point up (`id` none) or change one.
pub async fn save_point(id: Option<i64>, body: &shared::api::NewPickupPoint) -> ApiResult<shared::api::PickupPoint> {
    let call = match id {
        Some(id) => Call::new("PUT", format!("{ALL_POINTS}/{id}")),
        None => Call::new("POST", ALL_POINTS),
    };
    parse(send(call, body).await?)
}

/// Claims (`claim`), picks up (`pickup`) or drops at its pickup point (`drop`) a batch.
pub async fn batch_step(id: i64, step: &str) -> ApiResult<shared::api::Batch> {
    parse(exchange(Call::new("POST", format!("/api/v1/batches/{id}/{step}")), None).await?)
}

pub async fn handoff(order_id: i64, code: &str) -> ApiResult<Order> {
    let body = shared::api::HandoffRequest { code: code.to_owned() };
    parse(send(Call::new("POST", format!("/api/v1/orders/{order_id}/handoff")), &body).await?)
}

/// Staff let an order take hand-off codes again after too many wrong ones.
pub async fn reset_handoff(order_id: i64) -> ApiResult<Order> {
    parse(exchange(Call::new("POST", format!("/api/v1/orders/{order_id}/handoff/reset")), None).await?)
}

/// Nobody home: left at the door with a note the resident sees.
pub async fn left_at_door(order_id: i64, note: &str) -> ApiResult<Order> {
    let body = shared::api::LeftAtDoor { note: note.to_owned() };
    parse(send(Call::new("POST", format!("/api/v1/orders/{order_id}/left-at-door")), &body).await?)
}

pub async fn report_problem(order_id: i64, body: &shared::api::ReportProblem) -> ApiResult<()> {
    send(Call::new("POST", format!("/api/v1/orders/{order_id}/problem")), body).await.map(|_| ())
}

pub const PROBLEMS: &str = "/api/v1/admin/problems";

// ---------- lots (批次), their certificates and tests ----------

/// The stall's own lots (`own`), or every stall's (staff), newest first.
pub fn lots_path(own: bool) -> String {
    format!("/api/v1/{}/lots?limit=50", if own { "vendor" } else { "admin" })
}

/// A stall takes a delivery in with its certificate (and a rapid test, if one was done).
pub async fn take_in_lot(body: &shared::api::TakeInLot) -> ApiResult<shared::api::Lot> {
    parse(send(Call::new("POST", "/api/v1/vendor/lots"), body).await?)
}

/// Staff stop a lot (a recall): off sale, its households told.
pub async fn hold_lot(id: i64, reason: &str) -> ApiResult<shared::api::Lot> {
    let body = shared::api::HoldLot { reason: reason.to_owned() };
    parse(send(Call::new("POST", format!("/api/v1/admin/lots/{id}/hold")), &body).await?)
}

/// The public board of a day's rapid tests.
pub fn tests_path(day: &str) -> String {
    format!("/api/v1/tests?day={}", encode(day))
}

/// A stall holder sets their own product's stock and/or price.
pub async fn update_own_product(id: i64, body: &shared::api::UpdateProductRequest) -> ApiResult<shared::api::Product> {
    parse(send(Call::new("PATCH", format!("/api/v1/vendor/products/{id}")), body).await?)
}

// ---------- supply: producers, offers, purchase orders (产销对接) ----------

/// Offers delivering on a day, for a stall to order from.
pub fn offers_path(day: &str) -> String {
    format!("/api/v1/offers?day={}", encode(day))
}

pub const OWN_OFFERS: &str = "/api/v1/producer/offers";
pub const PRODUCER_ORDERS: &str = "/api/v1/producer/purchase-orders";
pub const PRODUCERS: &str = "/api/v1/admin/producers";

/// The stall's purchase lines for a day.
pub fn stall_purchases_path(day: &str) -> String {
    format!("/api/v1/vendor/purchase-orders?day={}", encode(day))
}

/// Staff's supply plan for a day.
pub fn supply_plan_path(day: &str) -> String {
    format!("/api/v1/admin/supply?day={}", encode(day))
}

pub async fn publish_offer(body: &shared::api::NewOffer) -> ApiResult<shared::api::Offer> {
    parse(send(Call::new("POST", OWN_OFFERS), body).await?)
}

pub async fn withdraw_offer(id: i64) -> ApiResult<shared::api::Offer> {
    parse(exchange(Call::new("POST", format!("{OWN_OFFERS}/{id}/withdraw")), None).await?)
}

/// A stall sets what it wants of offers on a day (0 takes a line away).
pub async fn order_from_producers(body: &shared::api::PurchaseRequest) -> ApiResult<List<shared::api::PurchaseLine>> {
    parse(send(Call::new("POST", "/api/v1/vendor/purchase-orders"), body).await?)
}

pub async fn add_producer(body: &shared::api::NewProducer) -> ApiResult<shared::api::Producer> {
    parse(send(Call::new("POST", PRODUCERS), body).await?)
}

// ---------- the market's gate (扫码入场) ----------

pub async fn enter_gate(code: &str) -> ApiResult<shared::api::GateEntry> {
    parse(send(Call::new("POST", "/api/v1/gate/visits"), &shared::api::EnterGate { code: code.to_owned() }).await?)
}

pub const GATES: &str = "/api/v1/admin/gates";

pub async fn add_gate(name: &str) -> ApiResult<shared::api::Gate> {
    parse(send(Call::new("POST", GATES), &shared::api::NewGate { name: name.to_owned() }).await?)
}

pub async fn rotate_gate(id: i64) -> ApiResult<shared::api::Gate> {
    parse(exchange(Call::new("POST", format!("{GATES}/{id}/rotate")), None).await?)
}

/// Visits through the gates in a time range (RFC 3339 both).
pub fn visits_path(from: &str, to: &str) -> String {
    format!("/api/v1/admin/visits?from={}&to={}&limit=500", encode(from), encode(to))
}

/// Hand-offs at doors in a time range.
pub fn contacts_path(from: &str, to: &str) -> String {
    format!("/api/v1/admin/contacts?from={}&to={}&limit=500", encode(from), encode(to))
}

/// The investigation's spreadsheet (visits and hand-offs) for a time range.
pub fn investigation_path(from: &str, to: &str) -> String {
    format!("/api/v1/admin/investigation.csv?from={}&to={}", encode(from), encode(to))
}
