//! 多市场 (many markets): the markets of this deployment, and opening one with its first staff
//! member (`/staff/markets`; the first market's staff only, the server says so to anyone else).

use crate::api;
use crate::components::{Guarded, Load};
use crate::i18n::tr;
use leptos::prelude::*;
use shared::api::{Market, NewMarket};
use shared::Role;

#[component]
pub fn MarketsPage() -> impl IntoView {
    view! {
        <h1>{tr("市场", "Markets")}</h1>
        <Guarded next="/staff/markets" role=Role::Staff><MarketsAdmin/></Guarded>
    }
}

#[component]
fn MarketsAdmin() -> impl IntoView {
    let markets = Load::of(api::MARKETS);
    let message = RwSignal::new(None::<(bool, String)>);
    let name = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let open = move |_| {
        let body = NewMarket { name: name.get_untracked(), staff_phone: phone.get_untracked() };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::open_market(&body).await {
                Ok(m) => {
                    message.set(Some((true, format!("{} {}", tr("已开设", "Opened")(), m.name))));
                    name.set(String::new());
                    phone.set(String::new());
                    markets.reload();
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
            busy.set(false);
        });
    };
    view! {
        <p class="note">{tr("一个系统可以服务几个市场：每个市场有自己的楼栋、摊位、商品、时段、自提点和工作人员，互不相混；居民在自己住址所属的市场买菜。新市场由总市场（第一个市场）的工作人员开设，并指定它的第一位工作人员，由他在 /staff 设置楼栋、摊位和时段。", "One deployment may serve several markets: each has its own buildings, stalls, goods, slots, pickup points and staff, never mixed; residents shop in the market of their address. The first market's staff open a new one and name its first staff member, who sets up its buildings, stalls and slots at /staff.")}</p>
        {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:banner=ok class:success=ok role="status" id="markets-message">{m}</p> })}
        {markets.show_items(move |list: Vec<Market>| view! {
            <ul class="points" id="markets">
                {list.into_iter().map(|m| view! {
                    <li class="card market" data-market=m.id.get()><h2>{m.name}</h2></li>
                }).collect_view()}
            </ul>
        })}
        <div class="card" id="open-market">
            <h2>{tr("开设新市场", "Open a market")}</h2>
            <div class="form-grid">
                <label>{tr("市场名称", "Name")}<input id="market-name" maxlength="40" placeholder="翠苑市场" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></label>
                <label>{tr("第一位工作人员的手机号", "Its first staff member's phone")}<input id="market-staff" type="tel" inputmode="numeric" maxlength="11" prop:value=move || phone.get() on:input=move |ev| phone.set(event_target_value(&ev))/></label>
            </div>
            <button id="market-open" class="btn primary block" disabled=move || busy.get() on:click=open>{tr("开设", "Open it")}</button>
        </div>
    }
}
