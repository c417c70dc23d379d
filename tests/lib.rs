//! Helpers for the black-box tests: start the real server on port 0 against a fresh database
//! of either kind, and talk to it over HTTP.

use backend::config::ExposeSecret;
use backend::{Application, Config};
use serde_json::Value;
use std::{path::PathBuf, time::Duration};

pub mod webdriver;

/// The JWT key the test servers use, so tests can forge tokens the way an attacker would try to.
pub const TEST_JWT_SECRET: &str = "test-secret-that-is-long-enough-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub data_dir: PathBuf,
    /// The database URL (PostgreSQL) this app uses; a second app can share it.
    pub database_url: Option<String>,
    /// The WeChat simulator's address (demo mode, in-process servers), for tests that play
    /// WeChat's side directly.
    pub simulator: Option<String>,
    /// The server's own state (in-process servers): for tests of what no request reaches, such
    /// as the housekeeping job's purge.
    pub state: Option<std::sync::Arc<backend::state::AppState>>,
    schema: Option<String>,
    server: Option<(actix_web::dev::ServerHandle, tokio::task::JoinHandle<std::io::Result<()>>)>,
    /// When the server runs as a process of its own (`start_process`).
    process: Option<std::process::Child>,
}

pub fn test_database_url() -> String {
    std::env::var("FXS_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{:x}", std::process::id(), rand::random::<u64>())
}

/// A fresh configuration: demo mode, port 0, its own data folder and database.
pub async fn test_config(db: Db) -> (Config, Option<String>) {
    let data_dir = std::env::temp_dir().join(unique("fxs_test"));
    let mut config = Config::default_for(data_dir);
    config.addr = "127.0.0.1:0".into();
    config.demo = true;
    config.jwt_secret = Some(TEST_JWT_SECRET.into());
    // Tests press buttons far faster than people; the limits have tests of their own.
    config.limits = backend::limits::LimitsConfig {
        sms_per_client: 0,
        login_per_phone: 0,
        login_per_client: 0,
        checkout_per_user: 0,
        join_per_user: 0,
        claim_per_user: 0,
        handoff_per_user: 0,
        trusted_proxies: Vec::new(),
    };
    if let Ok(dir) = std::env::var("FXS_TEST_STATIC_DIR") {
        config.static_dir = dir.into();
    }
    let mut schema = None;
    if db == Db::Postgres {
        let name = unique("t");
        let base = test_database_url();
        let pool = sqlx::PgPool::connect(&base).await.expect("PostgreSQL for tests (FXS_TEST_DATABASE_URL)");
        sqlx::query(&format!("CREATE SCHEMA {name}")).execute(&pool).await.expect("create schema");
        pool.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        config.database_url = Some(format!("{base}{sep}options=-c%20search_path%3D{name}"));
        schema = Some(name);
    }
    (config, schema)
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

pub async fn spawn_app_with(db: Db, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let (mut config, schema) = test_config(db).await;
    tweak(&mut config);
    start(config, db, schema).await
}

/// Starts a server on an existing configuration (e.g. a restart on the same data).
pub async fn start(config: Config, db: Db, schema: Option<String>) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        backend::telemetry::init("debug");
    }
    let data_dir = config.data_dir.clone();
    let database_url = config.database_url.clone();
    let app = Application::build(config).await.expect("server starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.server_handle();
    let simulator = app.state().simulator_url.clone();
    let state = Some(app.state());
    let task = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    TestApp {
        base,
        client,
        db,
        data_dir,
        database_url,
        simulator,
        state,
        schema,
        server: Some((handle, task)),
        process: None,
    }
}

/// The server binary `bin`, configured through the environment from
/// `config` as in production (a process of its own: a second server, or one of its commands).
pub fn command(bin: &str, config: &Config) -> std::process::Command {
    let mut cmd = std::process::Command::new(bin);
    cmd.env("FXS_ADDR", "127.0.0.1:0")
        .env("FXS_DATA_DIR", &config.data_dir)
        .env("FXS_DEMO", if config.demo { "1" } else { "0" })
        .env("FXS_DEMO_SCALE", if config.demo_full_size { "seed" } else { "small" })
        .env("FXS_DEMO_PHOTOS", if config.demo_photos { "1" } else { "0" })
        .env("FXS_DEMO_SCALE_DAYS", config.demo_days.to_string())
        .env("FXS_DEMO_SCALE_PRODUCTS", config.demo_products.to_string())
        .env("FXS_DEMO_SCALE_ORDERS", config.demo_orders.to_string())
        .env("FXS_JWT_SECRET", config.jwt_secret.as_ref().map_or(TEST_JWT_SECRET, |s| s.expose_secret()))
        .env("FXS_SMS_IP_PER_HOUR", config.sms.per_ip_per_hour.to_string())
        .env("FXS_SMS_PHONE_PER_HOUR", config.sms.per_phone_per_hour.to_string())
        .env("FXS_PAYMENT_TIMEOUT_MINUTES", (config.payment_timeout.as_secs() / 60).max(1).to_string())
        .env("FXS_STATIC_DIR", &config.static_dir)
        .env("FXS_LIMIT_SMS_CLIENT", config.limits.sms_per_client.to_string())
        .env("FXS_LIMIT_LOGIN_PHONE", config.limits.login_per_phone.to_string())
        .env("FXS_LIMIT_LOGIN_CLIENT", config.limits.login_per_client.to_string())
        .env("FXS_LIMIT_CHECKOUT", config.limits.checkout_per_user.to_string())
        .env("FXS_LIMIT_JOIN", config.limits.join_per_user.to_string())
        .env("FXS_LIMIT_CLAIM", config.limits.claim_per_user.to_string())
        .env("FXS_LIMIT_HANDOFF", config.limits.handoff_per_user.to_string())
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL");
    if let Some(url) = &config.database_url {
        cmd.env("DATABASE_URL", url);
    }
    if let Some(hook) = &config.sms.webhook {
        cmd.env("FXS_SMS_WEBHOOK", hook);
    }
    cmd
}

/// Starts the server as an operating-system process of its own (`bin`: the `fxs-server` binary,
/// `env!("CARGO_BIN_EXE_fxs-server")` in a test), configured through the environment as in
/// production, on the database of `config`: a second process beside one from `start`. It owns
/// neither the data folder nor the database, and is killed when dropped.
pub async fn start_process(bin: &str, config: &Config, db: Db) -> TestApp {
    use std::io::BufRead;
    let mut cmd = command(bin, config);
    cmd.stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {bin}: {e}"));
    let stdout = child.stdout.take().expect("stdout");
    let (tell, told) = std::sync::mpsc::channel();
    // The start-up line gives the address; what follows is passed on to the test's output.
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            match line.split_once(" is open at ") {
                Some((_, rest)) => {
                    let url = rest.split_whitespace().next().unwrap_or_default().trim_end_matches('/').to_owned();
                    let _ = tell.send(url);
                }
                None => println!("{line}"),
            }
        }
    });
    let mut app = TestApp {
        base: String::new(),
        client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client"),
        db,
        data_dir: PathBuf::new(),
        database_url: config.database_url.clone(),
        simulator: None,
        state: None,
        schema: None,
        server: None,
        process: Some(child),
    };
    app.base = tokio::task::spawn_blocking(move || told.recv_timeout(Duration::from_secs(120)))
        .await
        .expect("reader")
        .unwrap_or_else(|_| panic!("{bin} did not say where it listens"));
    app
}

impl TestApp {
    /// Kills a server started by `start_process` at once (SIGKILL: no goodbye, as in a crash).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Asks a server started by `start_process` to stop as its service manager would (SIGTERM)
    /// and waits for it to exit: whether it exited 0.
    pub fn terminate(&mut self) -> bool {
        let Some(mut child) = self.process.take() else { return false };
        let sent = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        assert!(sent.is_ok_and(|s| s.success()), "SIGTERM sent");
        child.wait().is_ok_and(|status| status.success())
    }

    /// Stops the server and waits until it has let go of its database, keeping the data (and
    /// the PostgreSQL schema) for a restart with the same configuration.
    pub async fn stop(mut self) {
        if let Some((handle, task)) = self.server.take() {
            handle.stop(true).await;
            task.await.expect("server task").expect("server stopped cleanly");
        }
        self.data_dir = PathBuf::new();
        self.schema = None;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.kill();
        if !self.data_dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
        if let Some(schema) = self.schema.take() {
            // Drop is not async: clean up on a thread of its own.
            let url = test_database_url();
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&pool).await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// The `error.code` of an error reply, after checking the whole error shape.
    pub fn error_code(&self) -> &str {
        let err = &self.body["error"];
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()), "error has a message: {}", self.body);
        err["code"].as_str().unwrap_or_else(|| panic!("not an error body: {}", self.body))
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body ({status}): {text}"))
        };
        Reply { status, body, headers }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Reply {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn patch(&self, path: &str, body: &Value, token: Option<&str>) -> Reply {
        let mut req = self.client.patch(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn put(&self, path: &str, body: &Value, token: Option<&str>) -> Reply {
        let mut req = self.client.put(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        let mut req = self.client.delete(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    /// `POST /api/v1/orders` with an Idempotency-Key.
    pub async fn checkout(&self, token: &str, key: &str, body: &Value) -> Reply {
        let req =
            self.client.post(self.url("/api/v1/orders")).bearer_auth(token).header("Idempotency-Key", key).json(body);
        self.send(req).await
    }

    /// The demo product of this exact name (tests find products by name, not by a fixed id).
    pub async fn product_id(&self, name: &str) -> i64 {
        let query = format!("/api/v1/products?q={}", urlencode(name));
        let found = self.get(&query, None).await;
        assert_eq!(found.status, 200, "search {name}: {:?}", found.body);
        let items = found.body["items"].as_array().cloned().unwrap_or_default();
        let product = items.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no product {name}"));
        product["id"].as_i64().expect("id")
    }

    /// Puts `quantity` of a product in the resident's cart: setup, so the server must accept it.
    pub async fn put_in_cart(&self, token: &str, product_id: i64, quantity: i64) {
        let r = self.set_cart(token, product_id, quantity).await;
        assert_eq!(r.status, 200, "cart {product_id} × {quantity}: {:?}", r.body);
    }

    /// Staff change a product (`{"stock": n}` and/or `{"price_fen": n}`): setup, so it must work.
    pub async fn change_product(&self, staff: &str, product_id: i64, change: &Value) -> Value {
        let r = self.patch(&format!("/api/v1/admin/products/{product_id}"), change, Some(staff)).await;
        assert_eq!(r.status, 200, "change product {product_id} {change}: {:?}", r.body);
        r.body
    }

    /// Staff change a slot: setup, so it must work.
    pub async fn change_slot(&self, staff: &str, slot_id: &Value, change: &Value) -> Value {
        let r = self.patch(&format!("/api/v1/admin/slots/{slot_id}"), change, Some(staff)).await;
        assert_eq!(r.status, 200, "change slot {slot_id} {change}: {:?}", r.body);
        r.body
    }

    /// `PUT /api/v1/cart/items/{product_id}` as it is, for tests of what the cart accepts.
    pub async fn set_cart(&self, token: &str, product_id: i64, quantity: i64) -> Reply {
        self.put(&format!("/api/v1/cart/items/{product_id}"), &serde_json::json!({ "quantity": quantity }), Some(token))
            .await
    }

    /// Opens a delivery slot starting in `starts_in_hours`, with order cut-off an hour before.
    pub async fn open_slot(&self, staff: &str, capacity: i64, priority_capacity: i64, starts_in_hours: i64) -> Value {
        let now = chrono::Utc::now();
        let at = |h: i64| (now + chrono::Duration::hours(h)).to_rfc3339();
        let body = serde_json::json!({
            "kind": "delivery",
            "starts_at": at(starts_in_hours),
            "ends_at": at(starts_in_hours + 2),
            "cutoff_at": at(starts_in_hours - 1),
            "capacity": capacity,
            "priority_capacity": priority_capacity,
            "priority_release_at": if priority_capacity > 0 { Some(at(starts_in_hours - 2)) } else { None },
        });
        let r = self.post("/api/v1/admin/slots", &body, Some(staff)).await;
        assert_eq!(r.status, 201, "open slot: {:?}", r.body);
        r.body
    }

    /// Staff let one household have `limit` open orders in the slot (1 unless raised).
    pub async fn raise_household_limit(&self, staff: &str, slot: &Value, limit: i64) {
        let path = format!("/api/v1/admin/slots/{}", slot["id"]);
        let r = self.patch(&path, &serde_json::json!({ "household_limit": limit }), Some(staff)).await;
        assert_eq!(r.status, 200, "raise the household limit: {:?}", r.body);
        assert_eq!(r.body["household_limit"], limit);
    }

    /// The market's books (`fuxiansheng check`'s invariants) balance, read from its database.
    pub async fn books_balance(&self) {
        let state = self.state.as_ref().expect("in-process server");
        let ops = backend::store::ops::Ops::open(&state.config).await.expect("ops");
        let books = ops.books().await.expect("books");
        assert_eq!(backend::domain::books::check(&books), vec![], "the books balance");
        ops.close().await;
    }

    /// Asks for a code (demo mode returns it) and logs in. Returns (token, user).
    pub async fn login(&self, phone: &str) -> (String, Value) {
        let sent = self.post("/api/v1/auth/sms-code", &serde_json::json!({ "phone": phone }), None).await;
        assert_eq!(sent.status, 200, "sms-code: {:?}", sent.body);
        let code = sent.body["dev_code"].as_str().expect("demo mode returns the code").to_owned();
        let login = self.post("/api/v1/auth/login", &serde_json::json!({ "phone": phone, "code": code }), None).await;
        assert_eq!(login.status, 200, "login: {:?}", login.body);
        (login.body["token"].as_str().expect("token").to_owned(), login.body["user"].clone())
    }
}

/// Percent-encodes text for a query string.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Drives all the futures at once (the requests are in flight together) and returns their
/// outputs in order.
pub async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    use std::task::Poll;
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(results.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

/// Runs an async test body once on SQLite and once on PostgreSQL, as two tests.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident => $body:ident;)*) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$body($crate::Db::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$body($crate::Db::Postgres).await
                }
            }
        )*
    };
}
