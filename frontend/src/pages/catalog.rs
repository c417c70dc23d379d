//! Home, product list with search, product detail.

use crate::api::{self, ProductFilter};
use crate::components::{yuan, ErrorNote, Loading, ProductCard};
use crate::i18n::{t, K};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map, use_query_map},
};

/// The search box: goes to the product list with `q`.
#[component]
fn SearchBox(#[prop(optional)] initial: String) -> impl IntoView {
    let text = RwSignal::new(initial);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = text.get_untracked();
        let q: String = js_sys::encode_uri_component(q.trim()).into();
        navigate(&format!("/products?q={q}"), Default::default());
    };
    view! {
        <form class="search" role="search" on:submit=submit>
            <input
                id="search"
                type="search"
                enterkeyhint="search"
                placeholder=t(K::search_placeholder)
                aria-label=t(K::search)
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            />
            <button class="btn" type="submit">{t(K::search)}</button>
        </form>
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    let session = use_session();
    let categories = LocalResource::new(api::categories);
    let vendors = LocalResource::new(api::vendors);
    let boxes = LocalResource::new(|| async {
        api::products(&ProductFilter { category: Some("box".into()), ..Default::default() }).await
    });
    view! {
        <section class="hero">
            <h1>{t(K::app_name)}</h1>
            <p>{t(K::tagline)}</p>
            <SearchBox/>
        </section>
        <section>
            <h2>{t(K::categories)}</h2>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || categories.get().map(|r| match r {
                    Ok(items) => view! {
                        <div class="category-grid">
                            {items.into_iter().map(|c| {
                                let name = c.name_zh.clone();
                                let name_en = c.name_en.clone();
                                view! {
                                    <A href=format!("/products?category={}", c.id)>
                                        <div class="category">
                                            <span class="category-icon" aria-hidden="true">{c.icon.clone()}</span>
                                            <span>{move || if session.lang.get() == crate::i18n::Lang::Zh { name.clone() } else { name_en.clone() }}</span>
                                        </div>
                                    </A>
                                }
                            }).collect_view()}
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote failure=e retry=Callback::new(move |_| categories.refetch())/> }.into_any(),
                })}
            </Suspense>
        </section>
        <section>
            <h2>{t(K::boxes)}</h2>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || boxes.get().map(|r| match r {
                    Ok(items) => view! {
                        <div class="product-list">
                            {items.into_iter().map(|p| view! { <ProductCard product=p/> }).collect_view()}
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote failure=e retry=Callback::new(move |_| boxes.refetch())/> }.into_any(),
                })}
            </Suspense>
        </section>
        <section>
            <h2>{t(K::stalls)}</h2>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || vendors.get().map(|r| match r {
                    Ok(items) => view! {
                        <ul class="stall-list">
                            {items.into_iter().map(|v| view! {
                                <li>
                                    <A href=format!("/products?vendor_id={}", v.id)>
                                        <div class="stall">
                                            <span class="stall-no">{v.stall_no.clone()}</span>
                                            <span class="stall-name">{v.name.clone()}</span>
                                            <span class="stall-desc">{v.description.clone()}</span>
                                        </div>
                                    </A>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote failure=e retry=Callback::new(move |_| vendors.refetch())/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn ProductsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.get();
        ProductFilter {
            category: q.get("category").filter(|c| !c.is_empty()),
            vendor_id: q.get("vendor_id").and_then(|v| v.parse().ok()),
            q: q.get("q").filter(|s| !s.trim().is_empty()),
        }
    });
    let products = LocalResource::new(move || {
        let f = filter.get();
        async move { api::products(&f).await }
    });
    let vendor_name = LocalResource::new(move || {
        let id = filter.get().vendor_id;
        async move {
            match id {
                Some(id) => api::vendor(id).await.ok().map(|v| format!("{} · {}", v.stall_no, v.name)),
                None => None,
            }
        }
    });
    view! {
        <SearchBox initial=query.get_untracked().get("q").unwrap_or_default()/>
        <h1 class="list-title">
            {move || vendor_name.get().flatten().unwrap_or_else(|| t(K::all_products)().to_owned())}
        </h1>
        <Transition fallback=|| view! { <Loading/> }>
            {move || products.get().map(|r| match r {
                Ok(items) if items.is_empty() => view! { <p class="empty">{t(K::no_products)}</p> }.into_any(),
                Ok(items) => view! {
                    <div class="product-list" id="product-list">
                        {items.into_iter().map(|p| view! { <ProductCard product=p/> }).collect_view()}
                    </div>
                }.into_any(),
                Err(e) => view! { <ErrorNote failure=e retry=Callback::new(move |_| products.refetch())/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.get().get("id").and_then(|v| v.parse::<i64>().ok()));
    let product = LocalResource::new(move || {
        let id = id.get();
        async move {
            match id {
                Some(id) => api::product(id).await,
                None => Err(api::Failure { status: 404, code: "not_found".into(), message: "no such product".into() }),
            }
        }
    });
    let prices = LocalResource::new(move || {
        let id = id.get();
        async move {
            match id {
                Some(id) => api::price_history(id).await,
                None => Ok(Vec::new()),
            }
        }
    });
    view! {
        <button class="link back" on:click=move |_| { let _ = window().history().and_then(|h| h.back()); }>
            "‹ " {t(K::back)}
        </button>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || product.get().map(|r| match r {
                Ok(d) => {
                    let p = d.product;
                    let sold_out = p.stock == 0;
                    let stock_text = format!("{} {}", p.stock, p.unit);
                    view! {
                        <article class="product-detail">
                            <div class="detail-icon" aria-hidden="true">{crate::components::category_icon_of(&p.category)}</div>
                            <h1>{p.name.clone()}</h1>
                            <p class="detail-price">{yuan(p.price_fen)} <small>"/" {p.unit.clone()}</small></p>
                            <dl class="facts">
                                <dt>{t(K::stall)}</dt>
                                <dd><A href=format!("/products?vendor_id={}", p.vendor_id)>{p.vendor_name.clone()}</A></dd>
                                <dt>{t(K::stock)}</dt>
                                <dd class:sold-out=sold_out>
                                    {move || if sold_out { t(K::sold_out)().to_owned() } else { stock_text.clone() }}
                                </dd>
                                {p.per_order_limit.map(|l| view! {
                                    <dt>{t(K::limit)}</dt>
                                    <dd>{l} " " {p.unit.clone()}</dd>
                                })}
                            </dl>
                            {(!p.description.is_empty()).then(|| view! { <p class="description">{p.description.clone()}</p> })}
                            {(!sold_out).then(|| view! { <AddToCart product_id=p.id max=p.per_order_limit.unwrap_or(99).min(p.stock)/> })}
                            {(!d.box_items.is_empty()).then(|| view! {
                                <h2>{t(K::box_contents)}</h2>
                                <ul class="box-items">
                                    {d.box_items.into_iter().map(|i| view! {
                                        <li><span>{i.name}</span><span>{i.quantity} " " {i.unit}</span></li>
                                    }).collect_view()}
                                </ul>
                            })}
                        </article>
                    }.into_any()
                }
                Err(e) => view! { <ErrorNote failure=e retry=Callback::new(move |_| product.refetch())/> }.into_any(),
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || prices.get().and_then(Result::ok).filter(|p| !p.is_empty()).map(|points| view! {
                <section class="card">
                    <h2>{t(K::price_record)}</h2>
                    <ul class="price-record">
                        {points.into_iter().take(10).map(|p| view! {
                            <li><span>{p.changed_at.get(..10).unwrap_or_default().to_owned()}</span><span>{yuan(p.price_fen)}</span></li>
                        }).collect_view()}
                    </ul>
                </section>
            })}
        </Suspense>
    }
}

/// Quantity and "add to cart"; asks a visitor to log in first.
#[component]
fn AddToCart(product_id: i64, max: i64) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let quantity = RwSignal::new(1i64);
    let message = RwSignal::new(None::<(bool, String)>);
    let add = move |_| {
        if session.user.get_untracked().is_none() {
            navigate(&format!("/login?next=/products/{product_id}"), Default::default());
            return;
        }
        let q = quantity.get_untracked();
        leptos::task::spawn_local(async move {
            // Adding to what is already in the cart.
            let current = api::cart()
                .await
                .ok()
                .and_then(|c| c.items.into_iter().find(|i| i.product_id == product_id))
                .map_or(0, |i| i.quantity);
            match api::set_cart(product_id, current + q).await {
                Ok(_) => message.set(Some((true, crate::i18n::now(K::added).to_owned()))),
                Err(f) => message.set(Some((false, f.message))),
            }
        });
    };
    view! {
        <div class="add-row">
            {move || view! {
                <crate::pages::shop::Stepper quantity=quantity.get() max=max.max(1)
                    on_change=Callback::new(move |q| quantity.set(q))/>
            }}
            <button id="add-to-cart" class="btn primary" on:click=add>{t(K::add_to_cart)}</button>
        </div>
        {move || message.get().map(|(ok, m)| view! {
            <p class:form-error=!ok class:added=ok role="status">{m}
                {ok.then(|| view! { " · " <A href="/cart">{t(K::go_checkout)}</A> })}
            </p>
        })}
    }
}
