//! Log in by phone and SMS code, or with WeChat. Big fields, one hand, clear errors.

use crate::api;
use crate::i18n::{t, K};
use crate::session::use_session;
use crate::storage::device_id;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::{Phone, SmsCode};

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let query = use_query_map();
    let phone = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let dev_code = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let countdown = RwSignal::new(0u32);
    let busy = RwSignal::new(false);

    let next = move || {
        query
            .get_untracked()
            .get("next")
            .filter(|n| n.starts_with('/') && !n.starts_with("//"))
            .unwrap_or_else(|| "/".to_owned())
    };

    let tick = move || {
        let handle = set_interval_with_handle(
            move || countdown.update(|c| *c = c.saturating_sub(1)),
            std::time::Duration::from_secs(1),
        );
        // Stop the timer with the countdown.
        Effect::new(move || {
            if countdown.get() == 0 {
                if let Ok(h) = &handle {
                    h.clear();
                }
            }
        });
    };

    let send_code = move |_| {
        error.set(None);
        let parsed = match Phone::parse(&phone.get_untracked()) {
            Ok(p) => p,
            Err(e) => {
                error.set(Some(e.to_string()));
                return;
            }
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::send_sms_code(&parsed).await {
                Ok(r) => {
                    if let Some(c) = r.dev_code {
                        code.set(c.clone());
                        dev_code.set(Some(c));
                    }
                    countdown.set(60);
                    tick();
                }
                Err(f) => error.set(Some(f.text())),
            }
            busy.set(false);
        });
    };

    let finish = {
        let navigate = navigate.clone();
        move |result: api::ApiResult<shared::api::LoginResponse>| match result {
            Ok(r) => {
                session.logged_in(&r.token, r.user);
                // A page of another bundle loads it (`components::Elsewhere`), with the login stored.
                navigate(&next(), Default::default());
            }
            Err(f) => error.set(Some(f.text())),
        }
    };

    let submit = {
        let finish = finish.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            error.set(None);
            let parsed_phone = Phone::parse(&phone.get_untracked());
            let parsed_code = SmsCode::parse(&code.get_untracked());
            let (p, c) = match (parsed_phone, parsed_code) {
                (Ok(p), Ok(c)) => (p, c),
                (Err(e), _) | (_, Err(e)) => {
                    error.set(Some(e.to_string()));
                    return;
                }
            };
            busy.set(true);
            let finish = finish.clone();
            leptos::task::spawn_local(async move {
                let result = api::login(&p, c.as_str()).await;
                busy.set(false);
                finish(result);
            });
        }
    };

    let wechat = move |_| {
        error.set(None);
        busy.set(true);
        let finish = finish.clone();
        leptos::task::spawn_local(async move {
            let result = api::wechat_login_demo(&device_id()).await;
            busy.set(false);
            finish(result);
        });
    };

    view! {
        <section class="login">
            <h1>{t(K::login_title)}</h1>
            <form on:submit=submit novalidate>
                <label for="phone">{t(K::phone)}</label>
                <input id="phone" type="tel" inputmode="numeric" autocomplete="tel" maxlength="11"
                    placeholder=t(K::phone_placeholder)
                    prop:value=move || phone.get()
                    on:input=move |ev| phone.set(event_target_value(&ev)) />
                <label for="code">{t(K::code)}</label>
                <div class="code-row">
                    <input id="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="6"
                        placeholder=t(K::code_placeholder)
                        prop:value=move || code.get()
                        on:input=move |ev| code.set(event_target_value(&ev)) />
                    <button id="send-code" type="button" class="btn secondary"
                        disabled=move || busy.get() || (countdown.get() > 0)
                        on:click=send_code>
                        {move || if countdown.get() > 0 { format!("{}{}", countdown.get(), t(K::resend_in)()) } else { t(K::send_code)().to_owned() }}
                    </button>
                </div>
                {move || dev_code.get().map(|c| view! {
                    <p class="dev-code" id="dev-code">{t(K::demo_code)} ": " <strong>{c}</strong></p>
                })}
                {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <button id="login" type="submit" class="btn primary block" disabled=move || busy.get()>
                    {move || if busy.get() { t(K::logging_in)() } else { t(K::login)() }}
                </button>
            </form>
            <p class="or">{t(K::or)}</p>
            <button id="wechat-login" class="btn wechat block" disabled=move || busy.get() on:click=wechat>
                {t(K::wechat_login)}
            </button>
        </section>
    }
}
