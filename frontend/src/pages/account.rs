//! "Me", and the tabs whose full pages arrive with later work (cart, orders, group buys):
//! each says plainly what it is for and leads somewhere useful.

use crate::api;
use crate::i18n::{t, K};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};
use shared::Role;

fn role_label(role: Role) -> K {
    match role {
        Role::Resident => K::role_resident,
        Role::Volunteer => K::role_volunteer,
        Role::Vendor => K::role_vendor,
        Role::Staff => K::role_staff,
    }
}

/// The community the demo market serves; every building is in it.
pub fn community() -> &'static str {
    "七里山小区"
}

#[component]
pub fn LoginPrompt(next: &'static str) -> impl IntoView {
    view! {
        <div class="card center">
            <p>{t(K::not_logged_in)}</p>
            <A href=format!("/login?next={next}")><span class="btn primary">{t(K::go_login)}</span></A>
        </div>
    }
}

#[component]
pub fn MePage() -> impl IntoView {
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
    view! {
        <h1>{t(K::my_account)}</h1>
        {move || {
            if session.checking.get() {
                return view! { <crate::components::Loading/> }.into_any();
            }
            match session.user.get() {
                None => view! { <LoginPrompt next="/me"/> }.into_any(),
                Some(user) => {
                    let phone = user.phone.as_deref().and_then(|p| shared::Phone::parse(p).ok()).map(|p| p.masked());
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
                                        {h.quarantined.then(|| view! { <span class="badge warn">{t(K::quarantined)}</span> })}
                                        {h.hardship.then(|| view! { <span class="badge">{t(K::hardship)}</span> })}
                                        {h.elderly.then(|| view! { <span class="badge">{t(K::elderly)}</span> })}
                                    </p>
                                }.into_any(),
                                None => view! { <p>{t(K::no_household)}</p> }.into_any(),
                            }}
                        </div>
                        {user.has_role(Role::Staff).then(|| view! {
                            <A href="/staff"><span class="btn primary block">{t(K::staff_page)}</span></A>
                        })}
                        <button id="logout" class="btn secondary block" on:click=logout.clone()>{t(K::logout)}</button>
                    }.into_any()
                }
            }
        }}
        <div class="card">
            <h2>{t(K::language)}</h2>
            <div class="lang-choice">
                <button class="btn secondary" on:click=move |_| session.set_lang(crate::i18n::Lang::Zh)>"中文"</button>
                <button class="btn secondary" on:click=move |_| session.set_lang(crate::i18n::Lang::En)>"English"</button>
            </div>
        </div>
    }
}

#[component]
fn TabIntro(text: K, next: &'static str) -> impl IntoView {
    let session = use_session();
    view! {
        <div class="card center">
            <p>{t(text)}</p>
            <A href="/products"><span class="btn primary">{t(K::browse)}</span></A>
        </div>
        {move || (session.user.get().is_none() && !session.checking.get()).then(|| view! { <LoginPrompt next=next/> })}
    }
}

#[component]
pub fn GroupPage() -> impl IntoView {
    view! { <h1>{t(K::nav_group)}</h1> <TabIntro text=K::group_intro next="/group"/> }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <div class="card center">
            <p>{t(K::not_found)}</p>
            <A href="/"><span class="btn primary">{t(K::nav_home)}</span></A>
        </div>
    }
}
