//! Tokens an attacker might try: unsigned, signed with another key, expired, for another
//! audience or issuer, tampered with, or claiming a role the user does not have.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use tests::{on_both_databases, spawn_app, Db, TEST_JWT_SECRET};

on_both_databases! {
    forged_and_stale_tokens_are_refused => forged_tokens;
    a_role_claim_in_the_token_grants_nothing => forged_role;
}

fn b64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn claims(sub: i64, exp_offset: i64, aud: &str, iss: &str) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": sub.to_string(), "iss": iss, "aud": aud, "iat": now, "exp": now + exp_offset, "jti": "forged" })
}

fn sign(claims: &serde_json::Value, key: &str) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(key.as_bytes())).expect("sign")
}

async fn forged_tokens(db: Db) {
    let app = spawn_app(db).await;
    let (good, user) = app.login("13900000001").await;
    let id = user["id"].as_i64().expect("id");
    assert_eq!(app.get("/api/v1/me", Some(&good)).await.status, 200);
    // A well-formed token made with the test key is accepted: the refusals below are about the flaw each has.
    let control = sign(&claims(id, 600, "fuxiansheng-api", "fuxiansheng"), TEST_JWT_SECRET);
    assert_eq!(app.get("/api/v1/me", Some(&control)).await.status, 200);

    let none_alg = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims(id, 600, "fuxiansheng-api", "fuxiansheng").to_string().as_bytes())
    );
    let hs512 = encode(
        &Header::new(Algorithm::HS512),
        &claims(id, 600, "fuxiansheng-api", "fuxiansheng"),
        &EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
    )
    .expect("sign");
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = b64(claims(id + 1, 600, "fuxiansheng-api", "fuxiansheng").to_string().as_bytes());
    let tampered = parts.join(".");
    let cases = [
        ("alg none", none_alg),
        ("other algorithm", hs512),
        (
            "wrong key",
            sign(&claims(id, 600, "fuxiansheng-api", "fuxiansheng"), "some-other-secret-some-other-secret!!"),
        ),
        ("expired", sign(&claims(id, -120, "fuxiansheng-api", "fuxiansheng"), TEST_JWT_SECRET)),
        ("wrong audience", sign(&claims(id, 600, "another-app", "fuxiansheng"), TEST_JWT_SECRET)),
        ("wrong issuer", sign(&claims(id, 600, "fuxiansheng-api", "someone-else"), TEST_JWT_SECRET)),
        ("unknown user", sign(&claims(999_999, 600, "fuxiansheng-api", "fuxiansheng"), TEST_JWT_SECRET)),
        ("payload swapped", tampered),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in cases {
        let r = app.get("/api/v1/me", Some(&token)).await;
        assert_eq!(r.status, 401, "{what} must be refused: {:?}", r.body);
        assert_eq!(r.error_code(), "invalid_token", "{what}");
    }
    let r = app.send(app.client.get(app.url("/api/v1/me")).header("Authorization", "Basic abc")).await;
    assert_eq!(r.status, 401);
}

async fn forged_role(db: Db) {
    let app = spawn_app(db).await;
    let (_, user) = app.login("13900000001").await;
    let mut c = claims(user["id"].as_i64().expect("id"), 600, "fuxiansheng-api", "fuxiansheng");
    c["roles"] = json!(["staff"]);
    c["role"] = json!("staff");
    let token = sign(&c, TEST_JWT_SECRET);
    let cabbage = app.product_id("大白菜").await;
    let r = app.patch(&format!("/api/v1/admin/products/{cabbage}"), &json!({ "stock": 1 }), Some(&token)).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.body["roles"], json!(["resident"]));
}
