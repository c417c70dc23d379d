//! 住址和家人: the resident's home address (set or changed); a member invites family by phone (they are members at once), and sees the residents
//! who gave this household's address and wait to be let in (phone masked), letting them in or
//! turning them down; until then the household's flags, orders and shares are not theirs.

use crate::api;
use crate::components::{community_of, Guarded, Load, COMMUNITY};
use crate::i18n::{now, t, tr, K};
use crate::session::use_session;
use leptos::prelude::*;
use shared::api::{HouseholdRequest, Invited, Membership};

#[component]
pub fn HouseholdPage() -> impl IntoView {
    let session = use_session();
    let member = Memo::new(move |_| {
        session.user.get().and_then(|u| u.household).is_some_and(|h| h.membership != Some(Membership::Pending))
    });
    view! {
        <h1>{tr("住址和家人", "Address and family")}</h1>
        <Guarded next="/household">
            <AddressForm/>
            <SmsChoice/>
            <Show when=move || member.get()><Family/></Show>
        </Guarded>
    }
}

/// Notices by SMS, for a resident without WeChat: what happens to their orders comes as a
/// text message to their phone (when WeChat cannot bring it).
#[component]
fn SmsChoice() -> impl IntoView {
    let chosen = Load::of(api::SMS_NOTICES);
    let error = RwSignal::new(None::<String>);
    let set = move |on: bool| {
        leptos::task::spawn_local(async move {
            match api::choose_sms(on).await {
                Ok(_) => {
                    error.set(None);
                    chosen.reload();
                }
                Err(f) => error.set(Some(f.text())),
            }
        });
    };
    view! {
        <section class="card sms-choice">
            <h2>{tr("短信通知", "Notices by SMS")}</h2>
            <p class="note">{tr("没有微信？订单的消息（已确认、配送中、已送达、常购下单）用短信发到您的手机。", "No WeChat? News of your orders (confirmed, on its way, delivered, standing orders) comes as a text message to your phone.")}</p>
            {chosen.show(move |c: shared::api::SmsNotices| view! {
                <button id="sms-notices" class="btn secondary block" role="switch" aria-checked=c.on.to_string()
                    on:click=move |_| set(!c.on)>
                    {if c.on { tr("短信通知：已开启（点击关闭）", "SMS notices: on (tap to turn off)") } else { tr("短信通知：已关闭（点击开启）", "SMS notices: off (tap to turn on)") }}
                </button>
            })}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        </section>
    }
}

/// A member's family: invites by phone and the requests to join.
#[component]
fn Family() -> impl IntoView {
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

/// Sets the resident's home (community, building, unit, room); the household's own address
/// filled in to start from.
#[component]
fn AddressForm() -> impl IntoView {
    let session = use_session();
    let home = session.user.get_untracked().and_then(|u| u.household);
    let community = RwSignal::new(home.as_ref().map(|h| h.community.clone()).unwrap_or_default());
    let building = RwSignal::new(home.as_ref().map(|h| h.building.clone()).unwrap_or_default());
    let unit = RwSignal::new(home.as_ref().map(|h| h.unit.clone()).unwrap_or_default());
    let room = RwSignal::new(home.map(|h| h.room).unwrap_or_default());
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let save = move |_| {
        let address = shared::api::Address {
            building: building.get_untracked().trim().to_owned(),
            unit: unit.get_untracked().trim().to_owned(),
            room: room.get_untracked().trim().to_owned(),
            community: community_of(&community.get_untracked()),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::set_household(&address).await {
                Ok(user) => {
                    session.user.set(Some(user));
                    message.set(Some((true, now(K::saved).to_owned())));
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card">
            <h2>{t(K::household)}</h2>
            <div class="address-row">
                <input id="home-community" class="community" aria-label=tr("小区", "Community") maxlength="40" placeholder=COMMUNITY
                    prop:value=move || community.get() on:input=move |ev| community.set(event_target_value(&ev))/>
                <input id="home-building" aria-label=tr("楼号", "Building") inputmode="numeric" maxlength="4" prop:value=move || building.get() on:input=move |ev| building.set(event_target_value(&ev))/>
                <span>{t(K::building)}</span>
                <input id="home-unit" aria-label=tr("单元", "Unit") inputmode="numeric" maxlength="4" prop:value=move || unit.get() on:input=move |ev| unit.set(event_target_value(&ev))/>
                <span>{t(K::unit)}</span>
                <input id="home-room" aria-label=tr("房号", "Room") inputmode="numeric" maxlength="6" prop:value=move || room.get() on:input=move |ev| room.set(event_target_value(&ev))/>
                <span>{t(K::room)}</span>
            </div>
            {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:added=ok role="status">{m}</p> })}
            <button id="save-address" class="btn primary block" disabled=move || busy.get() on:click=save>{t(K::save)}</button>
        </section>
    }
}
