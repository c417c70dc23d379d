//! Trust: who may see and do what, the headers that protect every answer, the limits.

use serde_json::json;
use tests::{on_both_databases, spawn_app, Db};

on_both_databases! {
    every_answer_carries_the_protective_headers => protective_headers;
    a_household_is_its_members => members;
    a_first_order_to_a_flagged_door_asks_to_join_and_gets_no_priority => first_order_asks;
    abuse_limits_answer_429_with_retry_after => abuse_limits;
    idempotency_keys_are_kept_a_week_and_then_forgotten => keys_forgotten;
    one_open_order_per_household_and_slot_unless_staff_raise_it => household_slot;
    a_member_invites_family_who_are_members_at_once => invites;
    staff_erase_a_resident_and_keep_their_orders => erase;
    staff_see_who_lives_in_a_household_and_who_waits => people;
    staff_bring_in_the_register_from_a_spreadsheet => register_import;
}

/// POSTs a file to the register import; `dry_run` as given.
async fn import(app: &tests::TestApp, staff: &str, file: Vec<u8>, dry_run: bool) -> tests::Reply {
    let url = app.url(&format!("/api/v1/admin/households/register/import?dry_run={dry_run}"));
    app.send(app.client.post(url).bearer_auth(staff).header("Content-Type", "text/csv").body(file)).await
}

async fn register_import(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    // A resident waits to join the flagged flat 5-1-302; staff's spreadsheet will name her.
    let (waiting, me) = app.login("13712349061").await;
    let r = app.put("/api/v1/me/household", &flat_5_1_302(), Some(&waiting)).await;
    assert_eq!(r.body["household"]["membership"], "pending");

    // A dry run with one bad row of each kind answers each row and changes nothing.
    let bad = "楼号,单元,室,手机\n5,1,302,13712349061\n5,1,302,12345\n99,1,101,13712349062\n5,1,三楼,13712349063\n";
    for dry_run in [true, false] {
        let r = import(&app, &staff, bad.as_bytes().to_vec(), dry_run).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["applied"], false, "a file with a bad row is never applied");
        let rows = r.body["rows"].as_array().expect("rows");
        let verdicts: Vec<_> = rows.iter().map(|r| (r["row"].as_i64(), r["action"].as_str())).collect();
        assert_eq!(
            verdicts,
            [(Some(2), Some("create")), (Some(3), Some("error")), (Some(4), Some("error")), (Some(5), Some("error"))]
        );
        assert_eq!(rows[1]["errors"][0]["column"], "手机");
        assert_eq!(rows[2]["errors"][0]["column"], "楼号");
        assert_eq!(rows[3]["errors"][0]["column"], "室");
    }
    let flat = household_id(&app, &staff, "5", "1", "302").await;
    let people = format!("/api/v1/admin/households/{flat}/people");
    assert_eq!(app.get(&people, Some(&staff)).await.body["register"], json!([]), "nothing applied");

    // The good file, as Excel on a Chinese system saves it (GBK), with a new address and an
    // English heading: checked, then applied; she is let in at once.
    let good = "小区,building,单元,室,手机 phone\n七里山小区,5,1,302,13712349061\n,5,1,302,13712349064\n\n,6,2,1101,13712349065\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(good);
    let r = import(&app, &staff, gbk.to_vec(), true).await;
    assert_eq!((r.body["applied"].clone(), r.body["added"].clone()), (json!(false), json!(3)), "{:?}", r.body);
    assert_eq!(app.get(&people, Some(&staff)).await.body["register"], json!([]), "a dry run changes nothing");
    let r = import(&app, &staff, gbk.to_vec(), false).await;
    assert_eq!(r.body["applied"], true, "{:?}", r.body);
    assert_eq!((r.body["added"].clone(), r.body["let_in"].clone()), (json!(3), json!(1)));
    let rows: Vec<_> = r.body["rows"].as_array().expect("rows").iter().map(|r| r["row"].clone()).collect();
    assert_eq!(rows, [json!(2), json!(3), json!(5)], "the blank row is skipped, the numbers are the sheet's");
    let r = app.get(&people, Some(&staff)).await;
    assert_eq!(r.body["register"], json!(["13712349061", "13712349064"]));
    assert!(r.body["members"].as_array().expect("members").iter().any(|m| m["id"] == me["id"]));
    let r = app.get("/api/v1/me", Some(&waiting)).await;
    assert_eq!(r.body["household"]["membership"], "member", "{:?}", r.body);

    // The same file again changes nothing.
    let r = import(&app, &staff, gbk.to_vec(), false).await;
    assert_eq!(
        (r.body["applied"].clone(), r.body["added"].clone(), r.body["let_in"].clone()),
        (json!(true), json!(0), json!(0))
    );
    assert!(r.body["rows"].as_array().expect("rows").iter().all(|r| r["action"] == "unchanged"));

    // Export, then import the export: a round trip that changes nothing.
    let res =
        app.client.get(app.url("/api/v1/admin/households/register.csv")).bearer_auth(&staff).send().await.expect("csv");
    assert_eq!(res.status().as_u16(), 200);
    let exported = res.bytes().await.expect("bytes").to_vec();
    let text = String::from_utf8(exported.clone()).expect("utf-8");
    assert!(text.starts_with("\u{FEFF}小区 community,楼号 building,单元 unit,室 room,手机 phone\r\n"), "{text}");
    assert!(text.contains("七里山小区,6,2,1101,13712349065\r\n"), "{text}");
    let r = import(&app, &staff, exported, false).await;
    assert_eq!((r.body["applied"].clone(), r.body["added"].clone()), (json!(true), json!(0)), "{:?}", r.body);

    // Refused whole: no headings it knows, not text, too large; and not for a resident.
    let r = import(&app, &staff, b"name,age\n5,1\n".to_vec(), true).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"));
    let r = import(&app, &staff, vec![0xff, 0xfe, 0x00, 0x81], true).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"));
    let r = import(&app, &staff, vec![b'5'; 6 * 1024 * 1024], true).await;
    assert_eq!((r.status, r.error_code()), (413, "payload_too_large"));
    let r = import(&app, &waiting, good.as_bytes().to_vec(), false).await;
    assert_eq!(r.status, 403);
    let res = app
        .client
        .get(app.url("/api/v1/admin/households/register.csv"))
        .bearer_auth(&waiting)
        .send()
        .await
        .expect("csv");
    assert_eq!(res.status().as_u16(), 403);
}

async fn people(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    let (_, li) = app.login(LI).await;
    let (waiting, me) = app.login("13712349051").await;
    assert_eq!(app.put("/api/v1/me/household", &flat_5_1_302(), Some(&waiting)).await.status, 200);
    let flat = household_id(&app, &staff, "5", "1", "302").await;
    let path = format!("/api/v1/admin/households/{flat}/people");
    let r = app.get(&path, Some(&staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["members"].as_array().expect("members").iter().any(|m| m["id"] == li["id"] && m["phone"] == LI));
    assert_eq!(r.body["waiting"][0]["id"], me["id"]);
    assert!(r.body["waiting"][0]["requested_at"].is_string());
    assert_eq!(r.body["register"], json!([]));
    let register = format!("/api/v1/admin/households/{flat}/register");
    assert_eq!(app.put(&register, &json!({ "phones": ["13712349051"] }), Some(&staff)).await.status, 200);
    let r = app.get(&path, Some(&staff)).await;
    assert_eq!(r.body["register"], json!(["13712349051"]));
    assert_eq!(r.body["waiting"], json!([]), "on the register: let in at once");
    assert_eq!(r.body["members"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.get(&path, Some(&waiting)).await.status, 403);
    assert_eq!(app.get("/api/v1/admin/households/999999/people", Some(&staff)).await.status, 404);
    // Staff turn a waiting request down: it is gone; they are no member.
    let (stranger, them) = app.login("13712349052").await;
    assert_eq!(app.put("/api/v1/me/household", &flat_5_1_302(), Some(&stranger)).await.status, 200);
    let down = format!("/api/v1/admin/households/{flat}/members/{}", them["id"]);
    assert_eq!(app.delete(&down, Some(&staff)).await.status, 204);
    assert_eq!(app.get(&path, Some(&staff)).await.body["waiting"], json!([]));
    assert_eq!(app.get("/api/v1/me", Some(&stranger)).await.body["household"], serde_json::Value::Null);
    assert_eq!(app.delete(&down, Some(&staff)).await.status, 404, "neither now");
}

/// A resident asks to be forgotten: staff erase them once nothing of theirs is under way; the
/// person is gone (their login ends, their phone logs in as someone new), their orders stay.
async fn erase(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, staff_user) = app.login(STAFF).await;
    let (gone, me) = app.login("13712349041").await;
    let slot = app.open_slot(&staff, 10, 0, 30).await;
    app.put_in_cart(&gone, app.product_id("大白菜").await, 1).await;
    let body = json!({ "slot_id": slot["id"], "payment": "on_delivery", "note": "门口有狗",
                       "address": { "building": "9", "unit": "1", "room": "901" } });
    let order = app.checkout(&gone, "to-be-forgotten", &body).await;
    assert_eq!(order.status, 201, "{:?}", order.body);
    app.put_in_cart(&gone, app.product_id("大白菜").await, 2).await;
    let path = "/api/v1/admin/users/13712349041/erase";

    let r = app.post(path, &json!({}), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "an order under way: {:?}", r.body);
    assert_eq!(app.get("/api/v1/me", Some(&gone)).await.status, 200, "nothing changed");
    let cancel = app.post(&format!("/api/v1/orders/{}/cancel", order.body["id"]), &json!({}), Some(&gone)).await;
    assert_eq!(cancel.status, 200, "{:?}", cancel.body);
    assert_eq!(app.post(path, &json!({}), Some(&gone)).await.status, 403, "staff only");

    let r = app.post(path, &json!({}), Some(&staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!((&r.body["user_id"], &r.body["orders_kept"]), (&me["id"], &json!(1)));
    assert_eq!(app.get("/api/v1/me", Some(&gone)).await.status, 401, "their login ended");
    let kept = app.get(&format!("/api/v1/orders/{}", order.body["id"]), Some(&staff)).await;
    assert_eq!(kept.status, 200, "{:?}", kept.body);
    assert_eq!((&kept.body["status"], &kept.body["total_fen"]), (&json!("cancelled"), &order.body["total_fen"]));
    assert_eq!(kept.body["note"], serde_json::Value::Null, "their note is gone");
    assert!(kept.body["address"].get("room").is_none_or(|r| r.is_null() || r == ""), "{:?}", kept.body["address"]);
    assert_eq!(app.post(path, &json!({}), Some(&staff)).await.status, 404, "nobody has that phone now");
    // The phone logs in as someone new, with nothing of before.
    let (again, new_me) = app.login("13712349041").await;
    assert_ne!(new_me["id"], me["id"]);
    assert_eq!(app.get("/api/v1/orders", Some(&again)).await.body["items"], json!([]));
    assert_eq!(app.get("/api/v1/cart", Some(&again)).await.body["items"], json!([]));
    assert_eq!(app.get("/api/v1/me", Some(&again)).await.body["household"], serde_json::Value::Null);

    // Not a stall holder (their role goes first), not oneself, not a malformed phone.
    let r = app.post("/api/v1/admin/users/13800000101/erase", &json!({}), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "{:?}", r.body);
    let own = format!("/api/v1/admin/users/{}/erase", staff_user["phone"].as_str().expect("phone"));
    assert_eq!(app.post(&own, &json!({}), Some(&staff)).await.error_code(), "wrong_state");
    assert_eq!(app.post("/api/v1/admin/users/12345/erase", &json!({}), Some(&staff)).await.status, 400);
}

/// A member invites their family from the app: a resident already waiting is let in at once,
/// one who logs in later is a member when they give the address; only members invite.
async fn invites(db: Db) {
    let app = tests::spawn_app(db).await;
    let (li, _) = app.login(LI).await;
    let (waiting, _) = app.login("13712349031").await;
    let r = app.put("/api/v1/me/household", &flat_5_1_302(), Some(&waiting)).await;
    assert_eq!(r.body["household"]["membership"], "pending");
    // Someone waiting cannot invite anyone in.
    let r = app.post("/api/v1/me/household/invites", &json!({ "phone": "13712349039" }), Some(&waiting)).await;
    assert_eq!((r.status, r.error_code()), (403, "forbidden"), "{:?}", r.body);

    let r = app.post("/api/v1/me/household/invites", &json!({ "phone": "13712349031" }), Some(&li)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["phones"], json!(["137****9031"]));
    let me = app.get("/api/v1/me", Some(&waiting)).await.body;
    assert_eq!(
        (me["household"]["membership"].as_str(), &me["household"]["quarantined"]),
        (Some("member"), &json!(true))
    );
    assert_eq!(app.get("/api/v1/me/household/requests", Some(&li)).await.body["items"], json!([]));

    // Invited before they ever log in: a member when they give the address.
    let r = app.post("/api/v1/me/household/invites", &json!({ "phone": "13712349032" }), Some(&li)).await;
    assert_eq!(r.body["phones"].as_array().map(Vec::len), Some(2));
    let again = app.post("/api/v1/me/household/invites", &json!({ "phone": "13712349032" }), Some(&li)).await;
    assert_eq!(again.body["phones"].as_array().map(Vec::len), Some(2), "inviting twice changes nothing");
    let (later, _) = app.login("13712349032").await;
    let r = app.put("/api/v1/me/household", &flat_5_1_302(), Some(&later)).await;
    assert_eq!(r.body["household"]["membership"], "member", "{:?}", r.body);
    let listed = app.get("/api/v1/me/household/invites", Some(&waiting)).await;
    assert_eq!(listed.body["phones"], json!(["137****9031", "137****9032"]));
    assert_eq!(listed.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));

    // Bad input changes nothing; the register holds 20 phones.
    for bad in [json!({ "phone": "12345" }), json!({}), json!({ "phone": "13712349033", "x": 1 })] {
        let r = app.post("/api/v1/me/household/invites", &bad, Some(&li)).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }
    for n in 0..18 {
        let r =
            app.post("/api/v1/me/household/invites", &json!({ "phone": format!("136000000{n:02}") }), Some(&li)).await;
        assert_eq!(r.status, 200, "{n}: {:?}", r.body);
    }
    let full = app.post("/api/v1/me/household/invites", &json!({ "phone": "13712349034" }), Some(&li)).await;
    assert_eq!((full.status, full.error_code()), (409, "over_limit"), "{:?}", full.body);
    assert_eq!(app.post("/api/v1/me/household/invites", &json!({ "phone": "13712349031" }), None).await.status, 401);
}

/// Two members of one household press "pay" for the same slot at the same moment (through two
/// server processes on PostgreSQL): one order, the other is told the household already has one.
/// A cancelled order gives the turn back; staff may raise the slot's limit; another slot is free.
async fn household_slot(db: Db) {
    let (config, schema) = tests::test_config(db).await;
    let first = tests::start(config.clone(), db, schema).await;
    let second =
        if db == Db::Postgres { Some(tests::start_process(crate::SERVER_BIN, &config, db).await) } else { None };
    let app = &first;
    let other_server = second.as_ref().unwrap_or(&first);
    let (staff, _) = app.login(STAFF).await;
    let (li, _) = app.login(LI).await;
    // 李先生's wife: her phone on the flat's register makes her a member at once.
    let flat = household_id(app, &staff, "5", "1", "302").await;
    let register = format!("/api/v1/admin/households/{flat}/register");
    assert_eq!(app.put(&register, &json!({ "phones": ["13712349021"] }), Some(&staff)).await.status, 200);
    let (wife, _) = app.login("13712349021").await;
    let r = app.put("/api/v1/me/household", &flat_5_1_302(), Some(&wife)).await;
    assert_eq!(r.body["household"]["membership"], "member", "{:?}", r.body);

    let slot = app.open_slot(&staff, 50, 0, 30).await;
    assert_eq!(slot["household_limit"], 1, "one open order per household by default");
    let cabbage = app.product_id("大白菜").await;
    for t in [&li, &wife] {
        app.put_in_cart(t, cabbage, 1).await;
    }
    let body = json!({ "slot_id": slot["id"], "payment": "on_delivery" });
    let (a, b) = tokio::join!(app.checkout(&li, "li-1", &body), other_server.checkout(&wife, "wife-1", &body));
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{:?} {:?}", a.body, b.body);
    let (won, lost, loser) = if a.status == 201 { (&a, &b, &wife) } else { (&b, &a, &li) };
    assert_eq!(lost.error_code(), "household_slot_taken", "{:?}", lost.body);
    assert!(lost.body["error"]["message"].as_str().unwrap_or_default().contains("已有一张订单"));
    assert_eq!(app.get("/api/v1/cart", Some(loser)).await.body["items"].as_array().map(Vec::len), Some(1));
    let slots = app.get("/api/v1/slots", None).await.body;
    let s = slots["items"].as_array().expect("items").iter().find(|s| s["id"] == slot["id"]).cloned().expect("slot");
    assert_eq!(s["booked"], 1, "the refused press took no place");

    // Another slot is free for the household.
    let later = app.open_slot(&staff, 50, 0, 34).await;
    let elsewhere = json!({ "slot_id": later["id"], "payment": "on_delivery" });
    assert_eq!(app.checkout(loser, "elsewhere", &elsewhere).await.status, 201);
    // A cancelled order gives the household's turn back.
    app.put_in_cart(loser, cabbage, 1).await;
    let winner = if std::ptr::eq(loser, &li) { &wife } else { &li };
    let cancel = format!("/api/v1/orders/{}/cancel", won.body["id"]);
    let r = app.post(&cancel, &json!({}), Some(winner)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(app.checkout(loser, "after-cancel", &body).await.status, 201);
    // Staff raise the slot's limit: a second order goes in, a third does not.
    app.put_in_cart(winner, cabbage, 1).await;
    assert_eq!(app.checkout(winner, "second", &body).await.error_code(), "household_slot_taken");
    for wrong in [0, 21] {
        let r = app
            .patch(&format!("/api/v1/admin/slots/{}", slot["id"]), &json!({ "household_limit": wrong }), Some(&staff))
            .await;
        assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "{wrong}: {:?}", r.body);
    }
    app.raise_household_limit(&staff, &slot, 2).await;
    assert_eq!(app.checkout(winner, "second", &body).await.status, 409, "a refusal is its key's first answer");
    assert_eq!(app.checkout(winner, "third", &body).await.status, 201);
    app.put_in_cart(winner, cabbage, 1).await;
    assert_eq!(app.checkout(winner, "fourth", &body).await.error_code(), "household_slot_taken");
    // The resident's own page cannot raise it.
    let r =
        app.patch(&format!("/api/v1/admin/slots/{}", slot["id"]), &json!({ "household_limit": 5 }), Some(winner)).await;
    assert_eq!(r.status, 403);
    drop(second);
}

async fn keys_forgotten(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    let (token, _) = app.login(LI).await;
    let slot = app.open_slot(&staff, 10, 0, 30).await;
    app.put_in_cart(&token, app.product_id("大白菜").await, 1).await;
    let body = json!({ "slot_id": slot["id"], "address": flat_5_1_302(), "payment": "on_delivery" });
    let first = app.checkout(&token, "weekly", &body).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let store = &app.state.as_ref().expect("in-process server").store;
    let now = chrono::Utc::now();
    // Within the week the retry gets the first answer.
    store.accounts().purge_expired(now, now - chrono::Duration::days(7)).await.expect("purge");
    assert_eq!(app.checkout(&token, "weekly", &body).await.body["id"], first.body["id"]);
    // Past it the key is forgotten: the same key is a new press (the cart is empty now), and
    // the order stays.
    store.accounts().purge_expired(now, now + chrono::Duration::minutes(1)).await.expect("purge");
    let again = app.checkout(&token, "weekly", &body).await;
    assert_eq!((again.status, again.error_code()), (409, "cart_empty"), "{:?}", again.body);
    assert_eq!(app.get(&format!("/api/v1/orders/{}", first.body["id"]), Some(&token)).await.status, 200);
}

async fn abuse_limits(db: Db) {
    let app = tests::spawn_app_with(db, |c| {
        c.sms.resend_interval = std::time::Duration::ZERO;
        c.limits.sms_per_client = 5;
        c.limits.login_per_phone = 4;
        c.limits.checkout_per_user = 2;
        c.limits.join_per_user = 2;
    })
    .await;
    let retry_after =
        |r: &tests::Reply| r.headers.get("retry-after").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let (token, _) = app.login(LI).await;
    let (staff, _) = app.login(STAFF).await;
    // Login codes from one client address: after those two, the sixth in a minute waits.
    for i in 0..3 {
        let r = app.post("/api/v1/auth/sms-code", &json!({ "phone": format!("1371234980{i}") }), None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let r = app.post("/api/v1/auth/sms-code", &json!({ "phone": "13712349809" }), None).await;
    assert_eq!((r.status, r.error_code()), (429, "too_many_requests"));
    assert!(retry_after(&r).is_some_and(|s| (1..=60).contains(&s)), "{:?}", r.headers);
    // Logins tried for one phone: the fifth waits, even with the right code.
    for _ in 0..4 {
        let r = app.post("/api/v1/auth/login", &json!({ "phone": "13712349800", "code": "000000" }), None).await;
        assert_ne!(r.status, 429);
    }
    let r = app.post("/api/v1/auth/login", &json!({ "phone": "13712349800", "code": "000000" }), None).await;
    assert_eq!((r.status, r.error_code()), (429, "too_many_requests"));
    assert!(retry_after(&r).is_some());
    // Checkouts by one user: the third in a minute waits.
    let slot = app.open_slot(&staff, 10, 0, 30).await;
    let body = json!({ "slot_id": slot["id"], "address": flat_5_1_302(), "payment": "on_delivery" });
    for key in ["a", "b"] {
        assert_ne!(app.checkout(&token, key, &body).await.status, 429);
    }
    let r = app.checkout(&token, "c", &body).await;
    assert_eq!((r.status, r.error_code()), (429, "too_many_requests"));
    assert!(retry_after(&r).is_some());
    // Group-buy changes by one user.
    let gb = app.get("/api/v1/group-buys", Some(&token)).await.body["items"][0]["id"].clone();
    for _ in 0..2 {
        assert_ne!(app.delete(&format!("/api/v1/group-buys/{gb}/share"), Some(&token)).await.status, 429);
    }
    let r = app.delete(&format!("/api/v1/group-buys/{gb}/share"), Some(&token)).await;
    assert_eq!((r.status, r.error_code()), (429, "too_many_requests"));
}

const STAFF: &str = "13800000000";
/// 李先生, the member of the demo's quarantined flat 5-1-302.
const LI: &str = "13900000002";

fn flat_5_1_302() -> serde_json::Value {
    json!({ "building": "5", "unit": "1", "room": "302" })
}

async fn household_id(app: &tests::TestApp, staff: &str, b: &str, u: &str, r: &str) -> serde_json::Value {
    let found = app.get(&format!("/api/v1/admin/households?building={b}&unit={u}&room={r}"), Some(staff)).await;
    found.body["items"][0]["id"].clone()
}

async fn members(db: Db) {
    let app = tests::spawn_app_with(db, |c| c.sms.resend_interval = std::time::Duration::ZERO).await;
    let (staff, _) = app.login(STAFF).await;
    let (li, _) = app.login(LI).await;
    let (stranger, me) = app.login("13712349001").await;
    let stranger_id = me["id"].clone();

    // A stranger typing a quarantined flat's address waits; sees no flag, no order of theirs.
    let r = app.put("/api/v1/me/household", &flat_5_1_302(), Some(&stranger)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let household = &r.body["household"];
    assert_eq!(household["membership"], "pending");
    for flag in ["quarantined", "hardship", "elderly"] {
        assert_eq!(household.get(flag), None, "{flag}: {household}");
    }
    let me = app.get("/api/v1/me", Some(&stranger)).await.body;
    assert_eq!((me["household"]["membership"].as_str(), me["household"].get("quarantined")), (Some("pending"), None));
    let mine = app.get("/api/v1/orders", Some(&stranger)).await.body;
    assert_eq!(mine["items"], json!([]), "none of the household's orders");
    let gb = app.get("/api/v1/group-buys", Some(&stranger)).await.body;
    assert_eq!(gb["items"], json!([]), "no group-buy of the household's building before they are let in");
    // 李先生 is a member and sees the flags.
    let li_me = app.get("/api/v1/me", Some(&li)).await.body;
    assert_eq!(
        (li_me["household"]["membership"].as_str(), &li_me["household"]["quarantined"]),
        (Some("member"), &json!(true))
    );

    // The member sees the request (phone masked); nobody else does or can answer it.
    let requests = app.get("/api/v1/me/household/requests", Some(&li)).await;
    assert_eq!(requests.status, 200, "{:?}", requests.body);
    assert_eq!(requests.body["items"][0]["id"], stranger_id);
    assert_eq!(requests.body["items"][0]["phone"], "137****9001");
    assert!(requests.body["items"][0]["requested_at"].as_str().is_some());
    let (other, _) = app.login("13712349002").await;
    assert_eq!(
        app.put("/api/v1/me/household", &json!({ "building": "7", "unit": "1", "room": "101" }), Some(&other))
            .await
            .status,
        200
    );
    assert_eq!(app.get("/api/v1/me/household/requests", Some(&other)).await.body["items"], json!([]));
    let approve = format!("/api/v1/me/household/requests/{stranger_id}/approve");
    let r = app.post(&approve, &json!({}), Some(&other)).await;
    assert_eq!((r.status, r.error_code()), (404, "not_found"));
    assert_eq!(app.post(&approve, &json!({}), None).await.status, 401);
    assert_eq!(app.post(&approve, &json!({}), Some(&stranger)).await.status, 404, "not by themselves");

    // Rejected: the request is gone. Asked again and approved: a member, flags and all.
    let r = app.post(&format!("/api/v1/me/household/requests/{stranger_id}/reject"), &json!({}), Some(&li)).await;
    assert_eq!((r.status, &r.body["approved"]), (200, &json!(false)), "{:?}", r.body);
    assert_eq!(app.get("/api/v1/me", Some(&stranger)).await.body["household"], serde_json::Value::Null);
    assert_eq!(app.post(&approve, &json!({}), Some(&li)).await.status, 404, "no request any more");
    app.put("/api/v1/me/household", &flat_5_1_302(), Some(&stranger)).await;
    let r = app.post(&approve, &json!({}), Some(&li)).await;
    assert_eq!((r.status, &r.body["approved"]), (200, &json!(true)), "{:?}", r.body);
    let me = app.get("/api/v1/me", Some(&stranger)).await.body;
    assert_eq!(
        (me["household"]["membership"].as_str(), &me["household"]["quarantined"]),
        (Some("member"), &json!(true))
    );

    // Staff take a member out, and let a waiting one in through the household's own path.
    let flat = household_id(&app, &staff, "5", "1", "302").await;
    let member = format!("/api/v1/admin/households/{flat}/members/{stranger_id}");
    assert_eq!(app.delete(&member, Some(&li)).await.status, 403);
    assert_eq!(app.delete(&member, Some(&staff)).await.status, 204);
    assert_eq!(app.delete(&member, Some(&staff)).await.status, 404);
    assert_eq!(app.get("/api/v1/me", Some(&stranger)).await.body["household"], serde_json::Value::Null);
    app.put("/api/v1/me/household", &flat_5_1_302(), Some(&stranger)).await;
    let elsewhere = household_id(&app, &staff, "7", "1", "101").await;
    let wrong = app
        .post(&format!("/api/v1/admin/households/{elsewhere}/members/{stranger_id}"), &json!({}), Some(&staff))
        .await;
    assert_eq!(wrong.status, 404, "a request is answered for the household it asks for");
    assert_eq!(app.post(&member, &json!({}), Some(&li)).await.status, 403);
    assert_eq!(app.post(&member, &json!({}), Some(&staff)).await.status, 200);
    assert_eq!(app.get("/api/v1/me", Some(&stranger)).await.body["household"]["membership"], "member");

    // The register: a phone on it is a member at once; bad phones are refused whole.
    let register = format!("/api/v1/admin/households/{flat}/register");
    assert_eq!(app.put(&register, &json!({ "phones": ["12345"] }), Some(&staff)).await.status, 400);
    assert_eq!(app.put(&register, &json!({ "phones": ["13712349003"] }), Some(&li)).await.status, 403);
    let r = app.put(&register, &json!({ "phones": ["13712349003", "13712349003"] }), Some(&staff)).await;
    assert_eq!((r.status, &r.body["phones"]), (200, &json!(["13712349003"])), "{:?}", r.body);
    let (grandma, _) = app.login("13712349003").await;
    let r = app.put("/api/v1/me/household", &flat_5_1_302(), Some(&grandma)).await;
    assert_eq!(
        (r.body["household"]["membership"].as_str(), &r.body["household"]["quarantined"]),
        (Some("member"), &json!(true))
    );
    assert_eq!(
        app.put("/api/v1/admin/households/999999/register", &json!({ "phones": [] }), Some(&staff)).await.status,
        404
    );

    // A plain address nobody lives at: the first is a member, the next one waits for them.
    let plain = json!({ "building": "8", "unit": "3", "room": "601" });
    let (first, _) = app.login("13712349004").await;
    let (second, _) = app.login("13712349005").await;
    assert_eq!(app.put("/api/v1/me/household", &plain, Some(&first)).await.body["household"]["membership"], "member");
    assert_eq!(app.put("/api/v1/me/household", &plain, Some(&second)).await.body["household"]["membership"], "pending");
    // Asking again for one's own home keeps it.
    assert_eq!(app.put("/api/v1/me/household", &plain, Some(&first)).await.body["household"]["membership"], "member");
    assert_eq!(
        app.get("/api/v1/me/household/requests", Some(&first)).await.body["items"].as_array().map(Vec::len),
        Some(1)
    );
}

/// A new resident whose first order carries a quarantined flat's address: the order goes to
/// that door, but it is only a request to join, and it takes no place held for priority.
async fn first_order_asks(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    let cabbage = app.product_id("大白菜").await;
    // One place, held for priority households.
    let slot = app.open_slot(&staff, 2, 1, 30).await;
    let order = |key: &'static str| json!({ "slot_id": slot["id"], "address": flat_5_1_302(), "payment": "on_delivery", "note": key });
    let (stranger, _) = app.login("13712349011").await;
    app.put_in_cart(&stranger, cabbage, 1).await;
    let first = app.checkout(&stranger, "first", &order("first")).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let me = app.get("/api/v1/me", Some(&stranger)).await.body;
    assert_eq!(me["household"]["membership"], "pending", "{me}");
    // The held place is not theirs: another stranger's order to that door finds the slot full.
    let (another, _) = app.login("13712349013").await;
    app.put_in_cart(&another, cabbage, 1).await;
    let second = app.checkout(&another, "second", &order("second")).await;
    assert_eq!((second.status, second.error_code()), (409, "slot_full"), "{:?}", second.body);
    // Nor a second order of the first stranger's: one open order per household in a slot.
    app.put_in_cart(&stranger, cabbage, 1).await;
    let again = app.checkout(&stranger, "again", &order("again")).await;
    assert_eq!((again.status, again.error_code()), (409, "household_slot_taken"), "{:?}", again.body);
    // 李先生, a member, takes it.
    let (li, _) = app.login(LI).await;
    app.put_in_cart(&li, cabbage, 1).await;
    let r = app
        .checkout(&li, "li", &json!({ "slot_id": slot["id"], "address": flat_5_1_302(), "payment": "on_delivery" }))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    // And a new resident at a plain new address is its member at once.
    let (new, _) = app.login("13712349012").await;
    let slot2 = app.open_slot(&staff, 10, 0, 30).await;
    app.put_in_cart(&new, cabbage, 1).await;
    let plain = json!({ "slot_id": slot2["id"], "address": { "building": "9", "unit": "2", "room": "702" }, "payment": "on_delivery" });
    assert_eq!(app.checkout(&new, "plain", &plain).await.status, 201);
    assert_eq!(app.get("/api/v1/me", Some(&new)).await.body["household"]["membership"], "member");
}

async fn protective_headers(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.login("13900000002").await;
    let header = |r: &tests::Reply, name: &str| {
        r.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned).unwrap_or_default()
    };
    let me = app.get("/api/v1/me", Some(&token)).await;
    let products = app.get("/api/v1/products", None).await;
    let missing = app.get("/api/v1/nothing-here", None).await;
    let bad = app.post("/api/v1/auth/login", &json!({ "phone": "1" }), None).await;
    for (what, r) in [("me", &me), ("products", &products), ("404", &missing), ("400", &bad)] {
        assert_eq!(header(r, "x-content-type-options"), "nosniff", "{what}");
        assert!(header(r, "content-security-policy").contains("frame-ancestors 'none'"), "{what}");
        assert_eq!(header(r, "referrer-policy"), "no-referrer", "{what}");
        assert_eq!(header(r, "strict-transport-security"), "", "{what}: no HSTS unless served over TLS");
    }
    // A resident's own answers stay out of every cache; the catalogue is revalidated, not hidden.
    assert_eq!(header(&me, "cache-control"), "no-store");
    assert_eq!(header(&missing, "cache-control"), "no-store");
    assert_eq!(header(&products, "cache-control"), "no-cache");
    // The storefront's pages: scripts only from the market itself (and its inline boot by hash).
    let page = app.client.get(app.url("/orders")).send().await.expect("page");
    let csp = page.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{csp}");
    assert!(!csp.contains("'unsafe-eval'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers().get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]));
}
