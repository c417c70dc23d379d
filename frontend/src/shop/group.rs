//! Group-buys (团购) on a phone: the building's group-buys with live progress, joining with
//! big steppers, the leader's console (who joined, what to pick, the spreadsheet, an A4 print
//! view, closing), the form that places a share for a neighbour without a smartphone, and
//! opening a new group-buy.

use super::orders::{PayButton, PayFor};
use crate::api;
use crate::components::{day_and_time, Guarded, Load, Stepper};
use crate::i18n::{now, t, tr, K};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};
use shared::api::{Household, Slot};
use shared::group_buy::{
    percent, GroupBuy, GroupBuyStatus, OnShortfall, OpenGroupBuy, OpenGroupBuyItem, Share, SharePayment, ShareRequest,
    ShareRequestLine,
};
use shared::Role;
use std::collections::BTreeMap;

fn status_label(s: GroupBuyStatus) -> K {
    match s {
        GroupBuyStatus::Open => K::gb_open,
        GroupBuyStatus::Confirmed => K::gb_confirmed,
        GroupBuyStatus::Failed => K::gb_failed,
        GroupBuyStatus::Cancelled => K::gb_cancelled,
    }
}

/// The group-buy id in the page's path.
fn path_id() -> Memo<i64> {
    let params = use_params_map();
    Memo::new(move |_| params.get().get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0))
}

/// A clock that ticks every second while the page is open, for "time left".
fn clock() -> ReadSignal<f64> {
    let (now_ms, set_now) = signal(js_sys::Date::now());
    if let Ok(handle) =
        set_interval_with_handle(move || set_now.set(js_sys::Date::now()), std::time::Duration::from_secs(1))
    {
        on_cleanup(move || handle.clear());
    }
    now_ms
}

/// `2 天 3 小时` / `3h 12m` / `45 s`: what is left until `deadline`.
fn time_left(deadline: &str, now_ms: f64) -> String {
    let left = ((js_sys::Date::parse(deadline) - now_ms) / 1000.0).max(0.0) as i64;
    let (d, h, m, s) = (left / 86_400, left % 86_400 / 3600, left % 3600 / 60, left % 60);
    let zh = crate::i18n::lang() == crate::i18n::Lang::Zh;
    match (d, h, zh) {
        (0, 0, true) => format!("{m}分{s:02}秒"),
        (0, 0, false) => format!("{m}m {s:02}s"),
        (0, _, true) => format!("{h}小时{m}分"),
        (0, _, false) => format!("{h}h {m}m"),
        (_, _, true) => format!("{d}天{h}小时"),
        (_, _, false) => format!("{d}d {h}h"),
    }
}

fn when(rfc3339: &str) -> String {
    let (day, time) = day_and_time(rfc3339);
    format!("{} {time}", day.get(5..).unwrap_or_default())
}

/// A bar for elderly eyes: thick, with the numbers written beside it.
#[component]
fn Progress(part: i64, whole: i64, #[prop(into)] label: String) -> impl IntoView {
    let pct = percent(part, whole);
    let full = pct >= 100;
    view! {
        <div class="progress" role="progressbar" aria-valuenow=part aria-valuemax=whole aria-label=label.clone()>
            <div class="progress-fill" class:full=full style=format!("width:{pct}%")></div>
        </div>
        <p class="progress-text"><span>{label}</span><strong>{part} " / " {whole}</strong></p>
    }
}

// ---------- the list ----------

#[component]
pub fn GroupBuysPage() -> impl IntoView {
    view! {
        <h1>{t(K::nav_group)}</h1>
        <Guarded next="/group"><GroupBuyList/></Guarded>
    }
}

#[component]
fn GroupBuyList() -> impl IntoView {
    let session = use_session();
    let list = Load::of(api::GROUP_BUYS).every(15);
    let now_ms = clock();
    let user = move || session.user.get();
    let runs = move || user().is_some_and(|u| u.has_role(Role::Staff) || u.has_role(Role::Leader));
    view! {
        <p class="note">{tr("隔离楼栋的团购由社区组织，志愿者配送到楼。", "Group buys for quarantined buildings are run by the community and delivered by volunteers.")}</p>
        {move || runs().then(|| view! { <A href="/group/new"><span class="btn primary block" id="open-group-buy">"＋ " {tr("开团", "Open a group-buy")}</span></A> })}
        {move || user().is_some_and(|u| u.household.is_none() && !u.has_role(Role::Staff)).then(|| view! {
            <div class="card center">
                <p>{tr("登记住址后，就能看到本楼的团购", "Add your home address to see your building's group-buys")}</p>
                <a href="/me"><span class="btn secondary">{tr("去登记住址", "Add my address")}</span></a>
            </div>
        })}
        {list.show_items(move |items: Vec<GroupBuy>| if items.is_empty() {
            view! { <div class="card center"><p>{tr("您的楼栋暂时没有团购", "No group-buys for your building yet")}</p></div> }.into_any()
        } else {
            view! {
                <ul class="group-list">
                    {items.into_iter().map(|g| {
                        let deadline = g.deadline.clone();
                        let open = g.status == GroupBuyStatus::Open;
                        view! {
                            <li class="card group-card">
                                <A href=format!("/group/{}", g.id)>
                                    <p class="group-title">{g.title.clone()}
                                        " " <span class=format!("badge gb-{}", g.status.as_str())>{t(status_label(g.status))}</span></p>
                                    <p class="note">{g.buildings.join("、")} {t(K::building)} " · " {tr("送货到楼", "Delivered to the building")} " " {when(&g.slot_starts_at)}</p>
                                    <Progress part=g.joined_households whole=g.min_households label=now(K::gb_joined).to_owned()/>
                                    {open.then(|| view! {
                                        <p class="time-left">{tr("剩余", "Left:")} " " {move || time_left(&deadline, now_ms.get())}</p>
                                    })}
                                </A>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        })}
    }
}

// ---------- one group-buy: join, change, leave ----------

#[component]
pub fn GroupBuyPage() -> impl IntoView {
    let here = leptos_router::hooks::use_location().pathname.get_untracked();
    view! { <Guarded next=here><GroupBuyDetail/></Guarded> }
}

#[component]
fn GroupBuyDetail() -> impl IntoView {
    let session = use_session();
    let id = path_id();
    let gb = Load::new(move || api::group_buy_path(id.get())).every(5);
    let now_ms = clock();
    // What the resident is choosing, by product; filled from their share when it loads.
    let wanted: RwSignal<BTreeMap<i64, i64>> = RwSignal::new(BTreeMap::new());
    let edited = RwSignal::new(false);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(g) = gb.value::<GroupBuy>() {
            if !edited.get_untracked() {
                let mine = g
                    .my_share
                    .map(|s| s.items.iter().map(|l| (l.product_id.get(), l.quantity)).collect())
                    .unwrap_or_default();
                wanted.set(mine);
            }
        }
    });
    let submit = move |lines: Vec<(i64, i64)>| {
        busy.set(true);
        let id = id.get_untracked();
        leptos::task::spawn_local(async move {
            let body = ShareRequest {
                items: lines
                    .into_iter()
                    .map(|(product, quantity)| ShareRequestLine { product_id: shared::ProductId(product), quantity })
                    .collect(),
            };
            let result = if body.items.iter().all(|l| l.quantity == 0) {
                api::leave_group_buy(id).await.map(|()| None)
            } else {
                api::set_share(id, &body).await
            };
            match result {
                Ok(Some(_)) => message.set(Some((true, now(K::gb_joined_ok).to_owned()))),
                Ok(None) => message.set(Some((true, now(K::saved).to_owned()))),
                Err(f) => message.set(Some((false, f.text()))),
            }
            edited.set(false);
            busy.set(false);
            gb.reload();
        });
    };
    let may_proxy = move || {
        session
            .user
            .get()
            .is_some_and(|u| u.has_role(Role::Volunteer) || u.has_role(Role::Leader) || u.has_role(Role::Staff))
    };
    view! {
        {gb.show(move |g: GroupBuy| {
            let open = g.status == GroupBuyStatus::Open;
            let deadline = g.deadline.clone();
            let joined = g.my_share.is_some();
            // A paid share cannot change: no steppers, no leaving.
            let paid = g.my_share.as_ref().is_some_and(|s| s.payment != SharePayment::Unpaid);
            let order_id = g.my_share.as_ref().and_then(|s| s.order_id);
            let items = g.items.clone();
            let had: BTreeMap<i64, i64> =
                g.my_share.as_ref().map(|s| s.items.iter().map(|l| (l.product_id.get(), l.quantity)).collect()).unwrap_or_default();
            let gid = g.id.get();
            let lives_here = session.user.get_untracked().and_then(|u| u.household).is_some_and(|h| {
                g.buildings.iter().any(|b| {
                    let (community, number) = shared::api::building_ref(b);
                    number == h.building && community.is_none_or(|c| c == h.community)
                })
            });
            view! {
                <h1 id="group-title">{g.title.clone()}</h1>
                <p class="group-status"><span id="group-status" class=format!("badge big gb-{}", g.status.as_str())>{t(status_label(g.status))}</span></p>
                {g.outcome.clone().map(|o| view! { <div class="banner" class:success=g.status == GroupBuyStatus::Confirmed id="group-outcome" role="status">{move || crate::i18n::in_language(&o)}</div> })}
                {order_id.map(|o| view! { <A href=format!("/orders/{o}")><span class="btn primary block" id="group-order">{tr("查看订单", "See the order")}</span></A> })}
                <div class="card">
                    <Progress part=g.joined_households whole=g.min_households label=format!("{} ({} {}{})", now(K::gb_joined), now(K::gb_needs), g.min_households, now(K::gb_hh))/>
                    <p id="joined-households" class="hidden-count">{g.joined_households}</p>
                    {open.then(|| view! { <p class="time-left">{tr("剩余", "Left:")} " " <strong>{move || time_left(&deadline, now_ms.get())}</strong></p> })}
                    {(open && js_sys::Date::parse(&g.opens_at) > js_sys::Date::now()).then(|| view! {
                        <p class="note warn">{tr("开始参团", "Joining opens")} " " {when(&g.opens_at)}
                            {(g.priority_opens_at != g.opens_at).then(|| view! { " · " {tr("隔离、困难、老人户提前到", "priority households from")} " " {when(&g.priority_opens_at)} })}</p>
                    })}
                    <p class="note">{tr("截止", "Deadline")} " " {when(&g.deadline)} " · " {tr("送货到楼", "Delivered to the building")} " " {when(&g.slot_starts_at)} "–" {day_and_time(&g.slot_ends_at).1}</p>
                    <p class="note">{g.buildings.join("、")} {t(K::building)}</p>
                </div>
                {g.my_share.clone().map(|sh| view! {
                    <div class="card my-share" id="my-share">
                        <h2>{tr("我的份额", "My share")}</h2>
                        <p>{let items = sh.items.clone(); move || items.iter().map(|l| format!("{}×{}{}", l.name, l.quantity, crate::i18n::unit(&l.unit))).collect::<Vec<_>>().join("、")}</p>
                        <p>{tr("合计", "Total")} " " <strong>{sh.total_fen.yuan()}</strong></p>
                        {sh.placed_by.clone().map(|p| view! { <p class="note">{tr("代下单", "Placed by")} ": " {p}</p> })}
                        {match sh.payment {
                            SharePayment::Paid => view! { <p class="banner success" id="share-paid">"✓ " {tr("已付款：成团后配送到家；未成团全额退回", "Paid: delivered if it goes ahead, refunded in full if not")}</p> }.into_any(),
                            SharePayment::RefundDue => view! { <p class="note refund" id="share-refund">{tr("退款", "Refund")} " " {sh.total_fen.yuan()}</p> }.into_any(),
                            SharePayment::Unpaid if open && sh.total_fen.get() > 0 => view! {
                                <PayButton what=PayFor::Share(gid) total=sh.total_fen on_paid=Callback::new(move |_| gb.reload())/>
                            }.into_any(),
                            SharePayment::Unpaid => ().into_any(),
                        }}
                    </div>
                })}
                <ul class="group-items">
                    {items.into_iter().map(|i| {
                        let product = i.product_id.get();
                        let left = (i.max_quantity - i.joined_quantity).max(0);
                        let mine_now = move || wanted.get().get(&product).copied().unwrap_or(0);
                        let max_for_me = i.per_household_limit.min(left + had.get(&product).copied().unwrap_or(0));
                        view! {
                            <li class="card group-item" id=format!("item-{product}")>
                                <p class="product-name" style="display:flex;gap:10px;align-items:center">{crate::components::thumb(i.photo.as_ref(), &i.name)} {i.name.clone()}</p>
                                <p class="product-price">{i.price_fen.yuan()} "/" {let u = i.unit.clone(); move || crate::i18n::unit(&u)}
                                    {(i.regular_price_fen.get() > i.price_fen.get()).then(|| view! { " " <s class="note">{tr("原价", "Usually")} " " {i.regular_price_fen.yuan()}</s> })}</p>
                                <Progress part=i.joined_quantity whole=i.max_quantity label=format!("{} ({})", now(K::gb_joined), i.unit)/>
                                <p class="note">{tr("每户限", "Per household max")} " " {i.per_household_limit} {let u = i.unit.clone(); move || crate::i18n::unit(&u)} " · " {tr("还剩", "Left")} " " {left} {i.unit.clone()}</p>
                                {(open && lives_here && !paid).then(|| view! {
                                    {move || view! {
                                        <Stepper quantity=mine_now() max=max_for_me min=0 on_change=Callback::new(move |q| {
                                            edited.set(true);
                                            wanted.update(|w| { w.insert(product, q); });
                                        })/>
                                    }}
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:banner=ok class:success=ok role="status" id="group-message">{m}</p> })}
                {(open && lives_here && !paid).then(|| view! {
                    <button id="join-group" class="btn primary block" disabled=move || busy.get() || wanted.get().values().all(|q| *q == 0)
                        on:click=move |_| submit(wanted.get_untracked().into_iter().collect())>
                        {if joined { tr("保存修改", "Save changes") } else { tr("参团", "Join") }}
                    </button>
                })}
                {(open && joined && !paid).then(|| view! {
                    <button id="leave-group" class="btn secondary block" disabled=move || busy.get() on:click=move |_| submit(Vec::new())>{tr("退出团购", "Leave")}</button>
                })}
                {(open && may_proxy()).then(|| view! { <A href=format!("/group/{gid}/proxy")><span class="btn secondary block" id="proxy-link">{tr("代下单", "Order for a neighbour")}</span></A> })}
                {g.manage.then(|| view! { <A href=format!("/group/{gid}/console")><span class="btn secondary block" id="console-link">{tr("团长控制台", "Leader's console")}</span></A> })}
            }
        })}
    }
}

// ---------- the leader's console ----------

#[component]
pub fn ConsolePage() -> impl IntoView {
    let here = leptos_router::hooks::use_location().pathname.get_untracked();
    view! { <Guarded next=here><Console/></Guarded> }
}

#[component]
fn Console() -> impl IntoView {
    let id = path_id();
    let gb = Load::new(move || api::group_buy_path(id.get()));
    let shares = Load::every_page(move || Some(api::group_shares_path(id.get()))).every(10);
    let message = RwSignal::new(None::<(bool, String)>);
    let armed = RwSignal::new(None::<&'static str>);
    let end = move |how: &'static str| {
        if armed.get_untracked() != Some(how) {
            armed.set(Some(how));
            message.set(Some((false, now(K::gb_sure).to_owned())));
            return;
        }
        armed.set(None);
        let id = id.get_untracked();
        leptos::task::spawn_local(async move {
            match api::end_group_buy(id, how).await {
                // The outcome is shown once, under the status.
                Ok(_) => message.set(None),
                Err(f) => message.set(Some((false, f.text()))),
            }
            gb.reload();
            shares.reload();
        });
    };
    let download = move |_| {
        let id = id.get_untracked();
        leptos::task::spawn_local(async move {
            if let Err(f) =
                api::download_csv(format!("{}.csv", api::group_shares_path(id)), &format!("团购{id}.csv")).await
            {
                message.set(Some((false, f.text())));
            }
        });
    };
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        {gb.show(move |g: GroupBuy| {
            let open = g.status == GroupBuyStatus::Open;
            view! {
                <h1 class="print-title">{tr("团购配货单", "Group-buy pick list")} " · " {g.title.clone()}</h1>
                <p><span id="console-status" class=format!("badge big gb-{}", g.status.as_str())>{t(status_label(g.status))}</span>
                    " " {g.buildings.join("、")} {t(K::building)} " · " {tr("送货到楼", "Delivered to the building")} " " {when(&g.slot_starts_at)}</p>
                {g.outcome.clone().map(|o| view! { <p class="note" id="console-outcome" role="status">{move || crate::i18n::in_language(&o)}</p> })}
                <div class="card">
                    <h2>{tr("配货总数", "Totals to pick")}</h2>
                    <table class="pick">
                        <tbody>
                            {g.items.iter().map(|i| view! {
                                <tr><td>{i.name.clone()}</td><td class="num">{i.joined_quantity} {i.unit.clone()}</td><td class="num">{i.price_fen.times(i.joined_quantity).yuan()}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <div class="actions no-print">
                    <button class="btn secondary" id="download-csv" on:click=download>"⬇ " {tr("下载表格", "Download spreadsheet")}</button>
                    <button class="btn secondary" id="print" on:click=print>"🖨 " {tr("打印", "Print")}</button>
                </div>
                {open.then(|| view! {
                    <div class="actions no-print">
                        <button class="btn primary" id="close-group" on:click=move |_| end("close")>{tr("立即截团", "Close now")}</button>
                        <button class="btn secondary" id="call-off-group" on:click=move |_| end("cancel")>{tr("取消团购", "Call it off")}</button>
                    </div>
                })}
            }
        })}
        {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:banner=ok class:success=ok role="status" id="console-message">{m}</p> })}
        {shares.show_items(|list: Vec<Share>| {
            let unpaid = list.iter().filter(|s| s.payment == SharePayment::Unpaid).count();
            let proxied = list.iter().filter(|s| s.placed_by.is_some()).count();
            view! {
                <div class="card">
                    <h2>{tr("参团住户", "Households")} " " <span id="share-count">{list.len()}</span></h2>
                    <p class="note">{tr("未付款", "Unpaid")} " " {unpaid} " · " {tr("代下单的份额", "Placed for neighbours")} " " {proxied}</p>
                    <table class="shares">
                        <thead><tr><th>{tr("楼号", "Building")}</th><th>{t(K::unit)}</th><th>{t(K::room)}</th><th>{tr("商品", "Items")}</th><th>{tr("合计", "Total")}</th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|s| view! {
                                <tr>
                                    <td>{s.building.clone()}</td><td>{s.unit.clone()}</td><td>{s.room.clone()}</td>
                                    <td>{s.items.iter().map(|l| format!("{}×{}{}", l.name, l.quantity, l.unit)).collect::<Vec<_>>().join("、")}
                                        {s.placed_by.clone().map(|p| view! { <br/><span class="note">{tr("代下单", "Placed by")} ": " {p}</span> })}
                                        {(s.payment != SharePayment::Unpaid).then(|| view! { " " <span class="badge">{s.payment.as_str()}</span> })}</td>
                                    <td class="num">{s.total_fen.yuan()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
        })}
    }
}

// ---------- a share for a neighbour without a smartphone ----------

#[component]
pub fn ProxyPage() -> impl IntoView {
    let here = leptos_router::hooks::use_location().pathname.get_untracked();
    view! { <h1>{tr("代下单", "Order for a neighbour")}</h1> <Guarded next=here><ProxyForm/></Guarded> }
}

#[component]
fn ProxyForm() -> impl IntoView {
    let id = path_id();
    let gb = Load::new(move || api::group_buy_path(id.get()));
    let building = RwSignal::new(String::new());
    let unit = RwSignal::new(String::new());
    let room = RwSignal::new(String::new());
    let household = RwSignal::new(None::<Household>);
    let wanted: RwSignal<BTreeMap<i64, i64>> = RwSignal::new(BTreeMap::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let find = move |_| {
        let id = id.get_untracked();
        // The group-buy's buildings are named `3`, or `七里山小区 3` where two communities
        // have a building 3.
        let named = building.get_untracked();
        let (community, number) = shared::api::building_ref(&named);
        let address = shared::api::Address {
            building: number.to_owned(),
            unit: unit.get_untracked(),
            room: room.get_untracked(),
            community: community.map(str::to_owned),
        };
        leptos::task::spawn_local(async move {
            match api::household_for(id, &address).await {
                Ok(h) => {
                    household.set(Some(h));
                    message.set(None);
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
        });
    };
    let place = move |_| {
        let Some(h) = household.get_untracked() else { return };
        let id = id.get_untracked();
        let body = ShareRequest {
            items: wanted
                .get_untracked()
                .into_iter()
                .map(|(product, quantity)| ShareRequestLine { product_id: shared::ProductId(product), quantity })
                .collect(),
        };
        leptos::task::spawn_local(async move {
            match api::set_share_for(id, h.id.get(), &body).await {
                Ok(_) => {
                    message.set(Some((true, now(K::gb_placed_ok).to_owned())));
                    gb.reload();
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
        });
    };
    view! {
        {gb.show(move |g: GroupBuy| {
            if building.get_untracked().is_empty() {
                building.set(g.buildings.first().cloned().unwrap_or_default());
            }
            let items = g.items.clone();
            view! {
                <p class="group-title">{g.title.clone()}</p>
                <div class="card">
                    <div class="address-row">
                        <select id="proxy-building" on:change=move |ev| building.set(event_target_value(&ev))>
                            {g.buildings.iter().map(|b| view! { <option value=b.clone()>{b.clone()}</option> }).collect_view()}
                        </select>
                        <span>{t(K::building)}</span>
                        <input id="proxy-unit" inputmode="numeric" maxlength="4" prop:value=move || unit.get() on:input=move |ev| unit.set(event_target_value(&ev))/>
                        <span>{t(K::unit)}</span>
                        <input id="proxy-room" inputmode="numeric" maxlength="6" prop:value=move || room.get() on:input=move |ev| room.set(event_target_value(&ev))/>
                        <span>{t(K::room)}</span>
                    </div>
                    <button id="proxy-find" class="btn secondary block" on:click=find>{tr("查找住户", "Find the household")}</button>
                </div>
                {move || household.get().map(|h| {
                    let items = items.clone();
                    view! {
                        <div class="card">
                            <p id="proxy-household"><strong>{tr("为这户下单", "Ordering for")} ": " {h.building.clone()} {t(K::building)} " " {h.unit.clone()} {t(K::unit)} " " {h.room.clone()} {t(K::room)}</strong></p>
                            <ul class="group-items">
                                {items.into_iter().map(|i| {
                                    let product = i.product_id.get();
                                    view! {
                                        <li class="group-item">
                                            <p class="product-name">{i.name.clone()} " " {i.price_fen.yuan()} "/" {i.unit.clone()}</p>
                                            {move || view! {
                                                <Stepper quantity=wanted.get().get(&product).copied().unwrap_or(0) max=i.per_household_limit min=0
                                                    on_change=Callback::new(move |q| wanted.update(|w| { w.insert(product, q); }))/>
                                            }}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            <button id="proxy-place" class="btn primary block" on:click=place>{tr("代下单", "Order for a neighbour")}</button>
                        </div>
                    }
                })}
            }
        })}
        {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:banner=ok class:success=ok role="status" id="proxy-message">{m}</p> })}
    }
}

// ---------- opening a group-buy ----------

#[component]
pub fn NewGroupBuyPage() -> impl IntoView {
    view! { <h1>{tr("开团", "Open a group-buy")}</h1> <Guarded next="/group/new"><NewGroupBuy/></Guarded> }
}

#[component]
fn NewGroupBuy() -> impl IntoView {
    let session = use_session();
    let navigate = leptos_router::hooks::use_navigate();
    let title = RwSignal::new(String::new());
    let buildings = RwSignal::new(String::new());
    let min_households = RwSignal::new(String::from("10"));
    let hours = RwSignal::new(String::from("24"));
    let head_start = RwSignal::new(String::from("0"));
    let proceed = RwSignal::new(false);
    let slot_id = RwSignal::new(None::<i64>);
    let query = RwSignal::new(String::new());
    // product -> (name, price, max, limit)
    let items: RwSignal<BTreeMap<i64, (String, String, String, String)>> = RwSignal::new(BTreeMap::new());
    let message = RwSignal::new(None::<String>);
    if let Some(u) = session.user.get_untracked() {
        buildings.set(u.leader_buildings.join(","));
    }
    let slots = Load::new(move || api::slots_path(None));
    let found = Load::when(move || {
        let q = query.get();
        (!q.trim().is_empty()).then(|| api::products_path(&api::ProductFilter { q: Some(q), ..Default::default() }))
    });
    let number = |s: &str| s.trim().parse::<i64>().unwrap_or(-1);
    let submit = move |_| {
        let deadline_ms = js_sys::Date::now() + number(&hours.get_untracked()) as f64 * 3_600_000.0;
        let deadline = String::from(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(deadline_ms)).to_iso_string());
        let body = OpenGroupBuy {
            title: title.get_untracked(),
            buildings: buildings
                .get_untracked()
                .split([',', '，', '、', ' '])
                .filter(|b| !b.is_empty())
                .map(str::to_owned)
                .collect(),
            items: items
                .get_untracked()
                .into_iter()
                .map(|(product, (_, price, max, limit))| OpenGroupBuyItem {
                    product_id: shared::ProductId(product),
                    price_fen: number(&price),
                    max_quantity: number(&max),
                    per_household_limit: number(&limit),
                })
                .collect(),
            min_households: number(&min_households.get_untracked()),
            deadline,
            slot_id: shared::SlotId(slot_id.get_untracked().unwrap_or(0)),
            on_shortfall: if proceed.get_untracked() { OnShortfall::Proceed } else { OnShortfall::Cancel },
            opens_at: None,
            priority_head_start_minutes: Some(number(&head_start.get_untracked()).max(0)),
        };
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::open_group_buy(&body).await {
                Ok(g) => navigate(&format!("/group/{}", g.id), Default::default()),
                Err(f) => message.set(Some(f.text())),
            }
        });
    };
    let field = |label: K, id: &'static str, value: RwSignal<String>, numeric: bool| {
        view! {
            <label class="field">{t(label)}
                <input id=id inputmode=if numeric { "numeric" } else { "text" } prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            </label>
        }
    };
    view! {
        <div class="card form">
            {field(K::gb_title_field, "gb-title", title, false)}
            {field(K::gb_buildings, "gb-buildings", buildings, false)}
            {field(K::gb_min_households, "gb-min", min_households, true)}
            {field(K::gb_hours, "gb-hours", hours, true)}
            {field(K::gb_head_start, "gb-head-start", head_start, true)}
            <label class="field">{tr("人数不足时", "If too few join")}
                <select id="gb-shortfall" on:change=move |ev| proceed.set(event_target_value(&ev) == "proceed")>
                    <option value="cancel">{tr("取消团购", "Call it off")}</option>
                    <option value="proceed">{tr("照常成团", "Go ahead anyway")}</option>
                </select>
            </label>
            <label class="field">{tr("时段", "Time")}
                {slots.show_items(move |list: Vec<Slot>| view! {
                    <select id="gb-slot" on:change=move |ev| slot_id.set(event_target_value(&ev).parse().ok())>
                        <option value="">"—"</option>
                        {list.into_iter().filter(|s| s.kind == shared::order::SlotKind::Delivery).map(|s| view! {
                            <option value=s.id.to_string()>{when(&s.starts_at)} "–" {day_and_time(&s.ends_at).1}</option>
                        }).collect_view()}
                    </select>
                })}
            </label>
        </div>
        <div class="card">
            <h2>{tr("商品", "Items")}</h2>
            <ul class="group-items">
                {move || items.get().into_iter().map(|(product, (name, price, max, limit))| {
                    let set = move |which: usize, v: String| items.update(|m| if let Some(e) = m.get_mut(&product) {
                        match which { 0 => e.1 = v, 1 => e.2 = v, _ => e.3 = v }
                    });
                    view! {
                        <li class="group-item new-item">
                            <p class="product-name">{name}</p>
                            <label>{tr("团购价（分）", "Group price (fen)")} <input inputmode="numeric" value=price on:change=move |ev| set(0, event_target_value(&ev))/></label>
                            <label>{tr("最多", "Max")} <input inputmode="numeric" value=max on:change=move |ev| set(1, event_target_value(&ev))/></label>
                            <label>{tr("每户限", "Per household max")} <input inputmode="numeric" value=limit on:change=move |ev| set(2, event_target_value(&ev))/></label>
                            <button class="link" on:click=move |_| items.update(|m| { m.remove(&product); })>{tr("删除", "Remove")}</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <input id="gb-search" placeholder=move || t(K::search_placeholder)() prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))/>
            {found.show_items(move |list: Vec<shared::api::Product>| view! {
                <ul class="found">
                    {list.into_iter().take(8).map(|p| {
                        let (id, name, price) = (p.id.get(), format!("{} ({})", p.name, p.unit), p.price_fen.get());
                        view! {
                            <li><button class="btn secondary" on:click=move |_| items.update(|m| {
                                m.entry(id).or_insert((name.clone(), price.to_string(), "100".into(), "2".into()));
                            })>"＋ " {p.name.clone()} " " {p.price_fen.yuan()}</button></li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </div>
        {move || message.get().map(|m| view! { <p class="form-error" role="alert" id="gb-error">{m}</p> })}
        <button id="gb-submit" class="btn primary block" on:click=submit>{tr("开团", "Open a group-buy")}</button>
    }
}
