//! Outside demo mode the code goes to the SMS gateway and never into the reply.

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tests::{on_both_databases, spawn_app_with, Db};

on_both_databases! {
    codes_go_to_the_gateway_not_the_reply => via_gateway;
    a_failing_gateway_is_a_clear_503 => gateway_down;
    codes_go_out_through_tencent_cloud_sms_signed => via_tencent;
}

/// A fake SMS gateway over real HTTP that remembers what it was asked to send.
pub(crate) async fn fake_gateway(status: u16) -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let data = web::Data::new(seen.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/send",
            web::post().to(move |seen: web::Data<Arc<Mutex<Vec<Value>>>>, body: web::Json<Value>| async move {
                seen.lock().expect("lock").push(body.into_inner());
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status")).finish()
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("bind");
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}/send"), seen)
}

async fn via_gateway(db: Db) {
    let (url, seen) = fake_gateway(200).await;
    let app = spawn_app_with(db, |c| {
        c.demo = false;
        c.sms.webhook = Some(url);
    })
    .await;
    let r = app.post("/api/v1/auth/sms-code", &json!({ "phone": "13912340000" }), None).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("dev_code").is_none(), "no code in the reply outside demo mode: {}", r.body);
    let sent = seen.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["phone"], "13912340000");
    let code = sent[0]["code"].as_str().expect("code").to_owned();
    assert!(sent[0]["text"].as_str().expect("text").contains(&code));
    let login = app.post("/api/v1/auth/login", &json!({ "phone": "13912340000", "code": code }), None).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
}

async fn gateway_down(db: Db) {
    let (url, _) = fake_gateway(500).await;
    let app = spawn_app_with(db, |c| {
        c.demo = false;
        c.sms.webhook = Some(url);
    })
    .await;
    let r = app.post("/api/v1/auth/sms-code", &json!({ "phone": "13912340001" }), None).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.error_code(), "sms_unavailable");
    let app = spawn_app_with(db, |c| c.demo = false).await;
    let r = app.post("/api/v1/auth/sms-code", &json!({ "phone": "13912340002" }), None).await;
    assert_eq!(r.status, 503);
}

/// Tencent Cloud SMS's settings with the demo's keys, sent to a simulator.
fn tencent(endpoint: String, key: &str) -> backend::auth::sms::TencentSms {
    backend::auth::sms::TencentSms {
        secret_id: backend::config::DEMO_SMS_SECRET_ID.into(),
        secret_key: key.to_owned().into(),
        app_id: "1400000000".into(),
        sign_name: "傅鲜生".into(),
        template_id: "100001".into(),
        notice_template_id: Some("100002".into()),
        region: "ap-guangzhou".into(),
        endpoint,
    }
}

async fn via_tencent(db: Db) {
    // The demo sends every code through the simulator's Tencent Cloud SMS, signed.
    let demo = tests::spawn_app(db).await;
    let simulator = demo.simulator.clone().expect("the demo's simulator");
    let outbox = |app: &tests::TestApp| {
        let url = format!("{simulator}/sim/sms");
        let client = app.client.clone();
        async move { client.get(url).send().await.expect("outbox").json::<Value>().await.expect("json") }
    };
    let r = demo.post("/api/v1/auth/sms-code", &json!({ "phone": "13912340010" }), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let sent = outbox(&demo).await;
    let last = sent.as_array().and_then(|s| s.last()).cloned().expect("a message");
    assert_eq!(
        (last["phone"].clone(), last["params"][0].clone()),
        (json!("+8613912340010"), r.body["dev_code"].clone())
    );
    // A phone Tencent refuses today: a clear 503, and nothing kept that holds up asking again.
    for _ in 0..2 {
        let r = demo.post("/api/v1/auth/sms-code", &json!({ "phone": "13912349999" }), None).await;
        assert_eq!((r.status, r.error_code()), (503, "sms_unavailable"), "{:?}", r.body);
    }

    // A real market configured for Tencent Cloud SMS: the code only in the message.
    let endpoint = format!("{simulator}/sms");
    let market = spawn_app_with(db, |c| {
        c.demo = false;
        c.sms.tencent = Some(tencent(endpoint.clone(), backend::config::DEMO_SMS_SECRET_KEY));
    })
    .await;
    let r = market.post("/api/v1/auth/sms-code", &json!({ "phone": "13912340011" }), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body.get("dev_code").is_none(), "{}", r.body);
    let sent = outbox(&market).await;
    let last = sent.as_array().and_then(|s| s.last()).cloned().expect("a message");
    assert_eq!(last["phone"], "+8613912340011");
    let code = last["params"][0].as_str().expect("code").to_owned();
    let login = market.post("/api/v1/auth/login", &json!({ "phone": "13912340011", "code": code }), None).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    // Signed with another key: Tencent refuses it, the resident gets a clear 503.
    let wrong = spawn_app_with(db, |c| {
        c.demo = false;
        c.sms.tencent = Some(tencent(endpoint.clone(), "not-the-key"));
    })
    .await;
    let r = wrong.post("/api/v1/auth/sms-code", &json!({ "phone": "13912340012" }), None).await;
    assert_eq!((r.status, r.error_code()), (503, "sms_unavailable"));
}
