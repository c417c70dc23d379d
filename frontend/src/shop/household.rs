//! 家人申请: residents who gave this household's address and wait to be let in. A member sees
//! who asks (phone masked) and lets them in or turns them down; until then the household's
//! flags, orders and shares are not theirs to see.

use crate::api;
use crate::components::Load;
use crate::i18n::tr;
use leptos::prelude::*;
use shared::api::HouseholdRequest;

#[component]
pub fn HouseholdPage() -> impl IntoView {
    let requests = Load::new(|| api::HOUSEHOLD_REQUESTS.to_owned());
    let error = RwSignal::new(None::<String>);
    let answer = move |id: i64, approve: bool| {
        leptos::task::spawn_local(async move {
            match api::answer_request(id, approve).await {
                Ok(()) => {
                    error.set(None);
                    requests.reload();
                }
                Err(f) => error.set(Some(f.text())),
            }
        });
    };
    view! {
        <h1>{tr("家人申请", "Join requests")}</h1>
        <p class="note">{tr("这些居民填写了您家的地址。确认是家人后再同意：同意后他们能看到本户的订单、团购和标记。", "These residents gave your home's address. Let them in only if they live with you: they will see the household's orders, group-buys and flags.")}</p>
        {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        {requests.show_items(move |items: Vec<HouseholdRequest>| if items.is_empty() {
            view! { <p class="empty" id="no-requests">{tr("没有待确认的申请", "No one is waiting")}</p> }.into_any()
        } else {
            view! {
                <ul class="requests">
                    {items.into_iter().map(|r| view! {
                        <li class="card request" data-request=r.id>
                            <p><strong>{r.phone.clone().unwrap_or_default()}</strong></p>
                            <button class="btn primary" on:click=move |_| answer(r.id, true)>{tr("同意加入", "Let in")}</button>
                            <button class="btn secondary" on:click=move |_| answer(r.id, false)>{tr("拒绝", "Turn down")}</button>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        })}
    }
}
