//! The bar at the top (title and language) and the five tabs at the bottom, in thumb reach.

use crate::i18n::{self, t, Lang, K};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn TopBar() -> impl IntoView {
    let switch = move |_| {
        let next = if i18n::lang() == Lang::Zh { Lang::En } else { Lang::Zh };
        i18n::set_lang(next);
    };
    view! {
        <header class="topbar">
            <A href="/">
                <span class="brand">{t(K::app_name)}</span>
            </A>
            // Its name is what it shows, as a voice-control user says it.
            <button class="lang-switch" on:click=switch>
                {move || if i18n::lang() == Lang::Zh { "EN" } else { "中文" }}
            </button>
        </header>
    }
}

#[component]
pub fn BottomNav() -> impl IntoView {
    let tab = |href: &'static str, icon: &'static str, label: K| {
        view! {
            <A href=href exact=href == "/">
                <span class="tab-icon" aria-hidden="true">{icon}</span>
                <span class="tab-label">{t(label)}</span>
            </A>
        }
    };
    view! {
        <nav class="bottom-nav" aria-label="main">
            {tab("/", "🏠", K::nav_home)}
            {tab("/group", "🏘️", K::nav_group)}
            {tab("/cart", "🛒", K::nav_cart)}
            {tab("/orders", "📋", K::nav_orders)}
            {tab("/me", "👤", K::nav_me)}
        </nav>
    }
}
