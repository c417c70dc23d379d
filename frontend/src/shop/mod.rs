//! The residents' shop bundle: cart, checkout, orders, group-buys. Loaded when a resident first opens one of
//! them, so the first visit (browsing) downloads less.

mod checkout;
mod donate;
mod gate;
mod group;
mod household;
mod orders;
mod prices;
mod standing;

use crate::components::{Elsewhere, Shell};
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Routes},
    path,
};
use shared::storefront::Bundle;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Shell bottom_nav=true>
            <Routes fallback=|| view! { <Elsewhere here=Bundle::Shop/> }>
                <Route path=path!("/cart") view=checkout::CartPage/>
                <Route path=path!("/checkout") view=checkout::CheckoutPage/>
                <Route path=path!("/orders") view=orders::OrdersPage/>
                <Route path=path!("/orders/:id") view=orders::OrderPage/>
                <Route path=path!("/group") view=group::GroupBuysPage/>
                <Route path=path!("/group/new") view=group::NewGroupBuyPage/>
                <Route path=path!("/group/:id") view=group::GroupBuyPage/>
                <Route path=path!("/group/:id/console") view=group::ConsolePage/>
                <Route path=path!("/group/:id/proxy") view=group::ProxyPage/>
                <Route path=path!("/prices") view=prices::PricesPage/>
                <Route path=path!("/household") view=household::HouseholdPage/>
                <Route path=path!("/donate") view=donate::DonatePage/>
                <Route path=path!("/standing") view=standing::StandingPage/>
                <Route path=path!("/gate") view=gate::GatePage/>
            </Routes>
        </Shell>
    }
}
