//! Product photos from a phone: upright, stripped of their metadata, served for a year.

use serde_json::json;
use tests::{on_both_databases, Db, TestApp};

on_both_databases! {
    staff_and_stalls_give_products_photos => photos;
}

/// A phone's JPEG of `w`×`h` (left half red) that says it was taken turned (EXIF orientation 6)
/// and where (a GPS block).
fn phone_photo(w: u32, h: u32) -> Vec<u8> {
    let picture =
        image::RgbImage::from_fn(
            w,
            h,
            |x, _| if x < w / 2 { image::Rgb([220, 20, 20]) } else { image::Rgb([20, 20, 220]) },
        );
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90).encode_image(&picture).expect("jpeg");
    let mut tiff: Vec<u8> = b"II*\0\x08\0\0\0".to_vec();
    for (tag, kind, value) in [(0x0112u16, 3u16, 6u32), (0x8825, 4, 38)] {
        tiff.extend_from_slice(&tag.to_le_bytes());
        tiff.extend_from_slice(&kind.to_le_bytes());
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&value.to_le_bytes());
    }
    tiff.splice(8..8, 2u16.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&2u32.to_le_bytes());
    tiff.extend_from_slice(b"N\0\0\0");
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(app1.len() + 2).expect("short").to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A slot still taking orders now (the demo's first pickup slot of the day closes in the
/// afternoon).
fn still_open(slot: &serde_json::Value) -> bool {
    slot["cutoff_at"]
        .as_str()
        .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
        .is_some_and(|c| c > chrono::Utc::now() + chrono::Duration::minutes(5))
}

async fn upload(app: &TestApp, path: &str, token: &str, bytes: Vec<u8>, content_type: &str) -> tests::Reply {
    app.send(app.client.put(app.url(path)).bearer_auth(token).header("Content-Type", content_type).body(bytes)).await
}

async fn photos(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let (holder, me) = app.login("13800000101").await;
    let (resident, _) = app.login("13712345676").await;
    let stall = me["vendor_id"].as_i64().expect("stall");
    let theirs = app.get(&format!("/api/v1/products?vendor_id={stall}"), None).await.body;
    let id = theirs["items"][0]["id"].as_i64().expect("a product of the stall");
    assert_eq!(theirs["items"][0]["photo"], json!(null), "no photo yet");
    let other = app.get(&format!("/api/v1/products?vendor_id={}", stall + 1), None).await.body;
    let other_id = other["items"][0]["id"].as_i64().expect("another stall's product");
    let staff_path = format!("/api/v1/admin/products/{id}/photo");

    // Not a picture, or none: a clear 400 and nothing changes.
    for (bytes, why) in [
        (Vec::new(), "a 0-byte file"),
        (b"PK\x03\x04\x14\0\0\0\x08\0 a zip called photo.jpg".to_vec(), "a zip disguised as a JPEG"),
        (b"\xFF\xD8\xFF\xE0\0\x10JFIF broken".to_vec(), "a broken JPEG"),
    ] {
        let r = upload(&app, &staff_path, &staff, bytes, "image/jpeg").await;
        assert_eq!((r.status, r.error_code()), (400, "invalid_image"), "{why}: {:?}", r.body);
    }
    let r = upload(&app, &staff_path, &staff, vec![0xFF; 10 * 1024 * 1024 + 1], "image/jpeg").await;
    assert_eq!(r.status, 413, "over 10 MB");
    assert_eq!(app.get(&format!("/api/v1/products/{id}"), None).await.body["photo"], json!(null));
    assert_eq!(upload(&app, &staff_path, &resident, phone_photo(40, 30), "image/jpeg").await.status, 403);
    let r =
        upload(&app, &format!("/api/v1/vendor/products/{other_id}/photo"), &holder, phone_photo(40, 30), "image/jpeg")
            .await;
    assert_eq!(r.status, 404, "another stall's product");

    // The stall holder's phone photo: upright, stripped, two sizes, cached for a year.
    let r =
        upload(&app, &format!("/api/v1/vendor/products/{id}/photo"), &holder, phone_photo(1600, 1200), "image/jpeg")
            .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let url = r.body["photo"]["url"].as_str().expect("url").to_owned();
    let thumb = r.body["photo"]["thumb_url"].as_str().expect("thumb").to_owned();
    let shown = app.get(&format!("/api/v1/products/{id}"), None).await.body;
    assert_eq!(shown["photo"]["url"], url.as_str(), "residents see it at once");
    let listed = app.get(&format!("/api/v1/products?vendor_id={stall}"), None).await.body;
    assert!(listed["items"].as_array().expect("items").iter().any(|p| p["photo"]["thumb_url"] == thumb.as_str()));
    // In the resident's cart too.
    app.put_in_cart(&resident, id, 1).await;
    let cart = app.get("/api/v1/cart", Some(&resident)).await.body;
    let line = cart["items"].as_array().and_then(|l| l.iter().find(|i| i["product_id"] == id)).cloned();
    assert_eq!(line.map(|l| l["photo"]["thumb_url"].clone()), Some(json!(thumb)), "{cart}");
    // And on the order's page, once bought.
    let slots = app.get("/api/v1/slots", None).await.body;
    let slot = slots["items"]
        .as_array()
        .and_then(|l| l.iter().find(|s| s["kind"] == "pickup" && still_open(s)))
        .map(|s| s["id"].clone());
    let body = json!({ "slot_id": slot.expect("a pickup slot"), "payment": "on_delivery" });
    let order = app.checkout(&resident, "photo-order", &body).await;
    assert_eq!(order.status, 201, "{:?}", order.body);
    let shown = app.get(&format!("/api/v1/orders/{}", order.body["id"]), Some(&resident)).await.body;
    let line = shown["items"].as_array().and_then(|l| l.iter().find(|i| i["product_id"] == id)).cloned();
    assert_eq!(line.map(|l| l["photo"]["thumb_url"].clone()), Some(json!(thumb)), "{shown}");
    for (path, side) in [(&url, 960), (&thumb, 192)] {
        let res = app.client.get(app.url(path)).send().await.expect("photo");
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_eq!(header("content-type"), "image/jpeg");
        assert_eq!(header("cache-control"), "public, max-age=31536000, immutable");
        let bytes = res.bytes().await.expect("bytes");
        assert!(!bytes.windows(4).any(|w| w == b"Exif"), "no EXIF (no GPS) left");
        let picture = image::load_from_memory(&bytes).expect("a JPEG");
        assert_eq!((picture.width(), picture.height()), (side * 3 / 4, side), "turned upright");
    }
    assert_eq!(app.client.get(app.url("/photos/nothing.jpg")).send().await.expect("404").status().as_u16(), 404);
    // Staff replace it with a PNG; the old picture stays where it was (its name is its content).
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(64, 64, image::Rgb([30, 160, 60])))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    let r = upload(&app, &staff_path, &staff, png, "image/png").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_ne!(r.body["photo"]["url"], url.as_str());
    // A group-buy's items carry their product's photo too: the demo's group-buy's first item,
    // photographed by staff.
    let groups = app.get("/api/v1/group-buys", Some(&staff)).await.body;
    let group = format!("/api/v1/group-buys/{}", groups["items"][0]["id"]);
    let item = app.get(&group, Some(&staff)).await.body["items"][0]["product_id"].as_i64().expect("an item");
    let r =
        upload(&app, &format!("/api/v1/admin/products/{item}/photo"), &staff, phone_photo(40, 30), "image/jpeg").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let shown = app.get(&group, Some(&staff)).await.body;
    assert_eq!(shown["items"][0]["photo"]["thumb_url"], r.body["photo"]["thumb_url"], "{shown}");
    let audit = app.get("/api/v1/admin/audit?subject=product", Some(&staff)).await.body;
    let actions: Vec<_> = audit["items"].as_array().expect("items").iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions, [json!("photo"), json!("photo"), json!("photo")]);
}
