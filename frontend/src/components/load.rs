//! Data a page shows from the server: asked for when the page opens, again when what it depends
//! on changes or on `reload`, and shown as loading, as a failure with "try again", or as the
//! page. One small machine serves every page whatever the data's type (the JSON stays as the
//! browser parsed it until it is shown), which keeps the residents' download small.

use super::{ErrorNote, Loading};
use crate::api::{self, ApiResult};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

#[derive(Clone, Copy)]
pub struct Load {
    /// The latest answer; kept while the same path is asked again, so a refresh does not blink.
    answer: RwSignal<Option<ApiResult<JsValue>>, LocalStorage>,
    again: RwSignal<u32>,
}

impl Load {
    /// Loads the path `path` gives; a signal `path` reads makes it load anew when it changes.
    pub fn new(path: impl Fn() -> String + 'static) -> Self {
        Self::when(move || Some(path()))
    }

    /// Like `new`, but asks for nothing while `path` gives none.
    pub fn when(path: impl Fn() -> Option<String> + 'static) -> Self {
        Self::make(path, false)
    }

    /// Like `when`, for a list shown whole however long it grows (a group-buy's shares, a
    /// slot's batches, a stall's orders): every page of it, one after the other.
    pub fn every_page(path: impl Fn() -> Option<String> + 'static) -> Self {
        Self::make(path, true)
    }

    fn make(path: impl Fn() -> Option<String> + 'static, whole: bool) -> Self {
        let load = Load { answer: RwSignal::new_local(None), again: RwSignal::new(0) };
        // Only the latest request may answer: an older one that arrives late is dropped.
        let latest = StoredValue::new(0u32);
        let asked = StoredValue::new(String::new());
        Effect::new(move |_| {
            load.again.track();
            let Some(path) = path() else {
                load.answer.set(None);
                asked.set_value(String::new());
                return;
            };
            if asked.get_value() != path {
                load.answer.set(None);
                asked.set_value(path.clone());
            }
            latest.update_value(|n| *n += 1);
            let this = latest.get_value();
            leptos::task::spawn_local(async move {
                let answer = if whole { api::get_every_page(path).await } else { api::get_json(path).await };
                if latest.try_get_value() == Some(this) {
                    load.answer.try_set(Some(answer));
                }
            });
        });
        load
    }

    /// A path that does not change.
    pub fn of(path: &'static str) -> Self {
        Self::new(move || path.to_owned())
    }

    /// Asks again, showing what is there until the answer comes.
    pub fn reload(&self) {
        self.again.update(|n| *n += 1);
    }

    /// Asks again every `seconds` while the page that made it is open: lists that change under
    /// the reader (slots filling, a group-buy's progress, a stall's orders, batches).
    pub fn every(self, seconds: u64) -> Self {
        if let Ok(handle) = set_interval_with_handle(move || self.reload(), std::time::Duration::from_secs(seconds)) {
            on_cleanup(move || handle.clear());
        }
        self
    }

    /// Asks again whenever the server-sent events at `path` say something changed, while the
    /// page that made it is open; `connected` tells whether they are coming. A dropped stream
    /// is opened again (after 1 s, then longer, up to 30 s); a refusal (logged out, not
    /// allowed) ends it, and the page's own answer shows why.
    pub fn live(self, path: &'static str, connected: RwSignal<bool>) -> Self {
        let Ok(controller) = web_sys::AbortController::new() else { return self };
        let signal = controller.signal();
        let controller = StoredValue::new_local(controller);
        on_cleanup(move || controller.with_value(|c| c.abort()));
        leptos::task::spawn_local(async move {
            let mut wait = 1000;
            while !signal.aborted() {
                let ended = api::listen(path, &signal, |_| {
                    // `ready` too: what changed while the stream was down is read now.
                    connected.try_set(true);
                    wait = 1000;
                    self.again.try_update(|n| *n += 1);
                })
                .await;
                connected.try_set(false);
                if signal.aborted() || ended.as_ref().is_err_and(|f| f.status == 401 || f.status == 403) {
                    return;
                }
                api::sleep(wait).await;
                wait = (wait * 2).min(30_000);
            }
        });
        self
    }

    /// A paged answer's `next_cursor`, once there.
    pub fn next_cursor(&self) -> Option<String> {
        match self.answer.get_untracked() {
            Some(Ok(v)) => api::next_cursor(&v),
            _ => None,
        }
    }

    /// The answer as `T`, once there (for code that needs a value rather than a view).
    pub fn value<T: DeserializeOwned>(&self) -> Option<T> {
        match self.answer.get() {
            Some(Ok(v)) => api::parse(v).ok(),
            _ => None,
        }
    }

    /// The page for the answer, read as `T`: `show` once it is there, the loading state before,
    /// a failure with "try again" if it fails.
    pub fn show<T, V>(self, show: impl Fn(T) -> V + Send + Sync + 'static) -> impl IntoView
    where
        T: DeserializeOwned + 'static,
        V: IntoView + 'static,
    {
        self.show_with(api::parse::<T>, show)
    }

    /// Like `show` for a list answer (`{"items": [...]}`).
    pub fn show_items<T, V>(self, show: impl Fn(Vec<T>) -> V + Send + Sync + 'static) -> impl IntoView
    where
        T: DeserializeOwned + 'static,
        V: IntoView + 'static,
    {
        self.show_with(api::items::<T>, show)
    }

    fn show_with<T: 'static, V: IntoView + 'static>(
        self,
        read: fn(JsValue) -> ApiResult<T>,
        show: impl Fn(T) -> V + Send + Sync + 'static,
    ) -> impl IntoView {
        // Only reading the value and showing it depend on the type; the rest is shared code.
        move || match self.answer_or_view() {
            Ok(value) => match read(value) {
                Ok(value) => show(value).into_any(),
                Err(failure) => self.failure_view(failure),
            },
            Err(view) => view,
        }
    }

    /// The JSON once it is there; until then (or on a failure) what to show instead.
    fn answer_or_view(self) -> Result<JsValue, AnyView> {
        match self.answer.get() {
            None => Err(view! { <Loading/> }.into_any()),
            Some(Ok(value)) => Ok(value),
            Some(Err(failure)) => Err(self.failure_view(failure)),
        }
    }

    fn failure_view(self, failure: api::Failure) -> AnyView {
        view! { <ErrorNote failure=failure retry=Callback::new(move |_| self.reload())/> }.into_any()
    }
}
