//! The workers' bundle, under `/staff`, `/vendor`, `/volunteer` (a pickup point's keeper's
//! page among them) and `/producer`: pages a
//! resident never opens, so never downloads. Logging in happens on the residents' login page,
//! which sends the worker back here.

mod goods;
mod markets;
mod points;
mod pool;
mod scan;
mod setup;
mod staff;
mod supply;
mod trace;
mod vendor;
mod volunteer;

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
                <Route path=path!("/staff/dispatch") view=staff::DispatchPage/>
                <Route path=path!("/staff/donations") view=pool::PoolPage/>
                <Route path=path!("/staff/supply") view=supply::SupplyPage/>
                <Route path=path!("/staff/trace") view=trace::TracePage/>
                <Route path=path!("/staff/points") view=points::PointsPage/>
                <Route path=path!("/staff/markets") view=markets::MarketsPage/>
                <Route path=path!("/volunteer/point") view=points::KeeperPage/>
                <Route path=path!("/producer") view=supply::ProducerPage/>
                <Route path=path!("/staff/batch/:id") view=volunteer::StaffBatchPage/>
                <Route path=path!("/vendor") view=vendor::VendorPage/>
                <Route path=path!("/volunteer") view=volunteer::VolunteerPage/>
                <Route path=path!("/volunteer/batch/:id") view=volunteer::BatchPage/>
            </Routes>
        </Shell>
    }
}
