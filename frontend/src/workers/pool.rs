//! The donation pool for staff (爱心池): the balance, an organisation's gift recorded, quarantined
//! and hardship households' orders waiting for help paid from the pool (a second press
//! confirms), and the ledger with its spreadsheet.

use crate::api;
use crate::components::{Guarded, Load};
use crate::i18n::{t, tr, K};
use leptos::prelude::*;
use shared::api::{Ledger, PoolNeed, RecordGift};
use shared::Role;

#[component]
pub fn PoolPage() -> impl IntoView {
    view! {
        <h1>"❤️ " {t(K::donate)}</h1>
        <Guarded next="/staff/donations" role=Role::Staff><PoolAdmin/></Guarded>
    }
}

#[component]
fn PoolAdmin() -> impl IntoView {
    let ledger = Load::of(api::POOL_LEDGER);
    let needs = Load::of(api::POOL_NEEDS).every(60);
    let message = RwSignal::new(None::<(bool, String)>);
    let changed = move || {
        ledger.reload();
        needs.reload();
    };
    view! {
        {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:added=ok role="status" id="pool-message">{m}</p> })}
        {ledger.show(|l: Ledger| view! {
            <div class="card pool-summary"><p>{tr("爱心池余额", "In the pool")} " " <strong class="code" id="pool-balance">{l.balance_fen.yuan()}</strong></p></div>
        })}
        <Needs needs=needs message=message on_paid=Callback::new(move |_| changed())/>
        <GiftBoxForm message=message on_sent=Callback::new(move |_| changed())/>
        <RecordForm message=message on_recorded=Callback::new(move |_| changed())/>
        <LedgerList ledger=ledger message=message/>
    }
}

/// 送爱心菜盒: a 菜盒子 paid by the pool for a quarantined or hardship household that ordered
/// nothing, found by its door; it goes in the next delivery slot that still takes orders.
#[component]
fn GiftBoxForm(message: RwSignal<Option<(bool, String)>>, on_sent: Callback<()>) -> impl IntoView {
    let (building, unit, room) =
        (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let busy = RwSignal::new(false);
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let sent =
                api::send_gift_box(&building.get_untracked(), &unit.get_untracked(), &room.get_untracked()).await;
            match sent {
                Ok(order) => {
                    message.set(Some((
                        true,
                        format!("✓ {} {} · {}", crate::i18n::now(K::order_no), order.id, order.total_fen.yuan()),
                    )));
                    on_sent.run(());
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
            busy.set(false);
        });
    };
    let field = |id: &'static str, label: fn() -> &'static str, value: RwSignal<String>| {
        view! {
            <label for=id>{label}</label>
            <input id=id inputmode="numeric" maxlength="10" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
        }
    };
    view! {
        <section class="card gift-box">
            <h2>{tr("送爱心菜盒", "Send a gift box")}</h2>
            <p class="note">{tr("给隔离或困难家庭送一盒菜，爱心池付款，下一个送货时段送到。", "A box for a quarantined or hardship household, paid by the pool, in the next delivery slot.")}</p>
            <form class="form-grid" on:submit=send novalidate>
                {field("gift-building", || crate::i18n::now(K::building), building)}
                {field("gift-unit", || crate::i18n::now(K::unit), unit)}
                {field("gift-room", || crate::i18n::now(K::room), room)}
                <button id="send-gift-box" type="submit" class="btn primary" disabled=move || busy.get()>{tr("送一盒", "Send one")}</button>
            </form>
        </section>
    }
}

#[component]
fn Needs(needs: Load, message: RwSignal<Option<(bool, String)>>, on_paid: Callback<()>) -> impl IntoView {
    // The order whose button was pressed once: the second press pays.
    let armed = RwSignal::new(None::<i64>);
    let pay = move |order_id: i64| {
        if armed.get_untracked() != Some(order_id) {
            armed.set(Some(order_id));
            return;
        }
        armed.set(None);
        leptos::task::spawn_local(async move {
            match api::allocate(order_id).await {
                Ok(a) => {
                    message.set(Some((
                        true,
                        format!("✓ {} {} · {}", crate::i18n::now(K::order_no), a.order_id, a.amount_fen.yuan()),
                    )));
                    on_paid.run(());
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
        });
    };
    view! {
        <section class="card" id="pool-needs">
            <h2>{tr("等待帮助的订单", "Orders waiting for help")}</h2>
            {needs.show_items(move |list: Vec<PoolNeed>| view! {
                {list.is_empty().then(|| view! { <p class="note" id="no-needs">{tr("现在没有等待帮助的订单", "No orders are waiting for help")}</p> })}
                <ul class="households">
                    {list.into_iter().map(|n| {
                        let id = n.order_id.get();
                        view! {
                            <li class="need" data-order=id>
                                <span>{t(K::order_no)} " " {id}
                                    <br/><small>{n.address.clone()}</small></span>
                                <span>{n.quarantined.then(|| view! { <span class="badge warn">{t(K::quarantined)}</span> })}
                                    {n.hardship.then(|| view! { <span class="badge">{t(K::hardship)}</span> })}</span>
                                <button class="btn primary" class:armed=move || armed.get() == Some(id) on:click=move |_| pay(id)>
                                    {move || if armed.get() == Some(id) { tr("再按一次确认", "Press again to confirm")() } else { tr("用爱心池支付", "Pay from the pool")() }} " " {n.total_fen.yuan()}
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

#[component]
fn RecordForm(message: RwSignal<Option<(bool, String)>>, on_recorded: Callback<()>) -> impl IntoView {
    let donor = RwSignal::new(String::new());
    let amount = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let record = move |_| {
        let fen = shared::domain::fen_of_yuan(&amount.get_untracked());
        let body = RecordGift {
            donor_name: donor.get_untracked(),
            amount_fen: Some(fen.unwrap_or(-1)),
            note: Some(note.get_untracked()),
            ..Default::default()
        };
        leptos::task::spawn_local(async move {
            match api::record_gift(&body).await {
                Ok(g) => {
                    message.set(Some((true, format!("✓ {} {}", crate::i18n::now(K::saved), g.amount_fen.yuan()))));
                    donor.set(String::new());
                    amount.set(String::new());
                    note.set(String::new());
                    on_recorded.run(());
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
        });
    };
    view! {
        <section class="card" id="record-gift">
            <h2>{tr("登记单位捐助", "Record an organisation's gift")}</h2>
            <div class="form-grid one-column">
                <label>{tr("捐助单位", "Donor")}<input id="gift-donor" maxlength="60" prop:value=move || donor.get() on:input=move |ev| donor.set(event_target_value(&ev))/></label>
                <label>{tr("金额（元）", "Amount (¥)")}<input id="gift-amount" inputmode="decimal" prop:value=move || amount.get() on:input=move |ev| amount.set(event_target_value(&ev))/></label>
                <label>{tr("备注（选填）", "Note (optional)")}<input id="gift-note" maxlength="200" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))/></label>
            </div>
            <button class="btn primary block" id="record-gift-save" on:click=record>{t(K::save)}</button>
        </section>
    }
}

#[component]
fn LedgerList(ledger: Load, message: RwSignal<Option<(bool, String)>>) -> impl IntoView {
    let download = move |_| {
        leptos::task::spawn_local(async move {
            if let Err(f) = api::download_csv("/api/v1/admin/donations/ledger.csv".to_owned(), "爱心池收支.csv").await
            {
                message.set(Some((false, f.text())));
            }
        });
    };
    view! {
        <section class="card" id="pool-ledger">
            <h2>{tr("收支明细", "Ledger")}</h2>
            {ledger.show(|l: Ledger| view! {
                <ul class="households">
                    {l.entries.into_iter().rev().take(100).map(|e| view! {
                        <li class="ledger-entry" data-kind=e.kind.clone()>
                            <span>{e.at.get(5..16).unwrap_or_default().replace('T', " ")}<br/>
                                <small>{e.donor.clone().or(e.household.clone()).unwrap_or_default()}</small></span>
                            <span class=if e.amount_fen < 0 { "note warn" } else { "note" }>
                                {if e.amount_fen < 0 { "−" } else { "+" }} {shared::Fen::stored(e.amount_fen.abs()).yuan()}</span>
                            <span>{e.balance_fen.yuan()}</span>
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <button class="btn secondary block" id="ledger-csv" on:click=download>"⬇ " {tr("导出收支明细 (CSV)", "Download the ledger (CSV)")}</button>
        </section>
    }
}
