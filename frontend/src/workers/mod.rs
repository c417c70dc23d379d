//! The workers' bundle, under `/staff`, `/vendor` (and `/volunteer` with its issue): pages a
//! resident never opens, so never downloads. Logging in happens on the residents' login page,
//! which sends the worker back here.

mod staff;
mod vendor;

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
        <Shell>
            <Routes fallback=|| view! { <Elsewhere here=Bundle::Workers/> }>
                <Route path=path!("/staff") view=staff::StaffPage/>
                <Route path=path!("/vendor") view=vendor::VendorPage/>
            </Routes>
        </Shell>
    }
}
