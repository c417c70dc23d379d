//! 自提点 (pickup points): staff set points up and change them (`/staff/points`); a point's
//! keeper sees what waits there and hands each order over by its code or QR
//! (`/volunteer/point`).

use crate::api;
use crate::components::{day_and_time, Guarded, Load};
use crate::i18n::{now, tr, K};
use leptos::prelude::*;
use shared::api::{NewPickupPoint, PickupPoint, PointOrder, Uncollected};
use shared::order::OrderStatus;
use shared::Role;

#[component]
pub fn PointsPage() -> impl IntoView {
    view! {
        <h1>{tr("自提点", "Pickup points")}</h1>
        <Guarded next="/staff/points" role=Role::Staff><PointsAdmin/></Guarded>
    }
}

fn rule_label(u: Uncollected) -> &'static str {
    match u {
        Uncollected::KeepDay => tr("未取：保留一天再退回", "Not collected: kept a day, then returned")(),
        Uncollected::Return => tr("未取：当天退回并退款", "Not collected: returned and refunded that day")(),
    }
}

#[component]
fn PointsAdmin() -> impl IntoView {
    let points = Load::of(api::ALL_POINTS);
    let message = RwSignal::new(None::<(bool, String)>);
    let name = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let opens = RwSignal::new("08:00".to_owned());
    let closes = RwSignal::new("20:00".to_owned());
    let capacity = RwSignal::new("50".to_owned());
    let keeper = RwSignal::new(String::new());
    let returns = RwSignal::new(false);
    let busy = RwSignal::new(false);
    // The point being changed (its form filled in), or none: a new one.
    let editing = RwSignal::new(None::<(i64, bool)>);
    let clear = move || {
        editing.set(None);
        name.set(String::new());
        address.set(String::new());
        keeper.set(String::new());
    };
    let save = move |id: Option<i64>, body: NewPickupPoint| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::save_point(id, &body).await {
                Ok(p) => {
                    message.set(Some((true, format!("{} {}", tr("已保存", "Saved")(), p.name))));
                    if editing.get_untracked().is_none_or(|(e, _)| Some(e) == id) {
                        clear();
                    }
                    points.reload();
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
            busy.set(false);
        });
    };
    let add = move |_| {
        let Ok(cap) = capacity.get_untracked().trim().parse::<i64>() else {
            message.set(Some((false, tr("每个时段单数须是数字", "Orders per slot must be a number")().to_owned())));
            return;
        };
        let keeper = keeper.get_untracked();
        let (id, active) = editing.get_untracked().map_or((None, true), |(id, active)| (Some(id), active));
        save(
            id,
            NewPickupPoint {
                name: name.get_untracked(),
                address: address.get_untracked(),
                opens: opens.get_untracked(),
                closes: closes.get_untracked(),
                capacity: cap,
                keeper_phone: (!keeper.trim().is_empty()).then_some(keeper),
                uncollected: if returns.get_untracked() { Uncollected::Return } else { Uncollected::KeepDay },
                active,
            },
        );
    };
    view! {
        <p class="note">{tr("居民下单时可以选自提点代替送货上门；每个配送时段，市场把一个自提点的订单作为一批送过去，由自提点管理员凭收货码交给居民。管理员用手机打开 /volunteer/point。", "Residents may choose a point instead of their door; each delivery slot, the market sends a point's orders as one batch and its keeper hands each over by its code. Keepers open /volunteer/point on their phone.")}</p>
        {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:banner=ok class:success=ok role="status" id="points-message">{m}</p> })}
        {points.show_items(move |list: Vec<PickupPoint>| if list.is_empty() {
            view! { <p class="card center">{tr("还没有自提点", "No pickup points yet")}</p> }.into_any()
        } else {
            view! {
                <ul class="points">
                    {list.into_iter().map(|p| {
                        let id = p.id;
                        let shown = StoredValue::new(p.clone());
                        let change = move |_| {
                            let p = shown.get_value();
                            name.set(p.name);
                            address.set(p.address);
                            opens.set(p.opens);
                            closes.set(p.closes);
                            capacity.set(p.capacity.to_string());
                            keeper.set(p.keeper_phone.unwrap_or_default());
                            returns.set(p.uncollected == Uncollected::Return);
                            editing.set(Some((p.id, p.active)));
                            message.set(None);
                        };
                        let again = NewPickupPoint {
                            name: p.name.clone(),
                            address: p.address.clone(),
                            opens: p.opens.clone(),
                            closes: p.closes.clone(),
                            capacity: p.capacity,
                            keeper_phone: p.keeper_phone.clone(),
                            uncollected: p.uncollected,
                            active: !p.active,
                        };
                        view! {
                            <li class="card point" data-point=id>
                                <h2>"📍 " {p.name.clone()} {(!p.active).then(|| view! { " " <span class="badge">{tr("已停用", "Closed")}</span> })}</h2>
                                <p>{p.address.clone()}</p>
                                <p>{tr("开放", "Open")} " " {p.opens.clone()} "–" {p.closes.clone()} " · " {tr("每个时段", "per slot")} " " {p.capacity} " " {tr("单", "orders")}</p>
                                <p>{tr("管理员", "Keeper")} " " {p.keeper_phone.clone().unwrap_or_else(|| tr("（工作人员）", "(staff)")().to_owned())}</p>
                                <p class="note">{rule_label(p.uncollected)}</p>
                                <button class="btn secondary block point-change" on:click=change>{tr("修改", "Change")}</button>
                                <button class="btn secondary block point-toggle" disabled=move || busy.get()
                                    on:click=move |_| save(Some(id), again.clone())>
                                    {if p.active { tr("停用（不再接新订单）", "Close to new orders")() } else { tr("重新启用", "Open again")() }}
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        })}
        <div class="card" id="add-point">
            <h2>{move || match editing.get() {
                Some(_) => tr("修改自提点", "Change the pickup point")(),
                None => tr("新建自提点", "New pickup point")(),
            }}</h2>
            <div class="form-grid">
                <label>{tr("名称", "Name")}<input id="point-name" maxlength="40" placeholder="阳光花园自提点" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></label>
                <label>{tr("地址", "Address")}<input id="point-address" maxlength="100" placeholder="阳光花园3号楼架空层" prop:value=move || address.get() on:input=move |ev| address.set(event_target_value(&ev))/></label>
                <label>{tr("开门", "Opens")}<input id="point-opens" type="time" prop:value=move || opens.get() on:change=move |ev| opens.set(event_target_value(&ev))/></label>
                <label>{tr("关门", "Closes")}<input id="point-closes" type="time" prop:value=move || closes.get() on:change=move |ev| closes.set(event_target_value(&ev))/></label>
                <label>{tr("每个时段最多单数", "Orders per slot")}<input id="point-capacity" inputmode="numeric" maxlength="5" prop:value=move || capacity.get() on:input=move |ev| capacity.set(event_target_value(&ev))/></label>
                <label>{tr("管理员手机号", "Keeper's phone")}<input id="point-keeper" type="tel" inputmode="numeric" maxlength="11" prop:value=move || keeper.get() on:input=move |ev| keeper.set(event_target_value(&ev))/></label>
            </div>
            <label class="check"><input type="checkbox" id="point-returns" prop:checked=move || returns.get() on:change=move |ev| returns.set(event_target_checked(&ev))/>
                {tr("未取的订单当天退回并退款（不选：保留一天）", "Return uncollected orders that day (else kept a day)")}</label>
            <button id="point-add" class="btn primary block" disabled=move || busy.get() on:click=add>{tr("保存自提点", "Save the point")}</button>
            {move || editing.get().map(|_| view! {
                <button id="point-cancel" class="btn secondary block" on:click=move |_| clear()>{tr("不改了", "Cancel")}</button>
            })}
        </div>
    }
}

#[component]
pub fn KeeperPage() -> impl IntoView {
    view! {
        <h1>{tr("自提点取货", "Pickup point")}</h1>
        <Guarded next="/volunteer/point"><KeeperDesk/></Guarded>
    }
}

fn when(at: &str) -> String {
    let (day, time) = day_and_time(at);
    format!("{} {time}", day.get(5..).unwrap_or_default())
}

#[component]
fn KeeperDesk() -> impl IntoView {
    let orders = Load::of(api::KEEPER_ORDERS).every(30);
    let message = RwSignal::new(None::<(bool, String)>);
    let order_id = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let scanning = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let hand_over = move |id: i64, typed: String| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::handoff(id, typed.trim()).await {
                Ok(_) => {
                    message.set(Some((true, format!("{} · {} {id}", now(K::handed_over), tr("订单", "Order")()))));
                    order_id.set(String::new());
                    code.set(String::new());
                }
                Err(f) if f.status == 0 => message.set(Some((
                    false,
                    tr(
                        "没有信号，没有交付：有信号时再按一次",
                        "No signal, not handed over: press again when it is back",
                    )()
                    .to_owned(),
                ))),
                Err(f) => message.set(Some((false, f.text()))),
            }
            orders.reload();
            busy.set(false);
        });
    };
    let scanned = Callback::new(move |text: String| {
        scanning.set(false);
        match shared::order::parse_handoff_qr(&text) {
            Some((id, c)) => hand_over(id, c),
            None => message.set(Some((false, now(K::not_our_qr).to_owned()))),
        }
    });
    let typed = move |_| match order_id.get_untracked().trim().parse::<i64>() {
        Ok(id) => hand_over(id, code.get_untracked()),
        Err(_) => message.set(Some((false, tr("请填写订单号", "Enter the order number")().to_owned()))),
    };
    view! {
        {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:banner=ok class:success=ok role="status" id="keeper-message">{m}</p> })}
        {move || scanning.get().then(|| view! {
            <super::scan::Scanner on_text=scanned on_close=Callback::new(move |_| scanning.set(false))/>
        })}
        <button id="keeper-scan" class="btn primary block" on:click=move |_| { message.set(None); scanning.set(true); }>{tr("📷 扫居民的收货码", "📷 Scan the resident's code")}</button>
        <div class="card" id="keeper-typed">
            <h2>{tr("或输入订单号和收货码", "Or type the order number and code")}</h2>
            <div class="form-grid">
                <label>{tr("订单号", "Order number")}<input id="keeper-order" inputmode="numeric" maxlength="12" prop:value=move || order_id.get() on:input=move |ev| order_id.set(event_target_value(&ev))/></label>
                <label>{tr("收货码（6位）", "Code (6 digits)")}<input id="keeper-code" inputmode="numeric" maxlength="6" prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/></label>
            </div>
            <button id="keeper-hand-over" class="btn primary block" disabled=move || busy.get() on:click=typed>{now(K::handed_over)}</button>
        </div>
        {orders.show_items(move |list: Vec<PointOrder>| {
            let waiting: Vec<PointOrder> = list.iter().filter(|o| o.at_point_at.is_some() && o.status == OrderStatus::OutForDelivery).cloned().collect();
            let coming: Vec<PointOrder> = list.iter().filter(|o| o.at_point_at.is_none() && o.status != OrderStatus::Delivered).cloned().collect();
            let collected = list.iter().filter(|o| o.status == OrderStatus::Delivered).count();
            view! {
                <h2>{tr("在自提点等取货", "Waiting at the point")} " (" {waiting.len()} ")"</h2>
                {if waiting.is_empty() {
                    view! { <p class="card center" id="keeper-none">{tr("现在没有等取的订单", "Nothing waiting now")}</p> }.into_any()
                } else {
                    view! {
                        <ul class="keeper-orders" id="keeper-waiting">
                            {waiting.into_iter().map(|o| view! {
                                <li class="card" data-order=o.order_id.get()>
                                    <p><strong>{tr("订单", "Order")} " " {o.order_id.get()}</strong> " · " {o.point.clone()}</p>
                                    <p>{o.phone.clone().unwrap_or_default()} " · " {o.items} " " {tr("件", "items")}</p>
                                    {o.collect_by.as_deref().map(|c| view! { <p class="note">{tr("请在此前取走", "To be collected by")} " " {when(c)}</p> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
                <h2>{tr("正在送来", "On the way")} " (" {coming.len()} ")"</h2>
                <ul class="keeper-orders" id="keeper-coming">
                    {coming.into_iter().map(|o| view! {
                        <li class="card"><p>{tr("订单", "Order")} " " {o.order_id.get()} " · " {when(&o.slot_starts_at)} " · " {o.items} " " {tr("件", "items")}</p></li>
                    }).collect_view()}
                </ul>
                <p class="note">{tr("已取走", "Collected")} " " {collected} " " {tr("单", "orders")}</p>
            }
        })}
    }
}
