//! Time is UTC inside; at the edges it is Asia/Shanghai, which has been UTC+8 all year round
//! since 1991 (no daylight saving), so a fixed offset is exact.

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, TimeZone, Utc};

pub fn shanghai_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()))
}

/// `2026-11-30T08:00:00+08:00`
pub fn to_api(t: DateTime<Utc>) -> String {
    t.with_timezone(&shanghai_offset()).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An RFC 3339 time with its offset; whole seconds are kept.
pub fn parse_api(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{s:?} is not an RFC 3339 time such as 2026-11-30T08:00:00+08:00"))
}

/// The UTC instants a Shanghai calendar day starts and ends.
pub fn shanghai_day(date: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let day =
        NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| format!("{date:?} is not a date YYYY-MM-DD"))?;
    let start = day.and_hms_opt(0, 0, 0).ok_or("bad date")?;
    let start = shanghai_offset().from_local_datetime(&start).single().ok_or("bad date")?.with_timezone(&Utc);
    Ok((start, start + chrono::Duration::days(1)))
}

/// The Shanghai day of `t`, `YYYY-MM-DD`.
pub fn shanghai_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&shanghai_offset()).format("%Y-%m-%d").to_string()
}

/// Midnight today in Shanghai, as UTC.
pub fn shanghai_today_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&shanghai_offset()).date_naive();
    shanghai_day(&local.format("%Y-%m-%d").to_string()).map(|(s, _)| s).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_round_trip() {
        let t = parse_api("2026-11-30T08:00:00+08:00").expect("parse");
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).single().expect("t"));
        assert_eq!(to_api(t), "2026-11-30T08:00:00+08:00");
        assert!(parse_api("2026-11-30 08:00").is_err());
        let (s, e) = shanghai_day("2026-11-30").expect("day");
        assert_eq!(to_api(s), "2026-11-30T00:00:00+08:00");
        assert_eq!(e - s, chrono::Duration::days(1));
        assert!(shanghai_day("2026-13-01").is_err());
    }
}
