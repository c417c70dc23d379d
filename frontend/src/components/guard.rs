//! The one gate for pages that need a login (and a role): while the stored login is being
//! checked it shows the loading state; without a login, a way to log in that comes back here;
//! with the wrong role, a plain word; otherwise the page, made only then (so a page's requests
//! go out only for someone allowed to see it).

use super::Loading;
use crate::i18n::{t, K};
use crate::session::use_session;
use leptos::prelude::*;
use shared::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Checking,
    LoggedOut,
    WrongRole,
    Allowed,
}

/// `next`: where the login page returns to; `role`: the role the page needs, if any.
#[component]
pub fn Guarded(
    #[prop(into)] next: String,
    #[prop(optional)] role: Option<Role>,
    children: ChildrenFn,
) -> impl IntoView {
    let session = use_session();
    // Only a change of access re-makes the page, not every change of the user (a new address).
    let access = Memo::new(move |_| match session.user.get() {
        Some(u) if role.is_none_or(|r| u.has_role(r)) => Access::Allowed,
        Some(_) => Access::WrongRole,
        None if session.checking.get() => Access::Checking,
        None => Access::LoggedOut,
    });
    move || match access.get() {
        Access::Allowed => children().into_any(),
        Access::WrongRole => view! { <p class="card center">{t(K::not_allowed)}</p> }.into_any(),
        Access::Checking => view! { <Loading/> }.into_any(),
        Access::LoggedOut => view! { <LoginPrompt next=next.clone()/> }.into_any(),
    }
}

/// "You are not logged in", with the way to the login page and back to `next`.
#[component]
pub fn LoginPrompt(#[prop(into)] next: String) -> impl IntoView {
    let href = format!("/login?next={}", js_sys::encode_uri_component(&next));
    view! {
        <div class="card center">
            <p>{t(K::not_logged_in)}</p>
            <a href=href><span class="btn primary">{t(K::go_login)}</span></a>
        </div>
    }
}
