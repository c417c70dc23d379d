//! What the storefront keeps in the browser's `localStorage`: the login token, the language and
//! a stable id of this browser. Both bundles read the same keys, so a login in one holds in the other.

const TOKEN_KEY: &str = "fxs_token";
const LANG_KEY: &str = "fxs_lang";
const DEVICE_KEY: &str = "fxs_device";

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn get(key: &str) -> Option<String> {
    local()?.get_item(key).ok()?
}

fn put(key: &str, value: Option<&str>) {
    if let Some(s) = local() {
        let _ = match value {
            Some(v) => s.set_item(key, v),
            None => s.remove_item(key),
        };
    }
}

pub fn token() -> Option<String> {
    get(TOKEN_KEY)
}

pub fn set_token(token: Option<&str>) {
    put(TOKEN_KEY, token);
}

/// The language code last chosen (`zh` or `en`), if any.
pub fn lang() -> Option<String> {
    get(LANG_KEY)
}

pub fn set_lang(code: &str) {
    put(LANG_KEY, Some(code));
}

/// A stable id for this browser: the demo WeChat simulator's "phone".
pub fn device_id() -> String {
    if let Some(id) = get(DEVICE_KEY) {
        return id;
    }
    let id = format!("web-{:x}", (js_sys::Math::random() * 1e15) as u64);
    put(DEVICE_KEY, Some(&id));
    id
}

const MARKET_KEY: &str = "fxs_market";

/// The market a visitor chose to shop in (when the deployment has several), if any. Forgotten
/// once a login shows a home or a role: then the account's market decides.
pub fn market() -> Option<i64> {
    get(MARKET_KEY)?.parse().ok()
}

pub fn set_market(id: Option<i64>) {
    put(MARKET_KEY, id.map(|id| id.to_string()).as_deref());
}

const CARE_KEY: &str = "fxs_care";

/// Whether care mode (长辈模式: big text, big buttons) is on on this device. The pages' boot
/// script applies it before the app starts (and reads `?care=1` / `?care=0`).
pub fn care() -> bool {
    get(CARE_KEY).as_deref() == Some("1")
}

/// Whether care mode was already offered on this device (it is offered once, to elderly
/// households): either answer sets it.
pub fn care_offered() -> bool {
    get(CARE_KEY).is_some()
}

const PENDING_CART_KEY: &str = "fxs_pending_cart";

/// Goods a visitor added before logging in (`product_id:quantity`, comma separated): they go into
/// the cart as soon as the login succeeds, so nothing the visitor chose is lost on the way.
pub fn keep_for_cart(product_id: i64, quantity: i64) {
    let mut kept = get(PENDING_CART_KEY).unwrap_or_default();
    if !kept.is_empty() {
        kept.push(',');
    }
    kept.push_str(&format!("{product_id}:{quantity}"));
    put(PENDING_CART_KEY, Some(&kept));
}

/// What `keep_for_cart` kept, forgotten once taken.
pub fn take_for_cart() -> Vec<(i64, i64)> {
    let kept = get(PENDING_CART_KEY).unwrap_or_default();
    put(PENDING_CART_KEY, None);
    kept.split(',')
        .filter_map(|pair| {
            let (id, q) = pair.split_once(':')?;
            Some((id.parse().ok()?, q.parse().ok()?))
        })
        .collect()
}

/// A volunteer's own way through a building (`unit-room` of each door, in the order they walk
/// it), remembered on the phone for the next round there.
pub fn stairs(building: &str) -> Vec<String> {
    get(&format!("fxs_stairs_{building}")).map(|s| s.split(',').map(str::to_owned).collect()).unwrap_or_default()
}

pub fn set_stairs(building: &str, doors: &[String]) {
    put(&format!("fxs_stairs_{building}"), Some(&doors.join(",")));
}

/// What a step a volunteer took without signal was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Handed over with the code (`text`).
    Code,
    /// Left at the door, with the note (`text`).
    Door,
    /// A photo at the door: the picture waits in the browser's cache (`workers::volunteer`).
    Photo,
}

impl Step {
    fn as_str(self) -> &'static str {
        match self {
            Step::Code => "code",
            Step::Door => "door",
            Step::Photo => "photo",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Step::Code, Step::Door, Step::Photo].into_iter().find(|k| k.as_str() == s)
    }
}

/// A step a volunteer took without signal, waiting on this phone to be sent: the order, what
/// the step was, the code or the note.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub order_id: i64,
    pub step: Step,
    pub text: String,
}

const OUTBOX_KEY: &str = "fxs_outbox";

/// The steps waiting to be sent, oldest first (one line each: order, kind, text).
pub fn outbox() -> Vec<Waiting> {
    get(OUTBOX_KEY)
        .map(|s| {
            s.split('\u{1e}')
                .filter_map(|line| {
                    let mut f = line.splitn(3, '\u{1f}');
                    let order_id = f.next()?.parse().ok()?;
                    let step = Step::parse(f.next()?)?;
                    Some(Waiting { order_id, step, text: f.next()?.to_owned() })
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn set_outbox(steps: &[Waiting]) {
    let lines: Vec<String> = steps
        .iter()
        .map(|w| {
            let text: String = w.text.chars().filter(|c| !matches!(c, '\u{1e}' | '\u{1f}')).collect();
            format!("{}\u{1f}{}\u{1f}{text}", w.order_id, w.step.as_str())
        })
        .collect();
    put(OUTBOX_KEY, (!lines.is_empty()).then(|| lines.join("\u{1e}")).as_deref());
}
