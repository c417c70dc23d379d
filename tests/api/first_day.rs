//! A real market's first day: without the demo the market starts empty, and the first staff
//! account is made by the server binary's own command.

use crate::sms_gateway::fake_gateway;
use crate::SERVER_BIN;
use serde_json::json;
use tests::{on_both_databases, start, test_config, Db};

on_both_databases! {
    an_empty_market_begins_with_its_first_staff_account => first_staff;
}

async fn first_staff(db: Db) {
    let (gateway, sent) = fake_gateway(200).await;
    let (mut config, schema) = test_config(db).await;
    config.demo = false;
    config.sms.webhook = Some(gateway);
    let add_staff = |phone: &str| {
        let out = tests::command(SERVER_BIN, &config).args(["admin", "add-staff", phone]).output().expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A phone that is not one: exit status 2, said why, nothing made.
    let (status, _, said) = add_staff("12345");
    assert_eq!(status, Some(2));
    assert!(said.contains("11"), "{said}");
    let (status, told, _) = add_staff("13712345670");
    assert_eq!(status, Some(0));
    assert!(told.contains("13712345670 is staff"), "{told}");
    assert!(told.contains("FXS_SMS_WEBHOOK"), "says how the login code arrives: {told}");
    let (status, told, _) = add_staff("13712345670");
    assert_eq!(status, Some(0), "twice is the same");
    assert!(told.contains("already"), "{told}");

    // The server without the demo: an empty market, and the new staff member logs in with the
    // code the SMS gateway carries and reaches the staff's pages.
    let app = start(config, db, schema).await;
    let products = app.get("/api/v1/products", None).await;
    assert_eq!(products.body["items"], json!([]), "no demo goods");
    let r = app.post("/api/v1/auth/sms-code", &json!({ "phone": "13712345670" }), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let code = sent.lock().expect("lock").last().expect("a code went out")["code"].as_str().expect("code").to_owned();
    let login = app.post("/api/v1/auth/login", &json!({ "phone": "13712345670", "code": code }), None).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    let token = login.body["token"].as_str().expect("token").to_owned();
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert!(me.body["roles"].as_array().expect("roles").contains(&json!("staff")), "{:?}", me.body);
    assert_eq!(app.get("/api/v1/admin/households", Some(&token)).await.status, 200);
}
