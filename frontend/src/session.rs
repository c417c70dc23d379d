//! Who is logged in, kept in `localStorage` so a reload keeps the login, and shared with every
//! page through context.

use crate::i18n::Lang;
use leptos::prelude::*;
use shared::api::User;

const TOKEN_KEY: &str = "fxs_token";
const LANG_KEY: &str = "fxs_lang";
const DEVICE_KEY: &str = "fxs_device";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn stored_token() -> Option<String> {
    storage()?.get_item(TOKEN_KEY).ok()?
}

fn store(key: &str, value: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match value {
            Some(v) => s.set_item(key, v),
            None => s.remove_item(key),
        };
    }
}

/// A stable id for this browser: the demo WeChat simulator's "phone".
pub fn device_id() -> String {
    if let Some(id) = storage().and_then(|s| s.get_item(DEVICE_KEY).ok().flatten()) {
        return id;
    }
    let id = format!("web-{:x}", (js_sys::Math::random() * 1e15) as u64);
    store(DEVICE_KEY, Some(&id));
    id
}

#[derive(Clone, Copy)]
pub struct Session {
    pub user: RwSignal<Option<User>>,
    pub lang: RwSignal<Lang>,
    /// True until the stored token has been checked with the server.
    pub checking: RwSignal<bool>,
}

impl Session {
    pub fn new() -> Self {
        let lang = storage()
            .and_then(|s| s.get_item(LANG_KEY).ok().flatten())
            .map(|l| if l == "en" { Lang::En } else { Lang::Zh })
            .unwrap_or(Lang::Zh);
        Session {
            user: RwSignal::new(None),
            lang: RwSignal::new(lang),
            checking: RwSignal::new(stored_token().is_some()),
        }
    }

    pub fn logged_in(&self, token: &str, user: User) {
        store(TOKEN_KEY, Some(token));
        self.user.set(Some(user));
    }

    pub fn logged_out(&self) {
        store(TOKEN_KEY, None);
        self.user.set(None);
    }

    pub fn set_lang(&self, lang: Lang) {
        store(LANG_KEY, Some(lang.code()));
        crate::i18n::set_current(lang);
        self.lang.set(lang);
    }

    /// Checks a stored token once at start: still valid -> the user; refused -> forget it.
    pub fn restore(self) {
        if stored_token().is_none() {
            return;
        }
        leptos::task::spawn_local(async move {
            match crate::api::me().await {
                Ok(user) => self.user.set(Some(user)),
                Err(f) if f.is_unauthorized() => self.logged_out(),
                Err(_) => {}
            }
            self.checking.set(false);
        });
    }
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
