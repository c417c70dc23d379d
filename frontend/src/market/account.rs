//! "Me": the account, the home address, the language, the way to the workers' pages.

use crate::api;
use crate::components::Guarded;
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
        Role::Producer => K::role_producer,
    }
}

#[component]
pub fn MePage() -> impl IntoView {
    view! {
        <h1>{t(K::my_account)}</h1>
        <Guarded next="/me"><Account/></Guarded>
        <CareSwitch/>
        <div class="card">
            <h2>{t(K::language)}</h2>
            <div class="lang-choice">
                <button class="btn secondary" on:click=move |_| i18n::set_lang(Lang::Zh)>"中文"</button>
                <button class="btn secondary" on:click=move |_| i18n::set_lang(Lang::En)>"English"</button>
            </div>
        </div>
    }
}

/// 长辈模式: big text and big buttons on this device. The switch is a link to `?care=1` (or 0)
/// that reloads the page, whose boot script turns it on or off and remembers it.
#[component]
pub fn CareSwitch() -> impl IntoView {
    let on = crate::storage::care();
    view! {
        <div class="card care-card">
            <h2 id="care-title">{i18n::tr("长辈模式", "Care mode")}</h2>
            <p class="note">{i18n::tr("字更大、按钮更大，首页只留最常用的。", "Bigger text and buttons; the home page keeps only what is used most.")}</p>
            <a id="care-switch" rel="external" href=if on { "/me?care=0" } else { "/me?care=1" } class="btn block" class:secondary=!on
                role="switch" aria-labelledby="care-title" aria-checked=on.to_string()>
                {if on { i18n::tr("已开启 · 点此关闭", "On · tap to turn off") } else { i18n::tr("点此开启", "Tap to turn on") }}
            </a>
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
                        {(h.membership == Some(Membership::Pending)).then(|| view! {
                            <p class="note" id="membership-pending" role="status">{i18n::tr("等待本户家人或工作人员确认。确认前可以送货到这个门口，但看不到本户的订单、团购和标记。", "Waiting for a member of this household or staff to let you in. Until then goods come to this door, but the household's orders, group-buys and flags are not shown.")}</p>
                        })}
                    }.into_any(),
                    None => view! { <p>{t(K::no_household)}</p> }.into_any(),
                }}
                <A href="/household" attr:class="btn secondary" attr:id="household-link">{i18n::tr("住址和家人", "Address and family")}</A>
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
            {user.has_role(Role::Producer).then(|| view! {
                <A href="/producer"><span class="btn primary block" id="producer-link">{t(K::role_producer)}</span></A>
            })}
            <button id="logout" class="btn secondary block" on:click=logout.clone()>{t(K::logout)}</button>
        }
        .into_any()
    }
}
