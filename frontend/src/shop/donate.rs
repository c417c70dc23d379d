//! 爱心捐助: the pool at a glance, a gift of money or 菜盒子 paid with WeChat Pay, and the
//! giver's own gifts with what each became (how many households' boxes it paid for).

use super::orders::{PayButton, PayFor};
use crate::api::{self, ProductFilter};
use crate::components::{Guarded, Load, Stepper};
use crate::i18n::{t, tr, K};
use leptos::prelude::*;
use shared::api::{Gift, GiveRequest, PoolSummary, Product};

const PRESETS: [i64; 4] = [20, 50, 100, 200];

#[component]
pub fn DonatePage() -> impl IntoView {
    let pool = Load::of(api::POOL);
    view! {
        <h1>"❤️ " {t(K::donate)}</h1>
        <p class="note">{tr("为隔离和困难家庭捐菜：捐款或菜盒子进入爱心池，工作人员用它为这些家庭的订单付款。受助家庭不会知道是谁捐的。", "Money and veg boxes go to the pool; staff use it to pay quarantined and hardship households' orders. They are not told who gave.")}</p>
        {pool.show(|p: PoolSummary| view! {
            <div class="card pool-summary" id="pool-summary">
                <p>{tr("爱心池余额", "In the pool")} " " <strong class="code" id="pool-balance">{p.balance_fen.yuan()}</strong></p>
                <p>{tr("已帮助家庭", "Households helped")} " " <strong id="households-helped">{p.households_helped}</strong></p>
            </div>
        })}
        <Guarded next="/donate"><GiveForm pool=pool/></Guarded>
    }
}

#[component]
fn GiveForm(pool: Load) -> impl IntoView {
    let mine = Load::of(api::MY_GIFTS);
    let boxes = Load::new(|| api::products_path(&ProductFilter { category: Some("box".into()), ..Default::default() }));
    let by_box = RwSignal::new(false);
    let yuan = RwSignal::new(50i64);
    let box_id = RwSignal::new(None::<i64>);
    let count = RwSignal::new(1i64);
    let gift = RwSignal::new(None::<Gift>);
    let thanks = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let give = move |_| {
        let body = if by_box.get_untracked() {
            GiveRequest {
                boxes: Some(count.get_untracked()),
                product_id: box_id.get_untracked().map(shared::ProductId),
                ..Default::default()
            }
        } else {
            GiveRequest { amount_fen: Some(yuan.get_untracked() * 100), ..Default::default() }
        };
        busy.set(true);
        error.set(None);
        thanks.set(false);
        leptos::task::spawn_local(async move {
            match api::give(&body).await {
                Ok(g) => gift.set(Some(g)),
                Err(f) => error.set(Some(f.text())),
            }
            busy.set(false);
        });
    };
    let paid = Callback::new(move |_| {
        gift.set(None);
        thanks.set(true);
        pool.reload();
        mine.reload();
    });
    view! {
        {move || thanks.get().then(|| view! { <div class="banner success" id="gift-thanks" role="status">"✓ " {tr("谢谢！您的捐助已进入爱心池", "Thank you: your gift is in the pool")}</div> })}
        {move || match gift.get() {
            Some(g) => view! {
                <div class="card center" id="gift-to-pay">
                    <p>{t(K::donate)} " " <strong>{g.amount_fen.yuan()}</strong></p>
                    <PayButton what=PayFor::Gift(g.id) total=g.amount_fen on_paid=paid/>
                </div>
            }.into_any(),
            None => view! {
                <div class="card">
                    <div class="segmented">
                        <button id="give-money" class:active=move || !by_box.get() on:click=move |_| by_box.set(false)>{tr("捐款", "Money")}</button>
                        <button id="give-boxes" class:active=move || by_box.get() on:click=move |_| by_box.set(true)>{tr("捐菜盒子", "Veg boxes")}</button>
                    </div>
                    <Show when=move || !by_box.get()>
                        <div class="segmented presets">
                            {PRESETS.into_iter().map(|y| view! {
                                <button class:active=move || yuan.get() == y data-yuan=y on:click=move |_| yuan.set(y)>"¥" {y}</button>
                            }).collect_view()}
                        </div>
                    </Show>
                    <Show when=move || by_box.get()>
                        {boxes.show_items(move |items: Vec<Product>| {
                            if box_id.get_untracked().is_none() {
                                box_id.set(items.first().map(|p| p.id.get()));
                            }
                            view! {
                                <ul class="box-items">
                                    {items.into_iter().map(|p| {
                                        let id = p.id.get();
                                        view! {
                                            <li><label class="box-choice">
                                                <input type="radio" name="box" prop:checked=move || box_id.get() == Some(id) on:change=move |_| box_id.set(Some(id))/>
                                                <span>{p.name} " " {p.price_fen.yuan()}</span>
                                            </label></li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }
                        })}
                        <Stepper quantity=count.get_untracked() max=50 id="box-count" on_change=Callback::new(move |n| count.set(n))/>
                    </Show>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    <button id="give" class="btn primary block" disabled=move || busy.get() on:click=give>{tr("去捐助", "Give")}</button>
                </div>
            }.into_any(),
        }}
        {mine.show_items(|list: Vec<Gift>| (!list.is_empty()).then(|| view! {
            <section class="card" id="my-gifts">
                <h2>{tr("我的捐助", "My gifts")}</h2>
                <ul class="box-items">
                    {list.into_iter().map(|g| view! {
                        <li class="gift" data-status=g.status.clone()>
                            <span>{g.amount_fen.yuan()}
                                {(g.boxes > 0).then(|| format!(" · {} × {}", g.product_name.clone().unwrap_or_default(), g.boxes))}
                                <br/><small class="note">{g.created_at.get(5..16).unwrap_or_default().replace('T', " ")}</small></span>
                            <span>{if g.status == "received" {
                                view! { <span class="gift-helped">{tr("已送到家庭", "Delivered to households")} " " <strong>{g.boxes_delivered}</strong></span> }.into_any()
                            } else {
                                view! { <span class="badge">{t(K::st_pending_payment)}</span> }.into_any()
                            }}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        }))}
    }
}
