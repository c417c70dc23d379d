//! The fallback of every bundle's routes. A link or a redirect inside one bundle may lead to a
//! page of another (`shared::storefront`): that page is loaded from the server. Any other path
//! is a page nobody has.

use crate::i18n::{t, K};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::storefront::Bundle;

#[component]
pub fn Elsewhere(here: Bundle) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let path = location.pathname.get_untracked();
    if Bundle::of(&path) != here {
        let search = location.search.get_untracked();
        let query = search.trim_start_matches('?');
        let target = if query.is_empty() { path } else { format!("{path}?{query}") };
        if let Some(w) = web_sys::window() {
            // The address is already in the history: load it in place.
            let _ = w.location().replace(&target);
        }
        return view! { <super::Loading/> }.into_any();
    }
    view! { <NotFound/> }.into_any()
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
