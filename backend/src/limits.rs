//! Abuse limits (OWASP API4, API6): how often one phone, one client address or one user may
//! ask for a thing that costs the market or its residents (a login code, a login, a checkout,
//! a group-buy join, a batch claim, a hand-off code tried). Each limit is a keyed GCRA limiter
//! from the governor crate, per server process: behind two processes a client gets up to twice
//! the rate, which the limits allow for. A caller over a limit is answered 429 with
//! `Retry-After`.

use crate::error::ApiError;
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Per-minute limits (0: no limit), set by configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsConfig {
    /// `FXS_LIMIT_SMS_CLIENT`: login codes asked from one client address.
    pub sms_per_client: u32,
    /// `FXS_LIMIT_LOGIN_PHONE`: logins tried for one phone.
    pub login_per_phone: u32,
    /// `FXS_LIMIT_LOGIN_CLIENT`: logins (by code or WeChat) tried from one client address.
    pub login_per_client: u32,
    /// `FXS_LIMIT_CHECKOUT`: checkouts pressed by one user.
    pub checkout_per_user: u32,
    /// `FXS_LIMIT_JOIN`: group-buy joins, changes and proxy shares by one user.
    pub join_per_user: u32,
    /// `FXS_LIMIT_CLAIM`: batch claims by one volunteer.
    pub claim_per_user: u32,
    /// `FXS_LIMIT_HANDOFF`: hand-off codes tried by one volunteer.
    pub handoff_per_user: u32,
    /// `FXS_TRUSTED_PROXIES`: the proxy addresses whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            sms_per_client: 10,
            login_per_phone: 10,
            login_per_client: 60,
            checkout_per_user: 10,
            join_per_user: 30,
            claim_per_user: 30,
            handoff_per_user: 60,
            trusted_proxies: Vec::new(),
        }
    }
}

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    SmsPerClient,
    LoginPerPhone,
    LoginPerClient,
    CheckoutPerUser,
    JoinPerUser,
    ClaimPerUser,
    HandoffPerUser,
}

impl Limit {
    const ALL: [Limit; 7] = [
        Limit::SmsPerClient,
        Limit::LoginPerPhone,
        Limit::LoginPerClient,
        Limit::CheckoutPerUser,
        Limit::JoinPerUser,
        Limit::ClaimPerUser,
        Limit::HandoffPerUser,
    ];

    fn per_minute(self, c: &LimitsConfig) -> u32 {
        match self {
            Limit::SmsPerClient => c.sms_per_client,
            Limit::LoginPerPhone => c.login_per_phone,
            Limit::LoginPerClient => c.login_per_client,
            Limit::CheckoutPerUser => c.checkout_per_user,
            Limit::JoinPerUser => c.join_per_user,
            Limit::ClaimPerUser => c.claim_per_user,
            Limit::HandoffPerUser => c.handoff_per_user,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Limit::SmsPerClient => "获取验证码太频繁，请稍后再试 (too many codes asked from here)",
            Limit::LoginPerPhone | Limit::LoginPerClient => "登录尝试太频繁，请稍后再试 (too many login attempts)",
            Limit::CheckoutPerUser => "下单太频繁，请稍后再试 (too many checkouts)",
            Limit::JoinPerUser => "团购操作太频繁，请稍后再试 (too many group-buy changes)",
            Limit::ClaimPerUser => "认领太频繁，请稍后再试 (too many claims)",
            Limit::HandoffPerUser => "收货码尝试太频繁，请稍后再试 (too many hand-off codes tried)",
        }
    }
}

/// The process's limiters, one per limit that is on.
pub struct Limits {
    limiters: Vec<(Limit, DefaultKeyedRateLimiter<String>)>,
    trusted_proxies: Vec<IpAddr>,
}

impl Limits {
    pub fn new(c: &LimitsConfig) -> Self {
        let limiters = Limit::ALL
            .into_iter()
            .filter_map(|l| {
                NonZeroU32::new(l.per_minute(c)).map(|n| (l, DefaultKeyedRateLimiter::hashmap(Quota::per_minute(n))))
            })
            .collect();
        Self { limiters, trusted_proxies: c.trusted_proxies.clone() }
    }

    /// One more of `limit` for `key` (a user id, a phone, a client address): Err 429 with how
    /// long to wait when over it.
    pub fn check(&self, limit: Limit, key: impl ToString) -> Result<(), ApiError> {
        let Some((_, limiter)) = self.limiters.iter().find(|(l, _)| *l == limit) else { return Ok(()) };
        limiter.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            ApiError::too_many(limit.words(), wait.as_secs_f64().ceil() as u64)
        })
    }

    /// Forgets keys whose limit has fully recovered (called now and then: memory stays small).
    pub fn forget_idle(&self) {
        for (_, limiter) in &self.limiters {
            limiter.retain_recent();
        }
    }

    /// The client's address: the peer's, or, when the peer is a configured proxy, the last
    /// address in `X-Forwarded-For` that is not itself one of the proxies.
    pub fn client(&self, req: &actix_web::HttpRequest) -> String {
        let peer = req.peer_addr().map(|a| a.ip());
        if let Some(peer) = peer.filter(|p| self.trusted_proxies.contains(p)) {
            let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).unwrap_or("");
            let client = forwarded
                .split(',')
                .rev()
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .find(|a| !self.trusted_proxies.contains(a));
            return client.unwrap_or(peer).to_string();
        }
        peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_limit_waits_and_other_keys_do_not() {
        let limits = Limits::new(&LimitsConfig { checkout_per_user: 2, ..LimitsConfig::default() });
        assert!(limits.check(Limit::CheckoutPerUser, 7).is_ok());
        assert!(limits.check(Limit::CheckoutPerUser, 7).is_ok());
        let refused = limits.check(Limit::CheckoutPerUser, 7).expect_err("third in a minute");
        assert_eq!(refused.code, shared::ErrorCode::TooManyRequests);
        assert!(refused.retry_after.is_some_and(|s| (1..=30).contains(&s)), "{:?}", refused.retry_after);
        assert!(limits.check(Limit::CheckoutPerUser, 8).is_ok(), "another user");
        let off = Limits::new(&LimitsConfig { checkout_per_user: 0, ..LimitsConfig::default() });
        for _ in 0..100 {
            assert!(off.check(Limit::CheckoutPerUser, 7).is_ok());
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_configured_proxy() {
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let limits = Limits::new(&LimitsConfig { trusted_proxies: vec![proxy], ..LimitsConfig::default() });
        let from = |peer: &str, xff: &str| {
            let req = actix_web::test::TestRequest::default()
                .peer_addr(format!("{peer}:5000").parse().expect("addr"))
                .insert_header(("X-Forwarded-For", xff))
                .to_http_request();
            limits.client(&req)
        };
        assert_eq!(from("10.0.0.2", "1.2.3.4"), "1.2.3.4");
        assert_eq!(from("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.2"), "1.2.3.4", "the rightmost not a proxy");
        assert_eq!(from("5.5.5.5", "1.2.3.4"), "5.5.5.5", "anyone else's header is not believed");
        assert_eq!(from("10.0.0.2", "nonsense"), "10.0.0.2");
    }
}
