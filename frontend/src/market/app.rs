use super::{HomePage, LoginPage, MePage, ProductPage, ProductsPage};
use crate::components::{Elsewhere, Shell};
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Routes},
    path,
};
use shared::storefront::Bundle;

/// The residents' market: browse, log in, the account.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Shell bottom_nav=true>
            <Routes fallback=|| view! { <Elsewhere here=Bundle::Market/> }>
                <Route path=path!("/") view=HomePage/>
                <Route path=path!("/products") view=ProductsPage/>
                <Route path=path!("/products/:id") view=ProductPage/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/me") view=MePage/>
            </Routes>
        </Shell>
    }
}
