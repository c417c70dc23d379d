//! 常购: a household that cannot shop every week keeps its usual box or list; the market places
//! the order itself on the day (from the day before), to the door, and says so. Each standing
//! order shows its next day and what came of the last one, and can be skipped once, paused or
//! ended. A new one starts from what is in the cart (`/standing?from=cart`).

use crate::api;
use crate::components::{Guarded, Load};
use crate::i18n::{in_language, tr};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};
use shared::api::{
    Cart, List, SlotWindow, StandingItem, StandingOrder, StandingOrderPatch, StandingOrderRequest, StandingPayment,
};
use shared::order::SlotKind;

#[component]
pub fn StandingPage() -> impl IntoView {
    view! {
        <h1>{tr("常购 · 定期送菜", "Standing orders")}</h1>
        <p class="note">{tr(
            "不方便每次下单？把常买的菜设为常购：到日子市场自动下单，送到家，货到付款。每次下单前一天会通知您，截单前可以跳过或取消。",
            "Can't shop every week? Keep your usual list: the market orders it for you on the day and delivers it, paid at the door. You are told the day before and can skip or cancel until the cut-off.",
        )}</p>
        <Guarded next="/standing"><Standing/></Guarded>
    }
}

#[component]
fn Standing() -> impl IntoView {
    let list = Load::new(|| api::STANDING.to_owned());
    let query = use_query_map();
    let from_cart = move || query.read().get("from").as_deref() == Some("cart");
    view! {
        <Show when=from_cart fallback=|| view! {
            <A href="/standing?from=cart" attr:id="new-standing" attr:class="btn secondary block">
                {tr("把购物车里的菜设为常购", "Make the cart a standing order")}
            </A>
        }>
            <NewStanding on_made=Callback::new(move |()| list.reload())/>
        </Show>
        {list.show(move |l: List<StandingOrder>| if l.items.is_empty() {
            view! { <p class="empty" id="no-standing">{tr("还没有常购", "No standing orders yet")}</p> }.into_any()
        } else {
            view! {
                <ul class="standing-list">
                    {l.items.into_iter().map(|s| view! { <StandingCard s=s on_change=Callback::new(move |()| list.reload())/> }).collect_view()}
                </ul>
            }.into_any()
        })}
    }
}

/// A row of buttons of which one is chosen (`aria-pressed`).
fn choices<T, F>(label: F, chosen: RwSignal<T>, options: Vec<(T, &'static str, F)>) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
    F: Fn() -> &'static str + Clone + Send + Sync + 'static,
{
    view! {
        <div class="segmented" role="group" aria-label=label>
            {options.into_iter().map(|(value, id, text)| view! {
                <button id=id class:active=move || chosen.get() == value aria-pressed=move || (chosen.get() == value).to_string()
                    on:click=move |_| chosen.set(value)>{text}</button>
            }).collect_view()}
        </div>
    }
}

fn window_text(w: SlotWindow) -> impl Fn() -> &'static str + Clone + Send + Sync + 'static {
    match w {
        SlotWindow::Morning => tr("上午", "Morning"),
        SlotWindow::Afternoon => tr("下午", "Afternoon"),
        SlotWindow::Evening => tr("晚上", "Evening"),
    }
}

/// A new standing order of what the cart holds: how often, when in the day, how it comes, how
/// it is paid (the pool only for a household staff flagged quarantined or in hardship).
#[component]
fn NewStanding(on_made: Callback<()>) -> impl IntoView {
    let session = use_session();
    let helped = move || {
        session
            .user
            .get()
            .and_then(|u| u.household)
            .is_some_and(|h| h.quarantined == Some(true) || h.hardship == Some(true))
    };
    let cart = Load::of(api::CART);
    let every = RwSignal::new(7_i64);
    let window = RwSignal::new(SlotWindow::Morning);
    let kind = RwSignal::new(SlotKind::Delivery);
    let payment = RwSignal::new(StandingPayment::OnDelivery);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = leptos_router::hooks::use_navigate();
    let submit = move |_| {
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            // What the cart holds now, as it is when the button is pressed.
            let made = match api::cart().await {
                Ok(c) => {
                    let req = StandingOrderRequest {
                        items: c
                            .items
                            .iter()
                            .map(|i| StandingItem { product_id: i.product_id, quantity: i.quantity })
                            .collect(),
                        every_days: every.get_untracked(),
                        slot_kind: kind.get_untracked(),
                        window: window.get_untracked(),
                        payment: payment.get_untracked(),
                        first_on: None,
                    };
                    api::create_standing(&req).await
                }
                Err(f) => Err(f),
            };
            match made {
                Ok(_) => {
                    error.set(None);
                    on_made.run(());
                    navigate("/standing", Default::default());
                }
                Err(f) => error.set(Some(f.text())),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card new-standing">
            <h2>{tr("新常购", "New standing order")}</h2>
            {cart.show(move |c: Cart| {
                if c.items.is_empty() {
                    view! {
                        <p class="empty">{tr("购物车是空的：先把常买的菜加入购物车", "The cart is empty: put your usual items in it first")}</p>
                        <A href="/products"><span class="btn primary">{tr("去逛逛", "Browse")}</span></A>
                    }.into_any()
                } else {
                    view! { <p id="standing-items">{c.items.iter().map(|i| format!("{} ×{}", i.name, i.quantity)).collect::<Vec<_>>().join("、")}</p> }.into_any()
                }
            })}
            <h3>{tr("多久送一次", "How often")}</h3>
            {choices(tr("多久送一次", "How often"), every, vec![
                (3, "every-3", tr("每3天", "Every 3 days")),
                (7, "every-7", tr("每周", "Weekly")),
                (14, "every-14", tr("每两周", "Every 2 weeks")),
            ])}
            <h3>{tr("什么时候送", "When in the day")}</h3>
            {choices(tr("什么时候送", "When in the day"), window, vec![
                (SlotWindow::Morning, "window-morning", tr("上午", "Morning")),
                (SlotWindow::Afternoon, "window-afternoon", tr("下午", "Afternoon")),
                (SlotWindow::Evening, "window-evening", tr("晚上", "Evening")),
            ])}
            <h3>{tr("送货方式", "How it comes")}</h3>
            {choices(tr("送货方式", "How it comes"), kind, vec![
                (SlotKind::Delivery, "standing-delivery", tr("送货上门", "Home delivery")),
                (SlotKind::Pickup, "standing-pickup", tr("到店自提", "Pick up at the market")),
            ])}
            <Show when=helped>
                <h3>{tr("付款方式", "Payment")}</h3>
                {choices(tr("付款方式", "Payment"), payment, vec![
                    (StandingPayment::OnDelivery, "standing-on-delivery", tr("货到付款", "Pay on delivery")),
                    (StandingPayment::Pool, "standing-pool", tr("爱心捐助支付", "Paid by the donation pool")),
                ])}
            </Show>
            <p class="note">{tr("第一次：明天。", "The first one: tomorrow.")}</p>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <button id="make-standing" class="btn primary block" disabled=move || busy.get() on:click=submit>
                {move || if busy.get() { tr("正在保存…", "Saving…")() } else { tr("开始常购", "Start it")() }}
            </button>
        </section>
    }
}

/// One standing order: what, how often, the next day, the last one's fate, and its buttons.
#[component]
fn StandingCard(s: StandingOrder, on_change: Callback<()>) -> impl IntoView {
    let id = s.id;
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let ending = RwSignal::new(false);
    let change = move |patch: StandingOrderPatch| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::change_standing(id, &patch).await {
                Ok(_) => {
                    error.set(None);
                    on_change.run(());
                }
                Err(f) => error.set(Some(f.text())),
            }
            busy.set(false);
        });
    };
    let end = move |_| {
        if !ending.get_untracked() {
            ending.set(true);
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::end_standing(id).await {
                Ok(()) => on_change.run(()),
                Err(f) => error.set(Some(f.text())),
            }
            busy.set(false);
        });
    };
    let paused = s.paused;
    let what = s.items.iter().map(|i| format!("{} ×{}", i.name, i.quantity)).collect::<Vec<_>>().join("、");
    let gone = s.items.iter().filter(|i| !i.on_sale).map(|i| i.name.clone()).collect::<Vec<_>>().join("、");
    let every = s.every_days;
    let (window, kind, pool) = (s.window, s.slot_kind, s.payment == StandingPayment::Pool);
    let next = s.next_on.clone();
    let last = s.last.clone();
    view! {
        <li class="card standing" data-standing=id>
            <p class="standing-items">{what}</p>
            <p>
                {move || if every == 7 { tr("每周", "Weekly")().to_owned() } else if crate::i18n::lang() == crate::i18n::Lang::Zh { format!("每{every}天") } else { format!("Every {every} days") }}
                " · " {window_text(window)} " · "
                {if kind == SlotKind::Delivery { tr("送货上门", "Home delivery") } else { tr("到店自提", "Pick up") }}
                " · " {if pool { tr("爱心捐助支付", "Paid by the pool") } else { tr("货到付款", "Pay on delivery") }}
            </p>
            {(!gone.is_empty()).then(|| view! { <p class="note warn">{tr("已下架，不会送：", "No longer sold, left out: ")} {gone.clone()}</p> })}
            <p class="standing-next"><strong>
                {if paused { tr("已暂停", "Paused") } else { tr("下一次：", "Next: ") }}
                {(!paused).then(|| { let d = next.clone(); move || crate::shop::checkout::day_label(&d) })}
            </strong></p>
            {last.map(|r| {
                let day = r.on.clone();
                let when = move || crate::shop::checkout::day_label(&day);
                let message = r.message.clone().unwrap_or_default();
                match (r.outcome.as_str(), r.order_id) {
                    ("placed", Some(order)) => view! {
                        <p class="standing-last note">{when} " " {tr("已下单", "ordered")} " · "
                            <A href=format!("/orders/{}", order.get())>{tr("查看订单", "See the order")}</A></p>
                    }.into_any(),
                    ("refused", _) => view! {
                        <p class="standing-last note warn" role="status">{when} " " {tr("还没下成：", "not ordered yet: ")}
                            {move || in_language(&message)} {tr("（截单前会再试）", " (tried again until the cut-off)")}</p>
                    }.into_any(),
                    _ => view! {
                        <p class="standing-last note warn">{when} " " {tr("没能下单：", "not ordered: ")} {move || in_language(&message)}</p>
                    }.into_any(),
                }
            })}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div class="actions">
                <Show when=move || !paused>
                    <button class="btn secondary skip-next" disabled=move || busy.get()
                        on:click=move |_| change(StandingOrderPatch { skip_next: Some(true), ..Default::default() })>
                        {tr("跳过下一次", "Skip the next one")}
                    </button>
                </Show>
                <button class="btn secondary pause" disabled=move || busy.get()
                    on:click=move |_| change(StandingOrderPatch { paused: Some(!paused), ..Default::default() })>
                    {if paused { tr("恢复", "Resume") } else { tr("暂停", "Pause") }}
                </button>
                <button class="btn secondary end" disabled=move || busy.get() on:click=end>
                    {move || if ending.get() { tr("再按一次，结束常购", "Press again to end it")() } else { tr("结束常购", "End it")() }}
                </button>
            </div>
        </li>
    }
}
