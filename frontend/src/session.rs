//! Who is logged in, shared with every page through context. The token itself lives in
//! `storage`, so a reload (or the other bundle) keeps the login.

use crate::storage;
use leptos::prelude::*;
use shared::api::User;

#[derive(Clone, Copy)]
pub struct Session {
    pub user: RwSignal<Option<User>>,
    /// True until the stored token has been checked with the server.
    pub checking: RwSignal<bool>,
}

impl Session {
    /// The session of this page, provided to every component below, with a stored token
    /// checked once with the server.
    pub fn provide() -> Self {
        let session = Session { user: RwSignal::new(None), checking: RwSignal::new(storage::token().is_some()) };
        provide_context(session);
        session.restore();
        session
    }

    pub fn logged_in(&self, token: &str, user: User) {
        storage::set_token(Some(token));
        self.known(user);
    }

    /// The user as the server answered: one tied to a market (a home there, or a role) shops in
    /// it, whatever market this device chose before.
    fn known(&self, user: User) {
        if tied(&user) {
            storage::set_market(None);
        }
        self.user.set(Some(user));
    }

    pub fn logged_out(&self) {
        storage::set_token(None);
        self.user.set(None);
    }

    /// Checks a stored token once at start: still valid -> the user; refused -> forget it.
    fn restore(self) {
        if storage::token().is_none() {
            return;
        }
        leptos::task::spawn_local(async move {
            match crate::api::me().await {
                Ok(user) => self.known(user),
                Err(f) if f.is_unauthorized() => self.logged_out(),
                Err(_) => {}
            }
            self.checking.set(false);
        });
    }
}

/// Whether the account belongs to a market (its home's, or the one that gave it a role): the
/// server then shows that market's lists, and no other market is offered.
pub fn tied(user: &User) -> bool {
    user.household.is_some() || user.roles.iter().any(|r| *r != shared::Role::Resident)
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
