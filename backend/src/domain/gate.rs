//! The market's gate (扫码入场): a gate's name and code, and whether a scan is a new visit.

use super::Refusal;
use chrono::{DateTime, Duration, Utc};

/// A second scan by the same person within this long is the same visit (a phone held up twice).
pub const SAME_VISIT_MINUTES: i64 = 10;

/// What a scan at the gate does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A visit is recorded now.
    New,
    /// The visit that began then stands.
    Again(DateTime<Utc>),
}

/// A scan is a new visit unless the same person's last one began within `SAME_VISIT_MINUTES`.
pub fn decide_entry(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Entry {
    match last {
        Some(at) if now - at < Duration::minutes(SAME_VISIT_MINUTES) && at <= now => Entry::Again(at),
        _ => Entry::New,
    }
}

/// A gate's name as staff give it: 1–20 characters.
pub fn check_name(name: &str) -> Result<String, Refusal> {
    let name = name.trim();
    match name.chars().count() {
        0 => Err(Refusal::field("name", "不能为空 (required)")),
        1..=20 => Ok(name.to_owned()),
        _ => Err(Refusal::field("name", "最多20个字 (at most 20 characters)")),
    }
}

/// A gate's code from random bytes: 12 letters and digits a camera reads back exactly (no 0/O,
/// 1/l), about 70 bits, so that a code cannot be guessed from outside the gate.
pub fn code_from(bytes: &[u8; 12]) -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyz";
    bytes.iter().map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect()
}

/// Whether text can be a gate's code at all (checked before the database is asked).
pub fn plausible_code(code: &str) -> bool {
    code.len() == 12 && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_scan_within_minutes_is_the_same_visit() {
        let now = Utc::now();
        assert_eq!(decide_entry(None, now), Entry::New);
        let first = now - Duration::minutes(3);
        assert_eq!(decide_entry(Some(first), now), Entry::Again(first));
        assert_eq!(decide_entry(Some(now - Duration::minutes(SAME_VISIT_MINUTES)), now), Entry::New);
        assert_eq!(decide_entry(Some(now + Duration::minutes(1)), now), Entry::New, "a clock gone back");
    }

    #[test]
    fn names_and_codes() {
        assert_eq!(check_name(" 北门 ").as_deref(), Ok("北门"));
        assert!(check_name(" ").is_err());
        assert!(check_name(&"门".repeat(21)).is_err());
        let code = code_from(&[0, 31, 32, 255, 7, 8, 9, 10, 11, 12, 13, 14]);
        assert_eq!(code.len(), 12);
        assert!(plausible_code(&code));
        assert!(!code.contains(['0', 'o', '1', 'l']));
        assert!(!plausible_code("abc"));
        assert!(!plausible_code("abcdefghijk!"));
    }
}
