use crate::i18n::{t, K};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::Product;

/// What stands for a product that has no photo yet: the first character of its name on a plain
/// tile (never a picture of something else: potatoes are not cabbages).
pub fn initial(name: &str) -> String {
    name.chars().next().map(String::from).unwrap_or_default()
}

/// A product's picture on a card: its photo's thumbnail, loaded lazily into a box of fixed size
/// (nothing jumps), or its name's first character on a tile when it has none.
#[component]
fn Picture<'a>(product: &'a Product) -> impl IntoView {
    thumb(product.photo.as_ref(), &product.name)
}

/// A product's small picture: its photo, or its name's first character on a tile (never another
/// product's picture).
pub fn thumb(photo: Option<&shared::api::Photo>, name: &str) -> AnyView {
    match photo {
        Some(photo) => view! {
            <img class="product-icon" src=photo.thumb_url.clone() alt="" width="64" height="64" loading="lazy" decoding="async"/>
        }
        .into_any(),
        None => view! { <div class="product-icon placeholder" aria-hidden="true">{initial(name)}</div> }.into_any(),
    }
}

#[component]
pub fn ProductCard(product: Product) -> impl IntoView {
    let href = format!("/products/{}", product.id);
    let sold_out = product.stock == 0;
    let (yuan, unit) = (product.price_fen.yuan(), product.unit.clone());
    let price = move || format!("{yuan}/{}", crate::i18n::unit(&unit));
    let stock = product.stock;
    let limit = product.per_order_limit;
    view! {
        <A href=href>
            <article class="product-card" class:sold-out=sold_out>
                <Picture product=&product/>
                <div class="product-main">
                    <h3 class="product-name">{product.name.clone()}</h3>
                    <p class="product-vendor">{product.vendor_name.clone()}</p>
                    <p class="product-meta">
                        {move || if sold_out {
                            t(K::sold_out)().to_owned()
                        } else {
                            format!("{} {}", t(K::stock)(), stock)
                        }}
                        {limit.map(|l| view! { <span class="badge">{t(K::limit)} " " {l}</span> })}
                    </p>
                </div>
                <div class="product-price">{price}</div>
            </article>
        </A>
    }
}
