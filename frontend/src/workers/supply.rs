//! Supply (产销对接): the producer's page (publish offers, see each day's purchase order), the
//! stall's ordering from the offers, and staff's supply plan and producers. Names of goods,
//! stalls and producers are the market's data: marked `translate="no"`.

use crate::api;
use crate::components::{day_and_time, Guarded, Load};
use crate::i18n::tr;
use leptos::prelude::*;
use shared::api::{
    NewOffer, NewProducer, Offer, Producer, PurchaseAsk, PurchaseLine, PurchaseOrder, PurchaseRequest, SupplyPlanRow,
};
use shared::{ProductId, Role};

/// The Shanghai date `days_ahead` days from now, `YYYY-MM-DD` (UTC+8 all year).
pub(super) fn shanghai_date(days_ahead: i64) -> String {
    let ms = js_sys::Date::now() + (8.0 + 24.0 * days_ahead as f64) * 3600.0 * 1000.0;
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    format!("{:04}-{:02}-{:02}", d.get_utc_full_year(), d.get_utc_month() + 1, d.get_utc_date())
}

/// `12-09` and its cut-off time, for a day in a list.
fn closes(cutoff_at: &str, open: bool) -> String {
    let (day, time) = day_and_time(cutoff_at);
    if open {
        format!("{} {} {time}", tr("截单", "Orders close")(), day.get(5..).unwrap_or_default())
    } else {
        tr("已截单", "Closed")().to_owned()
    }
}

/// A day chooser over the next week (tomorrow first).
fn day_choice(id: &'static str, day: RwSignal<String>) -> impl IntoView {
    view! {
        <label class="field" for=id>{tr("送货日期", "Delivery day")}</label>
        <select id=id on:change=move |ev| day.set(event_target_value(&ev))>
            {(1..=7).map(|d| {
                let date = shanghai_date(d);
                view! { <option value=date.clone() selected=move || day.get() == date>{date.clone()}</option> }
            }).collect_view()}
        </select>
    }
}

fn message_line(message: RwSignal<Option<(bool, String)>>, id: &'static str) -> impl IntoView {
    move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:added=ok role="status" id=id>{m}</p> })
}

// ---------- the producer ----------

#[component]
pub fn ProducerPage() -> impl IntoView {
    view! {
        <h1>{tr("供货管理", "Supply to the market")}</h1>
        <Guarded next="/producer" role=Role::Producer><ProducerDesk/></Guarded>
    }
}

#[component]
fn ProducerDesk() -> impl IntoView {
    let offers = Load::new(|| api::OWN_OFFERS.to_owned());
    let orders = Load::new(|| api::PRODUCER_ORDERS.to_owned()).every(60);
    let field = || RwSignal::new(String::new());
    let (product, quantity, unit, price) = (field(), field(), RwSignal::new("斤".to_owned()), field());
    let days = RwSignal::new(vec![shanghai_date(2)]);
    let message = RwSignal::new(None::<(bool, String)>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(price_fen) = shared::domain::fen_of_yuan(&price.get_untracked()) else {
            message.set(Some((false, tr("价格应写元，如 0.80", "Write the price in yuan, e.g. 0.80")().to_owned())));
            return;
        };
        let body = NewOffer {
            product: product.get_untracked(),
            quantity: quantity.get_untracked().trim().parse().unwrap_or(0),
            unit: unit.get_untracked(),
            price_fen,
            origin: None,
            days: days.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match api::publish_offer(&body).await {
                Ok(o) => {
                    message.set(Some((true, format!("✓ {} {}", tr("已发布", "Published")(), o.product))));
                    product.set(String::new());
                    quantity.set(String::new());
                    offers.reload();
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
        });
    };
    let toggle = move |date: String| {
        days.update(|d| {
            if let Some(i) = d.iter().position(|x| *x == date) {
                d.remove(i);
            } else {
                d.push(date);
            }
        })
    };
    let input = |id: &'static str, label: (&'static str, &'static str), value: RwSignal<String>, kind: &'static str| {
        view! {
            <label class="field" for=id>{tr(label.0, label.1)}</label>
            <input id=id type=kind inputmode=if kind == "text" { "text" } else { "decimal" } prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
        }
    };
    view! {
        <div class="card" id="purchase-orders">
            <h2>{tr("采购单（各摊位向您订的货）", "Purchase orders (what the stalls ordered)")}</h2>
            {orders.show_items(|list: Vec<PurchaseOrder>| if list.is_empty() {
                view! { <p>{tr("暂时没有摊位订货", "No stall has ordered yet")}</p> }.into_any()
            } else {
                list.into_iter().map(purchase_order).collect_view().into_any()
            })}
        </div>
        <form class="card" id="offer-form" on:submit=submit>
            <h2>{tr("发布供货", "Offer goods")}</h2>
            {input("offer-product", ("品名（如 大白菜）", "Product (e.g. 大白菜)"), product, "text")}
            {input("offer-quantity", ("每天可供数量", "How much a day"), quantity, "number")}
            {input("offer-unit", ("单位（如 斤）", "Unit (e.g. 斤)"), unit, "text")}
            {input("offer-price", ("单价（元）", "Price per unit (yuan)"), price, "text")}
            <fieldset class="days" id="offer-days">
                <legend>{tr("送货日期", "Delivery days")}</legend>
                {(1..=7).map(|d| {
                    let date = shanghai_date(d);
                    let (key, label) = (date.clone(), date.clone());
                    view! {
                        <label class="check">
                            <input type="checkbox" value=date.clone() prop:checked=move || days.get().contains(&key) on:change=move |_| toggle(date.clone())/>
                            {label}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            {message_line(message, "offer-message")}
            <button class="btn primary block" id="offer-submit" type="submit">{tr("发布", "Publish")}</button>
        </form>
        <div class="card" id="own-offers">
            <h2>{tr("我的供货", "My offers")}</h2>
            {offers.show_items(move |list: Vec<Offer>| view! {
                <ul class="households">
                    {list.into_iter().map(|o| {
                        let id = o.id;
                        let withdrawn = o.withdrawn;
                        view! {
                            <li class="offer" data-offer=id>
                                {offer_facts(&o)}
                                <ul class="offer-days">
                                    {o.days.iter().map(|d| view! {
                                        <li>{d.day.clone()} " · " {tr("已订", "ordered")} " " {d.ordered} " · " {tr("余", "left")} " " {d.left} " · " {closes(&d.cutoff_at, d.open)}</li>
                                    }).collect_view()}
                                </ul>
                                {if withdrawn {
                                    view! { <p class="note">{tr("已撤下", "Withdrawn")}</p> }.into_any()
                                } else {
                                    view! {
                                        <button class="btn secondary withdraw-offer" on:click=move |_| {
                                            leptos::task::spawn_local(async move {
                                                if let Err(f) = api::withdraw_offer(id).await {
                                                    message.set(Some((false, f.text())));
                                                }
                                                offers.reload();
                                            });
                                        }>{tr("撤下", "Withdraw")}</button>
                                    }.into_any()
                                }}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
}

/// An offer's good, price and origin (data, never translated).
fn offer_facts(o: &Offer) -> impl IntoView {
    view! {
        <p><strong translate="no">{o.product.clone()}</strong> " " {o.price_fen.yuan()} "/" <span translate="no">{o.unit.clone()}</span>
           " · " {tr("每天", "a day")} " " {o.quantity} " · " <span translate="no">{o.origin.clone()}</span>
           " · " <span translate="no">{o.producer_name.clone()}</span></p>
    }
}

/// A button that downloads a spreadsheet (with the login) and says so if it cannot.
fn download(path: String, file: String, label: (&'static str, &'static str)) -> impl IntoView {
    let failed = RwSignal::new(None::<String>);
    view! {
        <button class="btn secondary" on:click=move |_| {
            let (path, file) = (path.clone(), file.clone());
            leptos::task::spawn_local(async move {
                failed.set(api::download_csv(path, &file).await.err().map(|f| f.text()));
            });
        }>{tr(label.0, label.1)}</button>
        {move || failed.get().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
    }
}

/// One day's purchase order: every stall's lines, the total, open or closed.
fn purchase_order(po: PurchaseOrder) -> impl IntoView {
    view! {
        <section class="purchase-order" data-day=po.day.clone()>
            <h3>{po.day.clone()} " · " {closes(&po.cutoff_at, po.open)} " · " {tr("合计", "Total")} " " {po.total_fen.yuan()}</h3>
            {download(format!("{}.csv?day={}", api::PRODUCER_ORDERS, po.day), format!("装车单{}.csv", po.day), ("⬇ 装车单表格", "⬇ Loading list"))}
            <table class="pick"><tbody>
                {po.lines.into_iter().map(|l| view! {
                    <tr>
                        <td translate="no">{l.stall_no} " " {l.vendor_name}</td>
                        <td translate="no">{l.product}</td>
                        <td class="num">{l.quantity} <span translate="no">{l.unit}</span></td>
                    </tr>
                }).collect_view()}
            </tbody></table>
        </section>
    }
}

// ---------- the stall ----------

/// 向供货方订货: the offers delivering on a day, each with the stall's quantity; a change is sent
/// line by line, and the stall's lines for the day are shown with their cut-off.
#[component]
pub fn StallPurchasing() -> impl IntoView {
    let session = crate::session::use_session();
    let stall = move || session.user.get().and_then(|u| u.vendor_id);
    let day = RwSignal::new(shanghai_date(2));
    let offers = Load::new(move || api::offers_path(&day.get()));
    let mine = Load::new(move || api::stall_purchases_path(&day.get()));
    let goods = Load::when(move || {
        stall().map(|v| api::products_path(&api::ProductFilter { vendor_id: Some(v), ..Default::default() }))
    });
    let message = RwSignal::new(None::<(bool, String)>);
    let order = move |offer_id: i64, quantity: i64, product_id: Option<i64>| {
        let body = PurchaseRequest {
            day: day.get_untracked(),
            lines: vec![PurchaseAsk { offer_id, quantity, product_id: product_id.map(ProductId) }],
        };
        leptos::task::spawn_local(async move {
            match api::order_from_producers(&body).await {
                Ok(_) => message.set(Some((true, format!("✓ {}", tr("已订货", "Ordered")())))),
                Err(f) => message.set(Some((false, f.text()))),
            }
            mine.reload();
            offers.reload();
        });
    };
    view! {
        <div class="card" id="stall-purchasing">
            <h2>{tr("向供货方订货", "Order from producers")}</h2>
            {day_choice("purchase-day", day)}
            {message_line(message, "purchase-message")}
            {mine.show_items(|lines: Vec<PurchaseLine>| (!lines.is_empty()).then(|| view! {
                <table class="pick" id="own-purchases"><tbody>
                    {lines.into_iter().map(|l| view! {
                        <tr>
                            <td translate="no">{l.product_name}</td>
                            <td class="num">{l.quantity} <span translate="no">{l.unit}</span></td>
                            <td translate="no">{l.producer_name}</td>
                            <td>{closes(&l.cutoff_at, l.open)}</td>
                        </tr>
                    }).collect_view()}
                </tbody></table>
            }))}
            // The offers once the stall's goods are in (each offer's row chooses among them).
            {goods.show_items(move |products: Vec<shared::api::Product>| offers.show_items(move |list: Vec<Offer>| if list.is_empty() {
                view! { <p>{tr("这天没有供货", "No offers for this day")}</p> }.into_any()
            } else {
                view! {
                    <ul class="households">
                        {list.into_iter().map(|o| view! { <OfferRow offer=o goods=products.clone() mine=mine order=order/> }).collect_view()}
                    </ul>
                }.into_any()
            }))}
        </div>
    }
}

/// One offer for the stall: how much is left that day, which of the stall's goods it is for
/// (those sold by its unit; the one of its name first), and the quantity to order.
#[component]
fn OfferRow(
    offer: Offer,
    goods: Vec<shared::api::Product>,
    mine: Load,
    order: impl Fn(i64, i64, Option<i64>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = offer.id;
    let current =
        mine.value::<shared::api::List<PurchaseLine>>().and_then(|l| l.items.into_iter().find(|x| x.offer_id == id));
    let quantity = RwSignal::new(current.as_ref().map(|l| l.quantity.to_string()).unwrap_or_default());
    let products: Vec<shared::api::Product> = goods.into_iter().filter(|p| p.unit == offer.unit).collect();
    let chosen = current
        .map(|l| l.product_id.get())
        .or_else(|| products.iter().find(|p| p.name == offer.product).map(|p| p.id.get()));
    let product = RwSignal::new(chosen);
    let day = offer.days.first().cloned();
    let open = day.as_ref().is_some_and(|d| d.open);
    view! {
        <li class="offer" data-offer=id>
            {offer_facts(&offer)}
            {day.map(|d| view! { <p class="note">{tr("当天还剩", "Left that day")} " " {d.left} " · " {closes(&d.cutoff_at, d.open)}</p> })}
            <label class="field">{tr("给我的哪样商品", "For which of my goods")}
                <select class="offer-product" on:change=move |ev| product.set(event_target_value(&ev).parse().ok())>
                    <option value="">{tr("请选择", "Choose")}</option>
                    {products.into_iter().map(|p| {
                        let pid = p.id.get();
                        view! { <option value=pid.to_string() selected=move || product.get() == Some(pid) translate="no">{p.name}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="field">{tr("订货数量（0 取消）", "Quantity (0 cancels)")}
                <input class="offer-quantity" type="number" inputmode="numeric" min="0" prop:value=move || quantity.get() on:input=move |ev| quantity.set(event_target_value(&ev))/>
            </label>
            <button class="btn primary order-offer" disabled=!open on:click=move |_| {
                order(id, quantity.get_untracked().trim().parse().unwrap_or(0), product.get_untracked());
            }>{tr("订货", "Order")}</button>
        </li>
    }
}

// ---------- staff ----------

#[component]
pub fn SupplyPage() -> impl IntoView {
    view! {
        <h1>{tr("采购计划", "Supply planning")}</h1>
        <Guarded next="/staff/supply" role=Role::Staff><SupplyPlanView/> <ProducersAdmin/></Guarded>
    }
}

/// Per product for a day: residents' orders and group-buy shares beside the stock and what is
/// on order; a shortage shows first, in red.
#[component]
fn SupplyPlanView() -> impl IntoView {
    let day = RwSignal::new(shanghai_date(1));
    let plan = Load::new(move || api::supply_plan_path(&day.get())).every(60);
    view! {
        <div class="card" id="supply-plan">
            <h2>{tr("需求、库存与在途", "Demand, stock and on order")}</h2>
            <label class="field" for="plan-day">{tr("日期", "Date")}</label>
            <input type="date" id="plan-day" prop:value=move || day.get() on:change=move |ev| day.set(event_target_value(&ev))/>
            {move || download(format!("/api/v1/admin/supply.csv?day={}", day.get()), format!("采购计划{}.csv", day.get()), ("⬇ 下载表格", "⬇ Spreadsheet"))}
            {plan.show_items(|rows: Vec<SupplyPlanRow>| if rows.is_empty() {
                view! { <p>{tr("这天还没有订单和在途货", "Nothing ordered or on order for this day")}</p> }.into_any()
            } else {
                view! {
                    <table class="pick plan"><thead><tr>
                        <th>{tr("商品", "Product")}</th><th>{tr("订单", "Orders")}</th><th>{tr("团购", "Group")}</th>
                        <th>{tr("库存", "Stock")}</th><th>{tr("在途", "On order")}</th>
                    </tr></thead><tbody>
                        {rows.into_iter().map(|r| view! {
                            <tr class:short=r.short data-product=r.product_id.get()>
                                <td><span translate="no">{r.product_name}</span> " · " <span translate="no">{r.stall_no}</span>
                                    {r.short.then(|| view! { " " <strong class="form-error">{tr("缺货风险", "Short")}</strong> })}</td>
                                <td class="num">{r.ordered}</td><td class="num">{r.group_buy}</td>
                                <td class="num">{r.stock}</td><td class="num">{r.on_order}</td>
                            </tr>
                        }).collect_view()}
                    </tbody></table>
                }.into_any()
            })}
        </div>
    }
}

/// The producers and adding one (with the phone that will publish its offers).
#[component]
fn ProducersAdmin() -> impl IntoView {
    let producers = Load::new(|| api::PRODUCERS.to_owned());
    let field = || RwSignal::new(String::new());
    let (name, origin, contact, phone) = (field(), field(), field(), field());
    let message = RwSignal::new(None::<(bool, String)>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = NewProducer {
            name: name.get_untracked(),
            origin: origin.get_untracked(),
            contact: contact.get_untracked(),
            cutoff_hour: None,
            phone: phone.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match api::add_producer(&body).await {
                Ok(p) => {
                    message.set(Some((true, format!("✓ {} {}", tr("已添加", "Added")(), p.name))));
                    for f in [name, origin, contact, phone] {
                        f.set(String::new());
                    }
                    producers.reload();
                }
                Err(f) => message.set(Some((false, f.text()))),
            }
        });
    };
    let input = |id: &'static str, label: (&'static str, &'static str), value: RwSignal<String>, kind: &'static str| {
        view! {
            <label class="field" for=id>{tr(label.0, label.1)}</label>
            <input id=id type=kind prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
        }
    };
    view! {
        <div class="card" id="producers">
            <h2>{tr("供货方", "Producers")}</h2>
            {producers.show_items(|list: Vec<Producer>| view! {
                <ul class="households">
                    {list.into_iter().map(|p| view! {
                        <li><strong translate="no">{p.name}</strong> " · " <span translate="no">{p.origin}</span> " · " {p.contact}
                            " · " {tr("前一天", "the day before,")} " " {p.cutoff_hour} ":00 " {tr("截单", "cut-off")}</li>
                    }).collect_view()}
                </ul>
            })}
            <form on:submit=submit id="producer-form">
                {input("producer-name", ("名称（农场、合作社、批发商）", "Name (farm, cooperative, wholesaler)"), name, "text")}
                {input("producer-origin", ("产地", "Origin"), origin, "text")}
                {input("producer-contact", ("联系电话", "Contact phone"), contact, "tel")}
                {input("producer-phone", ("发布供货的手机号", "Phone that publishes its offers"), phone, "tel")}
                {message_line(message, "producer-message")}
                <button class="btn primary block" type="submit" id="producer-submit">{tr("添加供货方", "Add the producer")}</button>
            </form>
        </div>
    }
}
