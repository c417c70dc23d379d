//! Authorization, object by object: every endpoint that takes an id, called by each caller who
//! must not have it (another resident, a resident still waiting to join the household, another
//! stall's holder, a volunteer who did not claim the batch, a leader of another building, nobody
//! logged in), answers 401, 403 or 404, changes nothing, and its answer carries nothing the
//! caller must not see: the resident's full phone, the hand-off code, the household's flags or
//! its unit and room.

use serde_json::{json, Value};
use tests::{on_both_databases, Db, TestApp};

on_both_databases! {
    every_object_refuses_everyone_it_is_not_for => table;
}

const STAFF: &str = "13800000000";
/// 李先生, the member of the demo's quarantined flat 5-1-302: the owner of every object here.
const LI: &str = "13900000002";
const CLAIMER: &str = "13800000201";
const OTHER_VOLUNTEER: &str = "13800000202";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    OtherResident,
    Pending,
    OtherStall,
    OtherVolunteer,
    OtherLeader,
    Nobody,
}

use Caller::*;

const EVERYONE: &[Caller] = &[OtherResident, Pending, OtherStall, OtherVolunteer, OtherLeader, Nobody];

struct Row {
    method: &'static str,
    path: String,
    body: Value,
    callers: &'static [Caller],
    /// A status allowed besides 401/403/404 (e.g. 409 `already_claimed` for a volunteer
    /// racing for a batch another won).
    also: Option<(Caller, u16)>,
}

fn row(method: &'static str, path: String, body: Value, callers: &'static [Caller]) -> Row {
    Row { method, path, body, callers, also: None }
}

async fn call(app: &TestApp, method: &str, path: &str, body: &Value, token: Option<&str>) -> (u16, String) {
    let url = app.url(path);
    let mut req = match method {
        "GET" => app.client.get(url),
        "POST" => app.client.post(url).json(body),
        "PUT" => app.client.put(url).json(body),
        "PATCH" => app.client.patch(url).json(body),
        "DELETE" => app.client.delete(url),
        other => panic!("method {other}"),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("sent");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

async fn table(db: Db) {
    let app = tests::spawn_app_with(db, |c| c.sms.resend_interval = std::time::Duration::ZERO).await;
    let (staff, _) = app.login(STAFF).await;
    let (li, li_user) = app.login(LI).await;
    let household = li_user["household"]["id"].clone();
    let cabbage = app.product_id("大白菜").await;
    let vendor =
        app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["vendor_id"].as_i64().expect("vendor");
    let (stall, _) = app.login(&format!("138000001{vendor:02}")).await;
    let other_vendor = if vendor == 1 { 2 } else { 1 };
    let (other_stall, _) = app.login(&format!("138000001{other_vendor:02}")).await;
    let (other_resident, _) = app.login("13712349061").await;
    let r = app
        .put("/api/v1/me/household", &json!({ "building": "8", "unit": "1", "room": "801" }), Some(&other_resident))
        .await;
    assert_eq!(r.body["household"]["membership"], "member");
    let (pending, pending_user) = app.login("13712349062").await;
    let r =
        app.put("/api/v1/me/household", &json!({ "building": "5", "unit": "1", "room": "302" }), Some(&pending)).await;
    assert_eq!(r.body["household"]["membership"], "pending");
    let r = app
        .put(
            "/api/v1/admin/users/13712349063/roles",
            &json!({ "roles": ["resident", "leader"], "buildings": ["7"] }),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let (other_leader, _) = app.login("13712349063").await;
    let (claimer, _) = app.login(CLAIMER).await;
    let (other_volunteer, _) = app.login(OTHER_VOLUNTEER).await;

    // 李先生's order, packed by its stall; its batch claimed by one volunteer.
    let slot = app.open_slot(&staff, 20, 0, 30).await;
    app.put_in_cart(&li, cabbage, 1).await;
    let order =
        app.checkout(&li, "authz", &json!({ "slot_id": slot["id"], "payment": "on_delivery", "note": "authz" })).await;
    assert_eq!(order.status, 201, "{:?}", order.body);
    let order_id = order.body["id"].clone();
    let code = order.body["handoff_code"].as_str().expect("code").to_owned();
    let parts = app.get(&format!("/api/v1/vendor/orders?slot_id={}", slot["id"]), Some(&stall)).await.body;
    let part =
        parts["items"].as_array().expect("parts").iter().find(|p| p["order_id"] == order_id).cloned().expect("part");
    for step in ["confirm", "packed"] {
        let r = app.post(&format!("/api/v1/vendor/orders/{}/{step}", part["id"]), &json!({}), Some(&stall)).await;
        assert_eq!(r.status, 200, "{step}: {:?}", r.body);
    }
    let batches = app.get(&format!("/api/v1/batches?slot_id={}", slot["id"]), Some(&claimer)).await.body;
    let batch =
        batches["items"].as_array().expect("items").iter().find(|b| b["building"] == "5").cloned().expect("batch");
    let r = app.post(&format!("/api/v1/batches/{}/claim", batch["id"]), &json!({}), Some(&claimer)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // A group-buy for building 5 that 李先生's household joined.
    let gb_slot = app.open_slot(&staff, 500, 0, 40).await;
    let opening = json!({
        "title": "白菜团购", "buildings": ["5"],
        "items": [{ "product_id": cabbage, "price_fen": 100, "max_quantity": 50, "per_household_limit": 5 }],
        "min_households": 1, "deadline": (chrono::Utc::now() + chrono::Duration::hours(5)).to_rfc3339(),
        "slot_id": gb_slot["id"], "on_shortfall": "proceed",
    });
    let gb = app.post("/api/v1/group-buys", &opening, Some(&staff)).await;
    assert_eq!(gb.status, 201, "{:?}", gb.body);
    let gb = gb.body["id"].clone();
    let share = json!({ "items": [{ "product_id": cabbage, "quantity": 2 }] });
    assert_eq!(app.put(&format!("/api/v1/group-buys/{gb}/share"), &share, Some(&li)).await.status, 200);

    let now = chrono::Utc::now();
    let day_range = format!(
        "from={}&to={}",
        tests::urlencode(&(now - chrono::Duration::days(1)).to_rfc3339()),
        tests::urlencode(&(now + chrono::Duration::days(1)).to_rfc3339())
    );
    let point =
        json!({ "name": "别人的自提点", "address": "某处", "opens": "08:00", "closes": "20:00", "capacity": 5 });
    let o = format!("/api/v1/orders/{order_id}");
    let b = format!("/api/v1/batches/{}", batch["id"]);
    let g = format!("/api/v1/group-buys/{gb}");
    let h = format!("/api/v1/admin/households/{household}");
    let p = format!("/api/v1/vendor/orders/{}", part["id"]);
    let no_volunteer: &[Caller] = &[OtherResident, Pending, OtherStall, OtherLeader, Nobody];
    let mut rows = vec![
        row("GET", o.clone(), json!(null), EVERYONE),
        row("POST", format!("{o}/cancel"), json!({}), EVERYONE),
        row("POST", format!("{o}/pay"), json!({}), EVERYONE),
        row("POST", format!("{o}/problem"), json!({ "text": "少了" }), EVERYONE),
        row("POST", format!("{o}/handoff"), json!({ "code": code }), EVERYONE),
        row("POST", format!("{o}/left-at-door"), json!({ "note": "门口" }), EVERYONE),
        row("POST", format!("{o}/handoff/reset"), json!({}), EVERYONE),
        // Every volunteer sees the board of batches (who claimed which, how many orders); only
        // the claimer sees its manifest (below), and nobody's answer holds a door or a code.
        row("GET", b.clone(), json!(null), no_volunteer),
        row("GET", format!("{b}/manifest.csv"), json!(null), EVERYONE),
        row("POST", format!("{b}/pickup"), json!({}), EVERYONE),
        Row { also: Some((OtherVolunteer, 409)), ..row("POST", format!("{b}/claim"), json!({}), EVERYONE) },
        row("POST", format!("{p}/confirm"), json!({}), EVERYONE),
        row("POST", format!("{p}/packed"), json!({}), EVERYONE),
        row("PATCH", format!("/api/v1/vendor/products/{cabbage}"), json!({ "stock": 1 }), EVERYONE),
        row("GET", format!("{g}/shares"), json!(null), no_volunteer),
        row("GET", format!("{g}/shares.csv"), json!(null), no_volunteer),
        row("PUT", format!("{g}/share"), share.clone(), &[OtherResident, Pending, OtherLeader, Nobody]),
        row("DELETE", format!("{g}/share"), json!(null), &[Pending, Nobody]),
        row("POST", format!("{g}/share/pay"), json!({}), &[OtherResident, Pending, OtherLeader, Nobody]),
        row("PUT", format!("{g}/shares/{household}"), share.clone(), no_volunteer),
        row("POST", format!("{g}/close"), json!({}), EVERYONE),
        row("POST", format!("{g}/cancel"), json!({}), EVERYONE),
        row("PATCH", h.clone(), json!({ "hardship": true }), EVERYONE),
        row("PUT", format!("{h}/register"), json!({ "phones": ["13712349064"] }), EVERYONE),
        row("GET", format!("{h}/people"), json!(null), EVERYONE),
        row("POST", format!("{h}/members/{}", pending_user["id"]), json!({}), EVERYONE),
        row("DELETE", format!("{h}/members/{}", li_user["id"]), json!(null), EVERYONE),
        row("POST", format!("/api/v1/me/household/requests/{}/approve", pending_user["id"]), json!({}), EVERYONE),
        row("POST", format!("/api/v1/me/household/requests/{}/reject", pending_user["id"]), json!({}), EVERYONE),
        row("PATCH", format!("/api/v1/admin/slots/{}", slot["id"]), json!({ "household_limit": 5 }), EVERYONE),
        row("PATCH", format!("/api/v1/admin/products/{cabbage}"), json!({ "stock": 1 }), EVERYONE),
        row("PUT", format!("/api/v1/admin/users/{LI}/roles"), json!({ "roles": ["staff"] }), EVERYONE),
        row("POST", format!("/api/v1/admin/users/{LI}/erase"), json!({}), EVERYONE),
        // Who came through the gate, the supply plan and the producers' books: staff's and the
        // producer's own only.
        row("GET", format!("/api/v1/admin/visits?{day_range}"), json!(null), EVERYONE),
        row("GET", format!("/api/v1/admin/investigation.csv?{day_range}"), json!(null), EVERYONE),
        row("GET", "/api/v1/admin/gates".into(), json!(null), EVERYONE),
        row("GET", "/api/v1/admin/supply".into(), json!(null), EVERYONE),
        row("GET", "/api/v1/admin/producers".into(), json!(null), EVERYONE),
        row("GET", "/api/v1/producer/purchase-orders".into(), json!(null), EVERYONE),
        row("GET", "/api/v1/producer/offers".into(), json!(null), EVERYONE),
        // Pickup points: staff keep them; a keeper's list is the keeper's; only the batch's
        // volunteer drops it.
        row("GET", "/api/v1/admin/pickup-points".into(), json!(null), EVERYONE),
        row("POST", "/api/v1/admin/pickup-points".into(), point.clone(), EVERYONE),
        row("PUT", "/api/v1/admin/pickup-points/1".into(), point.clone(), EVERYONE),
        row("GET", "/api/v1/keeper/orders".into(), json!(null), EVERYONE),
        row("POST", format!("{b}/drop"), json!({}), EVERYONE),
    ];
    // What a resident of building 5 may read of the group-buy is theirs; everyone else's is not.
    rows.push(row("GET", g.clone(), json!(null), &[OtherResident, OtherStall, OtherLeader, Nobody]));

    let token = |c: Caller| -> Option<&str> {
        match c {
            OtherResident => Some(&other_resident),
            Pending => Some(&pending),
            OtherStall => Some(&other_stall),
            OtherVolunteer => Some(&other_volunteer),
            OtherLeader => Some(&other_leader),
            Nobody => None,
        }
    };
    let secrets = [LI.to_owned(), code.clone(), "\"quarantined\":true".to_owned(), "\"room\":\"302\"".to_owned()];
    let mut wrong = Vec::new();
    for r in &rows {
        for &caller in r.callers {
            let (status, text) = call(&app, r.method, &r.path, &r.body, token(caller)).await;
            let allowed = match caller {
                Nobody => status == 401,
                _ => matches!(status, 403 | 404) || r.also == Some((caller, status)),
            };
            if !allowed {
                wrong.push(format!("{caller:?} {} {} -> {status} {text}", r.method, r.path));
            }
            if let Some(s) = secrets.iter().find(|s| text.contains(s.as_str())) {
                wrong.push(format!("{caller:?} {} {} shows {s}: {text}", r.method, r.path));
            }
            if (400..500).contains(&status) {
                let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if body["error"]["code"].as_str().is_none() {
                    wrong.push(format!(
                        "{caller:?} {} {} -> {status} without the error shape: {text}",
                        r.method, r.path
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} wrong answers:\n{}", wrong.len(), wrong.join("\n"));

    // Nothing changed: the order, the batch, the share, the household, the slot and the stock.
    let seen = app.get(&o, Some(&li)).await.body;
    assert_eq!((&seen["status"], &seen["handoff_code"]), (&json!("packed"), &json!(code)), "{seen}");
    let seen = app.get(&b, Some(&claimer)).await.body;
    assert_eq!(seen["status"], "claimed", "{seen}");
    let seen = app.get(&g, Some(&li)).await.body;
    assert_eq!((&seen["status"], &seen["my_share"]["items"][0]["quantity"]), (&json!("open"), &json!(2)), "{seen}");
    let me = app.get("/api/v1/me", Some(&li)).await.body;
    assert_eq!((&me["household"]["hardship"], &me["household"]["membership"]), (&json!(false), &json!("member")));
    assert_eq!(app.get("/api/v1/me", Some(&pending)).await.body["household"]["membership"], "pending");
    let roles = app.get("/api/v1/me", Some(&li)).await.body["roles"].clone();
    assert!(!roles.as_array().expect("roles").contains(&json!("staff")));
}
