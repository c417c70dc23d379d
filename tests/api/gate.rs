//! The market's gate (扫码入场) through HTTP on both databases: staff put up a gate and print its
//! code; residents scan it with the phone they order with (twice within minutes is one visit);
//! a rotated code stops the old poster; staff list who came in a time window, by phone too;
//! the visits are forgotten with the contact trace and with an erased resident.

use serde_json::json;
use tests::{on_both_databases, spawn_app_with, urlencode, Db};

on_both_databases! {
    residents_scan_the_gate_and_staff_see_who_came_in => gate;
}

async fn gate(db: Db) {
    let app = spawn_app_with(db, |c| c.public_url = Some("https://market.example.cn".into())).await;
    let (staff, _) = app.login("13800000000").await;
    let (zhao, _) = app.login("13900000004").await;
    let (li, _) = app.login("13900000002").await;

    // Staff put up a gate; its poster's address and QR code come with it.
    assert_eq!(app.post("/api/v1/admin/gates", &json!({ "name": "北门" }), Some(&zhao)).await.status, 403);
    assert_eq!(app.post("/api/v1/admin/gates", &json!({ "name": " " }), Some(&staff)).await.status, 400);
    let north = app.post("/api/v1/admin/gates", &json!({ "name": "北门" }), Some(&staff)).await;
    assert_eq!(north.status, 201, "{:?}", north.body);
    let code = north.body["code"].as_str().expect("code").to_owned();
    let poster = format!("https://market.example.cn/gate?code={code}");
    assert_eq!(north.body["url"].as_str(), Some(poster.as_str()), "FXS_PUBLIC_URL on the poster");
    assert!(north.body["qr_svg"].as_str().is_some_and(|s| s.starts_with("<svg")));
    let again = app.post("/api/v1/admin/gates", &json!({ "name": "北门" }), Some(&staff)).await;
    assert_eq!((again.status, again.error_code()), (409, "wrong_state"));

    // A resident scans it: a visit; the same phone held up again is the same visit.
    let scan = |token: &str, code: &str| {
        let (app, token, body) = (&app, token.to_owned(), json!({ "code": code }));
        async move { app.post("/api/v1/gate/visits", &body, Some(&token)).await }
    };
    let first = scan(&zhao, &code).await;
    assert_eq!((first.status, first.body["gate"].as_str()), (201, Some("北门")), "{:?}", first.body);
    let twice = scan(&zhao, &code).await;
    assert_eq!((twice.status, twice.body["repeated"].as_bool()), (200, Some(true)));
    assert_eq!(twice.body["entered_at"], first.body["entered_at"]);
    assert_eq!(scan(&zhao, "nosuchcode22").await.status, 404);
    assert_eq!(scan(&zhao, "x").await.status, 404);
    assert_eq!(app.post("/api/v1/gate/visits", &json!({ "code": code }), None).await.status, 401);

    // A new code: the old poster stops working, the new one works.
    let gate_id = north.body["id"].as_i64().expect("id");
    let rotated = app.post(&format!("/api/v1/admin/gates/{gate_id}/rotate"), &json!({}), Some(&staff)).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let fresh = rotated.body["code"].as_str().expect("code").to_owned();
    assert_ne!(fresh, code);
    assert_eq!(scan(&li, &code).await.status, 404, "the old poster");
    assert_eq!(scan(&li, &fresh).await.status, 201);
    assert_eq!(app.post("/api/v1/admin/gates/999/rotate", &json!({}), Some(&staff)).await.status, 404);
    let listed = app.get("/api/v1/admin/gates", Some(&staff)).await;
    let items = listed.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.iter().find(|g| g["id"] == gate_id).map(|g| g["code"].clone()), Some(json!(fresh)));
    assert!(items.iter().any(|g| g["name"] == "菜场正门"), "the demo's front gate");

    // Staff see who came in, with the door they had then; by phone too.
    let now = chrono::Utc::now();
    let range = format!(
        "from={}&to={}",
        urlencode(&(now - chrono::Duration::hours(1)).to_rfc3339()),
        urlencode(&(now + chrono::Duration::hours(1)).to_rfc3339())
    );
    let seen = app.get(&format!("/api/v1/admin/visits?{range}"), Some(&staff)).await;
    assert_eq!(seen.status, 200, "{:?}", seen.body);
    let items = seen.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(
        (items[0]["phone"].as_str(), items[0]["building"].as_str(), items[0]["room"].as_str()),
        (Some("13900000004"), Some("1"), Some("201"))
    );
    let one = app.get(&format!("/api/v1/admin/visits?{range}&phone=13900000002"), Some(&staff)).await;
    assert_eq!(one.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.get(&format!("/api/v1/admin/visits?{range}"), Some(&zhao)).await.status, 403);
    assert_eq!(app.get("/api/v1/admin/visits?from=today&to=tomorrow", Some(&staff)).await.status, 400);
    let sheet = app.client.get(app.url(&format!("/api/v1/admin/investigation.csv?{range}"))).bearer_auth(&staff);
    let sheet = sheet.send().await.expect("csv").text().await.expect("text");
    assert_eq!(sheet.lines().filter(|l| l.starts_with("入场")).count(), 2, "{sheet}");

    // Erased, a resident's visits go; past the contact trace's time, everyone's.
    assert_eq!(app.post("/api/v1/admin/users/13900000002/erase", &json!({}), Some(&staff)).await.status, 200);
    let seen = app.get(&format!("/api/v1/admin/visits?{range}"), Some(&staff)).await;
    assert_eq!(seen.body["items"].as_array().map(Vec::len), Some(1));
    let store = &app.state.as_ref().expect("in-process server").store;
    assert_eq!(store.gates().forget(now - chrono::Duration::days(28)).await.expect("keep"), 0);
    assert_eq!(store.gates().forget(now + chrono::Duration::minutes(5)).await.expect("forget"), 1);
    assert_eq!(app.get(&format!("/api/v1/admin/visits?{range}"), Some(&staff)).await.body["items"], json!([]));
}
