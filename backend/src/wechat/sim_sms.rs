//! Tencent Cloud SMS as the simulator plays it (API 3.0 `SendSms`, version 2021-01-11): every
//! request's TC3-HMAC-SHA256 signature is checked with the demo's secret key over its body, host
//! and day; a request more than five minutes old, signed with another key or for another body
//! is refused as Tencent refuses it (`AuthFailure.SignatureFailure`, `AuthFailure.SignatureExpire`).
//! A phone ending in `9999` is over its daily limit (`LimitExceeded.PhoneNumberDailyLimit`), for
//! tests of a failure to send. What was sent is kept for tests (`GET /sim/sms`).

use crate::auth::sms::{tc3_signature, TENCENT_ACTION, TENCENT_VERSION};
use crate::config::{DEMO_SMS_SECRET_ID, DEMO_SMS_SECRET_KEY};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use std::sync::Mutex;

/// The messages sent: (phone as given, template parameters).
#[derive(Default)]
pub struct Outbox(pub Mutex<Vec<serde_json::Value>>);

fn refused(code: &str, message: &str) -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({ "Response": { "Error": { "Code": code, "Message": message }, "RequestId": "sim" } }))
}

/// `POST /sms`: one SendSms request.
pub async fn send_sms(req: HttpRequest, body: web::Bytes, outbox: web::Data<Outbox>) -> HttpResponse {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if header("X-TC-Action") != TENCENT_ACTION || header("X-TC-Version") != TENCENT_VERSION {
        return refused("InvalidAction", "not SendSms of 2021-01-11");
    }
    let Ok(timestamp) = header("X-TC-Timestamp").parse::<i64>() else {
        return refused("MissingParameter", "X-TC-Timestamp");
    };
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 300 {
        return refused("AuthFailure.SignatureExpire", "the request is more than five minutes old");
    }
    let authorization = header("Authorization");
    let credential = authorization.split("Credential=").nth(1).and_then(|c| c.split(',').next()).unwrap_or("");
    let mut parts = credential.split('/');
    let (id, date) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if id != DEMO_SMS_SECRET_ID {
        return refused("AuthFailure.SecretIdNotFound", "unknown SecretId");
    }
    let day = chrono::DateTime::from_timestamp(timestamp, 0).map(|t| t.format("%Y-%m-%d").to_string());
    let payload = String::from_utf8_lossy(&body).into_owned();
    let expected = tc3_signature(DEMO_SMS_SECRET_KEY, &header("Host"), &payload, timestamp, date);
    let given = authorization.rsplit("Signature=").next().unwrap_or("");
    if day.as_deref() != Some(date) || given != expected || !authorization.contains("SignedHeaders=content-type;host") {
        return refused("AuthFailure.SignatureFailure", "the signature does not match");
    }
    let Ok(request) = serde_json::from_str::<serde_json::Value>(&payload) else {
        return refused("InvalidParameter", "the body is not JSON");
    };
    let phone = request["PhoneNumberSet"][0].as_str().unwrap_or("").to_owned();
    let filled =
        ["SmsSdkAppId", "SignName", "TemplateId"].iter().all(|k| request[k].as_str().is_some_and(|v| !v.is_empty()));
    if !phone.starts_with("+86") || !filled {
        return refused("InvalidParameter", "PhoneNumberSet, SmsSdkAppId, SignName and TemplateId are needed");
    }
    if phone.ends_with("9999") {
        let status = json!({ "PhoneNumber": phone, "Code": "LimitExceeded.PhoneNumberDailyLimit",
                             "Message": "the phone has had its messages for today", "SerialNo": "" });
        return HttpResponse::Ok().json(json!({ "Response": { "SendStatusSet": [status], "RequestId": "sim" } }));
    }
    outbox.0.lock().expect("outbox").push(json!({ "phone": phone, "params": request["TemplateParamSet"] }));
    let status = json!({ "PhoneNumber": phone, "Code": "Ok", "Message": "send success", "SerialNo": "sim", "Fee": 1 });
    HttpResponse::Ok().json(json!({ "Response": { "SendStatusSet": [status], "RequestId": "sim" } }))
}

/// `GET /sim/sms`: what was sent, oldest first.
pub async fn sent(outbox: web::Data<Outbox>) -> HttpResponse {
    HttpResponse::Ok().json(outbox.0.lock().expect("outbox").clone())
}
