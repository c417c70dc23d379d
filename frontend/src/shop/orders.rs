//! The resident's orders: the list, and one order with its timeline and hand-off code.

use crate::api;
use crate::components::{Guarded, Load};
use crate::i18n::{t, tr, K};
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};
use shared::api::{Order, OrderSummary};
use shared::order::OrderStatus;

pub fn status_label(s: OrderStatus) -> K {
    match s {
        OrderStatus::PendingPayment => K::st_pending_payment,
        OrderStatus::Placed => K::st_placed,
        OrderStatus::Paid => K::st_paid,
        OrderStatus::Confirmed => K::st_confirmed,
        OrderStatus::Packed => K::st_packed,
        OrderStatus::OutForDelivery => K::st_out_for_delivery,
        OrderStatus::Delivered => K::st_delivered,
        OrderStatus::Cancelled => K::st_cancelled,
        OrderStatus::Expired => K::st_expired,
    }
}

fn short_time(rfc3339: &str) -> String {
    format!("{} {}", rfc3339.get(5..10).unwrap_or_default(), rfc3339.get(11..16).unwrap_or_default())
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    view! {
        <h1>{t(K::nav_orders)}</h1>
        <Guarded next="/orders"><Notices/> <OrderList/>
            <A href="/standing" attr:id="to-standing" attr:class="btn secondary block">{tr("常购：定期自动送菜", "Standing orders: your usual, delivered")}</A>
        </Guarded>
    }
}

/// A notice in English (the server words them in Chinese, as WeChat shows them): from its kind,
/// its order and the amount in its text.
fn notice_in_english(n: &shared::api::Notice) -> (String, String) {
    let id = n.order_id.map(|o| o.to_string()).unwrap_or_default();
    let amount = n.body.split([' ', '，']).find(|w| w.starts_with('¥')).unwrap_or("");
    match n.kind.as_str() {
        "confirmed" => {
            ("Confirmed by the stalls".into(), format!("The stalls confirmed order {id} and are packing it."))
        }
        "out_for_delivery" => ("On its way".into(), format!("A volunteer has order {id} and is bringing it to you.")),
        "delivered" => ("Delivered".into(), format!("Order {id} was delivered: please take it in.")),
        "refund" => ("Refunded".into(), format!("{amount} for order {id} is back in your WeChat.")),
        "group_buy_refund" => {
            ("Group-buy refunded".into(), format!("The group-buy did not go ahead: {amount} is back in your WeChat."))
        }
        "group_buy_closed" => {
            ("Group-buy closed".into(), format!("The group-buy closed and your order {id} is placed."))
        }
        "standing_placed" => (
            "Standing order placed".into(),
            format!("Your standing order is placed as order {id}; you can cancel it on its page until the cut-off."),
        ),
        "standing_refused" => (
            "Standing order not placed yet".into(),
            "Your standing order could not be placed yet; it is tried again until the cut-off.".into(),
        ),
        "standing_missed" => {
            ("Standing order missed".into(), "Your standing order could not be placed for that day.".into())
        }
        _ => ("Order news".into(), format!("Order {id} has news.")),
    }
}

/// The latest news about the resident's orders (the same as WeChat would bring), newest first.
#[component]
fn Notices() -> impl IntoView {
    Load::of(api::NOTICES).every(30).show_items(|list: Vec<shared::api::Notice>| {
        (!list.is_empty()).then(|| {
            view! {
                <section class="card" id="notices">
                    <h2>{tr("消息", "News")}</h2>
                    <ul class="notices">
                        {list.into_iter().take(5).map(|n| {
                            let words = StoredValue::new(
                                ((n.title.clone(), n.body.clone()), notice_in_english(&n)),
                            );
                            let pick = move |zh: bool, title: bool| words.with_value(|((t, b), (te, be))| {
                                match (zh, title) { (true, true) => t.clone(), (true, false) => b.clone(), (false, true) => te.clone(), (false, false) => be.clone() }
                            });
                            let zh = move || crate::i18n::lang() == crate::i18n::Lang::Zh;
                            view! {
                            <li class="notice" data-kind=n.kind.clone()>
                                <A href=n.order_id.map(|o| format!("/orders/{o}")).unwrap_or_else(|| "/orders".into())>
                                    <strong>{move || pick(zh(), true)}</strong> " " <span class="when">{short_time(&n.created_at)}</span>
                                    <br/><span class="note">{move || pick(zh(), false)}</span>
                                </A>
                            </li>
                        }}).collect_view()}
                    </ul>
                </section>
            }
        })
    })
}

#[component]
fn OrderList() -> impl IntoView {
    Load::of(api::ORDERS).show_items(|list: Vec<OrderSummary>| match list {
                        list if list.is_empty() => view! {
                            <div class="card center"><p>{tr("还没有订单", "No orders yet")}</p>
                                <A href="/products"><span class="btn primary">{tr("去逛逛", "Browse")}</span></A></div>
                        }.into_any(),
                        list => view! {
                            <ul class="order-list">
                                {list.into_iter().map(|o| view! {
                                    <li>
                                        <A href=format!("/orders/{}", o.id)>
                                            <div class="order-row">
                                                <span class="order-no">{t(K::order_no)} " " {o.id.get()}</span>
                                                <span class=format!("badge status-{}", o.status.as_str())>{t(status_label(o.status))}</span>
                                                <span class="order-slot">{tr("时段", "Time")} " " {short_time(&o.slot_starts_at)}</span>
                                                <span class="order-total">{o.total_fen.yuan()}</span>
                                            </div>
                                        </A>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
    })
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let here = leptos_router::hooks::use_location().pathname.get_untracked();
    view! { <Guarded next=here><OrderDetail/></Guarded> }
}

/// The volunteer's photo of where the order was left (private: fetched with the login).
#[component]
fn DoorPhoto(id: i64) -> impl IntoView {
    let shown = RwSignal::new(None::<Result<String, String>>);
    leptos::task::spawn_local(async move {
        shown.set(Some(api::door_photo(id).await.map_err(|f| f.text())));
    });
    on_cleanup(move || {
        if let Some(Ok(url)) = shown.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
    view! {
        <figure class="card door-photo" id="door-photo">
            {move || match shown.get() {
                None => view! { <p class="note" role="status">{t(K::loading)}</p> }.into_any(),
                Some(Ok(url)) => view! { <img src=url alt=move || tr("志愿者拍的门口照片", "The volunteer's photo of the door")()/> }.into_any(),
                Some(Err(why)) => view! { <p class="form-error" role="alert">{why}</p> }.into_any(),
            }}
            <figcaption class="note">"📷 " {tr("志愿者放下时拍的照片", "Taken by the volunteer when leaving it")}</figcaption>
        </figure>
    }
}

#[component]
fn OrderDetail() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.get().get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let order = Load::new(move || api::order_path(id.get()));
    let error = RwSignal::new(None::<String>);
    let cancel = move |_| {
        let id = id.get_untracked();
        leptos::task::spawn_local(async move {
            match api::cancel_order(id).await {
                Ok(_) => order.reload(),
                Err(f) => error.set(Some(f.text())),
            }
        });
    };
    view! {
        {move || (query.get().get("placed").is_some()).then(|| view! {
            <div class="banner success" role="status">"✓ " {tr("下单成功", "Order placed")}</div>
        })}
        {order.show(move |o: Order| {
                    let status = o.status;
                    let reached: Vec<OrderStatus> = o.timeline.iter().map(|e| e.status).collect();
                    view! {
                        <h1>{t(K::order_no)} " " {o.id.get()}</h1>
                        <p class="order-status" id="order-status">
                            <span class=format!("badge big status-{}", status.as_str())>{t(status_label(status))}</span>
                        </p>
                        {o.group_buy_id.map(|g| g.get()).map(|g| view! {
                            <p class="note" id="order-group-buy"><A href=format!("/group/{g}")>"🏘️ " {t(K::nav_group)} " #" {g}</A>
                                {o.placed_by.clone().map(|p| view! { " · " {tr("代下单", "Placed by")} ": " {p} })}</p>
                        })}
                        {o.standing_order_id.map(|_| view! {
                            <p class="note" id="order-standing"><A href="/standing">{tr("常购订单：市场按您的常购自动下单", "Standing order: placed by the market as you asked")}</A></p>
                        })}
                        {o.left_at_door.clone().map(|note| view! {
                            <div class="banner" id="left-at-door" role="status">"🚪 " {t(K::left_at_door)} ": " {note}</div>
                        })}
                        {o.door_photo.then(|| view! { <DoorPhoto id=o.id.get()/> })}
                        {o.pickup_point.clone().map(|p| {
                            let waiting = o.at_point_at.is_some() && status == OrderStatus::OutForDelivery;
                            view! {
                                <div class="banner" class:success=waiting id="at-point" role="status">
                                    <p>"📍 " {if waiting { tr("已到自提点，请凭收货码取货", "At the pickup point: collect it with your code")() } else { tr("到自提点取货", "Collect at the pickup point")() }}</p>
                                    <p><strong>{p.name.clone()}</strong> " · " {p.address.clone()}</p>
                                    <p>{tr("开放", "Open")} " " {p.opens.clone()} "–" {p.closes.clone()}</p>
                                    {o.collect_by.clone().filter(|_| waiting).map(|c| view! { <p class="note warn">{tr("请在此前取走", "Collect it by")} " " {short_time(&c)}</p> })}
                                </div>
                            }
                        })}
                        {o.to_gate.then(|| view! {
                            <p class="banner warn" id="to-gate" role="status">{tr("🚧 本楼封闭管理：订单送到小区大门交接，请凭收货码到大门领取", "🚧 Your building is closed: the order is handed over at the compound's gate; collect it there with your code")}</p>
                        })}
                        {o.handoff_code.clone().map(|code| view! {
                            <div class="card handoff">
                                <p>{tr("收货码", "Hand-off code")}</p>
                                <p class="code" id="handoff-code">{code}</p>
                                {o.handoff_qr.clone().map(|svg| view! { <div class="qr" id="handoff-qr" inner_html=svg></div> })}
                                <p class="note">{if o.pickup_point.is_some() { tr("取货时，请给自提点管理员看这6位数字或二维码", "Show the point's keeper these six digits or the QR code")() } else { tr("志愿者送到时，请告诉他这6位数字", "Tell the volunteer these six digits at the door")() }}</p>
                            </div>
                        })}
                        {(status == OrderStatus::PendingPayment).then(|| o.expires_at.clone().map(|e| view! {
                            <p class="note warn">{tr("请在此前付款", "Pay before")} " " {short_time(&e)}</p>
                        }))}
                        {(status == OrderStatus::PendingPayment).then(|| view! { <PayButton what=PayFor::Order(o.id.get()) total=o.total_fen on_paid=Callback::new(move |_| order.reload())/> })}
                        {o.paid_by_donations.then(|| view! {
                            <div class="banner success" id="paid-by-donations" role="status">"❤️ " {tr("已由爱心捐助支付，您无需付款", "Paid by the donation pool: nothing to pay")}</div>
                        })}
                        <div class="card">
                            <h2>{tr("订单进度", "Progress")}</h2>
                            <ol class="timeline">
                                {if status.is_final() && status != OrderStatus::Delivered {
                                    o.timeline.iter().map(|e| view! {
                                        <li class="done"><span>{t(status_label(e.status))}</span><span class="when">{short_time(&e.at)}</span></li>
                                    }).collect_view().into_any()
                                } else {
                                    OrderStatus::progress().into_iter()
                                        .filter(|s| *s != OrderStatus::Paid || o.payment == shared::order::Payment::Wechat)
                                        .map(|s| {
                                            let shown = if s == OrderStatus::Placed && status == OrderStatus::PendingPayment { OrderStatus::PendingPayment } else { s };
                                            let at = o.timeline.iter().find(|e| e.status == s || (s == OrderStatus::Placed && e.status == OrderStatus::PendingPayment)).map(|e| short_time(&e.at));
                                            let done = reached.contains(&s) || at.is_some();
                                            view! {
                                                <li class:done=done class:current=shown == status>
                                                    <span>{t(status_label(shown))}</span>
                                                    <span class="when">{at.unwrap_or_default()}</span>
                                                </li>
                                            }
                                        }).collect_view().into_any()
                                }}
                            </ol>
                        </div>
                        <div class="card">
                            <p>{tr("时段", "Time")} ": " {short_time(&o.slot_starts_at)} "–" {o.slot_ends_at.get(11..16).unwrap_or_default().to_owned()}
                                " · " {let point = o.pickup_point.is_some(); move || if point { tr("自提点取货", "Pickup point")() } else if o.slot_kind == shared::order::SlotKind::Delivery { tr("送货上门", "Home delivery")() } else { tr("到店自提", "Pick up at the market")() }}</p>
                            {o.address.clone().map(|a| view! {
                                <p>{tr("送货地址", "Delivery address")} ": " <span translate="no">{a.community.unwrap_or_default()}</span> " " {a.building} {t(K::building)} " " {a.unit} {t(K::unit)} " " {a.room} {t(K::room)}</p>
                            })}
                            {o.note.clone().map(|n| view! { <p>{tr("备注（选填）", "Note (optional)")} ": " {n}</p> })}
                        </div>
                        <div class="card">
                            <h2>{tr("商品", "Items")}</h2>
                            <ul class="box-items">
                                {o.items.iter().map(|i| view! {
                                    <li style="gap:10px;align-items:center">{crate::components::thumb(i.photo.as_ref(), &i.name)}<span style="flex:1">{i.name.clone()} " ×" {i.quantity} {let u = i.unit.clone(); move || crate::i18n::unit(&u)}
                                        {(i.short_quantity > 0).then(|| view! {
                                            <br/><span class="note warn short">{tr("缺货", "Out of stock:")} " " {i.short_quantity} {let u = i.unit.clone(); move || crate::i18n::unit(&u)} " · " {tr("不收费", "not charged")}</span>
                                        })}</span><span>{i.line_total_fen.yuan()}</span></li>
                                }).collect_view()}
                            </ul>
                            <p class="order-total-line">{tr("合计", "Total")} " " <strong>{o.total_fen.yuan()}</strong></p>
                            {o.refunds.iter().map(|r| view! {
                                <p class="note refund">{tr("退款", "Refund")} " " {r.amount_fen.yuan()} " · " {t(match r.status.as_str() {
                                    "succeeded" => K::refund_succeeded,
                                    "requested" => K::refund_requested,
                                    "failed" => K::refund_failed,
                                    _ => K::refund_due,
                                })}</p>
                            }).collect_view()}
                            <h2>{tr("各摊位", "Stalls")}</h2>
                            <ul class="box-items">
                                {o.parts.iter().map(|p| view! {
                                    <li><span>{p.vendor_name.clone()}</span><span>{p.subtotal_fen.yuan()}</span></li>
                                }).collect_view()}
                            </ul>
                        </div>
                        {shared::order::may_report_problem(status).then(|| view! { <ReportProblem id=o.id.get()/> })}
                        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                        {shared::order::resident_may_cancel(status, o.parts.iter().map(|p| p.status.as_str())).then(|| view! {
                            <button id="cancel-order" class="btn secondary block" on:click=cancel>{tr("取消订单", "Cancel order")}</button>
                        })}
                    }
        })}
    }
}

/// What a 微信支付 button pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayFor {
    Order(i64),
    /// A gift to the donation pool.
    Gift(i64),
    /// The caller's share of this group-buy, paid ahead.
    Share(i64),
}

/// 微信支付: the payment parameters from the server, then the phone's payment. In a browser
/// (demo mode) a simulated payment sheet stands in for `wx.requestPayment`.
#[component]
pub fn PayButton(what: PayFor, total: shared::Fen, on_paid: Callback<()>) -> impl IntoView {
    let sheet = RwSignal::new(None::<shared::api::RequestPayment>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let start = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let params = match what {
                PayFor::Order(id) => api::pay_order(id).await,
                PayFor::Gift(id) => api::pay_gift(id).await,
                PayFor::Share(id) => api::pay_share(id).await,
            };
            match params {
                Ok(p) => sheet.set(Some(p)),
                Err(f) => error.set(Some(f.text())),
            }
            busy.set(false);
        });
    };
    let confirm = move |_| {
        let Some(params) = sheet.get_untracked() else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::demo_pay(&params).await {
                Ok(()) => on_paid.run(()),
                Err(f) if f.status == 404 => error.set(Some(crate::i18n::now(K::pay_in_wechat).to_owned())),
                Err(f) => error.set(Some(f.text())),
            }
            sheet.set(None);
            busy.set(false);
        });
    };
    view! {
        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        {move || match sheet.get() {
            None => view! {
                <button id="pay-order" class="btn primary block" disabled=move || busy.get() on:click=start>{tr("微信支付", "WeChat Pay")} " " {total.yuan()}</button>
            }.into_any(),
            Some(_) => view! {
                <div class="card center" id="sim-pay">
                    <h2>{tr("模拟微信支付（演示）", "Simulated WeChat Pay (demo)")}</h2>
                    <p class="code">{total.yuan()}</p>
                    <button id="sim-pay-confirm" class="btn primary block" disabled=move || busy.get() on:click=confirm>{tr("确认支付", "Confirm payment")}</button>
                </div>
            }.into_any(),
        }}
    }
}

/// "Something wrong?" under a delivered order: a short text the market's staff read.
#[component]
fn ReportProblem(id: i64) -> impl IntoView {
    let open = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let send = move |_| {
        let body = shared::api::ReportProblem { text: text.get_untracked() };
        leptos::task::spawn_local(async move {
            match api::report_problem(id, &body).await {
                Ok(()) => {
                    open.set(false);
                    message.set(Some((true, crate::i18n::now(K::problem_sent).to_owned())));
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
        });
    };
    view! {
        {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:banner=ok class:success=ok role="status" id="problem-message">{m}</p> })}
        {move || if open.get() {
            view! {
                <div class="card">
                    <textarea id="problem-text" class="problem-text" maxlength="500" rows="3" placeholder=move || tr("例如：少了一样、坏了、送错门", "e.g. something missing, damaged, wrong door")()
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    <button id="send-problem" class="btn primary block" on:click=send>{tr("提交", "Send")}</button>
                </div>
            }.into_any()
        } else {
            view! { <button id="report-problem" class="btn secondary block" on:click=move |_| open.set(true)>{tr("收到的货有问题？", "Something wrong with it?")}</button> }.into_any()
        }}
    }
}
