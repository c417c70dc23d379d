//! Volunteers (志愿者), on a phone in a stairwell: the slot's batches by building, claim a ready
//! one, the manifest by unit and room, "picked up", and each hand-off with the resident's code.
//! Large type, one hand; every page reloads from the server, so a reload on a poor connection
//! loses nothing.

use crate::api;
use crate::components::{day_and_time, Guarded, Load};
use crate::i18n::{now, t, tr, K};
use crate::storage::{Step, Waiting};
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};
use shared::api::{Batch, List, Slot, SlotWork, Stop};
use shared::order::{BatchStatus, OrderStatus, MAX_HANDOFF_ATTEMPTS};
use shared::Role;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

pub(super) fn batch_label(s: BatchStatus) -> K {
    match s {
        BatchStatus::Waiting => K::batch_waiting,
        BatchStatus::Ready => K::batch_ready,
        BatchStatus::Claimed => K::batch_claimed,
        BatchStatus::Out => K::batch_out,
        BatchStatus::Done => K::batch_done,
    }
}

#[component]
pub fn VolunteerPage() -> impl IntoView {
    view! {
        <h1>{t(K::deliveries)}</h1>
        <Guarded next="/volunteer" role=Role::Volunteer><Batches/><Hours/></Guarded>
    }
}

/// The slot a volunteer's page opens on: one where they carry a batch, else the first with a
/// ready batch, else the first not over yet.
fn opening_slot(slots: &[Slot], work: &[SlotWork], now_ms: f64) -> Option<i64> {
    let of = |s: &Slot| work.iter().find(|w| w.slot_id == s.id);
    let delivery = || slots.iter().filter(|s| s.kind == shared::order::SlotKind::Delivery);
    delivery()
        .find(|s| of(s).is_some_and(|w| w.mine > 0))
        .or_else(|| delivery().find(|s| of(s).is_some_and(|w| w.ready > 0)))
        .or_else(|| delivery().find(|s| js_sys::Date::parse(&s.ends_at) > now_ms))
        .or_else(|| delivery().next())
        .map(|s| s.id.get())
}

/// The volunteer's own rounds (claim to the last door), all told.
#[component]
fn Hours() -> impl IntoView {
    Load::of(api::MY_HOURS).show(|h: shared::api::VolunteerHours| view! {
        <section class="card" id="my-hours">
            <h2>{tr("我的志愿时长", "My volunteer hours")}</h2>
            <p>{h.rounds} " " {tr("批", "rounds")} " · " {h.minutes / 60} " " {tr("小时", "h")} " " {h.minutes % 60} " " {tr("分钟", "min")}</p>
        </section>
    })
}

#[component]
fn Batches() -> impl IntoView {
    let slot = RwSignal::new(None::<i64>);
    let slots = Load::new(move || api::slots_path(None));
    let work = Load::of(api::SLOT_WORK).every(15);
    let batches = Load::every_page(move || slot.get().map(api::batches_path)).every(15);
    let message = RwSignal::new(None::<(bool, String)>);
    let navigate = leptos_router::hooks::use_navigate();
    // Opens on the slot with work, once both lists are in.
    Effect::new(move || {
        if slot.get_untracked().is_some() {
            return;
        }
        if let (Some(list), Some(w)) = (slots.value::<List<Slot>>(), work.value::<List<SlotWork>>()) {
            slot.set(opening_slot(&list.items, &w.items, js_sys::Date::now()));
        }
    });
    let claim = move |id: i64| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::batch_step(id, "claim").await {
                Ok(b) => navigate(&format!("/volunteer/batch/{}", b.id), Default::default()),
                // No answer: it may or may not be claimed; the list stays as it is until the
                // phone is back (a claim is not kept to send later: another may take it meanwhile).
                Err(f) if f.status == 0 => message.set(Some((false, no_signal()))),
                Err(f) => {
                    message.set(Some((false, f.text())));
                    batches.reload();
                    work.reload();
                }
            }
        });
    };
    // What a slot's option says besides its time: the batches ready there and the caller's own.
    let marks = move |id: i64| {
        let w = work.value::<List<SlotWork>>()?.items.into_iter().find(|w| w.slot_id.get() == id)?;
        let mut said = String::new();
        if w.mine > 0 {
            said.push_str(&format!(" · {} {}", tr("我的", "mine")(), w.mine));
        }
        if w.ready > 0 {
            said.push_str(&format!(" · {} {}", w.ready, tr("批待认领", "ready")()));
        }
        Some(said)
    };
    view! {
        <label class="field">{tr("时段", "Time")}
            {slots.show_items(move |list: Vec<Slot>| {
                view! {
                    <select id="volunteer-slot" on:change=move |ev| slot.set(event_target_value(&ev).parse().ok())>
                        {list.into_iter().filter(|s| s.kind == shared::order::SlotKind::Delivery).map(|s| {
                            let (day, time) = day_and_time(&s.starts_at);
                            let id = s.id.get();
                            view! { <option value=id.to_string() prop:selected=move || slot.get() == Some(id)>
                                {day.get(5..).unwrap_or_default().to_owned()} " " {time} "–" {day_and_time(&s.ends_at).1}
                                {move || marks(id)}
                            </option> }
                        }).collect_view()}
                    </select>
                }
            })}
        </label>
        {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok role="status">{m}</p> })}
        {batches.show_items(move |list: Vec<Batch>| if list.is_empty() {
            view! { <div class="card center"><p>{tr("这个时段还没有要送的订单", "Nothing to deliver in this slot yet")}</p></div> }.into_any()
        } else {
            let claim = claim.clone();
            view! {
                <ul class="batches">
                    {list.into_iter().map(|b| {
                        let claim = claim.clone();
                        let id = b.id.get();
                        view! {
                            <li class="card batch" data-batch=id>
                                <p class="batch-building">{b.pickup_point_id.map(|_| view! { "📍" {tr("自提点", "Pickup point")} " " })}
                                    <span translate="no">{b.community.clone()}</span> " " {b.building.clone()} {b.pickup_point_id.is_none().then(|| t(K::building))}
                                    {b.group_buy_id.map(|g| g.get()).map(|g| view! { " · " {t(K::nav_group)} " #" {g} })}</p>
                                {b.to_gate.then(gate)}
                                <p><span class=format!("badge big batch-{}", b.status.as_str())>{t(batch_label(b.status))}</span>
                                    " " {b.orders} " " {tr("住户", "Households")}</p>
                                {b.volunteer.clone().map(|v| view! { <p class="note">{t(K::role_volunteer)} " " {v}</p> })}
                                {(b.status == BatchStatus::Ready).then(|| view! {
                                    <button class="btn primary block claim-batch" on:click=move |_| claim(id)>{tr("认领这一批", "Claim this batch")}</button>
                                })}
                                {matches!(b.status, BatchStatus::Claimed | BatchStatus::Out).then(|| view! {
                                    <A href=format!("/volunteer/batch/{id}")><span class="btn secondary block open-batch">{tr("打开清单", "Open the list")}</span></A>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        })}
    }
}

#[component]
pub fn BatchPage() -> impl IntoView {
    let here = leptos_router::hooks::use_location().pathname.get_untracked();
    view! { <Guarded next=here role=Role::Volunteer><BatchDetail/></Guarded> }
}

/// The same batch page for staff (from the dispatch board): they see every batch, and reset an
/// order that took too many wrong codes.
#[component]
pub fn StaffBatchPage() -> impl IntoView {
    let here = leptos_router::hooks::use_location().pathname.get_untracked();
    view! { <Guarded next=here role=Role::Staff><BatchDetail/></Guarded> }
}

#[component]
fn BatchDetail() -> impl IntoView {
    let session = crate::session::use_session();
    let staff = session.user.get_untracked().is_some_and(|u| u.has_role(Role::Staff));
    let params = use_params_map();
    let id = Memo::new(move |_| params.get().get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let batch = Load::new(move || api::batch_path(id.get()));
    let message = RwSignal::new(None::<(bool, String)>);
    // Steps taken without signal wait on the phone (kept across a reload) and go by themselves
    // when it is back: every 5 s, and at once when the browser says it is online.
    let outbox = RwSignal::new(crate::storage::outbox());
    keep_offline();
    let sending = RwSignal::new(false);
    let flush = move || {
        if sending.get_untracked() || outbox.with_untracked(Vec::is_empty) {
            return;
        }
        sending.set(true);
        leptos::task::spawn_local(async move {
            send_waiting(outbox, batch, message).await;
            sending.set(false);
        });
    };
    if let Ok(handle) = set_interval_with_handle(flush, std::time::Duration::from_secs(5)) {
        on_cleanup(move || handle.clear());
    }
    let online = window_event_listener(leptos::ev::online, move |_| flush());
    on_cleanup(move || online.remove());
    let pickup = move |_| {
        let id = id.get_untracked();
        leptos::task::spawn_local(async move {
            match api::batch_step(id, "pickup").await {
                Ok(_) => batch.reload(),
                Err(f) if f.status == 0 => message.set(Some((false, no_signal()))),
                Err(f) => {
                    message.set(Some((false, f.text())));
                    batch.reload();
                }
            }
        });
    };
    let drop_at_point = move |_| {
        let id = id.get_untracked();
        leptos::task::spawn_local(async move {
            match api::batch_step(id, "drop").await {
                Ok(_) => {
                    message
                        .set(Some((true, tr("已交给自提点，谢谢您！", "Left at the point. Thank you!")().to_owned())));
                    batch.reload();
                }
                Err(f) if f.status == 0 => message.set(Some((false, no_signal()))),
                Err(f) => {
                    message.set(Some((false, f.text())));
                    batch.reload();
                }
            }
        });
    };
    let scanning = RwSignal::new(false);
    // A scanned code hands over the order it names, if that order is on this round and out.
    let scanned = Callback::new(move |text: String| {
        scanning.set(false);
        let Some((order_id, code)) = shared::order::parse_handoff_qr(&text) else {
            message.set(Some((false, now(K::not_our_qr).to_owned())));
            return;
        };
        let on_round = batch.value::<Batch>().and_then(|b| b.manifest).is_some_and(|stops| {
            stops.iter().any(|s| s.order_id.get() == order_id && s.status == OrderStatus::OutForDelivery)
        });
        if !on_round {
            message.set(Some((false, now(K::not_this_batch).to_owned())));
            return;
        }
        leptos::task::spawn_local(async move {
            let kept = Waiting { order_id, step: Step::Code, text: code.clone() };
            after_step(api::handoff(order_id, &code).await, K::handed_over, batch, message, Some((outbox, kept)));
        });
    });
    let back = if staff { "/staff/dispatch" } else { "/volunteer" };
    view! {
        <A href=back attr:class="link no-print" attr:id="back-to-batches">"‹ " {tr("全部批次", "All batches")}</A>
        {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:banner=ok class:success=ok role="status" id="batch-message">{m}</p> })}
        {move || { let n = outbox.with(Vec::len); (n > 0).then(|| view! {
            <p class="banner warn" id="outbox" role="status">"⏳ " {n} " " {tr("步还没发出（没有信号）：已记在手机上，有信号时自动发送", "steps not sent yet (no signal): kept on this phone, sent when it is back")}</p>
        }) }}
        {move || scanning.get().then(|| view! {
            <super::scan::Scanner on_text=scanned on_close=Callback::new(move |_| scanning.set(false))/>
        })}
        {batch.show(move |b: Batch| view! {
            {match b.pickup_point_id {
                Some(_) => view! { <h1>{tr("自提点", "Pickup point")} " " {b.building.clone()} " · " {b.orders} " " {tr("单", "orders")}</h1> }.into_any(),
                None => view! { <h1><span translate="no">{b.community.clone()}</span> " " {b.building.clone()} {t(K::building)} " · " {b.orders} " " {tr("住户", "Households")}</h1> }.into_any(),
            }}
            <p><span id="batch-status" class=format!("badge big batch-{}", b.status.as_str())>{t(batch_label(b.status))}</span></p>
            {b.to_gate.then(gate)}
            {(b.status == BatchStatus::Claimed).then(|| view! {
                <button id="pickup-batch" class="btn primary block" on:click=pickup>{tr("已取货，出发", "Picked up, on my way")}</button>
            })}
            {(b.status == BatchStatus::Out && b.pickup_point_id.is_some()).then(|| view! {
                <p class="note">{tr("整批送到自提点，交给管理员；居民凭收货码在自提点取货。", "Leave the whole batch with the point's keeper; residents collect there with their codes.")}</p>
                <button id="drop-batch" class="btn primary block" on:click=drop_at_point>{tr("已送到自提点", "Left at the pickup point")}</button>
            })}
            {(b.status == BatchStatus::Out && b.manifest.is_some() && b.pickup_point_id.is_none()).then(|| view! {
                <button id="scan-handoff" class="btn primary block no-print" on:click=move |_| { message.set(None); scanning.set(true); }>{tr("📷 扫码交付", "📷 Scan to hand over")}</button>
            })}
            {b.manifest.is_some().then(|| {
                let bid = b.id.get();
                view! {
                    <div class="actions no-print">
                        <button class="btn secondary" id="manifest-csv" on:click=move |_| {
                            leptos::task::spawn_local(async move {
                                if let Err(f) = api::download_csv(format!("{}/manifest.csv", api::batch_path(bid)), &format!("配送清单{bid}.csv")).await {
                                    message.set(Some((false, f.text())));
                                }
                            });
                        }>"⬇ " {tr("下载表格", "Download spreadsheet")}</button>
                        <button class="btn secondary" id="manifest-print" on:click=move |_| {
                            if let Some(w) = web_sys::window() {
                                let _ = w.print();
                            }
                        }>"🖨 " {tr("打印", "Print")}</button>
                    </div>
                }
            })}
            {match b.manifest.clone() {
                Some(stops) if b.pickup_point_id.is_some() => view! {
                    <ul class="manifest" id="point-manifest">
                        {stops.into_iter().map(|s| view! {
                            <li class="card">
                                <p><strong>{tr("订单", "Order")} " " {s.order_id.get()}</strong> " · " {s.phone.clone().unwrap_or_default()}</p>
                                <p>{s.items.iter().map(|i| format!("{} ×{}", i.name, i.quantity)).collect::<Vec<_>>().join("、")}</p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Some(stops) => {
                    let building = b.building.clone();
                    let doors = RwSignal::new(arranged(&stops, &building));
                    let stops = StoredValue::new(stops);
                    // One door up the way, remembered for this building.
                    let up = move |door: String| {
                        doors.update(|d| {
                            if let Some(i) = d.iter().position(|x| *x == door).filter(|i| *i > 0) {
                                d.swap(i, i - 1);
                            }
                        });
                        crate::storage::set_stairs(&building, &doors.get_untracked());
                    };
                    view! {
                        <ul class="manifest">
                            {move || doors.get().into_iter().enumerate().filter_map(|(i, door)| {
                                let stop = stops.with_value(|l| l.iter().find(|s| door_of(s) == door).cloned())?;
                                let up = up.clone();
                                Some(view! {
                                    <StopCard stop=stop batch=batch message=message staff=staff outbox=outbox
                                        up=(i > 0).then(|| Callback::new(move |_| up(door.clone())))/>
                                })
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
                None if b.status == BatchStatus::Done => view! {
                    <p class="card center" id="batch-done">{tr("这一批已全部送达，谢谢您！", "Every order of this batch is delivered. Thank you!")}</p>
                    <A href=back attr:class="btn primary block" attr:id="next-batch">{tr("回到配送列表，再送一批", "Back to the batches for another")}</A>
                }.into_any(),
                None => view! { <p class="card center">{t(K::not_allowed)}</p> }.into_any(),
            }}
        })}
    }
}

fn no_signal() -> String {
    tr(
        "没有信号，没有发出。填的内容还在，有信号后再点一次。",
        "No signal: nothing was sent. What you typed is kept; tap again when the phone is back.",
    )()
    .to_owned()
}

/// The phone's steps not sent yet.
type Outbox = RwSignal<Vec<Waiting>>;

/// What a step's answer means for the page: done, or refused by the server (the batch is read
/// again to show where things stand), or no answer at all (no signal in the stairwell): then the
/// manifest stays as it is and a hand-off or a "left at the door" (`keep`) waits on the phone,
/// to be sent when it is back (the server takes the same step twice as once).
fn after_step(
    result: api::ApiResult<impl Sized>,
    done: K,
    batch: Load,
    message: RwSignal<Option<(bool, String)>>,
    keep: Option<(Outbox, Waiting)>,
) {
    match result {
        Ok(_) => message.set(Some((true, now(done).to_owned()))),
        Err(f) if f.status == 0 => {
            match keep {
                Some((outbox, step)) => {
                    keep_step(outbox, step);
                    message.set(Some((false, kept_for_later())));
                }
                None => message.set(Some((false, no_signal()))),
            }
            return;
        }
        Err(f) => message.set(Some((false, f.text()))),
    }
    batch.reload();
}

fn kept_for_later() -> String {
    tr(
        "没有信号：这一步已记在手机上，有信号时自动发送。可以继续送下一户。",
        "No signal: this step is kept on the phone and sent when it is back. Go on to the next door.",
    )()
    .to_owned()
}

/// Keeps a step on the phone to be sent later: it replaces a step of the same kind for the
/// order (a hand-off for a hand-off or "left at the door", a photo for a photo).
fn keep_step(outbox: Outbox, step: Waiting) {
    outbox.update(|o| {
        o.retain(|w| w.order_id != step.order_id || (w.step == Step::Photo) != (step.step == Step::Photo));
        o.push(step);
    });
    crate::storage::set_outbox(&outbox.get_untracked());
}

/// Where the browser keeps photos at the door waiting for signal (Cache Storage holds a whole
/// picture, which the outbox in localStorage cannot); forgotten at logout (`sw.js`).
const PHOTO_CACHE: &str = "fxs-door-photos";

fn photo_key(order_id: i64) -> String {
    format!("/outbox/door-photo/{order_id}")
}

/// Calls `method` of a browser object with `args` and waits for the promise it gives. Through
/// `Reflect` rather than web-sys's Cache bindings, which would grow every bundle by 370 B.
async fn call(
    target: &wasm_bindgen::JsValue,
    method: &str,
    args: &[&wasm_bindgen::JsValue],
) -> Option<wasm_bindgen::JsValue> {
    let f: js_sys::Function = js_sys::Reflect::get(target, &method.into()).ok()?.dyn_into().ok()?;
    let promise = match args {
        [a] => f.call1(target, a),
        [a, b] => f.call2(target, a, b),
        _ => f.call0(target),
    };
    JsFuture::from(promise.ok()?.dyn_into::<js_sys::Promise>().ok()?).await.ok()
}

async fn photo_cache() -> Option<wasm_bindgen::JsValue> {
    let caches =
        js_sys::Reflect::get(&web_sys::window()?.into(), &"caches".into()).ok().filter(|c| !c.is_undefined())?;
    call(&caches, "open", &[&PHOTO_CACHE.into()]).await
}

/// Keeps a photo at the door in the browser until there is signal; false if it cannot.
async fn keep_photo(order_id: i64, photo: &web_sys::Blob) -> bool {
    let Some(cache) = photo_cache().await else { return false };
    let Ok(response) = web_sys::Response::new_with_opt_blob(Some(photo)) else { return false };
    call(&cache, "put", &[&photo_key(order_id).into(), &response]).await.is_some()
}

async fn kept_photo(order_id: i64) -> Option<web_sys::Blob> {
    let cache = photo_cache().await?;
    let response: web_sys::Response = call(&cache, "match", &[&photo_key(order_id).into()]).await?.dyn_into().ok()?;
    JsFuture::from(response.blob().ok()?).await.ok()?.dyn_into().ok()
}

async fn forget_photo(order_id: i64) {
    if let Some(cache) = photo_cache().await {
        let _ = call(&cache, "delete", &[&photo_key(order_id).into()]).await;
    }
}

/// Sends the photo of an order just left at the door; without signal it waits on the phone.
async fn send_photo(order_id: i64, photo: web_sys::File, outbox: Outbox, message: RwSignal<Option<(bool, String)>>) {
    match api::put_door_photo(order_id, &photo).await {
        Ok(_) => message.set(Some((
            true,
            tr("已放门口，照片已发给住户", "Left at the door; the photo is sent to the household")().to_owned(),
        ))),
        Err(f) if f.status == 0 => keep_photo_for_later(order_id, &photo, outbox, message).await,
        Err(f) => message.set(Some((false, f.text()))),
    }
}

async fn keep_photo_for_later(
    order_id: i64,
    photo: &web_sys::Blob,
    outbox: Outbox,
    message: RwSignal<Option<(bool, String)>>,
) {
    if keep_photo(order_id, photo).await {
        keep_step(outbox, Waiting { order_id, step: Step::Photo, text: String::new() });
        message.set(Some((false, kept_for_later())));
    } else {
        let why = tr(
            "没有信号，照片没能存在手机上：有信号后请再拍一次",
            "No signal, and the photo could not be kept: take it again when the phone is back",
        );
        message.set(Some((false, why().to_owned())));
    }
}

/// Sends the steps waiting on the phone, oldest first, until one finds no signal. A step the
/// server refuses (a wrong code typed in the dark) is dropped and said, so the door can be done
/// again.
async fn send_waiting(outbox: Outbox, batch: Load, message: RwSignal<Option<(bool, String)>>) {
    let mut refused = None;
    while let Some(next) = outbox.with_untracked(|o| o.first().cloned()) {
        let result = match next.step {
            Step::Door => api::left_at_door(next.order_id, &next.text).await.map(|_| ()),
            Step::Code => api::handoff(next.order_id, &next.text).await.map(|_| ()),
            // A picture the browser no longer keeps (a logout) is nothing left to send.
            Step::Photo => match kept_photo(next.order_id).await {
                Some(photo) => api::put_door_photo(next.order_id, &photo).await.map(|_| ()),
                None => Ok(()),
            },
        };
        if next.step == Step::Photo && !matches!(&result, Err(f) if f.status == 0) {
            forget_photo(next.order_id).await;
        }
        match result {
            Err(f) if f.status == 0 => return,
            Err(f) => refused = Some(format!("{} {}: {}", tr("订单", "Order")(), next.order_id, f.text())),
            Ok(()) => {}
        }
        outbox.update(|o| o.retain(|w| *w != next));
        crate::storage::set_outbox(&outbox.get_untracked());
        batch.reload();
    }
    message.set(Some(match refused {
        Some(why) => (false, why),
        None => (true, tr("有信号了：记下的每一步都已发出", "Back online: every step kept was sent")().to_owned()),
    }));
}

/// Asks the browser to keep the volunteers' pages, the batches and the manifest for use without
/// signal (`frontend/sw.js`, a service worker).
fn keep_offline() {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else { return };
    let Ok(workers) = js_sys::Reflect::get(&window.navigator(), &"serviceWorker".into()) else { return };
    if workers.is_undefined() {
        return;
    }
    let register =
        js_sys::Reflect::get(&workers, &"register".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(register) = register {
        let _ = register.call1(&workers, &"/sw.js".into());
    }
}

/// A door on the manifest: `unit-room`.
fn door_of(s: &Stop) -> String {
    format!("{}-{}", s.unit, s.room)
}

/// The manifest's doors in the volunteer's order: the way they arranged this building before,
/// else stair order (unit by unit, top floor down); doors new since then in stair order after.
fn arranged(stops: &[Stop], building: &str) -> Vec<String> {
    let pairs: Vec<(&str, &str)> = stops.iter().map(|s| (s.unit.as_str(), s.room.as_str())).collect();
    let mut doors: Vec<String> = shared::order::stair_order(&pairs).into_iter().map(|i| door_of(&stops[i])).collect();
    let saved = crate::storage::stairs(building);
    doors.sort_by_key(|d| saved.iter().position(|x| x == d).unwrap_or(usize::MAX));
    doors
}

#[component]
fn StopCard(
    stop: Stop,
    batch: Load,
    message: RwSignal<Option<(bool, String)>>,
    staff: bool,
    outbox: Outbox,
    /// Moves this door one up the way (none for the first).
    up: Option<Callback<()>>,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let order_id = stop.order_id.get();
    let hand_over = move |_| {
        let typed = code.get_untracked();
        leptos::task::spawn_local(async move {
            let keep = Waiting { order_id, step: Step::Code, text: typed.clone() };
            after_step(api::handoff(order_id, &typed).await, K::handed_over, batch, message, Some((outbox, keep)));
        });
    };
    let note = RwSignal::new(String::new());
    let nobody_home = RwSignal::new(false);
    // An optional photo of where it was left, taken before "left at the door" is pressed (the
    // manifest of a batch whose last order is left is gone after): sent just after it.
    let photo = RwSignal::new_local(None::<web_sys::File>);
    let take_photo = move |ev: leptos::ev::Event| {
        let chosen = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0));
        photo.set(chosen);
    };
    let leave = move |_| {
        let typed = note.get_untracked();
        let taken = photo.get_untracked();
        leptos::task::spawn_local(async move {
            let result = api::left_at_door(order_id, &typed).await;
            let (left, offline) = (result.is_ok(), matches!(&result, Err(f) if f.status == 0));
            let keep = Waiting { order_id, step: Step::Door, text: typed.clone() };
            after_step(result, K::left_at_door, batch, message, Some((outbox, keep)));
            match taken {
                Some(p) if left => send_photo(order_id, p, outbox, message).await,
                Some(p) if offline => keep_photo_for_later(order_id, &p, outbox, message).await,
                _ => {}
            }
        });
    };
    let waiting = move || outbox.with(|o| o.iter().any(|w| w.order_id == order_id && w.step != Step::Photo));
    let photo_waiting = move || outbox.with(|o| o.iter().any(|w| w.order_id == order_id && w.step == Step::Photo));
    let reset = move |_| {
        leptos::task::spawn_local(async move {
            match api::reset_handoff(order_id).await {
                Ok(_) => message.set(Some((true, now(K::handoff_reset_done).to_owned()))),
                Err(f) => message.set(Some((false, f.text()))),
            }
            batch.reload();
        });
    };
    let out = stop.status == OrderStatus::OutForDelivery;
    let locked = out && stop.handoff_attempts >= MAX_HANDOFF_ATTEMPTS;
    let delivered = stop.status == OrderStatus::Delivered;
    view! {
        <li class="card stop" class:delivered=delivered data-order=order_id>
            <div class="stop-head">
                <p class="stop-address">{stop.unit.clone()} {t(K::unit)} " " {stop.room.clone()} {t(K::room)}</p>
                {up.map(|up| view! { <button class="btn secondary move-up no-print" on:click=move |_| up.run(())>"↑ " {tr("上移", "Earlier")}</button> })}
            </div>
            <p class="note"><span translate="no">{stop.community.clone()}</span> " " {stop.building.clone()} {t(K::building)} " · " {stop.phone.clone().unwrap_or_default()}</p>
            <ul class="box-items">
                {stop.items.iter().map(|i| view! { <li><span>{i.name.clone()}</span><span>{i.quantity} {i.unit.clone()}</span></li> }).collect_view()}
            </ul>
            {stop.note.clone().map(|n| view! { <p class="note warn">{tr("备注（选填）", "Note (optional)")} ": " {n}</p> })}
            {delivered.then(|| view! { <p class="banner success">"✓ " {t(K::st_delivered)}
                {stop.left_at_door.then(|| view! { " · 🚪 " {t(K::left_at_door)} })}
                {stop.door_photo.then(|| view! { <span class="door-photo-sent">" · 📷 " {tr("已拍照", "Photo sent")}</span> })}</p> })}
            {move || photo_waiting().then(|| view! { <p class="banner warn photo-waiting">"⏳ 📷 " {tr("门口照片等有信号时发送", "The photo at the door goes when there is signal")}</p> })}
            {locked.then(|| view! {
                <p class="banner warn handoff-locked">{tr("收货码输错太多次，已锁定。请联系工作人员重置。", "Too many wrong codes: locked. Ask staff to reset it.")}</p>
                {staff.then(|| view! { <button class="btn primary block reset-handoff" on:click=reset>{tr("重置收货码次数", "Reset the code tries")}</button> })}
            })}
            {move || waiting().then(|| view! { <p class="banner warn waiting">"⏳ " {tr("已记下，等有信号时发送", "Kept: sent when there is signal")}</p> })}
            {move || (out && !locked && !waiting()).then(|| view! {
                <div class="handoff-row">
                    <input class="handoff-input" inputmode="numeric" maxlength="6" autocomplete="off" placeholder=move || tr("收货码", "Hand-off code")()
                        prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
                    <button class="btn primary hand-over" on:click=hand_over>{tr("交付", "Hand over")}</button>
                </div>
                {(stop.handoff_attempts > 0).then(|| view! { <p class="note warn">{tr("收货码输错", "Wrong codes")} " " {stop.handoff_attempts} " / " {MAX_HANDOFF_ATTEMPTS}</p> })}
                {move || if nobody_home.get() {
                    view! {
                        <div class="handoff-row">
                            <input class="door-note" maxlength="200" placeholder=move || tr("放在哪里了", "Where it was left")()
                                prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))/>
                            <button class="btn secondary leave-at-door" on:click=leave>{t(K::left_at_door)}</button>
                        </div>
                        <label class="btn secondary block door-photo-label">
                            {move || if photo.with(Option::is_some) { tr("📷 已拍好，放门口时一起发送", "📷 Taken: sent with \"left at the door\"") } else { tr("📷 拍门口照片（可选）", "📷 Photo of the door (optional)") }}
                            <input class="door-photo" type="file" accept="image/*" capture="environment" on:change=take_photo/>
                        </label>
                    }.into_any()
                } else {
                    view! { <button class="link nobody-home" on:click=move |_| nobody_home.set(true)>{tr("家里没人？", "Nobody home?")}</button> }.into_any()
                }}
            })}
        </li>
    }
}

/// A closed building's batch: its orders go to the compound's gate, not up to the doors.
fn gate() -> impl IntoView {
    view! { <p class="banner warn gate" role="note">{tr("🚧 封闭管理：送到小区大门交接，不上楼", "🚧 Closed building: hand the orders over at the compound's gate")}</p> }
}
