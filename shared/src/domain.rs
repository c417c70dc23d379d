//! Domain newtypes: a value of one of these types is valid, because the only ways to make one
//! check it. The server and the browser validate with this same code.

use crate::ErrorCode;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value was refused: the error code a client gets, and the text shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    pub code: ErrorCode,
    pub text: &'static str,
}

pub const PHONE_LENGTH: ParseError =
    ParseError { code: ErrorCode::InvalidPhone, text: "手机号应为11位数字 (phone must be 11 digits)" };
pub const PHONE_MAINLAND: ParseError =
    ParseError { code: ErrorCode::InvalidPhone, text: "不是有效的大陆手机号 (not a mainland mobile number)" };
pub const SMS_CODE_FORM: ParseError =
    ParseError { code: ErrorCode::InvalidField, text: "验证码应为6位数字 (the code has 6 digits)" };
pub const FEN_RANGE: ParseError =
    ParseError { code: ErrorCode::InvalidField, text: "金额必须在0到1,000,000元之间 (amount out of range)" };
pub const STOCK_RANGE: ParseError =
    ParseError { code: ErrorCode::InvalidField, text: "库存必须在0到1,000,000之间 (stock out of range)" };

impl ParseError {
    const ALL: [ParseError; 5] = [PHONE_LENGTH, PHONE_MAINLAND, SMS_CODE_FORM, FEN_RANGE, STOCK_RANGE];

    /// The refusal behind a JSON reader's message about a field of one of these types (a body
    /// whose `phone` is not a phone), so that it is answered with its own code.
    pub fn behind(message: &str) -> Option<ParseError> {
        Self::ALL.into_iter().find(|e| message.contains(e.text))
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

impl std::error::Error for ParseError {}

/// A mainland China mobile number: 11 digits, `1` then `3`-`9`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        let b = s.as_bytes();
        if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) {
            return Err(PHONE_LENGTH);
        }
        if b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(PHONE_MAINLAND);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `139****0001`, for places where the whole number need not show.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl TryFrom<String> for Phone {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> Self {
        p.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A six-digit SMS verification code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsCode(String);

impl SmsCode {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        if s.len() == 6 && s.bytes().all(|c| c.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(SMS_CODE_FORM)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Money in fen (1/100 yuan), never negative. Requests and answers carry it as a plain integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "i64", into = "i64")]
pub struct Fen(i64);

/// The highest price a product may have: 1,000,000 yuan.
pub const MAX_FEN: i64 = 100_000_000;

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// Any amount that is not negative (a total may pass `MAX_FEN`).
    pub fn new(v: i64) -> Result<Self, ParseError> {
        if v >= 0 {
            Ok(Self(v))
        } else {
            Err(FEN_RANGE)
        }
    }

    /// A product's price: 0 to `MAX_FEN`.
    pub fn price(v: i64) -> Result<Self, ParseError> {
        if v <= MAX_FEN {
            Self::new(v)
        } else {
            Err(FEN_RANGE)
        }
    }

    /// An amount the market itself keeps (its database holds prices and totals non-negative).
    pub fn stored(v: i64) -> Self {
        Self(v.max(0))
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// `n` of something at this price.
    pub fn times(self, n: i64) -> Fen {
        Fen(self.0.saturating_mul(n.max(0)))
    }

    /// `¥12.50`
    pub fn yuan(self) -> String {
        format!("¥{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl std::ops::Add for Fen {
    type Output = Fen;
    fn add(self, other: Fen) -> Fen {
        Fen(self.0.saturating_add(other.0))
    }
}

impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        iter.fold(Fen::ZERO, |a, b| a + b)
    }
}

impl TryFrom<i64> for Fen {
    type Error = ParseError;
    fn try_from(v: i64) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<Fen> for i64 {
    fn from(f: Fen) -> Self {
        f.0
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Stock on hand, in the product's unit; never negative.
pub const MAX_STOCK: i64 = 1_000_000;

/// `1.20`, `¥12.5` or `3元` (yuan, as people write prices) -> fen; None if it is not an amount.
pub fn fen_of_yuan(yuan: &str) -> Option<i64> {
    let yuan = yuan.trim().trim_start_matches(['¥', '￥']).trim_end_matches('元').trim();
    let (whole, part) = yuan.split_once('.').unwrap_or((yuan, ""));
    if part.len() > 2
        || whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let cents: i64 = format!("{part:0<2}").parse().ok()?;
    whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(cents)
}

pub fn parse_stock(v: i64) -> Result<i64, ParseError> {
    if (0..=MAX_STOCK).contains(&v) {
        Ok(v)
    } else {
        Err(STOCK_RANGE)
    }
}

/// What a user may do. A user can hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Resident,
    Volunteer,
    Vendor,
    Staff,
    /// 团长: a resident who runs group-buys for the buildings staff gave them.
    Leader,
    /// A farm, cooperative or wholesaler that offers goods to the stalls (产销对接).
    Producer,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Resident, Role::Volunteer, Role::Vendor, Role::Staff, Role::Leader, Role::Producer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Volunteer => "volunteer",
            Role::Vendor => "vendor",
            Role::Staff => "staff",
            Role::Leader => "leader",
            Role::Producer => "producer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_read_as_people_write_them() {
        let read = |s: &str| fen_of_yuan(s);
        assert_eq!(
            (read("1.2"), read("¥12.50"), read(" ￥3元 "), read("0.05")),
            (Some(120), Some(1250), Some(300), Some(5))
        );
        for bad in ["", "abc", "1.234", "-1", "1,5", ".5", "1e3"] {
            assert_eq!(read(bad), None, "{bad}");
        }
    }

    #[test]
    fn phone_accepts_mainland_mobiles_only() {
        assert!(Phone::parse("13900000001").is_ok());
        assert!(Phone::parse(" 18612345678 ").is_ok());
        for bad in ["", "1390000000", "139000000012", "12900000001", "23900000001", "1390000000a", "+8613900000001"] {
            assert!(Phone::parse(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(Phone::parse("13912345678").map(|p| p.masked()), Ok("139****5678".to_owned()));
    }

    #[test]
    fn phone_deserialization_validates() {
        let ok: Result<Phone, _> = serde_json::from_str("\"13800000000\"");
        assert!(ok.is_ok());
        let bad = serde_json::from_str::<Phone>("\"12345\"").expect_err("refused");
        // A JSON body with a bad phone is answered with the phone's own refusal.
        assert_eq!(ParseError::behind(&bad.to_string()), Some(PHONE_LENGTH));
        let price = serde_json::from_str::<Fen>("-5").expect_err("refused");
        assert_eq!(ParseError::behind(&price.to_string()).map(|e| e.code), Some(ErrorCode::InvalidField));
        assert_eq!(ParseError::behind("invalid type: integer, expected a string"), None);
    }

    #[test]
    fn fen_is_never_negative() {
        assert!(Fen::new(-1).is_err());
        assert!(Fen::price(MAX_FEN + 1).is_err());
        assert!(Fen::new(MAX_FEN + 1).is_ok(), "a total may pass the highest price");
        assert_eq!(Fen::stored(-3), Fen::ZERO);
        assert_eq!(Fen::price(120).map(|p| p.times(3) + Fen::stored(40)), Fen::new(400));
        assert_eq!(Fen::new(1250).map(Fen::yuan), Ok("¥12.50".to_owned()));
        assert_eq!(Fen::new(5).map(Fen::yuan), Ok("¥0.05".to_owned()));
    }

    #[test]
    fn sms_code_is_six_digits() {
        assert!(SmsCode::parse("123456").is_ok());
        assert!(SmsCode::parse("12345").is_err());
        assert!(SmsCode::parse("12345a").is_err());
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
