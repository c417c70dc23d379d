//! 入场与追溯 (staff): the market's gates with the codes to print, and one epidemic
//! investigation: everyone who came through a gate and every hand-off at a door in a time
//! window, on one page and in one spreadsheet.

use crate::api;
use crate::components::{day_and_time, Guarded, Load};
use crate::i18n::tr;
use leptos::prelude::*;
use shared::api::{Contact, Gate, Visit};
use shared::Role;

#[component]
pub fn TracePage() -> impl IntoView {
    view! {
        <h1>{tr("入场登记与追溯", "Gate and contact trace")}</h1>
        <Guarded next="/staff/trace" role=Role::Staff><Investigation/> <GatesAdmin/></Guarded>
    }
}

/// `YYYY-MM-DDTHH:MM` in Shanghai, `hours` from now (what a `datetime-local` input holds).
fn local_time(hours: f64) -> String {
    let ms = js_sys::Date::now() + (8.0 + hours) * 3600.0 * 1000.0;
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        d.get_utc_full_year(),
        d.get_utc_month() + 1,
        d.get_utc_date(),
        d.get_utc_hours(),
        d.get_utc_minutes()
    )
}

/// A `datetime-local` value as RFC 3339 in the market's time.
fn rfc3339(local: &str) -> String {
    format!("{local}:00+08:00")
}

#[component]
fn Investigation() -> impl IntoView {
    let from = RwSignal::new(local_time(-24.0));
    let to = RwSignal::new(local_time(1.0));
    let range = move || (rfc3339(&from.get()), rfc3339(&to.get()));
    let visits = Load::new(move || {
        let (f, t) = range();
        api::visits_path(&f, &t)
    });
    let handoffs = Load::new(move || {
        let (f, t) = range();
        api::contacts_path(&f, &t)
    });
    let message = RwSignal::new(None::<String>);
    let when = |at: &str| {
        let (day, time) = day_and_time(at);
        format!("{} {time}", day.get(5..).unwrap_or_default())
    };
    view! {
        <div class="card" id="investigation">
            <h2>{tr("时间段", "Time window")}</h2>
            <div class="form-grid">
                <label>{tr("从", "From")}
                    <input type="datetime-local" id="trace-from" prop:value=move || from.get() on:change=move |ev| from.set(event_target_value(&ev))/>
                </label>
                <label>{tr("到", "To")}
                    <input type="datetime-local" id="trace-to" prop:value=move || to.get() on:change=move |ev| to.set(event_target_value(&ev))/>
                </label>
            </div>
            <button class="btn secondary block" id="investigation-csv" on:click=move |_| {
                let (f, t) = range();
                leptos::task::spawn_local(async move {
                    if let Err(e) = api::download_csv(api::investigation_path(&f, &t), "流调追溯.csv").await {
                        message.set(Some(e.text()));
                    }
                });
            }>"⬇ " {tr("下载追溯表格（入场和送达）", "Download the trace (gate and hand-offs)")}</button>
            {move || message.get().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
            <h2>{tr("入场", "Came through the gate")}</h2>
            {visits.show_items(move |list: Vec<Visit>| if list.is_empty() {
                view! { <p>{tr("这段时间没有人扫码入场", "Nobody came in during this time")}</p> }.into_any()
            } else {
                view! {
                    <ul class="households" id="visits">
                        {list.into_iter().map(|v| view! {
                            <li class="visit">{when(&v.entered_at)} " · " <span translate="no">{v.gate}</span> " · "
                                {v.phone.unwrap_or_default()} " · " <span translate="no">{v.community}</span> " " {v.building} "-" {v.unit} "-" {v.room}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
            <h2>{tr("送达", "Hand-offs at doors")}</h2>
            {handoffs.show_items(move |list: Vec<Contact>| if list.is_empty() {
                view! { <p>{tr("这段时间没有送达", "No hand-offs during this time")}</p> }.into_any()
            } else {
                view! {
                    <ul class="households" id="handoffs">
                        {list.into_iter().map(|c| view! {
                            <li class="handoff">{when(&c.at)} " · " {c.volunteer_phone.unwrap_or_default()} " → "
                                <span translate="no">{c.community}</span> " " {c.building} "-" {c.unit} "-" {c.room}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </div>
    }
}

/// The gates: each with its QR code to print; a new code (two presses) stops an old poster.
#[component]
fn GatesAdmin() -> impl IntoView {
    let gates = Load::new(|| api::GATES.to_owned());
    let name = RwSignal::new(String::new());
    let armed = RwSignal::new(None::<i64>);
    let message = RwSignal::new(None::<(bool, String)>);
    let rotate = move |id: i64| {
        if armed.get_untracked() != Some(id) {
            armed.set(Some(id));
            return;
        }
        leptos::task::spawn_local(async move {
            match api::rotate_gate(id).await {
                Ok(_) => message.set(Some((
                    true,
                    format!("✓ {}", tr("已换新码，请打印新海报", "New code: print the new poster")()),
                ))),
                Err(f) => message.set(Some((false, f.text()))),
            }
            armed.set(None);
            gates.reload();
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let n = name.get_untracked();
        leptos::task::spawn_local(async move {
            match api::add_gate(&n).await {
                Ok(g) => {
                    message.set(Some((true, format!("✓ {} {}", tr("已添加", "Added")(), g.name))));
                    name.set(String::new());
                    gates.reload();
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
        });
    };
    view! {
        <div class="card" id="gates">
            <h2>{tr("入场码", "Gate codes")}</h2>
            <p class="note">{tr("打印二维码贴在门口：居民用下单的手机扫码，即登记入场。", "Print the QR code at the gate: residents scan it with the phone they order with.")}</p>
            {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:added=ok role="status" id="gates-message">{m}</p> })}
            {gates.show_items(move |list: Vec<Gate>| view! {
                <ul class="households">
                    {list.into_iter().map(|g| {
                        let id = g.id;
                        view! {
                            <li class="gate" data-gate=id>
                                <h3 translate="no">{g.name}</h3>
                                <div class="qr" inner_html=g.qr_svg></div>
                                <p class="note" translate="no">{g.url}</p>
                                <button class="btn secondary rotate-gate" on:click=move |_| rotate(id)>
                                    {move || if armed.get() == Some(id) { tr("确认换码（旧海报失效）", "Confirm: the old poster stops working") } else { tr("换新码", "New code") }}
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            <form on:submit=submit id="gate-form">
                <label class="field" for="gate-name">{tr("门的名称（如 北门）", "Gate name (e.g. 北门)")}</label>
                <input id="gate-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <button class="btn primary block" type="submit" id="gate-submit">{tr("添加入场码", "Add a gate")}</button>
            </form>
        </div>
    }
}
