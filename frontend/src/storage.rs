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
