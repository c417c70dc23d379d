//! The frame every bundle's pages sit in: the session, the document's language, the router, the
//! top bar, the page and (for residents) the bottom bar. Each bundle puts its routes inside.

use super::{BottomNav, TopBar};
use crate::session::Session;
use leptos::prelude::*;
use leptos_router::components::Router;

#[component]
pub fn Shell(
    /// The residents' tab bar (home, group-buys, cart, account); workers' pages go without.
    #[prop(optional)]
    bottom_nav: bool,
    /// The bundle's `<Routes>`.
    children: Children,
) -> impl IntoView {
    Session::provide();
    crate::i18n::mark_document_language();
    view! {
        <Router>
            <TopBar/>
            <main class="page">{children()}</main>
            {bottom_nav.then(|| view! { <BottomNav/> })}
        </Router>
    }
}
