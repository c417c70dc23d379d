//! The quantity control: big − and + for one hand.

use leptos::prelude::*;

/// − n + with big buttons; `on_change` gets the new quantity.
#[component]
pub fn Stepper(quantity: i64, max: i64, on_change: Callback<i64>, #[prop(optional)] id: &'static str) -> impl IntoView {
    view! {
        <div class="stepper" id=id>
            <button class="step" aria-label="-" disabled={quantity <= 1} on:click=move |_| on_change.run(quantity - 1)>"−"</button>
            <span class="qty" aria-live="polite">{quantity}</span>
            <button class="step" aria-label="+" disabled={quantity >= max} on:click=move |_| on_change.run(quantity + 1)>"+"</button>
        </div>
    }
}
