//! Staff: open, adjust and close slots and watch them fill; flag priority households.

use crate::api;
use crate::components::{day_and_time, Guarded, Load};
use crate::i18n::{t, tr, K};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::{
    Building, CreateSlot, FlagHousehold, Household, HouseholdPeople, ImportAction, NewBuilding, RegisterImport, Slot,
    UpdateBuilding, UpdateSlot,
};
use shared::order::SlotKind;
use shared::Role;

fn today_shanghai() -> String {
    super::supply::shanghai_date(0)
}

#[component]
pub fn StaffPage() -> impl IntoView {
    view! {
        <h1>{t(K::staff_page)}</h1>
        <Guarded next="/staff" role=Role::Staff>
            <A href="/staff/dispatch"><span class="btn secondary block" id="dispatch-link">{tr("配送看板", "Dispatch board")}</span></A>
            <A href="/staff/donations"><span class="btn secondary block" id="pool-link">"❤️ " {t(K::donate)}</span></A>
            <A href="/staff/supply"><span class="btn secondary block" id="supply-link">{tr("采购计划与供货方", "Supply planning and producers")}</span></A>
            <A href="/staff/trace"><span class="btn secondary block" id="trace-link">{tr("入场登记与追溯", "Gate and contact trace")}</span></A>
            <A href="/staff/points"><span class="btn secondary block" id="points-link">"📍 " {tr("自提点", "Pickup points")}</span></A>
            <A href="/staff/markets"><span class="btn secondary block" id="markets-link">"🏪 " {tr("市场", "Markets")}</span></A>
            <SlotsAdmin/> <OpenRefunds/> <LotsAdmin/> <PriceCapAdmin/> <AreaAdmin/> <super::goods::BuildingList/> <super::setup::CatalogueSetup/> <super::goods::StallOpening/> <super::goods::ProductEditor/> <super::goods::BoxPacking/> <super::goods::CatalogueFile/> <super::goods::People/> <super::goods::AuditLog/> <HouseholdsAdmin/> <RegisterImport/> <EraseResident/>
        </Guarded>
    }
}

/// The dispatch board (staff): a slot's batches by building with their state, the volunteer on
/// each and how long it has waited; refreshed every 15 s.
#[component]
pub fn DispatchPage() -> impl IntoView {
    view! {
        <h1>{tr("配送看板", "Dispatch board")}</h1>
        <Guarded next="/staff/dispatch" role=Role::Staff><DispatchBoard/></Guarded>
    }
}

#[component]
fn DispatchBoard() -> impl IntoView {
    let date = RwSignal::new(today_shanghai());
    let slot = RwSignal::new(None::<i64>);
    let slots = Load::new(move || api::slots_path(Some(&date.get())));
    let batches = Load::every_page(move || slot.get().map(api::batches_path)).every(15);
    let (now_ms, set_now) = signal(js_sys::Date::now());
    if let Ok(handle) =
        set_interval_with_handle(move || set_now.set(js_sys::Date::now()), std::time::Duration::from_secs(30))
    {
        on_cleanup(move || handle.clear());
    }
    view! {
        <div class="form-grid">
            <label>{tr("日期", "Date")}
                <input type="date" id="dispatch-date" prop:value=move || date.get() on:change=move |ev| { slot.set(None); date.set(event_target_value(&ev)); }/>
            </label>
            <label>{tr("时段", "Time")}
                {slots.show_items(move |list: Vec<Slot>| view! {
                    <select id="dispatch-slot" on:change=move |ev| slot.set(event_target_value(&ev).parse().ok())>
                        <option value="">"—"</option>
                        {list.into_iter().filter(|s| s.kind == SlotKind::Delivery).map(|s| view! {
                            <option value=s.id.to_string()>{day_and_time(&s.starts_at).1} "–" {day_and_time(&s.ends_at).1}</option>
                        }).collect_view()}
                    </select>
                })}
            </label>
        </div>
        <Problems/>
        <button class="btn secondary" id="hours-csv" on:click=move |_| {
            // The last 31 days of volunteers' rounds, for the committee's records.
            let to = js_sys::Date::new_0();
            let from = js_sys::Date::new(&(js_sys::Date::now() - 31.0 * 86_400_000.0).into());
            let (from, to): (String, String) = (from.to_iso_string().into(), to.to_iso_string().into());
            let path = format!("/api/v1/admin/volunteer-hours.csv?from={}&to={}", js_sys::encode_uri_component(&from), js_sys::encode_uri_component(&to));
            leptos::task::spawn_local(async move {
                let _ = api::download_csv(path, "志愿时长.csv").await;
            });
        }>"⬇ " {tr("志愿时长表（近31天）", "Volunteer hours (31 days)")}</button>
        {move || {
            // Packed goods waiting in the sun: ready batches nobody has claimed for longer than
            // the market allows (the server says which: FXS_LATE_BATCH_MINUTES).
            let late = batches.value::<shared::api::List<shared::api::Batch>>().map_or(0, |l| l.items.iter().filter(|b| b.late).count());
            (late > 0).then(|| view! {
                <p class="banner warn" id="late-batches" role="alert">
                    "⚠ " {late} " " {tr("批已打包，等得太久还没人认领", "batches packed and unclaimed for too long")}
                </p>
            })
        }}
        {batches.show_items(move |list: Vec<shared::api::Batch>| view! {
            <table class="shares dispatch">
                <thead><tr><th>{tr("楼号", "Building")}</th><th>{tr("住户", "Households")}</th><th>{tr("状态", "Status")}</th><th>{t(K::role_volunteer)}</th><th>{tr("已等", "Waited")}</th><th></th></tr></thead>
                <tbody>
                    {list.into_iter().map(|b| {
                        let since = b.since.clone();
                        view! {
                            <tr data-batch=b.id.get() class:late=b.late>
                                <td>{b.pickup_point_id.map(|_| "📍")} <span translate="no">{b.community.clone()}</span> " " {b.building.clone()} {b.to_gate.then_some("🚧")}</td>
                                <td class="num">{b.orders}</td>
                                <td><span class=format!("badge batch-{}", b.status.as_str())>{t(super::volunteer::batch_label(b.status))}</span></td>
                                <td>{b.volunteer.clone().unwrap_or_default()}</td>
                                <td class="num">{move || format!("{}′", ((now_ms.get() - js_sys::Date::parse(&since)) / 60_000.0).max(0.0) as i64)}</td>
                                <td><A href=format!("/staff/batch/{}", b.id) attr:class="link open-batch">{tr("打开清单", "Open the list")}</A></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}

#[component]
fn SlotsAdmin() -> impl IntoView {
    let date = RwSignal::new(today_shanghai());
    let slots = Load::new(move || api::slots_path(Some(&date.get())));
    let error = RwSignal::new(None::<String>);
    let kind = RwSignal::new(SlotKind::Delivery);
    let start = RwSignal::new("08:00".to_owned());
    let end = RwSignal::new("10:00".to_owned());
    let cutoff_hours = RwSignal::new("1".to_owned());
    let capacity = RwSignal::new("60".to_owned());
    let priority = RwSignal::new("10".to_owned());

    let run = move |fut: std::pin::Pin<Box<dyn std::future::Future<Output = api::ApiResult<Slot>>>>| {
        leptos::task::spawn_local(async move {
            match fut.await {
                Ok(_) => {
                    error.set(None);
                    slots.reload();
                }
                Err(f) => error.set(Some(f.text())),
            }
        });
    };
    let open = move |_| {
        let d = date.get_untracked();
        let at = |hm: &str| format!("{d}T{hm}:00+08:00");
        let starts_at = at(&start.get_untracked());
        let hours: i64 = cutoff_hours.get_untracked().trim().parse().unwrap_or(1);
        let (h, m) = start
            .get_untracked()
            .split_once(':')
            .map(|(h, m)| (h.parse::<i64>().unwrap_or(0), m.to_owned()))
            .unwrap_or((0, "00".into()));
        let cutoff = if h >= hours { at(&format!("{:02}:{m}", h - hours)) } else { at("00:00") };
        let priority_capacity: i64 = priority.get_untracked().trim().parse().unwrap_or(0);
        let body = CreateSlot {
            kind: kind.get_untracked(),
            starts_at: starts_at.clone(),
            ends_at: at(&end.get_untracked()),
            cutoff_at: cutoff.clone(),
            capacity: capacity.get_untracked().trim().parse().unwrap_or(-1),
            priority_capacity,
            priority_release_at: (priority_capacity > 0).then_some(cutoff),
            household_limit: None,
        };
        run(Box::pin(async move { api::create_slot(&body).await }));
    };
    let adjust = Callback::new(move |(id, change): (i64, UpdateSlot)| {
        run(Box::pin(async move { api::update_slot(id, &change).await }))
    });

    view! {
        <section class="card">
            <label class="block-label" for="slot-date">{tr("日期", "Date")}</label>
            <input id="slot-date" type="date" prop:value=move || date.get() on:change=move |ev| date.set(event_target_value(&ev))/>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {slots.show_items(move |list: Vec<Slot>| if list.is_empty() {
                view! { <p class="empty">{tr("这一天没有可选时段", "No times on this day")}</p> }.into_any()
            } else {
                view! {
                    <ul class="admin-slots">
                        {list.into_iter().map(|s| view! { <AdminSlot info=s adjust=adjust/> }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </section>
        <section class="card">
            <h2>{tr("新开时段", "Open a slot")}</h2>
            <div class="segmented">
                <button class:active=move || kind.get() == SlotKind::Delivery on:click=move |_| kind.set(SlotKind::Delivery)>{tr("送货上门", "Home delivery")}</button>
                <button class:active=move || kind.get() == SlotKind::Pickup on:click=move |_| kind.set(SlotKind::Pickup)>{tr("到店自提", "Pick up at the market")}</button>
            </div>
            <div class="form-grid">
                <label>{tr("开始", "Start")}<input type="time" prop:value=move || start.get() on:change=move |ev| start.set(event_target_value(&ev))/></label>
                <label>{tr("结束", "End")}<input type="time" prop:value=move || end.get() on:change=move |ev| end.set(event_target_value(&ev))/></label>
                <label>{tr("提前截止（小时）", "Cut-off (hours before)")}<input inputmode="numeric" prop:value=move || cutoff_hours.get() on:input=move |ev| cutoff_hours.set(event_target_value(&ev))/></label>
                <label>{tr("容量（单）", "Capacity (orders)")}<input inputmode="numeric" prop:value=move || capacity.get() on:input=move |ev| capacity.set(event_target_value(&ev))/></label>
                <label>{tr("优先预留", "Priority reserve")}<input inputmode="numeric" prop:value=move || priority.get() on:input=move |ev| priority.set(event_target_value(&ev))/></label>
            </div>
            <button id="open-slot" class="btn primary block" on:click=open>{t(K::save)}</button>
        </section>
    }
}

/// "2026-11-30T07:00:00+08:00" → "2026-11-30T07:00", as a `datetime-local` input shows it.
fn local_input(rfc3339: &str) -> String {
    rfc3339.get(..16).unwrap_or_default().to_owned()
}

/// Back from a `datetime-local` input: Shanghai time, with its offset.
fn from_local_input(value: &str) -> Option<String> {
    let v = value.trim();
    (v.len() == 16).then(|| format!("{v}:00+08:00"))
}

fn hm(rfc3339: &str) -> String {
    day_and_time(rfc3339).1
}

/// One slot as staff see it: its fill, cut-off and priority reserve; quick ±10 and close, and a
/// form for the exact capacity, reserve, cut-off and release time.
#[component]
fn AdminSlot(info: Slot, adjust: Callback<(i64, UpdateSlot)>) -> impl IntoView {
    let s = info;
    let pct = if s.capacity > 0 { (s.booked * 100 / s.capacity).min(100) } else { 100 };
    let (id, cap, closed) = (s.id.get(), s.capacity, s.closed);
    let editing = RwSignal::new(false);
    let capacity = RwSignal::new(s.capacity.to_string());
    let priority = RwSignal::new(s.priority_capacity.to_string());
    let cutoff = RwSignal::new(local_input(&s.cutoff_at));
    let release = RwSignal::new(local_input(s.priority_release_at.as_deref().unwrap_or(&s.cutoff_at)));
    let per_household = RwSignal::new(s.household_limit.to_string());
    let reserve = (s.priority_capacity > 0).then(|| {
        let until = s.priority_release_at.as_deref().map(hm).unwrap_or_default();
        view! {
            <span class="slot-reserve">
                {tr("优先预留", "Priority reserve")} " " {s.priority_capacity} " · " {until} " " {tr("后开放给所有人", "then open to all")}
            </span>
        }
    });
    let save = move |_| {
        let number = |v: String| v.trim().parse::<i64>().ok();
        let change = UpdateSlot {
            capacity: number(capacity.get_untracked()).or(Some(-1)),
            priority_capacity: number(priority.get_untracked()).or(Some(-1)),
            priority_release_at: from_local_input(&release.get_untracked()),
            cutoff_at: from_local_input(&cutoff.get_untracked()),
            closed: None,
            household_limit: number(per_household.get_untracked()).or(Some(0)),
        };
        adjust.run((id, change));
        editing.set(false);
    };
    view! {
        <li class="admin-slot" class:closed=closed data-slot=id>
            <div class="slot-head">
                <strong>{hm(&s.starts_at)} "–" {hm(&s.ends_at)}</strong>
                <span>{move || if s.kind == SlotKind::Delivery { tr("送货上门", "Home delivery")() } else { tr("到店自提", "Pick up at the market")() }}</span>
                <span class="slot-booked">{tr("已约", "Booked")} " " {s.booked} "/" {s.capacity}</span>
            </div>
            <div class="fill"><div class="fill-bar" style=format!("width:{pct}%")></div></div>
            <p class="slot-meta">
                <span class="slot-cutoff">{tr("截单", "Cut-off")} " " {hm(&s.cutoff_at)}</span>
                <span class="slot-per-household">{tr("每户限", "Per household")} " " {s.household_limit} " " {tr("单", "order(s)")}</span>
                {reserve}
            </p>
            <div class="slot-actions">
                <button class="btn secondary" on:click=move |_| adjust.run((id, UpdateSlot { capacity: Some((cap - 10).max(0)), ..Default::default() }))>"−10"</button>
                <button class="btn secondary" on:click=move |_| adjust.run((id, UpdateSlot { capacity: Some(cap + 10), ..Default::default() }))>"+10"</button>
                <button class="btn secondary" on:click=move |_| adjust.run((id, UpdateSlot { closed: Some(!closed), ..Default::default() }))>
                    {move || if closed { tr("重新开放", "Reopen")() } else { tr("关闭", "Close")() }}
                </button>
                <button class="btn secondary edit-slot" aria-expanded=move || editing.get().to_string() on:click=move |_| editing.update(|e| *e = !*e)>
                    {tr("调整", "Adjust")}
                </button>
            </div>
            <Show when=move || editing.get()>
                <div class="form-grid slot-edit">
                    <label>{tr("容量（单）", "Capacity (orders)")}<input class="edit-capacity" inputmode="numeric" prop:value=move || capacity.get() on:input=move |ev| capacity.set(event_target_value(&ev))/></label>
                    <label>{tr("优先预留", "Priority reserve")}<input class="edit-priority" inputmode="numeric" prop:value=move || priority.get() on:input=move |ev| priority.set(event_target_value(&ev))/></label>
                    <label>{tr("截单", "Cut-off")}<input class="edit-cutoff" type="datetime-local" prop:value=move || cutoff.get() on:change=move |ev| cutoff.set(event_target_value(&ev))/></label>
                    <label>{tr("优先保留到", "Held for priority until")}<input class="edit-release" type="datetime-local" prop:value=move || release.get() on:change=move |ev| release.set(event_target_value(&ev))/></label>
                    <label>{tr("每户限单（1–20）", "Orders per household (1–20)")}<input class="edit-per-household" inputmode="numeric" prop:value=move || per_household.get() on:input=move |ev| per_household.set(event_target_value(&ev))/></label>
                </div>
                <button class="btn primary block save-slot" on:click=save>{t(K::save)}</button>
            </Show>
        </li>
    }
}

#[component]
fn HouseholdsAdmin() -> impl IntoView {
    let building = RwSignal::new("1".to_owned());
    let unit = RwSignal::new(String::new());
    let room = RwSignal::new(String::new());
    // One building at a time, however tall (every page of it): never the whole neighbourhood.
    let list = Load::every_page(move || {
        let b = building.get();
        (!b.trim().is_empty()).then(|| api::households_path(&b, &unit.get(), &room.get()))
    });
    let error = RwSignal::new(None::<String>);
    let flag = move |h: &Household, field: &'static str, value: bool| {
        let id = h.id.get();
        leptos::task::spawn_local(async move {
            let mut flags = FlagHousehold::default();
            match field {
                "quarantined" => flags.quarantined = Some(value),
                "hardship" => flags.hardship = Some(value),
                _ => flags.elderly = Some(value),
            }
            match api::flag_household(id, &flags).await {
                Ok(_) => {
                    error.set(None);
                    list.reload();
                }
                Err(f) => error.set(Some(f.text())),
            }
        });
    };
    view! {
        <section class="card">
            <h2>{tr("住户", "Households")}</h2>
            <label class="block-label">{tr("楼号", "Building")}
                <input id="household-building" inputmode="numeric" maxlength="8" prop:value=move || building.get()
                    on:change=move |ev| building.set(event_target_value(&ev))/>
            </label>
            // Unit and room narrow a big building down (the room by its start: 30 finds 301-309).
            <div class="form-grid">
                <label>{t(K::unit)}<input id="household-unit" inputmode="numeric" maxlength="4" prop:value=move || unit.get()
                    on:change=move |ev| unit.set(event_target_value(&ev))/></label>
                <label>{t(K::room)}<input id="household-room" inputmode="numeric" maxlength="6" prop:value=move || room.get()
                    on:change=move |ev| room.set(event_target_value(&ev))/></label>
            </div>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {list.show_items(move |items: Vec<Household>| view! {
                        <ul class="households">
                            {items.into_iter().map(|h| {
                                let h = StoredValue::new(h);
                                let toggle = move |field: &'static str, on: bool, label: K| view! {
                                    <button class=format!("chip flag-{field}") class:on=on aria-pressed=on.to_string() on:click=move |_| flag(&h.get_value(), field, !on)>{t(label)}</button>
                                };
                                let v = h.get_value();
                                view! {
                                    <li data-household=v.id.get()>
                                        <span>{v.building.clone()} "-" {v.unit.clone()} "-" {v.room.clone()}</span>
                                        {toggle("quarantined", v.quarantined.unwrap_or(false), K::quarantined)}
                                        {toggle("hardship", v.hardship.unwrap_or(false), K::hardship)}
                                        {toggle("elderly", v.elderly.unwrap_or(false), K::elderly)}
                                        <HouseholdPeoplePanel id=v.id.get()/>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
            })}
        </section>
    }
}

/// Refunds not yet back with residents; a failed one (refused by WeChat Pay) needs a person.
#[component]
fn OpenRefunds() -> impl IntoView {
    Load::of(api::OPEN_REFUNDS).every(60).show_items(|list: Vec<shared::api::OpenRefund>| {
        (!list.is_empty()).then(|| view! {
            <section class="card" id="open-refunds">
                <h2>{tr("待完成的退款", "Refunds not yet back")}</h2>
                <ul class="households">
                    {list.into_iter().map(|r| view! {
                        <li class:warn=r.status == "failed">
                            <span>{match (r.order_id, r.group_buy_id) {
                                (Some(o), _) => format!("{} {o}", crate::i18n::now(K::order_no)),
                                (None, Some(g)) => format!("{} #{g}", crate::i18n::now(K::nav_group)),
                                _ => String::new(),
                            }}</span>
                            <span>{r.amount_fen.yuan()}</span>
                            <span class=if r.status == "failed" { "badge warn" } else { "badge" }>{r.status.clone()}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })
    })
}

/// The emergency price cap (稳物价): on or off and the percent a day; the record of price changes
/// for the regulator as a spreadsheet.
#[component]
fn PriceCapAdmin() -> impl IntoView {
    let board = Load::of(api::PRICES);
    let enabled = RwSignal::new(None::<bool>);
    let percent = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    Effect::new(move |_| {
        if let Some(b) = board.value::<shared::api::PriceBoard>() {
            if enabled.get_untracked().is_none() {
                enabled.set(Some(b.cap.enabled));
                percent.set(b.cap.max_daily_rise_percent.to_string());
            }
        }
    });
    let (from, to) = (RwSignal::new(today_shanghai()), RwSignal::new(today_shanghai()));
    let save = move |_| {
        let Ok(max_daily_rise_percent) = percent.get_untracked().trim().parse::<i64>() else {
            message.set(Some((false, "0–100".to_owned())));
            return;
        };
        let cap = shared::api::PriceCap { enabled: enabled.get_untracked().unwrap_or(false), max_daily_rise_percent };
        leptos::task::spawn_local(async move {
            match api::set_price_cap(&cap).await {
                Ok(_) => message.set(Some((true, crate::i18n::now(K::saved).to_owned()))),
                Err(f) => message.set(Some((false, f.text()))),
            }
        });
    };
    let download = move |_| {
        let path = format!("/api/v1/admin/prices.csv?from={}&to={}", from.get_untracked(), to.get_untracked());
        leptos::task::spawn_local(async move {
            if let Err(f) = api::download_csv(path, "价格记录.csv").await {
                message.set(Some((false, f.text())));
            }
        });
    };
    view! {
        <section class="card" id="price-cap-admin">
            <h2>{tr("稳物价限价", "Emergency price cap")}</h2>
            {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:added=ok role="status" id="price-cap-message">{m}</p> })}
            <label class="check"><input type="checkbox" id="cap-enabled" prop:checked=move || enabled.get().unwrap_or(false)
                on:change=move |ev| enabled.set(Some(event_target_checked(&ev)))/> " " {tr("开启限价", "Cap on")}</label>
            <label class="block-label">{tr("每天最多涨 (%)", "Most rise a day (%)")}
                <input id="cap-percent" inputmode="numeric" prop:value=move || percent.get() on:input=move |ev| percent.set(event_target_value(&ev))/>
            </label>
            <button class="btn primary block" id="save-cap" on:click=save>{t(K::save)}</button>
            // One under the other: two date boxes side by side are wider than a phone.
            <div class="form-grid one-column">
                <label>{tr("日期", "Date")} <input type="date" id="prices-from" prop:value=move || from.get() on:change=move |ev| from.set(event_target_value(&ev))/></label>
                <label>"–" <input type="date" id="prices-to" prop:value=move || to.get() on:change=move |ev| to.set(event_target_value(&ev))/></label>
            </div>
            <button class="btn secondary block" id="prices-csv" on:click=download>"⬇ " {tr("导出调价记录 (CSV)", "Download price changes (CSV)")}</button>
        </section>
    }
}

/// Residents' reports about delivered orders, newest first.
#[component]
fn Problems() -> impl IntoView {
    let problems = Load::of(api::PROBLEMS);
    problems.show_items(|list: Vec<shared::api::Problem>| {
        (!list.is_empty()).then(|| view! {
            <div class="card" id="problems">
                <h2>{tr("居民反馈", "Residents' reports")}</h2>
                <ul class="households">
                    {list.into_iter().map(|p| view! {
                        <li>
                            <strong>{t(K::order_no)} " " {p.order_id.get()}</strong>
                            <span>{p.building.unwrap_or_default()} {t(K::building)} {p.unit.unwrap_or_default()} {t(K::unit)} {p.room.unwrap_or_default()} {t(K::room)}</span>
                            <span class="note">{p.phone.unwrap_or_default()}</span>
                            <span>{p.text}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </div>
        })
    })
}

/// A household's people, opened from its row: the members (take one out), the residents
/// waiting to join (let one in) and the register of phones (one a line; a resident with one of
/// them is a member at once).
#[component]
fn HouseholdPeoplePanel(id: i64) -> impl IntoView {
    let open = RwSignal::new(false);
    let people = Load::when(move || open.get().then(|| api::household_people_path(id)));
    let error = RwSignal::new(None::<String>);
    let register = RwSignal::new(String::new());
    let done = move |result: api::ApiResult<()>| match result {
        Ok(()) => {
            error.set(None);
            people.reload();
        }
        Err(f) => error.set(Some(f.text())),
    };
    let member = move |user: i64, admit: bool| {
        leptos::task::spawn_local(async move { done(api::household_member(id, user, admit).await) });
    };
    let save = move |_| {
        let mut phones = Vec::new();
        for line in register.get_untracked().split(|c: char| c == '\n' || c == ',' || c == '，' || c.is_whitespace()) {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            match shared::Phone::parse(line) {
                Ok(p) => phones.push(p),
                Err(_) => {
                    error.set(Some(format!("{line}: {}", tr("不是11位手机号", "not an 11-digit mobile number")())));
                    return;
                }
            }
        }
        leptos::task::spawn_local(async move { done(api::set_register(id, phones).await) });
    };
    view! {
        <button class="btn secondary people-toggle" aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
            {tr("成员与登记", "People")}
        </button>
        <Show when=move || open.get()>
            <div class="household-people">
                {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                {people.show(move |p: HouseholdPeople| {
                    register.set(p.register.iter().map(|x| x.as_str().to_owned()).collect::<Vec<_>>().join("\n"));
                    view! {
                        <h3>{tr("成员", "Members")}</h3>
                        {if p.members.is_empty() { Some(view! { <p class="empty">{tr("还没有成员", "No members yet")}</p> }) } else { None }}
                        <ul class="people members">
                            {p.members.into_iter().map(|m| view! {
                                <li data-member=m.id>
                                    <span>{m.phone.clone().unwrap_or_else(|| tr("微信用户", "WeChat user")().to_owned())}</span>
                                    <button class="btn secondary remove-member" on:click=move |_| member(m.id, false)>{tr("移出", "Take out")}</button>
                                </li>
                            }).collect_view()}
                        </ul>
                        <h3>{tr("等待加入", "Waiting to join")}</h3>
                        {if p.waiting.is_empty() { Some(view! { <p class="empty">{tr("没有人在等", "No one is waiting")}</p> }) } else { None }}
                        <ul class="people waiting">
                            {p.waiting.into_iter().map(|w| view! {
                                <li data-waiting=w.id>
                                    <span>{w.phone.clone().unwrap_or_default()}</span>
                                    <button class="btn primary admit" on:click=move |_| member(w.id, true)>{tr("同意加入", "Let in")}</button>
                                    <button class="btn secondary turn-down" on:click=move |_| member(w.id, false)>{tr("拒绝", "Turn down")}</button>
                                </li>
                            }).collect_view()}
                        </ul>
                    }
                })}
                <label class="block-label">{tr("登记手机号（每行一个，最多20个）", "Phones on the register (one a line, at most 20)")}
                    <textarea class="register-phones" rows="3" prop:value=move || register.get() on:input=move |ev| register.set(event_target_value(&ev))></textarea>
                </label>
                <button class="btn primary save-register" on:click=save>{t(K::save)}</button>
            </div>
        </Show>
    }
}

/// A resident asks to be forgotten: staff erase them by phone (their orders stay, without them).
/// Two presses: the first asks to confirm.
#[component]
fn EraseResident() -> impl IntoView {
    let phone = RwSignal::new(String::new());
    let confirming = RwSignal::new(false);
    let said = RwSignal::new(None::<Result<String, String>>);
    let press = move |_| {
        let Ok(number) = shared::Phone::parse(phone.get_untracked().trim()) else {
            said.set(Some(Err(tr("请填写11位手机号", "Enter an 11-digit mobile number")().to_owned())));
            return;
        };
        if !confirming.get_untracked() {
            confirming.set(true);
            return;
        }
        confirming.set(false);
        leptos::task::spawn_local(async move {
            let answer = api::erase_resident(&number).await;
            said.set(Some(match answer {
                Ok(e) => Ok(format!("{} {}", tr("已删除，保留订单", "Erased; orders kept:")(), e.orders_kept)),
                Err(f) => Err(f.text()),
            }));
            phone.set(String::new());
        });
    };
    view! {
        <section class="card">
            <h2>{tr("删除居民信息", "Erase a resident")}</h2>
            <p class="note">{tr("居民要求删除个人信息时使用：手机号、微信、住址、购物车和通知立即删除，登录失效；订单保留用于对账。有未完成订单或其他角色时不能删除。", "When a resident asks to be forgotten: phone, WeChat, home, cart and notices go at once and their logins end; their orders stay for the accounts. Not while an order is under way or they hold another role.")}</p>
            <label class="block-label" for="erase-phone">{tr("手机号", "Mobile number")}</label>
            <input id="erase-phone" type="tel" inputmode="numeric" maxlength="11" prop:value=move || phone.get()
                on:input=move |ev| { phone.set(event_target_value(&ev)); confirming.set(false); }/>
            <button id="erase" class="btn secondary block" class:warn=move || confirming.get() on:click=press>
                {move || if confirming.get() { tr("确认删除（不可恢复）", "Confirm: erase for good")() } else { tr("删除", "Erase")() }}
            </button>
            {move || said.get().map(|s| match s {
                Ok(m) => view! { <p class="note" role="status">{m}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}

/// Staff bring in the households' register from a spreadsheet (CSV, as Excel saves it): checked
/// first, row by row, then taken whole; the current register downloads in the same columns.
#[component]
fn RegisterImport() -> impl IntoView {
    let file = NodeRef::<leptos::html::Input>::new();
    let busy = RwSignal::new(false);
    let checked = RwSignal::new(None::<RegisterImport>);
    // What the import did (phones added, residents let in), worded as the page shows it.
    let said = RwSignal::new(None::<Result<(u32, u32), String>>);
    let chosen = move || -> Option<web_sys::File> { file.get_untracked()?.files()?.get(0) };
    let run = move |dry_run: bool| {
        let Some(f) = chosen() else {
            said.set(Some(Err(tr("请先选择CSV文件", "Choose a CSV file first")().to_owned())));
            return;
        };
        busy.set(true);
        said.set(None);
        leptos::task::spawn_local(async move {
            match api::import_register(&f, dry_run).await {
                Ok(answer) if !dry_run && answer.applied => {
                    checked.set(None);
                    said.set(Some(Ok((answer.added, answer.let_in))));
                }
                Ok(answer) => checked.set(Some(answer)),
                Err(e) => said.set(Some(Err(e.text()))),
            }
            busy.set(false);
        });
    };
    let download = move |_| {
        leptos::task::spawn_local(async move {
            if let Err(e) = api::download_csv(api::REGISTER_CSV.to_owned(), "household-register.csv").await {
                said.set(Some(Err(e.text())));
            }
        });
    };
    let summary = move |r: &RegisterImport| {
        let count = |a: ImportAction| r.rows.iter().filter(|row| row.action == a).count();
        format!(
            "{} {} · {} {} · {} {}",
            tr("新登记", "to add")(),
            count(ImportAction::Create),
            tr("已登记", "already there")(),
            count(ImportAction::Unchanged),
            tr("有错误", "with errors")(),
            count(ImportAction::Error)
        )
    };
    view! {
        <section class="card" id="register-import">
            <h2>{tr("批量登记住户手机", "Register phones from a spreadsheet")}</h2>
            <p class="note">{tr("Excel（XLSX）或CSV文件（UTF-8或GBK），第1行为列名：楼号、单元、室、手机（小区可选）。每行一个手机号；登记后的居民填写该地址即自动入户。先检查，无错误再导入；同一文件导入两次不会重复。",
                "An Excel (XLSX) or CSV file (UTF-8 or GBK) with the headings building, unit, room, phone (community optional) in row 1, one phone a row; a resident whose phone is registered joins that household at once. Check first; import when no row has an error; importing a file twice changes nothing.")}</p>
            <button class="btn secondary block" id="register-download" on:click=download>{tr("下载现有登记表", "Download the current register")}</button>
            <label class="block-label" for="register-file">{tr("选择文件", "File")}</label>
            <input id="register-file" type="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" node_ref=file
                on:change=move |_| { checked.set(None); said.set(None); }/>
            <button class="btn secondary block" id="register-check" disabled=move || busy.get() on:click=move |_| run(true)>
                {move || if busy.get() { tr("正在处理…", "Working…")() } else { tr("检查文件", "Check the file")() }}
            </button>
            {move || checked.get().map(|r| {
                let clean = r.rows.iter().all(|row| row.action != ImportAction::Error);
                let errors: Vec<_> = r.rows.iter().filter(|row| row.action == ImportAction::Error).take(50).cloned().collect();
                view! {
                    <p class="note" role="status" id="register-summary">{summary(&r)}</p>
                    <ul class="import-errors">
                        {errors.into_iter().map(|row| view! {
                            <li>{format!("{} {}", tr("第", "Row")(), row.row)} {tr("行", "")} " "
                                {row.errors.iter().map(|e| format!("{}：{}", e.column.clone().unwrap_or_default(), e.reason)).collect::<Vec<_>>().join("；")}</li>
                        }).collect_view()}
                    </ul>
                    {if clean {
                        view! { <button class="btn block" id="register-apply" disabled=move || busy.get() on:click=move |_| run(false)>{tr("确认导入", "Import")}</button> }.into_any()
                    } else {
                        view! { <p class="form-error" role="alert">{tr("请改正以上错误后重新选择文件（有错误时不会导入任何一行）", "Correct the rows above and choose the file again (nothing is imported while a row has an error)")}</p> }.into_any()
                    }}
                }
            })}
            {move || said.get().map(|s| match s {
                Ok((added, let_in)) => view! { <p class="note" role="status" id="register-done">
                    {tr("已导入，新登记手机号", "Imported; phones added:")} " " {added} " · "
                    {tr("入户居民", "residents let in:")} " " {let_in}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}

/// The area the market serves: its buildings by compound (add one; close a quarantined
/// compound's building so its deliveries go to the gate, and open it again).
#[component]
fn AreaAdmin() -> impl IntoView {
    let list = Load::every_page(|| Some(api::BUILDINGS.to_owned()));
    let community = RwSignal::new(String::new());
    let number = RwSignal::new(String::new());
    let units = RwSignal::new("1".to_owned());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(units) = units.get_untracked().trim().parse::<i64>() else {
            error.set(Some(tr("单元数应为1到20", "Units: 1 to 20")().to_owned()));
            return;
        };
        let body =
            NewBuilding { community: community.get_untracked(), building: number.get_untracked(), units: Some(units) };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::add_building(&body).await {
                Ok(_) => {
                    error.set(None);
                    number.set(String::new());
                    list.reload();
                }
                Err(f) => error.set(Some(f.text())),
            }
            busy.set(false);
        });
    };
    let close = move |id: i64, closed: bool| {
        leptos::task::spawn_local(async move {
            match api::change_building(id, &UpdateBuilding { units: None, closed: Some(closed) }).await {
                Ok(_) => {
                    error.set(None);
                    list.reload();
                }
                Err(f) => error.set(Some(f.text())),
            }
        });
    };
    view! {
        <section class="card" id="area">
            <h2>{tr("服务范围", "Area served")}</h2>
            <p class="note">{tr("市场送货的楼栋。居民只能填写这些楼的地址；楼号全市场唯一。封闭管理的楼：配送送到小区大门。", "The buildings the market delivers to; residents can give addresses only in them, and a building's number is the market's once. A closed building's deliveries go to its compound's gate.")}</p>
            <form class="form-grid" on:submit=add novalidate>
                <label>{tr("小区", "Compound")}<input id="building-community" maxlength="40" prop:value=move || community.get()
                    on:input=move |ev| community.set(event_target_value(&ev))/></label>
                <label>{tr("楼号", "Building")}<input id="building-number" inputmode="numeric" maxlength="10" prop:value=move || number.get()
                    on:input=move |ev| number.set(event_target_value(&ev))/></label>
                <label>{tr("单元数", "Units")}<input id="building-units" inputmode="numeric" maxlength="2" prop:value=move || units.get()
                    on:input=move |ev| units.set(event_target_value(&ev))/></label>
                <button id="add-building" type="submit" class="btn secondary" disabled=move || busy.get()>{tr("添加楼栋", "Add the building")}</button>
            </form>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {list.show_items(move |items: Vec<Building>| view! {
                <details class="buildings">
                    <summary>{format!("{} {}", items.len(), tr("栋楼", "buildings")())}</summary>
                    <ul class="households">
                        {items.into_iter().map(|b| {
                            let (id, closed) = (b.id, b.closed);
                            view! {
                                <li data-building=id>
                                    <span><span translate="no">{b.community}</span> " " {b.building} {tr("号楼", "")} " · " {b.units} {tr("单元", " units")} " · " {b.households} {tr("户", " households")}</span>
                                    <button class="chip close-building" class:on=closed aria-pressed=closed.to_string() on:click=move |_| close(id, !closed)>
                                        {move || if closed { tr("封闭·送到大门", "Closed: to the gate")() } else { tr("开放", "Open")() }}
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </details>
            })}
        </section>
    }
}

/// 批次与召回: every stall's lots; staff stop one (two presses, with the reason) and download
/// its trace to every door that had it.
#[component]
fn LotsAdmin() -> impl IntoView {
    let lots = Load::new(|| api::lots_path(false));
    let reason = RwSignal::new(String::new());
    let armed = RwSignal::new(None::<i64>);
    let message = RwSignal::new(None::<(bool, String)>);
    let hold = move |id: i64| {
        if armed.get_untracked() != Some(id) {
            armed.set(Some(id));
            return;
        }
        let why = reason.get_untracked();
        leptos::task::spawn_local(async move {
            match api::hold_lot(id, &why).await {
                Ok(_) => {
                    armed.set(None);
                    message.set(Some((
                        true,
                        format!(
                            "✓ {} {} {}",
                            tr("批次", "Lot")(),
                            id,
                            tr("已停售，已通知买过的住户", "held; the households that had it are told")()
                        ),
                    )));
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
            lots.reload();
        });
    };
    view! {
        <div class="card" id="lots-admin">
            <h2>{tr("批次与召回", "Lots and recalls")}</h2>
            <label class="field" for="hold-reason">{tr("停售原因", "Why it is stopped")}</label>
            <input id="hold-reason" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
            {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:added=ok role="status" id="lots-message">{m}</p> })}
            {lots.show_items(move |list: Vec<shared::api::Lot>| view! {
                <ul class="households">
                    {list.into_iter().map(|l| {
                        let id = l.id;
                        let held = l.held.is_some();
                        view! {
                            <li class="lot" data-lot=id>
                            {super::vendor::lot_facts(&l)}
                            <div class="actions">
                                {(!held).then(|| view! {
                                    <button class="btn secondary hold-lot" data-lot=id on:click=move |_| hold(id)>
                                        {move || if armed.get() == Some(id) { tr("确认停售召回", "Confirm the recall") } else { tr("停售召回", "Stop and recall") }}
                                    </button>
                                })}
                                <button class="btn secondary lot-trace" on:click=move |_| {
                                    leptos::task::spawn_local(async move {
                                        if let Err(f) = api::download_csv(format!("/api/v1/admin/lots/{id}/trace.csv"), &format!("批次{id}追溯.csv")).await {
                                            message.set(Some((false, f.text())));
                                        }
                                    });
                                }>"⬇ " {tr("追溯表格", "Trace spreadsheet")}</button>
                            </div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
}
