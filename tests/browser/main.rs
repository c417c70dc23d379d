//! The storefront in a real headless Chromium: the WASM app served by the real server renders
//! the home page, a resident logs in with the demo SMS code and sees the product list.
//!
//! Needs the built storefront (FXS_TEST_STATIC_DIR, set by ./scripts/test) and Chromium with
//! chromedriver (installed by ./scripts/test).

use std::time::{Duration, Instant};
use tests::{spawn_app, webdriver::Driver, Db};

const WAIT: Duration = Duration::from_secs(30);

fn storefront_built() -> bool {
    std::env::var("FXS_TEST_STATIC_DIR")
        .map(|d| std::path::Path::new(&d).join("pkg/frontend_bg.wasm").exists())
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_logs_in_browses_and_buys() {
    assert!(
        storefront_built(),
        "FXS_TEST_STATIC_DIR must point at the built storefront: run ./scripts/test (it builds it first)"
    );
    let app = spawn_app(Db::Sqlite).await;
    let browser = Driver::start().await;

    // Home: rendered by the WASM app, with categories, boxes and stalls from the API.
    let started = Instant::now();
    browser.goto(&app.url("/")).await;
    browser.wait_for(".product-card", WAIT).await;
    let first_list = started.elapsed();
    println!("navigation to first product list: {} ms", first_list.as_millis());
    let categories = browser.find_all(".category").await;
    assert!(categories.len() >= 8, "{} categories shown", categories.len());
    let page = browser.script("return document.body.innerText").await;
    let page = page.as_str().unwrap_or_default();
    for text in ["傅鲜生", "菜盒子·家常装", "老王蔬菜", "首页", "购物车", "订单", "我的", "团购"]
    {
        assert!(page.contains(text), "home page shows {text}: {page}");
    }
    let timing = browser
        .script("const n = performance.getEntriesByType('navigation')[0]; return n ? Math.round(n.domContentLoadedEventEnd) : -1")
        .await;
    println!("DOMContentLoaded: {timing} ms");

    // Log in as a resident with the code the demo shows on screen.
    browser.goto(&app.url("/login?next=/products")).await;
    let phone = browser.wait_for("#phone", WAIT).await;
    browser.type_text(&phone, "13900000001").await;
    browser.click(&browser.wait_for("#send-code", WAIT).await).await;
    let dev = browser.wait_for("#dev-code strong", WAIT).await;
    let code = browser.text(&dev).await;
    assert_eq!(code.len(), 6, "demo code shown: {code:?}");
    browser.click(&browser.wait_for("#login", WAIT).await).await;

    // The product list, as that resident.
    browser.wait_for("#product-list .product-card", WAIT).await;
    assert!(browser.current_url().await.ends_with("/products"));
    let cards = browser.find_all("#product-list .product-card").await;
    assert!(cards.len() >= 100, "{} products listed", cards.len());
    let list = browser.script("return document.getElementById('product-list').innerText").await;
    assert!(list.as_str().unwrap_or_default().contains("大白菜"));

    // The account page knows who this is, from the server.
    browser.goto(&app.url("/me")).await;
    let account = browser.wait_for("#account", WAIT).await;
    let text = browser.text(&account).await;
    assert!(text.contains("张阿姨") && text.contains("139****0001"), "account shows the resident: {text}");

    // Search from the product list narrows it.
    browser.goto(&app.url("/products?q=%E9%B8%A1%E8%9B%8B")).await; // 鸡蛋
    browser.wait_for("#product-list .product-card", WAIT).await;
    let eggs = browser.find_all("#product-list .product-card").await;
    assert!(!eggs.is_empty() && eggs.len() < 10, "{} results for 鸡蛋", eggs.len());

    // Buy a 菜盒子 and two items, end to end: product pages, cart, slot, order, hand-off code.
    let boxes = app.get("/api/v1/products?category=box", None).await.body;
    let box_id = boxes["items"][0]["id"].as_i64().expect("box id");
    let mut expected_total = 0;
    for id in [box_id, 1, 21] {
        browser.goto(&app.url(&format!("/products/{id}"))).await;
        browser.click(&browser.wait_for("#add-to-cart", WAIT).await).await;
        browser.wait_for(".added", WAIT).await;
        expected_total +=
            app.get(&format!("/api/v1/products/{id}"), None).await.body["price_fen"].as_i64().expect("price");
    }
    browser.goto(&app.url("/cart")).await;
    browser.wait_for(".cart-line", WAIT).await;
    assert_eq!(browser.find_all(".cart-line").await.len(), 3);
    let total = browser.text(&browser.wait_for("#cart-total", WAIT).await).await;
    assert_eq!(total, format!("¥{}.{:02}", expected_total / 100, expected_total % 100));
    browser.click(&browser.wait_for("#go-checkout", WAIT).await).await;
    let slot = browser.wait_for(".slot-option:not([disabled])", WAIT).await;
    browser.click(&slot).await;
    let building = browser.script("return document.getElementById('building').value").await;
    assert_eq!(building, "3", "address comes from the household");
    browser.click(&browser.wait_for("#place-order", WAIT).await).await;
    let code = browser.text(&browser.wait_for("#handoff-code", WAIT).await).await;
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "hand-off code shown: {code}");
    let status = browser.text(&browser.wait_for("#order-status", WAIT).await).await;
    assert!(status.contains("已下单"), "{status}");
    let url = browser.current_url().await;
    let order_id: i64 = url
        .rsplit('/')
        .next()
        .and_then(|s| s.split('?').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("order page url: {url}"));
    let (staff, _) = app.login("13800000000").await;
    let order = app.get(&format!("/api/v1/orders/{order_id}"), Some(&staff)).await;
    assert_eq!(order.status, 200);
    assert_eq!(order.body["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(order.body["total_fen"], expected_total);
    browser.goto(&app.url("/orders")).await;
    browser.wait_for(".order-row", WAIT).await;

    if let Ok(dir) = std::env::var("FXS_SCREENSHOT_DIR") {
        browser.goto(&app.url(&format!("/orders/{order_id}"))).await;
        browser.wait_for("#handoff-code", WAIT).await;
        let _ = std::fs::write(std::path::Path::new(&dir).join("order.png"), browser.screenshot_png().await);
        browser.goto(&app.url("/")).await;
        browser.wait_for(".product-card", WAIT).await;
        let png = browser.screenshot_png().await;
        let _ = std::fs::write(std::path::Path::new(&dir).join("home.png"), png);
    }
    browser.quit().await;
}
