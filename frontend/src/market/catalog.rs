//! Home, product list with search, product detail.

use crate::api::{self, ProductFilter};
use crate::components::{Load, ProductCard};
use crate::i18n::{self, t, Lang, K};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map, use_query_map},
};
use shared::api::{Category, List, PricePoint, Product, ProductDetail, Vendor};

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
    let categories = Load::of(api::CATEGORIES);
    let boxes = Load::new(|| api::products_path(&ProductFilter { category: Some("box".into()), ..Default::default() }));
    let vendors = Load::of(api::VENDORS);
    // In care mode the page keeps what is used most (the style sheet puts the boxes first and
    // leaves the stalls and the donation link out): 再来一单, the boxes, the categories.
    view! {
        <div class="home">
            <section class="hero">
                <h1>{t(K::app_name)}</h1>
                <p>{t(K::tagline)}</p>
                <SearchBox/>
                <p class="donate-link"><A href="/donate" attr:id="to-donate">"❤️ " {t(K::donate)} " ›"</A></p>
            </section>
            <ForYou/>
            <MarketChooser/>
            <section class="home-categories">
                <h2>{t(K::categories)}</h2>
                {categories.show_items(|items: Vec<Category>| view! {
                    <div class="category-grid">
                        {items.into_iter().map(|c| {
                            let (name, name_en) = (c.name_zh, c.name_en);
                            view! {
                                <A href=format!("/products?category={}", c.id)>
                                    <div class="category">
                                        <span class="category-icon" aria-hidden="true">{c.icon}</span>
                                        <span>{move || if i18n::lang() == Lang::Zh { name.clone() } else { name_en.clone() }}</span>
                                    </div>
                                </A>
                            }
                        }).collect_view()}
                    </div>
                })}
            </section>
            <section class="home-boxes">
                <h2>{t(K::boxes)}</h2>
                {boxes.show_items(|items: Vec<Product>| view! {
                    <div class="product-list">
                        {items.into_iter().map(|p| view! { <ProductCard product=p/> }).collect_view()}
                    </div>
                })}
            </section>
            <section class="home-stalls">
                <h2>{t(K::stalls)}</h2>
                {vendors.show_items(|items: Vec<Vendor>| view! {
                    <ul class="stall-list">
                        {items.into_iter().map(|v| view! {
                            <li>
                                <A href=format!("/products?vendor_id={}", v.id)>
                                    <div class="stall">
                                        <span class="stall-no">{v.stall_no}</span>
                                        <span class="stall-name">{v.name}</span>
                                        {(!v.open).then(|| view! { <span class="badge warn">{t(K::stall_closed)}</span> })}
                                        {v.closed_on.map(|day| view! { <span class="badge warn">{day} " " {t(K::stall_rests)}</span> })}
                                        <span class="stall-desc">{v.description}</span>
                                    </div>
                                </A>
                            </li>
                        }).collect_view()}
                    </ul>
                })}
            </section>
        </div>
    }
}

/// Where a visitor shops when the deployment has several markets: one big button per market,
/// the chosen one pressed (kept on this device; the page loads again in it). Not offered to an
/// account a home or a role ties to its market.
#[component]
fn MarketChooser() -> impl IntoView {
    let session = use_session();
    let markets = Load::of(api::MARKETS);
    let chosen = crate::storage::market().unwrap_or(1);
    move || {
        let free = !session.checking.get() && session.user.get().is_none_or(|u| !crate::session::tied(&u));
        let list = markets.value::<List<shared::api::Market>>().map(|l| l.items).unwrap_or_default();
        (free && list.len() > 1).then(|| {
            view! {
                <section class="card market-choice" id="market-choice">
                    <h2>{i18n::tr("选择您的市场", "Choose your market")}</h2>
                    <div class="actions">
                        {list.into_iter().map(|m| {
                            let id = m.id.get();
                            let choose = move |_| {
                                crate::storage::set_market(Some(id));
                                if let Some(w) = web_sys::window() {
                                    let _ = w.location().reload();
                                }
                            };
                            view! {
                                <button
                                    class="btn"
                                    class:primary=id == chosen
                                    class:secondary=id != chosen
                                    aria-pressed=(id == chosen).to_string()
                                    data-market=id
                                    on:click=choose
                                >{m.name}</button>
                            }
                        }).collect_view()}
                    </div>
                </section>
            }
        })
    }
}

/// For a logged-in resident: care mode offered once on this device to a household flagged
/// elderly (either answer is remembered by the page's boot script, `?care=1` or `?care=0`), and
/// 再来一单, one big button that refills the cart from the household's last order and opens the
/// checkout with the next time chosen, once there is an order to repeat.
#[component]
fn ForYou() -> impl IntoView {
    // Only whether an order is a group-buy's share is read (the first visit stays small).
    #[derive(serde::Deserialize)]
    struct Mine {
        group_buy_id: Option<i64>,
    }
    let session = use_session();
    let asked = crate::storage::care_offered();
    let orders = Load::when(move || session.user.get().map(|_| format!("{}?limit=20", api::ORDERS)));
    move || {
        let elderly = session.user.get().and_then(|u| u.household).and_then(|h| h.elderly).unwrap_or(false);
        let again = orders.value::<List<Mine>>().is_some_and(|l| l.items.iter().any(|o| o.group_buy_id.is_none()));
        view! {
            <div class="card" id="offer-care" class:hidden=asked || !elderly>
                <p>{i18n::tr("要不要打开长辈模式？字更大，按钮更大。以后可以在“我的”里改。", "Turn on care mode? Bigger text and buttons; you can change it under Me.")}</p>
                <div class="actions">
                    <a rel="external" href="/?care=1" class="btn primary" id="care-yes">{i18n::tr("打开", "Turn on")}</a>
                    <a rel="external" href="/?care=0" class="btn secondary" id="care-no">{i18n::tr("不用了", "No, thanks")}</a>
                </div>
            </div>
            <a href="/checkout?again=1" class="btn primary block" id="order-again" class:hidden=!again>{i18n::tr("再来一单", "Order the same again")}</a>
        }
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
    let products = Load::new(move || api::products_path(&filter.get()));
    // The stall's name as the title of its page.
    let stall = Load::when(move || filter.get().vendor_id.map(api::vendor_path));
    let title = move || match (filter.get().vendor_id, stall.value::<Vendor>()) {
        (Some(_), Some(v)) => format!("{} · {}", v.stall_no, v.name),
        _ => t(K::all_products)().to_owned(),
    };
    view! {
        <SearchBox initial=query.get_untracked().get("q").unwrap_or_default()/>
        <h1 class="list-title">{title}</h1>
        {products.show_items(move |items: Vec<Product>| if items.is_empty() {
            view! { <p class="empty">{t(K::no_products)}</p> }.into_any()
        } else {
            let path = api::products_path(&filter.get_untracked());
            view! { <ProductPages first=items next=products.next_cursor() path=path/> }.into_any()
        })}
    }
}

/// A product list, the first page at once and each next one as the resident scrolls near its
/// end (or taps "more"): nothing waits for the whole catalogue.
#[component]
fn ProductPages(first: Vec<Product>, next: Option<String>, path: String) -> impl IntoView {
    let list = RwSignal::new(first);
    let cursor = RwSignal::new(next);
    let path = StoredValue::new(path);
    let load = move || {
        let Some(c) = cursor.get_untracked() else { return };
        let url = path.with_value(|p| api::next_page(p, &c));
        // No cursor while a page is on its way: one request at a time.
        cursor.set(None);
        leptos::task::spawn_local(async move {
            match api::get_json(url).await {
                Ok(page) => {
                    cursor.set(api::next_cursor(&page));
                    list.update(|l| l.extend(api::items::<Product>(page).unwrap_or_default()));
                }
                // The button comes back to try again.
                Err(_) => cursor.set(Some(c)),
            }
        });
    };
    // Within a screen of the end: the next page comes before the resident gets there.
    let near_end = || {
        let w = window();
        let screen = w.inner_height().ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
        let seen = w.scroll_y().unwrap_or(0.0) + 2.0 * screen;
        document().document_element().is_some_and(|e| seen >= f64::from(e.scroll_height()))
    };
    let scrolled = window_event_listener(leptos::ev::scroll, move |_| {
        if cursor.get_untracked().is_some() && near_end() {
            load();
        }
    });
    on_cleanup(move || scrolled.remove());
    view! {
        <div class="product-list" id="product-list">
            {move || list.get().into_iter().map(|p| view! { <ProductCard product=p/> }).collect_view()}
        </div>
        {move || cursor.get().map(|_| view! { <button class="btn secondary block" id="more-products" on:click=move |_| load()>{t(K::more)}</button> })}
    }
}

#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.get().get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let product = Load::new(move || api::product_path(id.get()));
    let prices = Load::new(move || api::prices_path(id.get()));
    view! {
        <button class="link back" on:click=move |_| { let _ = window().history().and_then(|h| h.back()); }>
            "‹ " {t(K::back)}
        </button>
        {product.show(|d: ProductDetail| {
            let p = d.product;
            let sold_out = p.stock == 0;
            let (stock, unit) = (p.stock, p.unit.clone());
            let stock_text = move || format!("{stock} {}", i18n::unit(&unit));
            view! {
                <article class="product-detail">
                    {match &p.photo {
                        Some(photo) => view! { <img class="detail-photo" src=photo.url.clone() alt=p.name.clone() width="960" height="720" decoding="async"/> }.into_any(),
                        None => view! { <div class="detail-icon placeholder" aria-hidden="true">{crate::components::initial(&p.name)}</div> }.into_any(),
                    }}
                    <h1>{p.name.clone()}</h1>
                    <p class="detail-price">{p.price_fen.yuan()} <small>"/" {let u = p.unit.clone(); move || i18n::unit(&u)}</small></p>
                    <dl class="facts">
                        {(!p.origin.is_empty()).then(|| view! { <dt>{t(K::origin)}</dt><dd>{p.origin.clone()}</dd> })}
                        <dt>{t(K::stall)}</dt>
                        <dd><A href=format!("/products?vendor_id={}", p.vendor_id)>{p.vendor_name.clone()}</A></dd>
                        <dt>{t(K::stock)}</dt>
                        <dd class:sold-out=sold_out>
                            {move || if sold_out { t(K::sold_out)().to_owned() } else { stock_text() }}
                        </dd>
                        {p.per_order_limit.map(|l| view! {
                            <dt>{t(K::limit)}</dt>
                            <dd>{l} " " {let u = p.unit.clone(); move || i18n::unit(&u)}</dd>
                        })}
                    </dl>
                    {(!p.description.is_empty()).then(|| view! { <p class="description">{p.description.clone()}</p> })}
                    {(!sold_out).then(|| view! { <AddToCart product_id=p.id.get() max=p.per_order_limit.unwrap_or(99).min(p.stock)/> })}
                    {(!d.box_items.is_empty()).then(|| view! {
                        <h2>{t(K::box_contents)}</h2>
                        <ul class="box-items">
                            {d.box_items.into_iter().map(|i| view! {
                                <li><span>{i.name}</span><span>{i.quantity} " " {move || i18n::unit(&i.unit)}</span></li>
                            }).collect_view()}
                        </ul>
                    })}
                </article>
            }
        })}
        {move || prices.value::<List<PricePoint>>().filter(|l| !l.items.is_empty()).map(|points| view! {
            <section class="card">
                <h2>{t(K::price_record)} " " <A href="/prices" attr:class="link" attr:id="to-price-board">{t(K::price_board)} " ›"</A></h2>
                <ul class="price-record">
                    {points.items.into_iter().take(10).map(|p| view! {
                        <li><span>{p.changed_at.get(..10).unwrap_or_default().to_owned()}</span><span>{p.price_fen.yuan()}</span></li>
                    }).collect_view()}
                </ul>
            </section>
        })}
    }
}

/// Quantity and "add to cart"; a visitor logs in first and finds the goods in the cart after
/// (the cart page puts in what `storage::keep_for_cart` kept).
#[component]
fn AddToCart(product_id: i64, max: i64) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let query = use_query_map();
    let quantity = RwSignal::new(1i64);
    // Back from the login with the goods in the cart: say so.
    let message =
        RwSignal::new(query.get_untracked().get("added").is_some().then(|| (true, i18n::now(K::added).to_owned())));
    let add = move |_| {
        let q = quantity.get_untracked();
        if session.user.get_untracked().is_none() {
            crate::storage::keep_for_cart(product_id, q);
            navigate("/login?next=/cart", Default::default());
            return;
        }
        leptos::task::spawn_local(async move {
            match api::add_to_cart(product_id, q).await {
                Ok(_) => message.set(Some((true, i18n::now(K::added).to_owned()))),
                Err(f) => message.set(Some((false, f.text()))),
            }
        });
    };
    view! {
        <div class="add-row">
            {move || view! {
                <crate::components::Stepper quantity=quantity.get() max=max.max(1)
                    on_change=Callback::new(move |q| quantity.set(q))/>
            }}
            <button id="add-to-cart" class="btn primary" on:click=add>{t(K::add_to_cart)}</button>
        </div>
        {move || message.get().map(|(ok, m)| view! {
            <p class:form-error=!ok class:added=ok role="status">{m}</p>
            <a href="/checkout" class="btn primary block" id="to-checkout" class:hidden=!ok>{t(K::go_checkout)}</a>
        })}
    }
}
