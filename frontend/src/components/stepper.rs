//! The quantity control: big − and + for one hand.

use leptos::prelude::*;

/// − n + with big buttons; `on_change` gets the new quantity; `min` defaults to 1 (0 lets the
/// resident take an item out).
#[component]
pub fn Stepper(
    quantity: i64,
    max: i64,
    on_change: Callback<i64>,
    #[prop(optional)] id: &'static str,
    #[prop(default = 1)] min: i64,
) -> impl IntoView {
    view! {
        <div class="stepper" id=id>
            <button class="step" aria-label="-" disabled={quantity <= min} on:click=move |_| on_change.run(quantity - 1)>"−"</button>
            <span class="qty" aria-live="polite">{quantity}</span>
            <button class="step" aria-label="+" disabled={quantity >= max} on:click=move |_| on_change.run(quantity + 1)>"+"</button>
        </div>
    }
}
