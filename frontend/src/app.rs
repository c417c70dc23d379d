use crate::components::{BottomNav, TopBar};
use crate::pages::{
    CartPage, CheckoutPage, GroupPage, HomePage, LoginPage, MePage, NotFound, OrderPage, OrdersPage, ProductPage,
    ProductsPage, StaffPage,
};
use crate::session::Session;
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    provide_context(session);
    session.restore();
    Effect::new(move || {
        let lang = session.lang.get();
        if let Some(html) = document().document_element() {
            let _ = html.set_attribute("lang", if lang == crate::i18n::Lang::Zh { "zh-CN" } else { "en" });
        }
    });
    view! {
        <Router>
            <TopBar/>
            <main class="page">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/products") view=ProductsPage/>
                    <Route path=path!("/products/:id") view=ProductPage/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/me") view=MePage/>
                    <Route path=path!("/cart") view=CartPage/>
                    <Route path=path!("/orders") view=OrdersPage/>
                    <Route path=path!("/orders/:id") view=OrderPage/>
                    <Route path=path!("/checkout") view=CheckoutPage/>
                    <Route path=path!("/staff") view=StaffPage/>
                    <Route path=path!("/group") view=GroupPage/>
                </Routes>
            </main>
            <BottomNav/>
        </Router>
    }
}
