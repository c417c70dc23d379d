use serde_json::json;
use std::time::Duration;
use tests::{on_both_databases, spawn_app, spawn_app_with, start, test_config, Db};

on_both_databases! {
    sms_login_makes_a_new_resident_and_me_shows_them => sms_login_makes_a_new_resident;
    demo_accounts_have_their_roles_and_households => demo_accounts;
    wrong_code_is_refused_and_five_wrong_codes_kill_it => wrong_codes;
    two_hundred_wrong_codes_at_once_get_five_wrong_verdicts => wrong_codes_at_once;
    a_code_works_once => code_single_use;
    an_expired_code_is_refused => code_expiry;
    codes_are_rate_limited_per_phone => per_phone_limits;
    codes_are_rate_limited_per_client => per_client_limit;
    logout_revokes_the_token => logout_revokes;
    role_guards_let_only_staff_edit_products => role_guards;
    a_resident_sets_their_home => set_household;
    a_change_to_a_user_is_seen_by_their_next_request => changes_seen_at_once;
}

#[tokio::test]
async fn one_server_process_per_sqlite_database() {
    let (config, _) = test_config(Db::Sqlite).await;
    let first = start(config.clone(), Db::Sqlite, None).await;
    let (token, _) = first.login("13712340002").await;
    // A second process on the same file would not see the first one's logins and logouts.
    let refused = match backend::Application::build(config.clone()).await {
        Ok(_) => panic!("a second server opened the same SQLite database"),
        Err(e) => e.to_string(),
    };
    assert!(refused.contains("another server process"), "{refused}");
    assert!(refused.contains("DATABASE_URL"), "{refused}");
    assert_eq!(first.get("/api/v1/me", Some(&token)).await.status, 200, "the first one goes on");
    // Once it stops, the market restarts on the same data.
    first.stop().await;
    let again = start(config, Db::Sqlite, None).await;
    assert_eq!(again.get("/api/v1/me", Some(&token)).await.status, 200);
}

async fn sms_login_makes_a_new_resident(db: Db) {
    let app = spawn_app_with(db, |c| c.sms.resend_interval = Duration::ZERO).await;
    let sent = app.post("/api/v1/auth/sms-code", &json!({ "phone": "13712345678" }), None).await;
    assert_eq!(sent.status, 200);
    assert_eq!(sent.body["sent"], true);
    let code = sent.body["dev_code"].as_str().expect("demo code");
    assert_eq!(code.len(), 6);
    let login = app.post("/api/v1/auth/login", &json!({ "phone": "13712345678", "code": code }), None).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    let user = &login.body["user"];
    assert_eq!(user["phone"], "13712345678");
    assert_eq!(user["roles"], json!(["resident"]));
    let token = login.body["token"].as_str().expect("token");
    let me = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], user["id"]);
    assert_eq!(me.body["household"], serde_json::Value::Null);
    // Logging in again with the same phone is the same user, not a new one.
    let (_, again) = app.login("13712345678").await;
    assert_eq!(again["id"], user["id"]);
}

async fn demo_accounts(db: Db) {
    let app = spawn_app(db).await;
    let (_, staff) = app.login("13800000000").await;
    assert_eq!(staff["roles"], json!(["staff"]));
    let (_, vendor) = app.login("13800000101").await;
    assert_eq!(vendor["roles"], json!(["vendor"]));
    assert!(vendor["vendor_id"].as_i64().is_some(), "a vendor account keeps a stall: {vendor}");
    let (_, volunteer) = app.login("13800000210").await;
    assert_eq!(volunteer["roles"], json!(["volunteer"]));
    let (_, resident) = app.login("13900000002").await;
    assert_eq!(resident["household"]["building"], "5");
    assert_eq!(resident["household"]["quarantined"], true);
}

async fn wrong_codes(db: Db) {
    let app = spawn_app(db).await;
    let phone = "13600000001";
    let sent = app.post("/api/v1/auth/sms-code", &json!({ "phone": phone }), None).await;
    let code = sent.body["dev_code"].as_str().expect("code").to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let r = app.post("/api/v1/auth/login", &json!({ "phone": phone, "code": wrong }), None).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.error_code(), "invalid_code");
    }
    // After five wrong guesses even the right code is refused: guessing a million codes is no way in.
    let r = app.post("/api/v1/auth/login", &json!({ "phone": phone, "code": code }), None).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.error_code(), "too_many_requests");
    // Malformed codes are bad input, not a guess.
    let r = app.post("/api/v1/auth/login", &json!({ "phone": phone, "code": "12ab" }), None).await;
    assert_eq!(r.status, 400);
    // No code requested at all.
    let r = app.post("/api/v1/auth/login", &json!({ "phone": "13600000002", "code": "123456" }), None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "invalid_code");
}

/// Guesses sent all at once are counted like guesses sent one by one: five are told "wrong", the
/// rest "too many", and the right code is no way in afterwards.
async fn wrong_codes_at_once(db: Db) {
    let app = spawn_app(db).await;
    let phone = "13600000011";
    let sent = app.post("/api/v1/auth/sms-code", &json!({ "phone": phone }), None).await;
    let code = sent.body["dev_code"].as_str().expect("code").to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let body = json!({ "phone": phone, "code": wrong });
    let replies = tests::join_all((0..200).map(|_| app.post("/api/v1/auth/login", &body, None)).collect()).await;
    let wrong_verdicts = replies.iter().filter(|r| r.status == 401 && r.error_code() == "invalid_code").count();
    let too_many = replies.iter().filter(|r| r.status == 429 && r.error_code() == "too_many_requests").count();
    assert_eq!((wrong_verdicts, too_many), (5, 195), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    let r = app.post("/api/v1/auth/login", &json!({ "phone": phone, "code": code }), None).await;
    assert_eq!(r.status, 429);
}

async fn code_single_use(db: Db) {
    let app = spawn_app(db).await;
    let phone = "13600000003";
    let sent = app.post("/api/v1/auth/sms-code", &json!({ "phone": phone }), None).await;
    let code = sent.body["dev_code"].as_str().expect("code").to_owned();
    // Two logins with the same code at the same moment: exactly one gets in.
    let body = json!({ "phone": phone, "code": code });
    let (a, b) = tokio::join!(app.post("/api/v1/auth/login", &body, None), app.post("/api/v1/auth/login", &body, None));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "{:?} / {:?}", a.body, b.body);
    let third = app.post("/api/v1/auth/login", &body, None).await;
    assert_eq!(third.status, 401);
    assert_eq!(third.error_code(), "code_used");
}

async fn code_expiry(db: Db) {
    let app = spawn_app_with(db, |c| c.sms.code_ttl = Duration::from_secs(1)).await;
    let phone = "13600000004";
    let sent = app.post("/api/v1/auth/sms-code", &json!({ "phone": phone }), None).await;
    assert_eq!(sent.body["expires_in"], 1);
    let code = sent.body["dev_code"].as_str().expect("code").to_owned();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let r = app.post("/api/v1/auth/login", &json!({ "phone": phone, "code": code }), None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "code_expired");
}

async fn per_phone_limits(db: Db) {
    let app = spawn_app(db).await;
    let phone = json!({ "phone": "13600000005" });
    assert_eq!(app.post("/api/v1/auth/sms-code", &phone, None).await.status, 200);
    let again = app.post("/api/v1/auth/sms-code", &phone, None).await;
    assert_eq!(again.status, 429);
    assert_eq!(again.error_code(), "too_many_requests");
    let retry: u64 = again.headers["retry-after"].to_str().expect("header").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "retry after {retry}");

    // With no resend interval, the hourly cap per phone still holds.
    let app = spawn_app_with(db, |c| {
        c.sms.resend_interval = Duration::ZERO;
        c.sms.per_phone_per_hour = 2;
    })
    .await;
    for _ in 0..2 {
        assert_eq!(app.post("/api/v1/auth/sms-code", &phone, None).await.status, 200);
    }
    let third = app.post("/api/v1/auth/sms-code", &phone, None).await;
    assert_eq!(third.status, 429);
    // A different phone is not affected.
    assert_eq!(app.post("/api/v1/auth/sms-code", &json!({ "phone": "13600000006" }), None).await.status, 200);
}

async fn per_client_limit(db: Db) {
    let app = spawn_app_with(db, |c| c.sms.per_ip_per_hour = 3).await;
    for i in 0..3 {
        let r = app.post("/api/v1/auth/sms-code", &json!({ "phone": format!("1350000000{i}") }), None).await;
        assert_eq!(r.status, 200);
    }
    let r = app.post("/api/v1/auth/sms-code", &json!({ "phone": "13500000009" }), None).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.error_code(), "too_many_requests");
}

async fn logout_revokes(db: Db) {
    let app = spawn_app_with(db, |c| c.sms.resend_interval = Duration::ZERO).await;
    let (token, _) = app.login("13900000001").await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
    let out = app.post("/api/v1/auth/logout", &json!({}), Some(&token)).await;
    assert_eq!(out.status, 204);
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.status, 401);
    assert_eq!(me.error_code(), "invalid_token");
    // A second login (another device) is unaffected by the first one's logout.
    let (other, _) = app.login("13900000001").await;
    assert_eq!(app.get("/api/v1/me", Some(&other)).await.status, 200);
}

async fn role_guards(db: Db) {
    let app = spawn_app(db).await;
    let (resident, _) = app.login("13900000001").await;
    let (vendor, _) = app.login("13800000101").await;
    let (staff, _) = app.login("13800000000").await;
    let cabbage = app.product_id("大白菜").await;
    let path = &format!("/api/v1/admin/products/{cabbage}");
    let change = json!({ "stock": 42, "price_fen": 199 });

    let none = app.patch(path, &change, None).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.error_code(), "unauthorized");
    for token in [&resident, &vendor] {
        let r = app.patch(path, &change, Some(token)).await;
        assert_eq!(r.status, 403);
        assert_eq!(r.error_code(), "forbidden");
    }
    // Nothing changed for the refused calls.
    let before = app.get(&format!("/api/v1/products/{cabbage}"), None).await;
    assert_ne!(before.body["stock"], 42);

    let ok = app.patch(path, &change, Some(&staff)).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["stock"], 42);
    assert_eq!(ok.body["price_fen"], 199);
    let after = app.get(&format!("/api/v1/products/{cabbage}"), None).await;
    assert_eq!(after.body["stock"], 42);
    assert_eq!(after.body["price_fen"], 199);
}

async fn set_household(db: Db) {
    let app = spawn_app(db).await;
    let (token, user) = app.login("13712340000").await;
    assert_eq!(user["household"], serde_json::Value::Null);
    let home = json!({ "building": "7", "unit": "2", "room": "402" });
    let r = app.put("/api/v1/me/household", &home, Some(&token)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["household"]["building"], "7");
    assert_eq!(r.body["household"]["community"], "七里山小区");
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.body["household"]["room"], "402");
    assert_eq!(r.body["household"]["membership"], "member", "the first at a plain address");
    // Moving to 李先生's quarantined flat: a request to join it, no flag shown (members' only).
    let r =
        app.put("/api/v1/me/household", &json!({ "building": "5", "unit": "1", "room": "302" }), Some(&token)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["household"]["membership"], "pending");
    assert_eq!(r.body["household"].get("quarantined"), None, "{:?}", r.body);
    for bad in [
        json!({ "building": "99", "unit": "1", "room": "101" }),
        json!({ "building": "3", "unit": "", "room": "101" }),
        json!({ "building": "3", "unit": "1", "room": "1'; --" }),
    ] {
        let r = app.put("/api/v1/me/household", &bad, Some(&token)).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    assert_eq!(app.put("/api/v1/me/household", &home, None).await.status, 401);
}

/// What the server knows of a caller (home, flags, login) may be remembered between requests;
/// a change is seen by the very next one.
async fn changes_seen_at_once(db: Db) {
    let app = spawn_app_with(db, |c| c.sms.resend_interval = Duration::ZERO).await;
    let (staff, _) = app.login("13800000000").await;
    let (token, _) = app.login("13712340001").await;
    let home = |b: &str, u: &str, r: &str| json!({ "building": b, "unit": u, "room": r });
    assert_eq!(app.put("/api/v1/me/household", &home("7", "2", "402"), Some(&token)).await.status, 200);
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/me", Some(&token)).await.body["household"]["building"], "7");
    }
    // Moving to a flat whose register staff put this phone on: the next request sees the new
    // home and its flags.
    let flat = app.get("/api/v1/admin/households?building=5&unit=1&room=302", Some(&staff)).await.body;
    let flat = flat["items"][0]["id"].clone();
    let register = json!({ "phones": ["13900000002", "13712340001"] });
    let r = app.put(&format!("/api/v1/admin/households/{flat}/register"), &register, Some(&staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(app.put("/api/v1/me/household", &home("5", "1", "302"), Some(&token)).await.status, 200);
    let me = app.get("/api/v1/me", Some(&token)).await.body;
    assert_eq!(me["household"]["building"], "5");
    assert_eq!(me["household"]["quarantined"], true);
    // Staff lift the quarantine: the resident's next request knows.
    let path = format!("/api/v1/admin/households/{}", me["household"]["id"]);
    assert_eq!(app.patch(&path, &json!({ "quarantined": false }), Some(&staff)).await.status, 200);
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.body["household"]["quarantined"], false);
    // A token used a moment ago is refused right after its logout, and another device's is not.
    let (other, _) = app.login("13712340001").await;
    assert_eq!(app.get("/api/v1/me", Some(&other)).await.status, 200);
    assert_eq!(app.post("/api/v1/auth/logout", &json!({}), Some(&token)).await.status, 204);
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 401);
    assert_eq!(app.get("/api/v1/me", Some(&other)).await.body["household"]["building"], "5");
    // Both devices at once, many times (PostgreSQL answers waiting lookups together): each token
    // gets its own answer.
    let calls: Vec<_> =
        (0..40).map(|i| app.get("/api/v1/me", Some(if i % 2 == 0 { &token } else { &other }))).collect();
    let statuses: Vec<u16> = tests::join_all(calls).await.iter().map(|r| r.status).collect();
    let expected: Vec<u16> = (0..40).map(|i| if i % 2 == 0 { 401 } else { 200 }).collect();
    assert_eq!(statuses, expected);
}
