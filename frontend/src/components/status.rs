//! Loading and error states: every page shows one of these rather than a blank screen.

use crate::api::Failure;
use crate::i18n::{t, K};
use leptos::prelude::*;

#[component]
pub fn Loading() -> impl IntoView {
    view! {
        <div class="status loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{t(K::loading)}</span>
        </div>
    }
}

/// A failure in words people understand, with a button to try again.
#[component]
pub fn ErrorNote(failure: Failure, #[prop(optional, into)] retry: Option<Callback<()>>) -> impl IntoView {
    let message = if failure.status == 0 { None } else { Some(failure.message.clone()) };
    view! {
        <div class="status error" role="alert">
            <p class="error-title">{t(K::load_failed)}</p>
            <p>{move || message.clone().unwrap_or_else(|| t(K::network_failed)().to_owned())}</p>
            {retry.map(|cb| view! {
                <button class="btn secondary" on:click=move |_| cb.run(())>{t(K::retry)}</button>
            })}
        </div>
    }
}
