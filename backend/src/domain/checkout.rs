//! Checkout: what a valid request is, why a checkout can be refused, and what a refusal says.

use sha2::{Digest, Sha256};
use shared::api::{Address, CheckoutRequest};
use shared::{ErrorBody, ErrorCode};

pub const MAX_NOTE_CHARS: usize = 200;
pub const MAX_KEY_CHARS: usize = 128;
/// One line of a cart: at most this many of one product.
pub const MAX_LINE_QUANTITY: i64 = 99;

/// Why the market said no. Each is a 409 (or 400/404) with its own code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    CartEmpty,
    NoSuchSlot,
    SlotClosed,
    SlotFull,
    OutOfStock { name: String },
    OverLimit { name: String, limit: i64 },
    AddressNeeded,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        self.code().status()
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Refusal::CartEmpty => ErrorCode::CartEmpty,
            Refusal::NoSuchSlot => ErrorCode::NotFound,
            Refusal::SlotClosed => ErrorCode::SlotClosed,
            Refusal::SlotFull => ErrorCode::SlotFull,
            Refusal::OutOfStock { .. } => ErrorCode::OutOfStock,
            Refusal::OverLimit { .. } => ErrorCode::OverLimit,
            Refusal::AddressNeeded => ErrorCode::InvalidField,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::CartEmpty => "购物车是空的 (the cart is empty)".into(),
            Refusal::NoSuchSlot => "没有这个配送时段 (no such time slot)".into(),
            Refusal::SlotClosed => "该时段已截止下单 (this slot no longer takes orders)".into(),
            Refusal::SlotFull => "该时段已约满，请选择其他时段 (this slot is full; choose another)".into(),
            Refusal::OutOfStock { name } => out_of_stock_message(name),
            Refusal::OverLimit { name, limit } => over_limit_message(name, &limit.to_string()),
            Refusal::AddressNeeded => {
                "送货上门需要填写楼号、单元和房间号 (delivery needs building, unit and room)".into()
            }
        }
    }

    /// The JSON the client gets, exactly as stored for idempotent replay.
    pub fn body(&self) -> String {
        serde_json::to_string(&ErrorBody::new(self.code(), self.message())).unwrap_or_default()
    }
}

fn out_of_stock_message(name: &str) -> String {
    format!("{name} 库存不足 (not enough {name} left)")
}

fn over_limit_message(name: &str, limit: &str) -> String {
    format!("{name} 每单限购{limit} ({name}: at most {limit} per order)")
}

/// Every refusal's answer as `{code: {status, body}}`, with `%NAME%` and `%LIMIT%` where the
/// product's name and limit go: PostgreSQL's checkout function renders refusals from these,
/// so the words have one source.
pub fn refusal_templates() -> serde_json::Value {
    let render = |key: &str, r: Refusal, message: String| {
        let body = serde_json::to_string(&ErrorBody::new(r.code(), message)).unwrap_or_default();
        (key.to_owned(), serde_json::json!({ "status": r.status(), "body": body }))
    };
    let named = |n: &str| n.to_owned();
    let entries = [
        render("cart_empty", Refusal::CartEmpty, Refusal::CartEmpty.message()),
        render("no_such_slot", Refusal::NoSuchSlot, Refusal::NoSuchSlot.message()),
        render("slot_closed", Refusal::SlotClosed, Refusal::SlotClosed.message()),
        render("slot_full", Refusal::SlotFull, Refusal::SlotFull.message()),
        render("address_needed", Refusal::AddressNeeded, Refusal::AddressNeeded.message()),
        render("out_of_stock", Refusal::OutOfStock { name: named("%NAME%") }, out_of_stock_message("%NAME%")),
        render(
            "over_limit",
            Refusal::OverLimit { name: named("%NAME%"), limit: 0 },
            over_limit_message("%NAME%", "%LIMIT%"),
        ),
    ];
    serde_json::Value::Object(entries.into_iter().collect())
}

/// Checks the parts of a checkout request that need no database.
pub fn validate(req: &CheckoutRequest) -> Result<(), (ErrorCode, String)> {
    if let Some(note) = &req.note {
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err((ErrorCode::InvalidField, format!("note is limited to {MAX_NOTE_CHARS} characters")));
        }
    }
    if let Some(a) = &req.address {
        validate_address(a)?;
    }
    Ok(())
}

pub fn validate_address(a: &Address) -> Result<(), (ErrorCode, String)> {
    for (field, value) in [("building", &a.building), ("unit", &a.unit), ("room", &a.room)] {
        let v = value.trim();
        if v.is_empty() || v.chars().count() > 10 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err((ErrorCode::InvalidField, format!("address.{field} must be a short number such as 3 or 501")));
        }
    }
    Ok(())
}

pub fn validate_key(key: &str) -> Result<(), (ErrorCode, String)> {
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err((
            ErrorCode::InvalidField,
            format!("Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters"),
        ));
    }
    Ok(())
}

/// A fingerprint of the request body, so a reused key with a different body is recognised.
pub fn request_hash(req: &CheckoutRequest) -> String {
    let canonical = serde_json::to_string(req).unwrap_or_default();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// Six digits the resident shows the volunteer at the door.
pub fn new_handoff_code() -> String {
    use rand::Rng;
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::order::Payment;

    fn req(note: Option<&str>) -> CheckoutRequest {
        CheckoutRequest {
            slot_id: 1,
            address: Some(Address { building: "3".into(), unit: "2".into(), room: "501".into() }),
            payment: Payment::OnDelivery,
            note: note.map(Into::into),
        }
    }

    #[test]
    fn validation_and_hash() {
        assert!(validate(&req(Some("放门口"))).is_ok());
        assert!(validate(&req(Some(&"长".repeat(201)))).is_err());
        assert_eq!(request_hash(&req(None)), request_hash(&req(None)));
        assert_ne!(request_hash(&req(None)), request_hash(&req(Some("x"))));
        let bad = Address { building: "3号楼; DROP".into(), unit: "2".into(), room: "501".into() };
        assert!(validate_address(&bad).is_err());
        assert!(validate_key("abc-123").is_ok());
        assert!(validate_key("").is_err());
        assert!(validate_key("有中文").is_err());
    }

    #[test]
    fn templates_render_like_the_refusals() {
        let t = refusal_templates();
        let body =
            t["over_limit"]["body"].as_str().unwrap_or_default().replace("%NAME%", "草莓").replace("%LIMIT%", "3");
        assert_eq!(body, Refusal::OverLimit { name: "草莓".into(), limit: 3 }.body());
        assert_eq!(t["slot_full"]["status"], 409);
        assert_eq!(t["no_such_slot"]["status"], 404);
    }

    #[test]
    fn refusal_bodies_have_the_api_shape() {
        let body: serde_json::Value = serde_json::from_str(&Refusal::SlotFull.body()).expect("json");
        assert_eq!(body["error"]["code"], "slot_full");
        assert_eq!(Refusal::OutOfStock { name: "鸡蛋".into() }.status(), 409);
    }
}
