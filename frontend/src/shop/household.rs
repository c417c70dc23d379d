//! 家人: a member invites family by phone (they are members at once), and sees the residents
//! who gave this household's address and wait to be let in (phone masked), letting them in or
//! turning them down; until then the household's flags, orders and shares are not theirs.

use crate::api;
use crate::components::Load;
use crate::i18n::tr;
use leptos::prelude::*;
use shared::api::{HouseholdRequest, Invited};

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
    let invited = Load::new(|| api::HOUSEHOLD_INVITES.to_owned());
    let phone = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    // Whether an invite just went: the words are chosen as the page shows them, so they follow
    // a change of language.
    let said = RwSignal::new(false);
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(number) = shared::Phone::parse(phone.get_untracked().trim()) else {
            error.set(Some(tr("请填写11位手机号", "Enter an 11-digit mobile number")().to_owned()));
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::invite(number).await {
                Ok(_) => {
                    error.set(None);
                    phone.set(String::new());
                    said.set(true);
                    invited.reload();
                    requests.reload();
                }
                Err(f) => error.set(Some(f.text())),
            }
            busy.set(false);
        });
    };
    view! {
        <h1>{tr("家人", "Family")}</h1>
        <section class="card invite">
            <h2>{tr("邀请家人", "Invite family")}</h2>
            <p class="note">{tr("填写家人的手机号，对方登录后直接成为本户成员，不用再等确认。", "Enter a family member's mobile number: once they log in they are a member, with no wait.")}</p>
            <form on:submit=invite novalidate>
                <label for="invite-phone">{tr("家人手机号", "Their mobile number")}</label>
                <input id="invite-phone" type="tel" inputmode="numeric" autocomplete="off" maxlength="11"
                    prop:value=move || phone.get()
                    on:input=move |ev| phone.set(event_target_value(&ev)) />
                <button id="invite" type="submit" class="btn primary" disabled=move || busy.get()>
                    {move || if busy.get() { tr("正在邀请…", "Inviting…")() } else { tr("邀请", "Invite")() }}
                </button>
            </form>
            {move || said.get().then(|| view! { <p class="ok" role="status">{tr(
                "已邀请：对方登录并填写本户地址后即为家人",
                "Invited: they join once they log in and give this address",
            )}</p> })}
            {invited.show(move |i: Invited| if i.phones.is_empty() {
                view! { <p class="empty">{tr("还没有邀请", "No one invited yet")}</p> }.into_any()
            } else {
                view! {
                    <ul class="invited">
                        {i.phones.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </section>
        <h2>{tr("家人申请", "Join requests")}</h2>
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
