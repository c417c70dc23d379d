//! The server's JSON API over `fetch`, with the `shared` types. Every call yields either the
//! body or a `Failure` carrying the server's error code and message.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::{de::DeserializeOwned, Serialize};
use shared::api::{
    Cart, Category, CheckoutRequest, CreateSlot, DemoWechatCodeRequest, DemoWechatCodeResponse, Household, List,
    LoginRequest, LoginResponse, Order, OrderSummary, Product, ProductDetail, SetCartQuantity, Slot, SmsCodeRequest,
    SmsCodeResponse, UpdateSlot, User, Vendor, WechatLoginRequest,
};
use shared::ErrorBody;

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

    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }
}

pub type ApiResult<T> = Result<T, Failure>;

fn with_auth(req: RequestBuilder) -> RequestBuilder {
    match crate::session::stored_token() {
        Some(token) => req.header("Authorization", &format!("Bearer {token}")),
        None => req,
    }
}

async fn read<T: DeserializeOwned>(res: Response) -> ApiResult<T> {
    if res.ok() {
        return res.json::<T>().await.map_err(Failure::network);
    }
    let status = res.status();
    match res.json::<ErrorBody>().await {
        Ok(body) => Err(Failure { status, code: body.error.code, message: body.error.message }),
        Err(_) => Err(Failure { status, code: "http".into(), message: format!("HTTP {status}") }),
    }
}

async fn get<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    let res = with_auth(Request::get(path)).send().await.map_err(Failure::network)?;
    read(res).await
}

async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    let req = with_auth(Request::post(path)).json(body).map_err(Failure::network)?;
    let res = req.send().await.map_err(Failure::network)?;
    read(res).await
}

async fn put<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    let req = with_auth(Request::put(path)).json(body).map_err(Failure::network)?;
    read(req.send().await.map_err(Failure::network)?).await
}

async fn patch<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    let req = with_auth(Request::patch(path)).json(body).map_err(Failure::network)?;
    read(req.send().await.map_err(Failure::network)?).await
}

fn encode(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}

pub async fn categories() -> ApiResult<Vec<Category>> {
    get::<List<Category>>("/api/v1/categories").await.map(|l| l.items)
}

pub async fn vendors() -> ApiResult<Vec<Vendor>> {
    get::<List<Vendor>>("/api/v1/vendors").await.map(|l| l.items)
}

pub async fn vendor(id: i64) -> ApiResult<Vendor> {
    get(&format!("/api/v1/vendors/{id}")).await
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductFilter {
    pub category: Option<String>,
    pub vendor_id: Option<i64>,
    pub q: Option<String>,
}

pub async fn products(filter: &ProductFilter) -> ApiResult<Vec<Product>> {
    let mut params = Vec::new();
    if let Some(c) = &filter.category {
        params.push(format!("category={}", encode(c)));
    }
    if let Some(v) = filter.vendor_id {
        params.push(format!("vendor_id={v}"));
    }
    if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        params.push(format!("q={}", encode(q.trim())));
    }
    let query = if params.is_empty() { String::new() } else { format!("?{}", params.join("&")) };
    get::<List<Product>>(&format!("/api/v1/products{query}")).await.map(|l| l.items)
}

pub async fn product(id: i64) -> ApiResult<ProductDetail> {
    get(&format!("/api/v1/products/{id}")).await
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct PricePoint {
    pub price_fen: i64,
    pub changed_at: String,
}

/// The price-stability record of a product, newest first.
pub async fn price_history(id: i64) -> ApiResult<Vec<PricePoint>> {
    get::<List<PricePoint>>(&format!("/api/v1/products/{id}/prices")).await.map(|l| l.items)
}

pub async fn send_sms_code(phone: &str) -> ApiResult<SmsCodeResponse> {
    post("/api/v1/auth/sms-code", &SmsCodeRequest { phone: phone.to_owned() }).await
}

pub async fn login(phone: &str, code: &str) -> ApiResult<LoginResponse> {
    post("/api/v1/auth/login", &LoginRequest { phone: phone.to_owned(), code: code.to_owned() }).await
}

/// Demo mode: the simulator plays `wx.login()`, then we log in with its code as a mini-program would.
pub async fn wechat_login_demo(device: &str) -> ApiResult<LoginResponse> {
    let code: DemoWechatCodeResponse =
        post("/api/v1/demo/wechat-code", &DemoWechatCodeRequest { device: device.to_owned() }).await?;
    post("/api/v1/auth/wechat", &WechatLoginRequest { code: code.code }).await
}

pub async fn me() -> ApiResult<User> {
    get("/api/v1/me").await
}

pub async fn logout() -> ApiResult<()> {
    let res = with_auth(Request::post("/api/v1/auth/logout")).send().await.map_err(Failure::network)?;
    if res.ok() || res.status() == 401 {
        Ok(())
    } else {
        read::<()>(res).await
    }
}

pub async fn cart() -> ApiResult<Cart> {
    get("/api/v1/cart").await
}

pub async fn set_cart(product_id: i64, quantity: i64) -> ApiResult<Cart> {
    put(&format!("/api/v1/cart/items/{product_id}"), &SetCartQuantity { quantity }).await
}

/// Slots from today on (no date), or of one `YYYY-MM-DD`.
pub async fn slots(date: Option<&str>) -> ApiResult<Vec<Slot>> {
    let path = match date {
        Some(d) => format!("/api/v1/slots?date={d}"),
        None => "/api/v1/slots".to_owned(),
    };
    get::<List<Slot>>(&path).await.map(|l| l.items)
}

/// A fresh key for one press of "pay"; retries of that press reuse it.
pub fn new_idempotency_key() -> String {
    format!("web-{:x}-{:x}", (js_sys::Math::random() * 1e15) as u64, js_sys::Date::now() as u64)
}

/// Places the order. A network failure is retried with the same key, so a flaky connection
/// can never make two orders.
pub async fn checkout(key: &str, body: &CheckoutRequest) -> ApiResult<Order> {
    let mut last = Failure::network("not sent");
    for attempt in 0..3 {
        if attempt > 0 {
            gloo_timers_sleep(600 * attempt).await;
        }
        let req = with_auth(Request::post("/api/v1/orders"))
            .header("Idempotency-Key", key)
            .json(body)
            .map_err(Failure::network)?;
        match req.send().await {
            Ok(res) => match read::<Order>(res).await {
                Err(f) if f.code == "idempotency_key_in_use" => last = f,
                other => return other,
            },
            Err(e) => last = Failure::network(e),
        }
    }
    Err(last)
}

async fn gloo_timers_sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

pub async fn orders() -> ApiResult<Vec<OrderSummary>> {
    get::<List<OrderSummary>>("/api/v1/orders").await.map(|l| l.items)
}

pub async fn order(id: i64) -> ApiResult<Order> {
    get(&format!("/api/v1/orders/{id}")).await
}

pub async fn cancel_order(id: i64) -> ApiResult<Order> {
    post(&format!("/api/v1/orders/{id}/cancel"), &serde_json::json!({})).await
}

pub async fn create_slot(body: &CreateSlot) -> ApiResult<Slot> {
    post("/api/v1/admin/slots", body).await
}

pub async fn update_slot(id: i64, body: &UpdateSlot) -> ApiResult<Slot> {
    patch(&format!("/api/v1/admin/slots/{id}"), body).await
}

pub async fn households(building: &str) -> ApiResult<Vec<Household>> {
    get::<List<Household>>(&format!("/api/v1/admin/households?building={}", encode(building))).await.map(|l| l.items)
}

pub async fn flag_household(id: i64, flags: serde_json::Value) -> ApiResult<Household> {
    patch(&format!("/api/v1/admin/households/{id}"), &flags).await
}

pub async fn set_household(address: &shared::api::Address) -> ApiResult<User> {
    put("/api/v1/me/household", address).await
}
