//! `Application`: opens the database, seeds the demo, binds the listener (port 0 in tests)
//! and builds the one `AppState` every handler sees.

use crate::auth::{JwtKeys, SmsSender};
use crate::config::Config;
use crate::routes;
use crate::state::AppState;
use crate::store;
use crate::wechat::{simulator::Simulator, WechatClient};
use actix_web::{dev::Server, web, HttpServer};
use secrecy::ExposeSecret;
use std::{net::TcpListener, sync::Arc, time::Duration};

pub struct Application {
    port: u16,
    host: String,
    server: Server,
    state: web::Data<AppState>,
    simulator: Option<Simulator>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("WeChat Pay: {0}")]
    Pay(#[from] crate::wechat::pay::PayError),
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let store = store::connect(&config).await?;
        if config.demo {
            let seeded = if config.demo_full_size {
                let started = std::time::Instant::now();
                let report = crate::demo::scale::seed(
                    store.as_ref(),
                    chrono::Utc::now(),
                    crate::demo::scale::Size {
                        products: config.demo_products as usize,
                        days: config.demo_days,
                        orders: config.demo_orders,
                    },
                )
                .await?;
                tracing::info!(
                    ?report,
                    seconds = started.elapsed().as_secs_f64(),
                    "full-size market ready (FXS_DEMO_SCALE=seed)"
                );
                report.catalogue
            } else {
                store.seed(&crate::demo::market(), chrono::Utc::now()).await?
            };
            let slots = crate::demo::ensure_slots(store.as_ref(), chrono::Utc::now(), config.demo_full_size).await?;
            if seeded {
                let group_buy = crate::demo::open_group_buy(store.as_ref(), chrono::Utc::now()).await?;
                tracing::info!(?group_buy, "demo group-buy opened");
                crate::demo::fill_pool(store.as_ref(), chrono::Utc::now()).await?;
            }
            tracing::info!(seeded, slots, "demo market ready");
        }
        let jwt =
            JwtKeys::load(config.jwt_secret.as_ref().map(|s| s.expose_secret()), &config.data_dir, config.token_ttl)?;
        let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(3)).build()?;
        let simulator = if config.wechat_simulated() {
            let pay = if config.pay.api_base.is_none() {
                Some(crate::wechat::sim_pay::SimPay::new(&config.pay, &config.wechat.appid)?)
            } else {
                None
            };
            Some(Simulator::start(&config.wechat.appid, config.wechat.secret.expose_secret(), pay)?)
        } else {
            None
        };
        let simulator_url = simulator.as_ref().map(|s| s.base_url.clone());
        let wechat = WechatClient::new(
            http.clone(),
            config.wechat.api_base.clone().or_else(|| simulator_url.clone()),
            config.wechat.appid.clone(),
            config.wechat.secret.clone(),
        );
        let sms = SmsSender::new(http.clone(), config.sms.webhook.clone());
        let listener = listen(&config.addr)?;
        let local = listener.local_addr()?;
        let host = if local.ip().is_unspecified() { "127.0.0.1".to_owned() } else { local.ip().to_string() };
        let pay = match config.pay.api_base.clone().or_else(|| simulator_url.clone()).filter(|_| config.pay_on()) {
            Some(base) => {
                let notify = config.pay.notify_url.clone().unwrap_or_else(|| {
                    // Demo: the simulator posts to this very server.
                    format!("http://{host}:{}/api/v1/pay/notify", local.port())
                });
                Some(crate::wechat::pay::PayClient::new(
                    http.clone(),
                    &config.pay,
                    &config.wechat.appid,
                    &base,
                    &notify,
                )?)
            }
            None => None,
        };
        let state = web::Data::new(AppState {
            store,
            config,
            jwt,
            wechat,
            sms,
            http,
            simulator_url,
            pay,
            feed: Default::default(),
        });
        let server = {
            let state = state.clone();
            HttpServer::new(move || routes::app(state.clone()))
                // Phones on slow links keep their connection between taps, as behind nginx
                // (75 s): a new one costs them round trips and the server an accept (actix's
                // default is 5 s).
                .keep_alive(Duration::from_secs(75))
                // A kept connection must not hold a compressed answer's last chunk back until the
                // phone acknowledges the first (Nagle's algorithm meeting a delayed ACK: 40 ms on
                // Linux, found at full size by `rush --reads`).
                .tcp_nodelay(true)
                .listen(listener)?
                .shutdown_timeout(10)
                .run()
        };
        Ok(Self { port: local.port(), host, server, state, simulator })
    }

    /// Stops the server from outside (tests; a process is stopped by its signals).
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address to open in a browser.
    pub fn url(&self) -> String {
        format!("http://{}:{}/", self.host, self.port)
    }

    pub fn database_kind(&self) -> &'static str {
        self.state.store.kind()
    }

    pub fn state(&self) -> Arc<AppState> {
        self.state.clone().into_inner()
    }

    /// Serves until the process is told to stop; housekeeping runs alongside.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let store = self.state.store.clone();
        let expiry_every = self.state.config.expiry_interval;
        let expiry_store = store.clone();
        let expiry_state = self.state.clone();
        let expiry = tokio::spawn(async move {
            let mut tick = tokio::time::interval(expiry_every);
            loop {
                tick.tick().await;
                // A payment whose notification did not come is asked for before its order can expire.
                if let Some(pay) = expiry_state.pay.as_ref() {
                    reconcile_payments(pay, expiry_store.as_ref(), expiry_every).await;
                    send_refunds(pay, expiry_store.as_ref(), expiry_every).await;
                }
                send_notices(&expiry_state).await;
                // Money a pool-paid order gave back (cancelled, short) returns to the pool.
                if let Err(e) = expiry_store.donations().settle_returns(chrono::Utc::now(), 200).await {
                    tracing::warn!(error = %e, "settling money back to the donation pool failed");
                }
                match expiry_store.expire_unpaid(chrono::Utc::now(), 500).await {
                    Ok(ids) if !ids.is_empty() => tracing::info!(count = ids.len(), "unpaid orders expired"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "expiring unpaid orders failed"),
                }
            }
        });
        // Group-buys past their deadline are closed by whichever process gets there first: the
        // close locks the group-buy and does nothing to one that has ended, so several processes
        // (and a restart) close each exactly once.
        let closing_store = store.clone();
        let closing = tokio::spawn(async move {
            let mut tick = tokio::time::interval(expiry_every);
            loop {
                tick.tick().await;
                close_due_group_buys(closing_store.as_ref()).await;
            }
        });
        let housekeeping = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                if let Err(e) = store.purge_expired(chrono::Utc::now()).await {
                    tracing::warn!(error = %e, "purging expired codes and tokens failed");
                }
            }
        });
        let feed_state = self.state.clone();
        let feed = tokio::spawn(async move { feed_state.feed.run(feed_state.store.clone()).await });
        let result = self.server.await;
        feed.abort();
        housekeeping.abort();
        expiry.abort();
        closing.abort();
        let _ = closing.await;
        let _ = housekeeping.await;
        let _ = expiry.await;
        self.state.store.close().await;
        if let Some(sim) = &self.simulator {
            sim.stop().await;
        }
        result
    }
}

/// Asks WeChat Pay about payments that had no notification for a minute, or whose orders are
/// about to expire, and applies the answers as a notification would be.
pub async fn reconcile_payments(pay: &crate::wechat::pay::PayClient, store: &dyn store::Store, every: Duration) {
    let now = chrono::Utc::now();
    let asked_before = now - chrono::Duration::seconds(60);
    let expiring_before = now + chrono::Duration::from_std(every * 2).unwrap_or_default();
    let waiting = match store.payments().unanswered(asked_before, expiring_before, 50).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "listing unanswered payments failed");
            return;
        }
    };
    // Gifts to the donation pool paid with no notification are asked about the same way.
    let gifts = store.donations().unanswered(asked_before, 50).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "listing unanswered gifts failed");
        Vec::new()
    });
    // And group-buy shares paid ahead.
    let shares = store.group_buys().unanswered_share_payments(asked_before, 50).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "listing unanswered share payments failed");
        Vec::new()
    });
    let waiting = waiting.into_iter().chain(gifts).chain(shares);
    let merchant = crate::domain::payment::Merchant { mchid: &pay.mchid, appid: &pay.appid };
    for out_trade_no in waiting {
        match pay.query(&out_trade_no).await {
            Ok(notice) if notice.out_trade_no == out_trade_no => {
                match crate::routes::pay::apply_notice(store, &notice, &merchant).await {
                    Ok(Ok(outcome)) => tracing::info!(%out_trade_no, ?outcome, "payment queried"),
                    Ok(Err(refusal)) => {
                        tracing::warn!(%out_trade_no, reason = %refusal.message, "queried payment refused")
                    }
                    Err(e) => tracing::warn!(%out_trade_no, error = %e, "recording a queried payment failed"),
                }
            }
            Ok(_) => tracing::warn!(%out_trade_no, "WeChat Pay answered about another payment"),
            Err(e) => tracing::warn!(%out_trade_no, error = %e, "querying a payment failed"),
        }
    }
}

/// Asks WeChat Pay for every refund owed. A refund that fails to go out stays owed and is asked
/// again next time with the same `out_refund_no`, so WeChat Pay refunds it once.
pub async fn send_refunds(pay: &crate::wechat::pay::PayClient, store: &dyn store::Store, every: Duration) {
    // Refunds asked a while ago whose notification did not come: asked about.
    let before = chrono::Utc::now() - chrono::Duration::from_std(every * 4).unwrap_or_default();
    match store.payments().unanswered_refunds(before, 50).await {
        Ok(numbers) => {
            for no in numbers {
                match pay.refund_status(&no).await {
                    Ok(status) => {
                        if let Err(e) = store.payments().refund_reported(&no, &status, chrono::Utc::now()).await {
                            tracing::warn!(out_refund_no = %no, error = %e, "recording a queried refund failed");
                        }
                    }
                    Err(e) => tracing::warn!(out_refund_no = %no, error = %e, "querying a refund failed"),
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "listing unanswered refunds failed"),
    }
    let due = match store.payments().due_refunds(50).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "listing refunds owed failed");
            return;
        }
    };
    for r in due {
        let reason = match r.reason.as_str() {
            "shortage" => "摊位缺货退款",
            "cancelled" => "订单取消退款",
            "group_buy_failed" => "团购未成团退款",
            _ => "订单已失效退款",
        };
        match pay.refund(&r.out_trade_no, &r.out_refund_no, reason, r.amount.get(), r.total.get()).await {
            Ok(status) => {
                // Accepted at least: asked; the notification (or this answer) says how it ended.
                let reported = if status == "SUCCESS" { "SUCCESS" } else { "PROCESSING" };
                if let Err(e) = store.payments().refund_reported(&r.out_refund_no, reported, chrono::Utc::now()).await {
                    tracing::warn!(out_refund_no = %r.out_refund_no, error = %e, "recording a refund request failed");
                }
            }
            // Refused for good (not paid, more than was paid): staff must look; a signature or
            // rate problem is ours to fix and is asked again.
            Err(crate::wechat::pay::PayError::Refused(code, text)) if matches!(code, 400 | 403 | 404) => {
                tracing::error!(out_refund_no = %r.out_refund_no, code, %text, "WeChat Pay refused a refund");
                let _ = store.payments().refund_reported(&r.out_refund_no, "ABNORMAL", chrono::Utc::now()).await;
            }
            Err(e) => {
                tracing::warn!(out_refund_no = %r.out_refund_no, error = %e, "asking for a refund failed; asked again later")
            }
        }
    }
}

/// Makes the notices the order timeline gives and sends the pending ones as WeChat subscribe
/// messages to residents who accepted them. A failed send is only logged: the order goes on,
/// and the storefront shows the notice all the same.
pub async fn send_notices(state: &AppState) {
    let notices = state.store.notices();
    let now = chrono::Utc::now();
    if let Err(e) = notices.collect(now, chrono::Duration::seconds(2)).await {
        tracing::warn!(error = %e, "making notices failed");
        return;
    }
    let pending = match notices.pending(50).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "listing notices failed");
            return;
        }
    };
    for n in pending {
        match notices.take(&n, chrono::Utc::now()).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(notice = n.id, error = %e, "taking a notice failed");
                continue;
            }
        }
        let order_id = n.order_id.unwrap_or_default();
        let at = n.created_at.get(..16).unwrap_or_default().replace('T', " ");
        let data = crate::domain::notices::subscribe_data(&n.kind, order_id, &n.title, &at);
        let page = format!("/orders/{order_id}");
        let openid = n.openid.clone().unwrap_or_default();
        if let Err(e) = state.wechat.send_subscribe(&openid, &state.config.wechat.notice_template, &page, &data).await {
            tracing::warn!(notice = n.id, error = %e, "a subscribe message was not sent");
            let _ = notices.failed(n.id).await;
        }
    }
}

/// Closes every open group-buy whose deadline has passed.
pub async fn close_due_group_buys(store: &dyn store::Store) {
    let now = chrono::Utc::now();
    let due = match store.group_buys().due(now).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "listing group-buys to close failed");
            return;
        }
    };
    for id in due {
        match store.group_buys().close(id, crate::domain::group_buy::Ending::Close, None, now).await {
            Ok(closed) => tracing::info!(group_buy = id, ?closed, "group-buy closed at its deadline"),
            Err(e) => tracing::warn!(group_buy = id, error = %e, "closing a group-buy failed"),
        }
    }
}

/// How many connections may wait to be accepted. The standard library listens with 128: a rush
/// of phones, each opening its own connection, overflowed it (the kernel's ListenOverflows and
/// TCPSynRetrans counted the dropped ones) and each was tried again a second later, which was
/// the p99 of about 1 s in a burst of new residents (BENCHMARKS.md). The kernel caps it at
/// `net.core.somaxconn` (4096 on Debian 12).
const LISTEN_BACKLOG: i32 = 4096;

/// Binds the first of `addr`'s addresses that can be bound (as `TcpListener::bind` does), with
/// room for a rush in the accept queue.
fn listen(addr: &str) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::net::ToSocketAddrs;
    let mut last = std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{addr} names no address"));
    for address in addr.to_socket_addrs()? {
        let socket = Socket::new(Domain::for_address(address), Type::STREAM, Some(Protocol::TCP))?;
        // As the standard library does: a restarted server binds at once.
        socket.set_reuse_address(true)?;
        match socket.bind(&address.into()).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(()) => return Ok(socket.into()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The whole server process (the `fuxiansheng` binary, and the tests' second processes):
/// configuration from the environment, start, announce the address, serve until stopped.
pub async fn serve_from_env() -> std::process::ExitCode {
    crate::telemetry::init("info");
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("could not start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("傅鲜生 market is open at {}  (database: {})", app.url(), app.database_kind());
    match app.run_until_stopped().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
