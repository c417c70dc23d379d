//! From the stalls to the door, through HTTP on both databases: batches by building, one
//! volunteer wins a claim, the manifest only for them, pick-up, hand-off with the code, the
//! limit on wrong codes and staff's reset.

use serde_json::{json, Value};
use tests::{join_all, on_both_databases, spawn_app, spawn_app_with, Db, TestApp};

on_both_databases! {
    a_building_s_orders_go_from_packed_to_delivered_by_one_volunteer => to_the_door;
    a_volunteer_and_staff_acting_on_one_order_at_once_apply_one_step => at_once;
    a_packed_batch_nobody_claims_in_time_is_late_on_the_board_and_in_metrics => late;
    two_communities_with_a_building_4_say_which_and_get_a_batch_each => two_communities;
}

const STAFF: &str = "13800000000";

/// A resident's order of two 大白菜 to building/room, paid on delivery.
async fn order(app: &TestApp, phone: &str, slot: &Value, building: &str, room: &str, cabbage: i64) -> Value {
    let (token, _) = app.login(phone).await;
    app.put_in_cart(&token, cabbage, 2).await;
    let body = json!({ "slot_id": slot["id"], "payment": "on_delivery",
                       "address": { "building": building, "unit": "1", "room": room } });
    let r = app.checkout(&token, &format!("delivery-{phone}"), &body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let mut order = r.body;
    order["token"] = json!(token);
    order
}

fn batch_of<'a>(list: &'a Value, building: &str) -> &'a Value {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|b| b["building"] == building)
        .expect("a batch for the building")
}

async fn to_the_door(db: Db) {
    let app = spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    let slot = app.open_slot(&staff, 10, 0, 24).await;
    let cabbage = app.product_id("大白菜").await;
    let vendor =
        app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["vendor_id"].as_i64().expect("vendor");
    let (stall, _) = app.login(&format!("138000001{vendor:02}")).await;
    let a = order(&app, "13900000301", &slot, "4", "102", cabbage).await;
    let b = order(&app, "13900000302", &slot, "4", "101", cabbage).await;
    let c = order(&app, "13900000303", &slot, "5", "101", cabbage).await;
    let (v1, _) = app.login("13800000201").await;
    let (v2, _) = app.login("13800000202").await;
    let path = format!("/api/v1/batches?slot_id={}", slot["id"]);

    // Residents and stalls see no batches; volunteers see one per building, waiting for the stalls.
    assert_eq!(app.get(&path, Some(a["token"].as_str().unwrap_or_default())).await.status, 403);
    assert_eq!(app.get(&path, Some(&stall)).await.status, 403);
    let list = app.get(&path, Some(&v1)).await.body;
    let four = batch_of(&list, "4").clone();
    assert_eq!((four["orders"].as_i64(), four["status"].as_str()), (Some(2), Some("waiting")));
    assert_eq!(batch_of(&list, "5")["orders"], 1);
    assert!(four.get("manifest").is_none());
    // Staff close building 5 (a quarantined compound): its batch goes to the gate.
    assert_eq!((four["to_gate"].clone(), batch_of(&list, "5")["to_gate"].clone()), (json!(false), json!(false)));
    let buildings = app.get("/api/v1/admin/buildings", Some(&staff)).await.body;
    let five = buildings["items"].as_array().and_then(|l| l.iter().find(|b| b["building"] == "5")).cloned();
    let five = format!("/api/v1/admin/buildings/{}", five.expect("building 5")["id"]);
    assert_eq!(app.patch(&five, &json!({ "closed": true }), Some(&staff)).await.status, 200);
    let list = app.get(&path, Some(&v1)).await.body;
    assert_eq!(
        (batch_of(&list, "4")["to_gate"].clone(), batch_of(&list, "5")["to_gate"].clone()),
        (json!(false), json!(true))
    );
    // The resident of building 5 is told on the order's page; building 4's is not.
    let told = |o: &Value| format!("/api/v1/orders/{}", o["id"]);
    let r = app.get(&told(&c), Some(c["token"].as_str().unwrap_or_default())).await;
    assert_eq!(r.body["to_gate"], true, "{:?}", r.body);
    let r = app.get(&told(&a), Some(a["token"].as_str().unwrap_or_default())).await;
    assert!(r.body.get("to_gate").is_none(), "{:?}", r.body);
    let batch = format!("/api/v1/batches/{}", four["id"]);
    let r = app.post(&format!("{batch}/claim"), &json!({}), Some(&v1)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "not packed yet");

    // The stall confirms and packs the building's two orders: the batch is ready.
    let parts = app.get(&format!("/api/v1/vendor/orders?slot_id={}", slot["id"]), Some(&stall)).await.body;
    for p in parts["items"].as_array().expect("parts").iter().filter(|p| p["building"] == "4") {
        for step in ["confirm", "packed"] {
            let r = app.post(&format!("/api/v1/vendor/orders/{}/{step}", p["id"]), &json!({}), Some(&stall)).await;
            assert_eq!(r.status, 200, "{step}: {:?}", r.body);
        }
    }
    let list = app.get(&path, Some(&v1)).await.body;
    assert_eq!(batch_of(&list, "4")["status"], "ready");
    assert_eq!(batch_of(&list, "5")["status"], "waiting");
    // The volunteers' page finds the slot with work: one ready batch there, none of theirs yet.
    let work =
        |list: Value| list["items"].as_array().and_then(|l| l.iter().find(|w| w["slot_id"] == slot["id"]).cloned());
    let seen = work(app.get("/api/v1/batches/slots", Some(&v1)).await.body);
    assert_eq!(seen, Some(json!({ "slot_id": slot["id"], "ready": 1, "mine": 0 })));
    assert_eq!(app.get("/api/v1/batches/slots", Some(&stall)).await.status, 403);

    // Two volunteers claim at once: one wins, the other is told it is taken.
    let claims = join_all(vec![
        app.post(&format!("{batch}/claim"), &json!({}), Some(&v1)),
        app.post(&format!("{batch}/claim"), &json!({}), Some(&v2)),
    ])
    .await;
    let mut statuses: Vec<u16> = claims.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{:?}", claims.iter().map(|r| &r.body).collect::<Vec<_>>());
    let (winner, loser, won) = if claims[0].status == 200 { (&v1, &v2, &claims[0]) } else { (&v2, &v1, &claims[1]) };
    assert_eq!(claims.iter().find(|r| r.status == 409).map(|r| r.error_code()), Some("already_claimed"));
    assert_eq!(won.body["status"], "claimed");
    let seen = work(app.get("/api/v1/batches/slots", Some(winner)).await.body);
    assert_eq!(seen, Some(json!({ "slot_id": slot["id"], "ready": 0, "mine": 1 })), "the winner's batch is theirs");
    assert_eq!(work(app.get("/api/v1/batches/slots", Some(loser)).await.body), None, "nothing left for the other");
    let manifest = won.body["manifest"].as_array().expect("the winner sees the manifest");
    let rooms: Vec<&str> = manifest.iter().filter_map(|s| s["room"].as_str()).collect();
    assert_eq!(rooms, ["101", "102"], "by unit and room");
    assert_eq!(manifest[0]["phone"], "139****0302");
    assert_eq!(manifest[0]["items"][0]["name"], "大白菜");
    assert!(!won.body.to_string().contains(a["handoff_code"].as_str().unwrap_or("x")), "no hand-off codes");
    assert!(app.get(&batch, Some(loser)).await.body.get("manifest").is_none(), "only the winner");
    assert!(app.get(&batch, Some(&staff)).await.body["manifest"].is_array(), "and staff");
    let csv =
        |token: &str| app.client.get(app.url(&format!("{batch}/manifest.csv"))).bearer_auth(token.to_owned()).send();
    let paper = csv(winner).await.expect("csv");
    assert_eq!(paper.status(), 200);
    let text = paper.text().await.expect("text");
    assert!(text.starts_with('\u{FEFF}') && text.contains("139****0302") && text.contains("大白菜"), "{text}");
    assert_eq!(csv(loser).await.expect("csv").status(), 403);
    // Residents and stalls never see a manifest, on screen or on paper.
    for outsider in [a["token"].as_str().unwrap_or_default(), stall.as_str()] {
        assert_eq!(app.get(&batch, Some(outsider)).await.status, 403);
        assert_eq!(csv(outsider).await.expect("csv").status(), 403);
        assert_eq!(app.post(&format!("{batch}/claim"), &json!({}), Some(outsider)).await.status, 403);
    }

    // Only the winner picks it up; the orders go out for delivery.
    assert_eq!(app.post(&format!("{batch}/pickup"), &json!({}), Some(loser)).await.status, 403);
    let r = app.post(&format!("{batch}/pickup"), &json!({}), Some(winner)).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("out")), "{:?}", r.body);
    let seen =
        app.get(&format!("/api/v1/orders/{}", a["id"]), Some(a["token"].as_str().unwrap_or_default())).await.body;
    assert_eq!(seen["status"], "out_for_delivery");
    assert!(seen["handoff_qr"].as_str().is_some_and(|svg| svg.starts_with("<svg")), "the resident's QR code");
    let staff_view = app.get(&format!("/api/v1/orders/{}", a["id"]), Some(&staff)).await.body;
    assert!(staff_view.get("handoff_code").is_none() && staff_view.get("handoff_qr").is_none(), "{staff_view}");

    // Hand-off: not by another volunteer, not by the resident; wrong codes are counted up to 5.
    let handoff = |o: &Value| format!("/api/v1/orders/{}/handoff", o["id"]);
    let right = |o: &Value| json!({ "code": o["handoff_code"] });
    assert_eq!(app.post(&handoff(&a), &right(&a), Some(loser)).await.status, 403);
    assert_eq!(app.post(&handoff(&a), &right(&a), Some(a["token"].as_str().unwrap_or_default())).await.status, 403);
    let wrong = json!({ "code": if a["handoff_code"] == "000000" { "111111" } else { "000000" } });
    for n in 1..=5 {
        let r = app.post(&handoff(&a), &wrong, Some(winner)).await;
        assert_eq!((r.status, r.error_code()), (409, "wrong_code"), "try {n}");
    }
    let r = app.post(&handoff(&a), &right(&a), Some(winner)).await;
    assert_eq!((r.status, r.error_code()), (409, "handoff_locked"));
    let seen =
        app.get(&format!("/api/v1/orders/{}", a["id"]), Some(a["token"].as_str().unwrap_or_default())).await.body;
    assert_eq!(seen["status"], "out_for_delivery", "wrong codes change nothing");
    assert_eq!(app.post(&format!("{}/reset", handoff(&a)), &json!({}), Some(winner)).await.status, 403);
    assert_eq!(app.post(&format!("{}/reset", handoff(&a)), &json!({}), Some(&staff)).await.status, 200);
    let r = app.post(&handoff(&a), &right(&a), Some(winner)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "delivered");
    assert!(r.body.get("handoff_code").is_none() && r.body.get("handoff_qr").is_none());
    let seen =
        app.get(&format!("/api/v1/orders/{}", a["id"]), Some(a["token"].as_str().unwrap_or_default())).await.body;
    assert_eq!(seen["status"], "delivered");
    assert!(seen.get("handoff_qr").is_none(), "no QR code once it is delivered");
    // The same hand-off sent again (a phone that did not hear the answer in a stairwell): done,
    // nothing changes; anything else on a delivered order is refused.
    let again = app.post(&handoff(&a), &right(&a), Some(winner)).await;
    assert_eq!((again.status, again.body["status"].clone()), (200, json!("delivered")), "{:?}", again.body);
    let r = app.post(&handoff(&a), &wrong, Some(winner)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"));
    let r =
        app.post(&format!("/api/v1/orders/{}/left-at-door", a["id"]), &json!({ "note": "门口" }), Some(winner)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"));
    assert_eq!(app.post(&handoff(&a), &right(&a), Some(loser)).await.status, 403);

    // Nobody home at the last one: left at the door with a note the resident sees; the batch
    // is done, and its volunteer no longer sees the households.
    let door = format!("/api/v1/orders/{}/left-at-door", b["id"]);
    assert_eq!(app.post(&door, &json!({ "note": " " }), Some(winner)).await.status, 400);
    assert_eq!(app.post(&door, &json!({ "note": "放在门口鞋柜上" }), Some(loser)).await.status, 403);
    let r = app.post(&door, &json!({ "note": "放在门口鞋柜上" }), Some(winner)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.post(&door, &json!({ "note": "放在门口鞋柜上" }), Some(winner)).await;
    assert_eq!(r.status, 200, "sent again: {:?}", r.body);
    let seen =
        app.get(&format!("/api/v1/orders/{}", b["id"]), Some(b["token"].as_str().unwrap_or_default())).await.body;
    assert_eq!((seen["status"].as_str(), seen["left_at_door"].as_str()), (Some("delivered"), Some("放在门口鞋柜上")));
    door_photo(&app, &a, &b, winner, loser, &staff).await;
    let done = app.get(&batch, Some(winner)).await.body;
    assert_eq!(done["status"], "done");
    assert!(done.get("manifest").is_none());
    // The round counts for the volunteer's hours, on their page and in staff's spreadsheet.
    let hours = app.get("/api/v1/me/volunteer-hours", Some(winner)).await.body;
    assert_eq!((hours["rounds"].as_i64(), hours["recent"][0]["batch_id"].clone()), (Some(1), four["id"].clone()));
    assert!(hours["minutes"].as_i64() >= Some(0), "{hours}");
    assert_eq!(app.get("/api/v1/me/volunteer-hours", Some(loser)).await.body["rounds"], 0);
    let day = chrono::Utc::now();
    let range = format!(
        "from={}&to={}",
        (day - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        (day + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    let csv = app.client.get(app.url(&format!("/api/v1/admin/volunteer-hours.csv?{range}"))).bearer_auth(&staff);
    let csv = csv.send().await.expect("the spreadsheet");
    assert_eq!(csv.status(), 200);
    let winner_phone = if winner == &v1 { "13800000201" } else { "13800000202" };
    let text = csv.text().await.expect("csv");
    assert!(text.lines().any(|l| l.starts_with(winner_phone) && l.contains(",1,")), "{text}");
    assert_eq!(app.get(&format!("/api/v1/admin/volunteer-hours.csv?{range}"), Some(winner)).await.status, 403);
    let bad = app.get("/api/v1/admin/volunteer-hours.csv?from=yesterday&to=today", Some(&staff)).await;
    assert_eq!((bad.status, bad.error_code()), (400, "invalid_field"));
    // Building 5's order was never part of it.
    let seen =
        app.get(&format!("/api/v1/orders/{}", c["id"]), Some(c["token"].as_str().unwrap_or_default())).await.body;
    assert_eq!(seen["status"], "placed");

    // The contact trace: every hand-off in the time range, by volunteer or building (staff only).
    let from = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let to = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let range = format!("from={}&to={}", tests::urlencode(&from), tests::urlencode(&to));
    let winner_phone = if winner == &v1 { "13800000201" } else { "13800000202" };
    let trace = |q: String| {
        let app = &app;
        let staff = staff.clone();
        async move { app.get(&format!("/api/v1/admin/contacts?{q}"), Some(&staff)).await }
    };
    let all = trace(range.clone()).await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    let contacts = all.body["items"].as_array().expect("items");
    assert_eq!(contacts.len(), 2);
    assert_eq!(contacts[0]["volunteer_phone"], winner_phone);
    assert_eq!(contacts[0]["building"], "4");
    assert_eq!(contacts[1]["left_at_door"], true);
    assert_eq!(trace(format!("{range}&building=5")).await.body["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        trace(format!("{range}&volunteer={winner_phone}")).await.body["items"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(trace("from=yesterday&to=today".into()).await.status, 400);
    assert_eq!(app.get(&format!("/api/v1/admin/contacts?{range}"), Some(winner)).await.status, 403);
    let csv = app
        .client
        .get(app.url(&format!("/api/v1/admin/contacts.csv?{range}")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("csv");
    let bytes = csv.bytes().await.expect("bytes");
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    assert!(String::from_utf8_lossy(&bytes).contains(winner_phone));
    // The investigation: a resident came through the market's gate in the same hour; one
    // spreadsheet has both, in time order.
    let gate = app.post("/api/v1/admin/gates", &json!({ "name": "正门" }), Some(&staff)).await;
    assert_eq!(gate.status, 201, "{:?}", gate.body);
    let poster = gate.body["url"].as_str().unwrap_or_default();
    assert!(poster.starts_with(&app.url("/gate?code=")), "the address staff reached: {poster}");
    let (walker, _) = app.login("13900000005").await;
    let r = app.post("/api/v1/gate/visits", &json!({ "code": gate.body["code"] }), Some(&walker)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let sheet = app.client.get(app.url(&format!("/api/v1/admin/investigation.csv?{range}"))).bearer_auth(&staff);
    let sheet = sheet.send().await.expect("the investigation").text().await.expect("csv");
    let mut kinds: Vec<&str> = sheet.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    let times: Vec<&str> = sheet.lines().skip(1).filter_map(|l| l.split(',').nth(1)).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order: {sheet}");
    kinds.sort();
    assert_eq!(kinds, ["入场 gate", "送达 hand-off", "送达 hand-off"], "{sheet}");
    assert!(sheet.contains("13900000005") && sheet.contains(winner_phone), "{sheet}");

    // A resident reports a problem with a delivered order; staff see it.
    let report = |o: &Value| format!("/api/v1/orders/{}/problem", o["id"]);
    let token = |o: &Value| o["token"].as_str().unwrap_or_default().to_owned();
    let text = json!({ "text": "少了一颗白菜" });
    assert_eq!(app.post(&report(&a), &json!({ "text": "  " }), Some(&token(&a))).await.status, 400);
    assert_eq!(app.post(&report(&a), &text, Some(&token(&b))).await.status, 404, "not theirs");
    let r = app.post(&report(&c), &text, Some(&token(&c))).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "not delivered yet");
    assert_eq!(app.post(&report(&a), &text, Some(&token(&a))).await.status, 201);
    assert_eq!(app.get("/api/v1/admin/problems", Some(winner)).await.status, 403);
    let listed = app.get("/api/v1/admin/problems", Some(&staff)).await.body;
    assert_eq!(listed["items"][0]["text"], "少了一颗白菜");
    assert_eq!(listed["items"][0]["order_id"], a["id"]);
    assert_eq!(listed["items"][0]["room"], "102");

    // Past FXS_KEEP_CONTACT_DAYS the trace is forgotten: the orders stay delivered, nobody's
    // name is on them any more.
    let store = &app.state.as_ref().expect("in-process server").store;
    let now = chrono::Utc::now();
    assert_eq!(store.batches().forget_contacts(now - chrono::Duration::days(28)).await.expect("keep"), 0);
    assert_eq!(trace(range.clone()).await.body["items"].as_array().map(Vec::len), Some(2), "still within its time");
    assert_eq!(store.batches().forget_contacts(now + chrono::Duration::minutes(1)).await.expect("forget"), 2);
    assert_eq!(trace(range.clone()).await.body["items"], json!([]));
    let seen = app.get(&format!("/api/v1/orders/{}", a["id"]), Some(&token(&a))).await.body;
    assert_eq!(seen["status"], "delivered", "{seen}");
    let listed = app.get("/api/v1/admin/problems", Some(&staff)).await.body;
    assert_eq!(listed["items"][0]["order_id"], a["id"], "the report stays");

    // Erased, the household's photo at the door goes with its doors.
    let photo = format!("/api/v1/orders/{}/door-photo", b["id"]);
    let kept = app.client.get(app.url(&photo)).bearer_auth(&staff).send().await.expect("the photo");
    assert_eq!(kept.status(), 200, "kept with its order");
    assert_eq!(app.post("/api/v1/admin/users/13900000302/erase", &json!({}), Some(&staff)).await.status, 200);
    assert_eq!(app.get(&photo, Some(&staff)).await.status, 404);
    assert_eq!(door_photos_kept(&app), 0, "the picture is deleted");
}

/// How many photos at the door the server keeps in its private folder.
fn door_photos_kept(app: &TestApp) -> usize {
    std::fs::read_dir(app.data_dir.join("door-photos"))
        .map(|d| d.filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().ends_with(".jpg")).count())
        .unwrap_or(0)
}

/// A picture a phone sends: a PNG of `w`×`h`.
fn snapshot(w: u32, h: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).expect("png");
    out.into_inner()
}

/// The optional photo of an order left at the door (`b`; `a` was handed over with its code):
/// only by the batch's volunteer (or staff), only once it is left there; seen by the household,
/// the volunteer and staff, by nobody else; a new one replaces the one before.
async fn door_photo(app: &TestApp, a: &Value, b: &Value, winner: &str, loser: &str, staff: &str) {
    let put = |o: &Value, token: &str, bytes: Vec<u8>| {
        let req = app.client.put(app.url(&format!("/api/v1/orders/{}/door-photo", o["id"])));
        app.send(req.bearer_auth(token.to_owned()).header("Content-Type", "image/png").body(bytes))
    };
    let token = |o: &Value| o["token"].as_str().unwrap_or_default().to_owned();
    let r = put(a, winner, snapshot(64, 48)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "handed over, not left at the door");
    assert_eq!(put(b, loser, snapshot(64, 48)).await.status, 403, "not their batch");
    assert_eq!(put(b, &token(b), snapshot(64, 48)).await.status, 403, "a resident");
    let r = put(b, winner, b"PK\x03\x04 not a picture".to_vec()).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_image"));
    assert_eq!(door_photos_kept(app), 0, "nothing kept of a refusal");
    let photo = format!("/api/v1/orders/{}/door-photo", b["id"]);
    assert_eq!(app.get(&photo, Some(&token(b))).await.status, 404, "none yet");

    let r = put(b, winner, snapshot(1600, 1200)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["door_photo"], true);
    let seen = app.get(&format!("/api/v1/orders/{}", b["id"]), Some(&token(b))).await.body;
    assert_eq!(seen["door_photo"], true, "{seen}");
    let picture = |who: String| {
        let req = app.client.get(app.url(&photo)).bearer_auth(who);
        async move { req.send().await.expect("the photo") }
    };
    for who in [token(b), winner.to_owned(), staff.to_owned()] {
        let res = picture(who).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "image/jpeg");
        assert_eq!(res.headers()["cache-control"], "private, no-store");
        let bytes = res.bytes().await.expect("bytes");
        let shown = image::load_from_memory(&bytes).expect("a JPEG");
        assert_eq!((shown.width(), shown.height()), (960, 720), "shrunk to the page's size");
    }
    for who in [token(a), loser.to_owned()] {
        let r = app.get(&photo, Some(&who)).await;
        assert_eq!((r.status, r.error_code()), (404, "not_found"), "another household, another volunteer");
    }
    // Taken again: the new one replaces it, the old picture is deleted.
    assert_eq!(put(b, winner, snapshot(300, 200)).await.status, 200);
    assert_eq!(door_photos_kept(app), 1);
    let res = picture(token(b)).await;
    let shown = image::load_from_memory(&res.bytes().await.expect("bytes")).expect("a JPEG");
    assert_eq!(shown.width(), 300);
    // Kept as long as the contact trace, not forgotten before.
    let store = &app.state.as_ref().expect("in-process server").store;
    let kept = store.batches().forget_door_photos(chrono::Utc::now() - chrono::Duration::days(28)).await;
    assert_eq!(kept.expect("kept"), Vec::<String>::new());
}

/// Orders for building 6 packed, its batch claimed by a volunteer and out: (volunteer, orders).
async fn out_for_delivery(app: &TestApp, staff: &str, rooms: &[&str]) -> (String, Vec<Value>) {
    let slot = app.open_slot(staff, 10, 0, 24).await;
    let cabbage = app.product_id("大白菜").await;
    let vendor =
        app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["vendor_id"].as_i64().expect("vendor");
    let (stall, _) = app.login(&format!("138000001{vendor:02}")).await;
    let mut orders = Vec::new();
    for (n, room) in rooms.iter().enumerate() {
        orders.push(order(app, &format!("1390000040{n}"), &slot, "6", room, cabbage).await);
    }
    let parts = app.get(&format!("/api/v1/vendor/orders?slot_id={}", slot["id"]), Some(&stall)).await.body;
    for p in parts["items"].as_array().expect("parts") {
        for step in ["confirm", "packed"] {
            let r = app.post(&format!("/api/v1/vendor/orders/{}/{step}", p["id"]), &json!({}), Some(&stall)).await;
            assert_eq!(r.status, 200, "{step}: {:?}", r.body);
        }
    }
    let (volunteer, _) = app.login("13800000201").await;
    let list = app.get(&format!("/api/v1/batches?slot_id={}", slot["id"]), Some(&volunteer)).await.body;
    let batch = format!("/api/v1/batches/{}", batch_of(&list, "6")["id"]);
    for step in ["claim", "pickup"] {
        let r = app.post(&format!("{batch}/{step}"), &json!({}), Some(&volunteer)).await;
        assert_eq!(r.status, 200, "{step}: {:?}", r.body);
    }
    (volunteer, orders)
}

async fn at_once(db: Db) {
    let app = spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    let (volunteer, orders) = out_for_delivery(&app, &staff, &["101", "102"]).await;
    let (a, b) = (&orders[0], &orders[1]);
    let handoff = format!("/api/v1/orders/{}/handoff", a["id"]);
    let door = format!("/api/v1/orders/{}/left-at-door", a["id"]);
    let right = json!({ "code": a["handoff_code"] });

    // The volunteer and staff hand the same order over (and the volunteer also presses "left at
    // the door") all at once: one step is applied; the same step sent again is answered as done
    // (a phone that did not hear its answer sends it again), the other way is refused as too late.
    let note = json!({ "note": "门口" });
    let mut presses = Vec::new();
    for _ in 0..3 {
        presses.push(app.post(&handoff, &right, Some(&volunteer)));
        presses.push(app.post(&handoff, &right, Some(&staff)));
        presses.push(app.post(&door, &note, Some(&volunteer)));
    }
    let replies = join_all(presses).await;
    // Presses 0, 1 of every three are with the code, 2 left at the door.
    let by_door = |n: usize| n % 3 == 2;
    let door_won = replies.iter().enumerate().any(|(n, r)| by_door(n) && r.status == 200);
    for (n, r) in replies.iter().enumerate() {
        if by_door(n) == door_won {
            assert_eq!(r.status, 200, "the step that won, or the same again: {:?}", r.body);
        } else {
            assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "{:?}", r.body);
        }
    }
    let seen =
        app.get(&format!("/api/v1/orders/{}", a["id"]), Some(a["token"].as_str().unwrap_or_default())).await.body;
    assert_eq!(seen["status"], "delivered");
    let steps: Vec<&str> =
        seen["timeline"].as_array().expect("timeline").iter().filter_map(|e| e["status"].as_str()).collect();
    assert_eq!(steps.iter().filter(|s| **s == "delivered").count(), 1, "{steps:?}");
    let from = tests::urlencode(&(chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339());
    let to = tests::urlencode(&(chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339());
    let trace = app.get(&format!("/api/v1/admin/contacts?from={from}&to={to}&building=6"), Some(&staff)).await.body;
    assert_eq!(trace["items"].as_array().map(Vec::len), Some(1), "one hand-off, one contact: {trace}");

    // Ten wrong codes at once from both: exactly five are counted, the rest find it locked.
    let handoff = format!("/api/v1/orders/{}/handoff", b["id"]);
    let wrong = json!({ "code": if b["handoff_code"] == "000000" { "111111" } else { "000000" } });
    let replies = join_all(
        (0..10).map(|n| app.post(&handoff, &wrong, Some(if n % 2 == 0 { &volunteer } else { &staff }))).collect(),
    )
    .await;
    let codes: Vec<&str> = replies.iter().map(|r| r.error_code()).collect();
    assert_eq!(codes.iter().filter(|c| **c == "wrong_code").count(), 5, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == "handoff_locked").count(), 5, "{codes:?}");
    // Staff reset while the volunteer types the right code: whichever comes first, the order
    // is delivered once the code is taken, and never counts below zero or twice.
    let right = json!({ "code": b["handoff_code"] });
    let reset = format!("{handoff}/reset");
    let empty = json!({});
    let replies = join_all(vec![app.post(&reset, &empty, Some(&staff)), app.post(&reset, &empty, Some(&staff))]).await;
    assert!(replies.iter().all(|r| r.status == 200), "{replies:?}");
    let r = app.post(&handoff, &right, Some(&volunteer)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.post(&reset, &json!({}), Some(&staff)).await;
    assert_eq!(r.body["status"], "delivered", "a reset changes nothing of a delivered order: {:?}", r.body);
}

/// FXS_LATE_BATCH_MINUTES (here 0: late as soon as it is packed and a moment passes): a packed
/// batch nobody has claimed is `late` on the dispatch board and counted in /metrics; claimed,
/// it is not.
async fn late(db: Db) {
    let app = spawn_app_with(db, |c| c.late_batch_minutes = 0).await;
    let (staff, _) = app.login(STAFF).await;
    let slot = app.open_slot(&staff, 10, 0, 24).await;
    let cabbage = app.product_id("大白菜").await;
    let vendor =
        app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["vendor_id"].as_i64().expect("vendor");
    let (stall, _) = app.login(&format!("138000001{vendor:02}")).await;
    order(&app, "13900000501", &slot, "8", "101", cabbage).await;
    let path = format!("/api/v1/batches?slot_id={}", slot["id"]);
    let list = app.get(&path, Some(&staff)).await.body;
    assert!(batch_of(&list, "8").get("late").is_none(), "waiting for the stalls is not late: {list}");
    let parts = app.get(&format!("/api/v1/vendor/orders?slot_id={}", slot["id"]), Some(&stall)).await.body;
    for p in parts["items"].as_array().expect("parts") {
        for step in ["confirm", "packed"] {
            let r = app.post(&format!("/api/v1/vendor/orders/{}/{step}", p["id"]), &json!({}), Some(&stall)).await;
            assert_eq!(r.status, 200, "{step}: {:?}", r.body);
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let list = app.get(&path, Some(&staff)).await.body;
    let eight = batch_of(&list, "8").clone();
    assert_eq!((eight["status"].clone(), eight["late"].clone()), (json!("ready"), json!(true)), "{list}");
    let metrics = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.unwrap_or_default();
    assert!(metrics.lines().any(|l| l == "fxs_batches_late 1"), "{metrics}");
    let (volunteer, _) = app.login("13800000201").await;
    let r = app.post(&format!("/api/v1/batches/{}/claim", eight["id"]), &json!({}), Some(&volunteer)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let list = app.get(&path, Some(&staff)).await.body;
    assert!(batch_of(&list, "8").get("late").is_none(), "claimed is not late: {list}");
    let metrics = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.unwrap_or_default();
    assert!(metrics.lines().any(|l| l == "fxs_batches_late 0"), "{metrics}");
    app.stop().await;
}

async fn two_communities(db: Db) {
    let app = spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    let slot = app.open_slot(&staff, 10, 0, 24).await;
    let cabbage = app.product_id("大白菜").await;
    let vendor =
        app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["vendor_id"].as_i64().expect("vendor");
    let (stall, _) = app.login(&format!("138000001{vendor:02}")).await;
    // The demo's 七里山小区 has a building 4; staff add 翠苑小区's building 4.
    let r =
        app.post("/api/v1/admin/buildings", &json!({ "community": "翠苑小区", "building": "4" }), Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let cuiyuan = r.body["id"].clone();

    // An address in a building 4 that names no community is refused, and keeps the cart.
    let (x, _) = app.login("13900000311").await;
    app.put_in_cart(&x, cabbage, 2).await;
    let to = |community: Option<&str>| {
        let mut address = json!({ "building": "4", "unit": "1", "room": "102" });
        if let Some(c) = community {
            address["community"] = json!(c);
        }
        json!({ "slot_id": slot["id"], "payment": "on_delivery", "address": address })
    };
    let r = app.checkout(&x, "two-communities-x", &to(None)).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "{:?}", r.body);
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("请写明小区"), "{:?}", r.body);
    assert_eq!(app.get("/api/v1/cart", Some(&x)).await.body["items"].as_array().map(Vec::len), Some(1));
    let r = app.checkout(&x, "two-communities-x2", &to(Some("翠苑小区"))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["address"]["community"], "翠苑小区");
    let x_order = r.body["id"].clone();
    let me = app.get("/api/v1/me", Some(&x)).await.body;
    assert_eq!(me["household"]["community"], "翠苑小区", "{me}");
    // A neighbour in 七里山小区's building 4 names theirs.
    let (y, _) = app.login("13900000312").await;
    app.put_in_cart(&y, cabbage, 1).await;
    let r = app.checkout(&y, "two-communities-y", &to(Some("七里山小区"))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["address"]["community"], "七里山小区");
    let r = app.get(&format!("/api/v1/orders/{x_order}"), Some(&x)).await;
    assert_eq!(r.body["address"]["community"], "翠苑小区", "{:?}", r.body);

    // One batch per community's building 4, each with its own order; closing 翠苑小区's building
    // 4 sends only its batch to the gate.
    let path = format!("/api/v1/batches?slot_id={}", slot["id"]);
    let fours = |list: &Value| -> Vec<(String, i64, bool)> {
        let mut found: Vec<(String, i64, bool)> = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|b| b["building"] == "4")
            .map(|b| {
                let community = b["community"].as_str().unwrap_or_default().to_owned();
                (community, b["orders"].as_i64().unwrap_or_default(), b["to_gate"] == true)
            })
            .collect();
        found.sort();
        found
    };
    let list = app.get(&path, Some(&staff)).await.body;
    assert_eq!(fours(&list), [("七里山小区".into(), 1, false), ("翠苑小区".into(), 1, false)], "{list}");
    let r = app.patch(&format!("/api/v1/admin/buildings/{cuiyuan}"), &json!({ "closed": true }), Some(&staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let list = app.get(&path, Some(&staff)).await.body;
    assert_eq!(fours(&list), [("七里山小区".into(), 1, false), ("翠苑小区".into(), 1, true)], "{list}");

    // Packed, both are ready; the volunteer who claims 翠苑小区's carries only its order, and
    // the manifest says the community.
    let parts = app.get(&format!("/api/v1/vendor/orders?slot_id={}", slot["id"]), Some(&stall)).await.body;
    for p in parts["items"].as_array().expect("parts").iter().filter(|p| p["building"] == "4") {
        for step in ["confirm", "packed"] {
            let r = app.post(&format!("/api/v1/vendor/orders/{}/{step}", p["id"]), &json!({}), Some(&stall)).await;
            assert_eq!(r.status, 200, "{step}: {:?}", r.body);
        }
    }
    let (v1, _) = app.login("13800000201").await;
    let work = app.get("/api/v1/batches/slots", Some(&v1)).await.body;
    let here = work["items"].as_array().and_then(|l| l.iter().find(|w| w["slot_id"] == slot["id"]).cloned());
    assert_eq!(here.map(|w| w["ready"].clone()), Some(json!(2)), "two ready batches, not one");
    let list = app.get(&path, Some(&v1)).await.body;
    let theirs = list["items"]
        .as_array()
        .and_then(|l| l.iter().find(|b| b["building"] == "4" && b["community"] == "翠苑小区").cloned())
        .expect("翠苑小区's batch");
    let r = app.post(&format!("/api/v1/batches/{}/claim", theirs["id"]), &json!({}), Some(&v1)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let manifest = r.body["manifest"].as_array().expect("manifest");
    let stops: Vec<(Value, Value)> = manifest.iter().map(|s| (s["order_id"].clone(), s["community"].clone())).collect();
    assert_eq!(stops, [(x_order, json!("翠苑小区"))]);
    let paper = app.client.get(app.url(&format!("/api/v1/batches/{}/manifest.csv", theirs["id"]))).bearer_auth(&v1);
    let text = paper.send().await.expect("csv").text().await.expect("text");
    assert!(text.contains("翠苑小区 4,1,102"), "the paper says the community: {text}");
    let parts = app.get(&format!("/api/v1/vendor/orders?slot_id={}", slot["id"]), Some(&stall)).await.body;
    let mut labels: Vec<String> = parts["items"]
        .as_array()
        .expect("parts")
        .iter()
        .filter(|p| p["building"] == "4")
        .map(|p| format!("{} {}", p["community"].as_str().unwrap_or_default(), p["room"].as_str().unwrap_or_default()))
        .collect();
    labels.sort();
    assert_eq!(labels, ["七里山小区 102", "翠苑小区 102"], "the stall's bags say the community");

    // Staff give a volunteer buildings: a bare 4 is two buildings, so they say which.
    let roles = "/api/v1/admin/users/13800000299/roles";
    let r = app.put(roles, &json!({ "roles": ["volunteer"], "buildings": ["4"] }), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "{:?}", r.body);
    let r = app.put(roles, &json!({ "roles": ["volunteer"], "buildings": ["翠苑小区 4", "5"] }), Some(&staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["leader_buildings"], json!(["翠苑小区 4", "5"]), "by number: {:?}", r.body);
}
