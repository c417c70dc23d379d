//! Just enough of the W3C WebDriver protocol to drive headless Chromium through chromedriver:
//! open pages, find elements, type, click, read text, run a script. Spoken over reqwest, which
//! the tests already have, rather than pulling in a WebDriver crate and its dependency tree.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
    _chromedriver: Child,
}

#[derive(Debug, Clone)]
pub struct Element(String);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

fn find_binary(candidates: &[&str]) -> String {
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| (*p).to_owned())
        .unwrap_or_else(|| panic!("none of {candidates:?} exists: run ./scripts/test, which installs Chromium"))
}

impl Driver {
    /// Starts chromedriver and a headless Chromium with a phone's viewport (390 × 844).
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A camera that shows this video (a `.y4m` file, looped), allowed without asking.
    pub async fn with_camera(video: &std::path::Path) -> Self {
        Self::start_with(&[
            "--use-fake-device-for-media-stream".to_owned(),
            "--use-fake-ui-for-media-stream".to_owned(),
            format!("--use-file-for-fake-video-capture={}", video.display()),
        ])
        .await
    }

    /// A phone at 200 % zoom (or with its largest text): the 390 px screen is 195 CSS px wide.
    pub async fn zoomed() -> Self {
        Self::start_phone(195, 422, &[]).await
    }

    /// As `start`, with more Chromium switches.
    pub async fn start_with(extra: &[String]) -> Self {
        Self::start_phone(390, 844, extra).await
    }

    /// A phone whose viewport is `width` × `height` CSS px, with more Chromium switches.
    pub async fn start_phone(width: u32, height: u32, extra: &[String]) -> Self {
        let chromedriver = find_binary(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
        let chromium = find_binary(&["/usr/bin/chromium", "/usr/lib/chromium/chromium"]);
        let port = free_port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(format!("fxs-chromium-{}", rand::random::<u64>()));
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=390,844",
            "--lang=zh-CN",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.extend(extra.iter().cloned());
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:loggingPrefs": { "browser": "ALL" },
                "goog:chromeOptions": {
                    "binary": chromium,
                    // A phone's viewport: headless Chromium's windows are never narrower than 500 px.
                    "mobileEmulation": { "deviceMetrics": { "width": width, "height": height, "pixelRatio": 3.0, "touch": true } },
                    "args": args
                }
            }}
        });
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session reply");
        let session = res["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {res}")).to_owned();
        Driver { http, base, session, _chromedriver: child }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res: Value = req.send().await.expect("webdriver call").json().await.expect("webdriver reply");
        res["value"].clone()
    }

    /// Slows the browser's network as a phone's would be (chromedriver's network conditions):
    /// `latency_ms` added to each request, throughput in bytes per second; `offline` cuts it off.
    pub async fn throttle(&self, offline: bool, latency_ms: u64, down_bytes_per_s: u64, up_bytes_per_s: u64) {
        let conditions = json!({ "network_conditions": {
            "offline": offline, "latency": latency_ms,
            "download_throughput": down_bytes_per_s, "upload_throughput": up_bytes_per_s,
        }});
        let res = self.call(reqwest::Method::POST, "/chromium/network_conditions", Some(conditions)).await;
        assert!(res.is_null() || res.get("error").is_none(), "network conditions refused: {res}");
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    pub async fn current_url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or_default().to_owned()
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let v =
            self.call(reqwest::Method::POST, "/elements", Some(json!({ "using": "css selector", "value": css }))).await;
        v.as_array()
            .map(|a| a.iter().filter_map(|e| e[ELEMENT_KEY].as_str().map(|s| Element(s.to_owned()))).collect())
            .unwrap_or_default()
    }

    /// Waits up to `timeout` for at least one element matching `css`.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.find_all(css).await.into_iter().next() {
                return e;
            }
            if Instant::now() > deadline {
                let body = self.script("return document.body.innerText").await;
                let console = self.call(reqwest::Method::POST, "/se/log", Some(json!({ "type": "browser" }))).await;
                panic!("no element {css} after {timeout:?}; page text: {body}; console: {console}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Scrolls the element to the middle of the screen (clear of the fixed top and bottom
    /// bars, as a thumb would) and clicks it. A click the page intercepts is a test failure.
    pub async fn click(&self, e: &Element) {
        let element = json!({ ELEMENT_KEY: e.0 });
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": "arguments[0].scrollIntoView({block: 'center'})", "args": [element] })),
        )
        .await;
        let v = self.call(reqwest::Method::POST, &format!("/element/{}/click", e.0), Some(json!({}))).await;
        if let Some(err) = v.get("error") {
            panic!("click failed: {err}: {}", v["message"]);
        }
    }

    pub async fn type_text(&self, e: &Element, text: &str) {
        self.call(reqwest::Method::POST, &format!("/element/{}/value", e.0), Some(json!({ "text": text }))).await;
    }

    pub async fn text(&self, e: &Element) -> String {
        self.call(reqwest::Method::GET, &format!("/element/{}/text", e.0), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn script(&self, js: &str) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": js, "args": [] }))).await
    }

    /// Runs `js` as the body of an async function: it ends by calling
    /// `arguments[arguments.length - 1](result)`; the result is returned.
    pub async fn script_async(&self, js: &str) -> Value {
        self.call(reqwest::Method::POST, "/execute/async", Some(json!({ "script": js, "args": [] }))).await
    }

    pub async fn screenshot_png(&self) -> Vec<u8> {
        use base64_decode as decode;
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        decode(v.as_str().unwrap_or_default())
    }

    pub async fn quit(self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send().await;
    }
}

/// Standard base64, for screenshots; small enough not to need a crate.
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
