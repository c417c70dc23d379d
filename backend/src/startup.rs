//! `Application`: opens the database, seeds the demo, binds the listener (port 0 in tests)
//! and builds the one `AppState` every handler sees.

use crate::auth::{CodeKey, JwtKeys, SmsSender};
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

/// The demo market (`FXS_DEMO`, or `fuxiansheng seed-demo`): its stalls, goods, people and
/// history (full size with `FXS_DEMO_SCALE=seed`) when the database is empty, the coming days'
/// slots, a group-buy, the donation pool and the goods' photos. A market on record is left as it
/// is (its slots topped up).
pub async fn seed_demo(
    store: &store::Store,
    config: &Config,
    progress: Option<crate::demo::scale::Progress>,
) -> Result<(), StartError> {
    let seeded = if config.demo_full_size {
        let started = std::time::Instant::now();
        let report = crate::demo::scale::seed(
            store,
            chrono::Utc::now(),
            crate::demo::scale::Size {
                products: config.demo_products as usize,
                days: config.demo_days,
                orders: config.demo_orders,
            },
            progress,
        )
        .await?;
        tracing::info!(
            ?report,
            seconds = started.elapsed().as_secs_f64(),
            "full-size market ready (FXS_DEMO_SCALE=seed)"
        );
        report.catalogue
    } else {
        store.seed().demo(&crate::demo::market(), chrono::Utc::now()).await?
    };
    let slots = crate::demo::ensure_slots(store, chrono::Utc::now(), config.demo_full_size).await?;
    if seeded {
        let group_buy = crate::demo::open_group_buy(store, chrono::Utc::now()).await?;
        tracing::info!(?group_buy, "demo group-buy opened");
        crate::demo::fill_pool(store, chrono::Utc::now()).await?;
        if config.demo_photos && !config.demo_full_size {
            let drawn = crate::demo::photos::draw(store, &config.photo_dir).await?;
            tracing::info!(drawn, "demo photos drawn");
        }
    }
    tracing::info!(seeded, slots, "demo market ready");
    Ok(())
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let store = store::connect(&config).await?;
        if config.demo {
            seed_demo(store.as_ref(), &config, None).await?;
        }
        let jwt =
            JwtKeys::load(config.jwt_secret.as_ref().map(|s| s.expose_secret()), &config.data_dir, config.token_ttl)?;
        let code_key = CodeKey::load(config.sms.code_key.as_ref().map(|s| s.expose_secret()), &config.data_dir)?;
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
        // Demo mode sends codes to the simulator's Tencent Cloud SMS with the demo's keys: the
        // signing is exercised on every login, and the code is shown on screen as well.
        let tencent = config.sms.tencent.clone().or_else(|| {
            let sim = simulator_url.clone().filter(|_| config.demo)?;
            Some(crate::auth::sms::TencentSms {
                secret_id: crate::config::DEMO_SMS_SECRET_ID.into(),
                secret_key: crate::config::DEMO_SMS_SECRET_KEY.into(),
                app_id: "1400000000".into(),
                sign_name: "傅鲜生".into(),
                template_id: "100001".into(),
                notice_template_id: Some("100002".into()),
                region: "ap-guangzhou".into(),
                endpoint: format!("{sim}/sms"),
            })
        });
        let sms = SmsSender::new(http.clone(), config.sms.webhook.clone(), tencent);
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
        let security = routes::SecurityHeaders::new(&config.static_dir, config.hsts_max_age);
        let limits = crate::limits::Limits::new(&config.limits);
        let state = web::Data::new(AppState {
            store,
            config,
            jwt,
            code_key,
            wechat,
            sms,
            http,
            simulator_url,
            pay,
            security,
            limits,
            feed: Default::default(),
            metrics: Default::default(),
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

    /// Serves until the process is told to stop; the market's jobs (`jobs.rs`) run alongside.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let jobs = crate::jobs::start(self.state.clone().into_inner());
        let result = self.server.await;
        jobs.stop().await;
        self.state.store.close().await;
        if let Some(sim) = &self.simulator {
            sim.stop().await;
        }
        result
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
    if let Some(hint) = first_day_hint(&app).await {
        println!("{hint}");
    }
    match app.run_until_stopped().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// How a login code reaches a phone with this configuration, for the people setting up.
pub fn how_codes_arrive(config: &Config) -> &'static str {
    if config.demo {
        "demo mode: the login page shows the code"
    } else if config.sms.tencent.is_some() {
        "the login code goes out through Tencent Cloud SMS (FXS_SMS_TENCENT_*)"
    } else if config.sms.webhook.is_some() {
        "the login code goes out through FXS_SMS_WEBHOOK"
    } else {
        "no SMS gateway yet: set FXS_SMS_TENCENT_* (Tencent Cloud SMS) or FXS_SMS_WEBHOOK so that login codes can be sent"
    }
}

/// What to do first on a market without a staff account (not in demo mode, which has one).
async fn first_day_hint(app: &Application) -> Option<String> {
    let state = app.state();
    if state.config.demo {
        return None;
    }
    let staff = state.store.accounts().count_with_role(shared::Role::Staff).await.ok()?;
    if staff > 0 {
        return None;
    }
    let when = if state.config.database_url.is_some() { "" } else { "stop the server, then " };
    Some(format!(
        "The market has no staff account yet. To begin, {when}run: fuxiansheng admin add-staff <phone> \
         (the same environment as the server); then log in with that phone ({}) and set up the market \
         on the staff page.",
        how_codes_arrive(&state.config)
    ))
}
