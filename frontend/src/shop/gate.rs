//! 扫码入场: the page the market gate's poster opens. With the login of the phone the resident
//! orders with, it records the visit at once and says so in big letters; without one, the way to
//! log in and come back here.

use crate::api;
use crate::components::{day_and_time, Guarded};
use crate::i18n::tr;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn GatePage() -> impl IntoView {
    let code = use_query_map().get_untracked().get("code").unwrap_or_default();
    let next = format!("/gate?code={code}");
    view! {
        <h1>{tr("扫码入场", "Entering the market")}</h1>
        <Guarded next=next><Entry code=code.clone()/></Guarded>
    }
}

#[component]
fn Entry(code: String) -> impl IntoView {
    let answer = RwSignal::new(None::<Result<shared::api::GateEntry, api::Failure>>);
    let send = move |code: String| {
        answer.set(None);
        leptos::task::spawn_local(async move { answer.set(Some(api::enter_gate(&code).await)) });
    };
    send(code.clone());
    view! {
        <div class="card center" id="gate-entry" aria-live="polite">
            {move || match answer.get() {
                None => view! { <p>{tr("正在登记…", "Recording…")}</p> }.into_any(),
                Some(Ok(e)) => {
                    let (_, time) = day_and_time(&e.entered_at);
                    view! {
                        <h2 class="success" id="gate-done">"✓ " {tr("已登记入场", "You are recorded")}</h2>
                        <h2><span translate="no">{e.gate}</span> " · " {time}</h2>
                        <p class="note">{tr("进出菜场请戴好口罩", "Please wear a mask in the market")}</p>
                    }.into_any()
                }
                Some(Err(f)) => {
                    let code = code.clone();
                    view! {
                        <p class="form-error" role="alert" id="gate-error">{f.text()}</p>
                        <button class="btn primary block" on:click=move |_| send(code.clone())>{tr("重试", "Try again")}</button>
                    }.into_any()
                }
            }}
        </div>
    }
}
