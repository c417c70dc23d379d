//! Cart and checkout: steppers and totals, then time slot, address and payment in one page.

use crate::api;
use crate::components::{community_of, day_and_time, Guarded, Load, Stepper, COMMUNITY};
use crate::i18n::{now, t, tr, K};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_query_map},
};
use shared::api::{Address, Cart, CheckoutRequest, List, OrderSummary, PickupPoint, Slot};
use shared::order::{OrderStatus, Payment, SlotKind};

#[component]
pub fn CartPage() -> impl IntoView {
    view! {
        <h1>{t(K::nav_cart)}</h1>
        <Guarded next="/cart"><CartLines/></Guarded>
    }
}

#[component]
fn CartLines() -> impl IntoView {
    let cart = Load::of(api::CART);
    let error = RwSignal::new(None::<String>);
    // What a visitor added before logging in goes in now; a refusal (over the limit, sold out)
    // is said here.
    let kept = crate::storage::take_for_cart();
    if !kept.is_empty() {
        leptos::task::spawn_local(async move {
            for (product_id, quantity) in kept {
                if let Err(f) = api::add_to_cart(product_id, quantity).await {
                    error.set(Some(f.text()));
                }
            }
            cart.reload();
        });
    }
    let set = move |product_id: i64, quantity: i64| {
        leptos::task::spawn_local(async move {
            match api::set_cart(product_id, quantity).await {
                Ok(_) => {
                    error.set(None);
                    cart.reload();
                }
                Err(f) => error.set(Some(f.text())),
            }
        });
    };
    view! {
        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        {cart.show(move |c: Cart| if c.items.is_empty() {
            view! {
                <div class="card center">
                    <p>{tr("购物车是空的", "Your cart is empty")}</p>
                    <A href="/products"><span class="btn primary">{tr("去逛逛", "Browse")}</span></A>
                </div>
            }.into_any()
        } else {
            cart_lines(c, set).into_any()
        })}
    }
}

fn cart_lines(c: Cart, set: impl Fn(i64, i64) + Copy + Send + Sync + 'static) -> impl IntoView {
    let total = c.total_fen;
    let problems = c.has_problems;
    view! {
        <ul class="cart-lines">
            {c.items.into_iter().map(|i| {
                let id = i.product_id.get();
                let max = i.per_order_limit.unwrap_or(99).min(i.stock.max(i.quantity)).max(1);
                view! {
                    <li class="cart-line" class:problem=!i.available>
                        {crate::components::thumb(i.photo.as_ref(), &i.name)}
                        <div class="line-main">
                            <p class="product-name">{i.name.clone()}</p>
                            <p class="product-vendor">{i.vendor_name.clone()}</p>
                            <p class="product-price">{i.price_fen.yuan()} "/" {let u = i.unit.clone(); move || crate::i18n::unit(&u)}</p>
                            {i.price_was_fen.map(|was| view! { <p class="note warn">{tr("价格已变动，原价", "Price changed, was")} " " {was.yuan()}</p> })}
                            {(!i.available).then(|| view! { <p class="note warn">{tr("库存不足，请减少数量或删除", "Not enough left: lower the amount or remove it")}</p> })}
                        </div>
                        <div class="line-side">
                            <Stepper quantity=i.quantity max=max on_change=Callback::new(move |q| set(id, q))/>
                            <p class="line-total">{i.line_total_fen.yuan()}</p>
                            <button class="link" on:click=move |_| set(id, 0)>{tr("删除", "Remove")}</button>
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
        <div class="checkout-bar">
            <span>{tr("合计", "Total")} " " <strong id="cart-total">{total.yuan()}</strong></span>
            <A href="/checkout" attr:id="go-checkout" attr:class="btn primary" attr:aria-disabled=problems.then_some("true")
                class:disabled=problems>{t(K::go_checkout)}</A>
        </div>
        <A href="/standing?from=cart" attr:id="to-make-standing" attr:class="btn secondary block">
            {tr("设为常购：定期自动送这些菜", "Have these delivered regularly")}
        </A>
    }
}

/// A day's tab: 12月7日, or Dec 7 in English.
pub(crate) fn day_label(day: &str) -> String {
    let month = day.get(5..7).and_then(|m| m.parse::<usize>().ok()).unwrap_or(0);
    let date = day.get(8..10).and_then(|d| d.parse::<u32>().ok()).unwrap_or(0);
    if crate::i18n::lang() == crate::i18n::Lang::Zh {
        return format!("{month}月{date}日");
    }
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{} {date}", MONTHS.get(month.wrapping_sub(1)).unwrap_or(&""))
}

#[component]
pub fn CheckoutPage() -> impl IntoView {
    view! {
        <h1>{tr("确认订单", "Confirm order")}</h1>
        <Guarded next="/checkout"><BindPhone/> <CheckoutForm/></Guarded>
    }
}

/// A resident who logged in with WeChat and has no phone on record binds the phone WeChat vouches
/// for (the mini-program's getPhoneNumber button; in the demo the simulator stands in for it, with
/// the phone typed here), so volunteers can reach them. A phone account that already has it
/// becomes theirs, with every order.
#[component]
fn BindPhone() -> impl IntoView {
    let session = use_session();
    let phone = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let bind = move |_| {
        let typed = phone.get_untracked();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = match api::demo_phone_code(typed.trim()).await {
                Ok(code) => api::bind_phone(&code).await,
                Err(f) => Err(f),
            };
            match result {
                Ok(login) => session.logged_in(&login.token, login.user),
                Err(f) => error.set(Some(f.text())),
            }
            busy.set(false);
        });
    };
    move || {
        session.user.get().filter(|u| u.phone.is_none()).map(|_| view! {
            <section class="card" id="bind-phone">
                <h2>{tr("绑定手机号", "Add your phone")}</h2>
                <p class="note">{tr("用微信授权绑定手机号，志愿者送菜时能联系到您；这个手机号以前的订单也会合并过来。", "WeChat gives us your phone so volunteers can reach you; orders made with that phone come along.")}</p>
                <input id="bind-phone-number" type="tel" inputmode="numeric" maxlength="11" placeholder=t(K::phone_placeholder)
                    prop:value=move || phone.get() on:input=move |ev| phone.set(event_target_value(&ev))/>
                {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <button id="bind-phone-button" class="btn wechat block" disabled=move || busy.get() on:click=bind>{tr("用微信授权绑定", "Use my WeChat phone")}</button>
            </section>
        })
    }
}

/// The next slot of `kind` with a place left and no order of the household's yet (`taken`):
/// chosen for the resident, who may choose another.
fn next_open<'a>(all: &'a [Slot], kind: SlotKind, places: impl Fn(&Slot) -> i64, taken: &[i64]) -> Option<&'a Slot> {
    all.iter().find(|s| s.kind == kind && !s.closed && places(s) > 0 && !taken.contains(&s.id.get()))
}

/// The slots the household's orders still hold.
fn taken_slots(orders: &List<OrderSummary>) -> Vec<i64> {
    orders
        .items
        .iter()
        .filter(|o| !matches!(o.status, OrderStatus::Cancelled | OrderStatus::Expired))
        .map(|o| o.slot_id.get())
        .collect()
}

#[component]
fn CheckoutForm() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let cart = Load::of(api::CART);
    let slots = Load::new(|| api::slots_path(None));
    let kind = RwSignal::new(SlotKind::Delivery);
    let day = RwSignal::new(None::<String>);
    let chosen = RwSignal::new(None::<i64>);
    let community = RwSignal::new(String::new());
    let building = RwSignal::new(String::new());
    let unit = RwSignal::new(String::new());
    let room = RwSignal::new(String::new());
    let payment = RwSignal::new(Payment::OnDelivery);
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // 自提点: collected at a point in a compound instead of at the door (delivery slots only).
    let to_point = RwSignal::new(false);
    let point = RwSignal::new(None::<i64>);
    let points = Load::when(move || (kind.get() == SlotKind::Delivery).then(|| api::points_path(chosen.get())));

    // Places go fast at 7 a.m.: refresh the slots so a full one is greyed out before anyone
    // tries it. The timer stops with the page.
    slots.every(10);

    // 再来一单 (`?again=1`): the cart refilled from the last order first.
    if use_query_map().get_untracked().get("again").is_some() {
        leptos::task::spawn_local(async move {
            match api::order_again().await {
                Ok(true) => cart.reload(),
                Ok(false) => error.set(Some(tr("还没有可以再来一单的订单", "No earlier order to repeat")().to_owned())),
                Err(f) => error.set(Some(f.text())),
            }
        });
    }

    // The household's address, when there is one.
    Effect::new(move || {
        if let Some(h) = session.user.get().and_then(|u| u.household) {
            if building.get_untracked().is_empty() {
                community.set(h.community);
                building.set(h.building);
                unit.set(h.unit);
                room.set(h.room);
            }
        }
    });
    let priority = move || session.user.get().and_then(|u| u.household).is_some_and(|h| h.is_priority());
    let places = move |s: &Slot| if priority() { s.priority_remaining } else { s.remaining };
    let mine = Load::new(|| format!("{}?limit=50", api::ORDERS));
    let taken = move || mine.value::<List<OrderSummary>>().map(|l| taken_slots(&l));
    // The next time with a place left is chosen for the resident, on its day.
    Effect::new(move || {
        let (Some(all), Some(taken)) = (slots.value::<List<Slot>>(), taken()) else { return };
        if chosen.get_untracked().is_none() {
            if let Some(s) = next_open(&all.items, kind.get_untracked(), places, &taken) {
                chosen.set(Some(s.id.get()));
                day.set(Some(day_and_time(&s.starts_at).0));
            }
        }
    });
    let choose_kind = move |k: SlotKind| {
        kind.set(k);
        let taken = taken().unwrap_or_default();
        let next = slots.value::<List<Slot>>().and_then(|l| next_open(&l.items, k, places, &taken).cloned());
        if let Some(s) = &next {
            day.set(Some(day_and_time(&s.starts_at).0));
        }
        chosen.set(next.map(|s| s.id.get()));
    };

    let submit = move |_| {
        error.set(None);
        let Some(slot_id) = chosen.get_untracked() else {
            error.set(Some(now(K::choose_slot_first).to_owned()));
            return;
        };
        let at_point =
            (kind.get_untracked() == SlotKind::Delivery && to_point.get_untracked()).then(|| point.get_untracked());
        if at_point == Some(None) {
            error.set(Some(tr("请选择自提点", "Choose a pickup point")().to_owned()));
            return;
        }
        let address = Address {
            building: building.get_untracked().trim().to_owned(),
            unit: unit.get_untracked().trim().to_owned(),
            room: room.get_untracked().trim().to_owned(),
            community: community_of(&community.get_untracked()),
        };
        // At a point the door is only the home on record, when given.
        let whole = !address.building.is_empty() && !address.unit.is_empty() && !address.room.is_empty();
        let address = (kind.get_untracked() == SlotKind::Delivery && (at_point.is_none() || whole)).then_some(address);
        let text = note.get_untracked();
        let body = CheckoutRequest {
            slot_id: shared::SlotId(slot_id),
            address,
            payment: payment.get_untracked(),
            note: (!text.trim().is_empty()).then_some(text),
            pickup_point_id: at_point.flatten(),
        };
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let key = api::new_idempotency_key();
            match api::checkout(&key, &body).await {
                Ok(order) => navigate(&format!("/orders/{}?placed=1", order.id), Default::default()),
                Err(f) => {
                    if matches!(f.code.as_str(), "slot_full" | "slot_closed" | "household_slot_taken") {
                        chosen.set(None);
                        slots.reload();
                        points.reload();
                    }
                    error.set(Some(f.text()));
                }
            }
            busy.set(false);
        });
    };

    view! {
        {cart.show(|c: Cart| if c.items.is_empty() {
            view! { <p class="empty">{tr("购物车是空的", "Your cart is empty")}</p> }.into_any()
        } else {
            view! {
                <div class="card summary">
                    <p>{c.items.iter().map(|i| format!("{} ×{}", i.name, i.quantity)).collect::<Vec<_>>().join("、")}</p>
                    <p>{tr("合计", "Total")} " " <strong>{c.total_fen.yuan()}</strong></p>
                </div>
            }.into_any()
        })}

        <div class="segmented" role="group" aria-label=tr("送货方式", "How it comes")>
            <button id="kind-delivery" aria-pressed=move || (kind.get() == SlotKind::Delivery).to_string()
                class:active=move || kind.get() == SlotKind::Delivery
                on:click=move |_| choose_kind(SlotKind::Delivery)>{tr("送货上门", "Home delivery")}</button>
            <button id="kind-pickup" aria-pressed=move || (kind.get() == SlotKind::Pickup).to_string()
                class:active=move || kind.get() == SlotKind::Pickup
                on:click=move |_| choose_kind(SlotKind::Pickup)>{tr("到店自提", "Pick up at the market")}</button>
        </div>

        <h2>{tr("选择时段", "Choose a time")}</h2>
        {slots.show_items(move |all: Vec<Slot>| {
                    let mut days: Vec<String> = all.iter().map(|s| day_and_time(&s.starts_at).0).collect();
                    days.dedup();
                    if day.get_untracked().is_none_or(|d| !days.contains(&d)) {
                        // The first day with a place left (late in the day, today's have closed).
                        let open = next_open(&all, kind.get_untracked(), places, &[]);
                        day.set(open.map(|s| day_and_time(&s.starts_at).0).or_else(|| days.first().cloned()));
                    }
                    let all = StoredValue::new(all);
                    view! {
                        <div class="day-tabs" role="group" aria-label=tr("日期", "Day")>
                            {days.into_iter().map(|d| {
                                let label = { let d = d.clone(); move || day_label(&d) };
                                let this = StoredValue::new(d.clone());
                                let on = move || day.get() == Some(this.get_value());
                                view! {
                                    <button class="day-tab" class:active=on aria-pressed=move || on().to_string()
                                        on:click=move |_| { day.set(Some(d.clone())); chosen.set(None); }>{label}</button>
                                }
                            }).collect_view()}
                        </div>
                        <div class="slot-list">
                            {move || {
                                let list: Vec<Slot> = all.get_value().into_iter()
                                    .filter(|s| s.kind == kind.get() && day.get().is_some_and(|d| day_and_time(&s.starts_at).0 == d))
                                    .collect();
                                if list.is_empty() {
                                    return view! { <p class="empty">{tr("这一天没有可选时段", "No times on this day")}</p> }.into_any();
                                }
                                list.into_iter().map(|s| {
                                    let left = places(&s);
                                    let disabled = s.closed || left <= 0;
                                    let id = s.id.get();
                                    let window = format!("{}–{}", day_and_time(&s.starts_at).1, day_and_time(&s.ends_at).1);
                                    view! {
                                        <button class="slot-option" data-id=id disabled=disabled
                                            class:selected=move || chosen.get() == Some(id)
                                            aria-pressed=move || (chosen.get() == Some(id)).to_string()
                                            on:click=move |_| chosen.set(Some(id))>
                                            <span class="slot-time">{window}</span>
                                            <span class="slot-left">
                                                {move || if s.closed { tr("已截止", "Closed")().to_owned() }
                                                    else if left <= 0 { tr("已约满", "Full")().to_owned() }
                                                    else { format!("{} {}", tr("剩", "left")(), left) }}
                                            </span>
                                        </button>
                                    }
                                }).collect_view().into_any()
                            }}
                        </div>
                    }
        })}

        <Show when=move || kind.get() == SlotKind::Delivery>
            {points.show_items(move |list: Vec<PickupPoint>| (!list.is_empty()).then(|| {
                let list = StoredValue::new(list);
                view! {
                    <h2>{tr("送到哪里", "Where to")}</h2>
                    <div class="segmented" role="group" aria-label=tr("送到哪里", "Where to")>
                        <button id="to-door" aria-pressed=move || (!to_point.get()).to_string() class:active=move || !to_point.get()
                            on:click=move |_| to_point.set(false)>{tr("送到家门口", "To my door")}</button>
                        <button id="to-point" aria-pressed=move || to_point.get().to_string() class:active=move || to_point.get()
                            on:click=move |_| to_point.set(true)>{tr("自提点取货", "Pickup point")}</button>
                    </div>
                    <Show when=move || to_point.get()>
                        <div class="slot-list" id="point-list">
                            {move || list.get_value().into_iter().map(|p| {
                                let id = p.id;
                                let full = p.remaining.is_some_and(|r| r <= 0);
                                view! {
                                    <button class="slot-option point-option" data-id=id disabled=full
                                        class:selected=move || point.get() == Some(id)
                                        aria-pressed=move || (point.get() == Some(id)).to_string()
                                        on:click=move |_| point.set(Some(id))>
                                        <span class="slot-time">"📍 " {p.name.clone()}</span>
                                        <span class="note">{p.address.clone()} " · " {p.opens.clone()} "–" {p.closes.clone()}</span>
                                        <span class="slot-left">{match p.remaining {
                                            Some(r) if r <= 0 => tr("已约满", "Full")().to_owned(),
                                            Some(r) => format!("{} {}", tr("剩", "left")(), r),
                                            None => String::new(),
                                        }}</span>
                                    </button>
                                }
                            }).collect_view()}
                        </div>
                    </Show>
                }
            }))}
            <h2>{move || if to_point.get() { tr("您家的地址（选填）", "Your home address (optional)")() } else { tr("送货地址", "Delivery address")() }}</h2>
            <div class="address-row">
                <input id="community" class="community" aria-label=tr("小区", "Community") maxlength="40" placeholder=COMMUNITY
                    prop:value=move || community.get() on:input=move |ev| community.set(event_target_value(&ev))/>
                <input id="building" aria-label=tr("楼号", "Building") inputmode="numeric" maxlength="4" prop:value=move || building.get()
                    on:input=move |ev| building.set(event_target_value(&ev))/>
                <span>{t(K::building)}</span>
                <input id="unit" aria-label=tr("单元", "Unit") inputmode="numeric" maxlength="4" prop:value=move || unit.get()
                    on:input=move |ev| unit.set(event_target_value(&ev))/>
                <span>{t(K::unit)}</span>
                <input id="room" aria-label=tr("房号", "Room") inputmode="numeric" maxlength="6" prop:value=move || room.get()
                    on:input=move |ev| room.set(event_target_value(&ev))/>
                <span>{t(K::room)}</span>
            </div>
        </Show>

        <h2>{tr("付款方式", "Payment")}</h2>
        <div class="segmented" role="group" aria-label=tr("付款方式", "Payment")>
            <button class:active=move || payment.get() == Payment::OnDelivery on:click=move |_| payment.set(Payment::OnDelivery)
                aria-pressed=move || (payment.get() == Payment::OnDelivery).to_string()>
                {tr("货到付款", "Pay on delivery")}
            </button>
            <button class:active=move || payment.get() == Payment::Wechat on:click=move |_| payment.set(Payment::Wechat)
                aria-pressed=move || (payment.get() == Payment::Wechat).to_string()>
                {tr("微信支付", "WeChat Pay")}
            </button>
        </div>
        <label class="block-label" for="note">{tr("备注（选填）", "Note (optional)")}</label>
        <textarea id="note" maxlength="200" placeholder=tr("如：放门口，不用敲门", "e.g. leave at the door") prop:value=move || note.get()
            on:input=move |ev| note.set(event_target_value(&ev))></textarea>
        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        <button id="place-order" class="btn primary block" disabled=move || busy.get() on:click=submit>
            {move || if busy.get() { tr("正在提交…", "Placing…")() } else { tr("提交订单", "Place order")() }}
        </button>
    }
}
