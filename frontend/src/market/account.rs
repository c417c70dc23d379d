//! "Me": the account, the home address, the language, the way to the workers' pages.

use crate::api;
use crate::components::{Guarded, COMMUNITY};
use crate::i18n::{self, t, Lang, K};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};
use shared::api::Membership;
use shared::Role;

fn role_label(role: Role) -> K {
    match role {
        Role::Resident => K::role_resident,
        Role::Volunteer => K::role_volunteer,
        Role::Vendor => K::role_vendor,
        Role::Staff => K::role_staff,
        Role::Leader => K::role_leader,
    }
}

#[component]
pub fn MePage() -> impl IntoView {
    view! {
        <h1>{t(K::my_account)}</h1>
        <Guarded next="/me"><Account/></Guarded>
        <div class="card">
            <h2>{t(K::language)}</h2>
            <div class="lang-choice">
                <button class="btn secondary" on:click=move |_| i18n::set_lang(Lang::Zh)>"中文"</button>
                <button class="btn secondary" on:click=move |_| i18n::set_lang(Lang::En)>"English"</button>
            </div>
        </div>
    }
}

/// The logged-in user: name, phone, roles, home, the way to the staff pages, logging out.
#[component]
fn Account() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let logout = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let _ = api::logout().await;
            session.logged_out();
            navigate("/", Default::default());
        });
    };
    move || {
        let Some(user) = session.user.get() else { return ().into_any() };
        let phone = user.phone.as_ref().map(shared::Phone::masked);
        view! {
            <div class="card" id="account">
                <p class="account-name">{user.display_name.clone().unwrap_or_default()}</p>
                <p class="account-phone">{phone.unwrap_or_else(|| "WeChat".to_owned())}</p>
                <p>
                    {t(K::roles)} ": "
                    {user.roles.iter().map(|r| view! { <span class="badge">{t(role_label(*r))}</span> }).collect_view()}
                </p>
            </div>
            <div class="card">
                <h2>{t(K::household)}</h2>
                {match user.household.clone() {
                    Some(h) => view! {
                        <p class="address">
                            {h.community.clone()} " " {h.building.clone()} {t(K::building)} " "
                            {h.unit.clone()} {t(K::unit)} " " {h.room.clone()} {t(K::room)}
                        </p>
                        <p>
                            {h.quarantined.unwrap_or(false).then(|| view! { <span class="badge warn">{t(K::quarantined)}</span> })}
                            {h.hardship.unwrap_or(false).then(|| view! { <span class="badge">{t(K::hardship)}</span> })}
                            {h.elderly.unwrap_or(false).then(|| view! { <span class="badge">{t(K::elderly)}</span> })}
                        </p>
                        {match h.membership {
                            Some(Membership::Pending) => view! {
                                <p class="note" id="membership-pending" role="status">{i18n::tr("等待本户家人或工作人员确认。确认前可以送货到这个门口，但看不到本户的订单、团购和标记。", "Waiting for a member of this household or staff to let you in. Until then goods come to this door, but the household's orders, group-buys and flags are not shown.")}</p>
                            }.into_any(),
                            _ => view! { <A href="/household"><span class="btn secondary" id="household-requests">{i18n::tr("家人申请", "Join requests")}</span></A> }.into_any(),
                        }}
                    }.into_any(),
                    None => view! { <p>{t(K::no_household)}</p> }.into_any(),
                }}
                <AddressForm/>
            </div>
            {user.has_role(Role::Staff).then(|| view! {
                <A href="/staff"><span class="btn primary block">{t(K::staff_page)}</span></A>
            })}
            {user.has_role(Role::Volunteer).then(|| view! {
                <A href="/volunteer"><span class="btn primary block" id="volunteer-link">{t(K::deliveries)}</span></A>
            })}
            {user.has_role(Role::Vendor).then(|| view! {
                <A href="/vendor"><span class="btn primary block" id="vendor-link">{t(K::stall_orders)}</span></A>
            })}
            <button id="logout" class="btn secondary block" on:click=logout.clone()>{t(K::logout)}</button>
        }
        .into_any()
    }
}

/// Sets the resident's home (building, unit, room in 七里山小区).
#[component]
fn AddressForm() -> impl IntoView {
    let session = use_session();
    let open = RwSignal::new(false);
    let building = RwSignal::new(String::new());
    let unit = RwSignal::new(String::new());
    let room = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let save = move |_| {
        let address = shared::api::Address {
            building: building.get_untracked().trim().to_owned(),
            unit: unit.get_untracked().trim().to_owned(),
            room: room.get_untracked().trim().to_owned(),
        };
        leptos::task::spawn_local(async move {
            match api::set_household(&address).await {
                Ok(user) => {
                    session.user.set(Some(user));
                    open.set(false);
                    message.set(Some((true, i18n::now(K::saved).to_owned())));
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
        });
    };
    view! {
        {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:added=ok role="status">{m}</p> })}
        {move || if open.get() {
            view! {
                <div class="address-row">
                    <label>{COMMUNITY}</label>
                    <input id="home-building" inputmode="numeric" maxlength="4" prop:value=move || building.get() on:input=move |ev| building.set(event_target_value(&ev))/>
                    <span>{t(K::building)}</span>
                    <input id="home-unit" inputmode="numeric" maxlength="4" prop:value=move || unit.get() on:input=move |ev| unit.set(event_target_value(&ev))/>
                    <span>{t(K::unit)}</span>
                    <input id="home-room" inputmode="numeric" maxlength="6" prop:value=move || room.get() on:input=move |ev| room.set(event_target_value(&ev))/>
                    <span>{t(K::room)}</span>
                </div>
                <button id="save-address" class="btn primary block" on:click=save>{t(K::save)}</button>
            }.into_any()
        } else {
            view! { <button class="btn secondary" on:click=move |_| open.set(true)>{t(K::edit_address)}</button> }.into_any()
        }}
    }
}
