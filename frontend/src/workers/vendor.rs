//! A stall's console (摊位订单): the parts of orders for the stall, by slot, with the pick list
//! (each product totalled across the slot's orders, group-buy drops included); confirm a part,
//! saying what cannot be supplied, then mark it packed.

use crate::api;
use crate::components::{day_and_time, Guarded, Load, Stepper};
use crate::i18n::{now, t, tr, K};
use leptos::prelude::*;
use shared::api::{ConfirmPart, Shortage, Slot, VendorPart};
use shared::order::{PART_CONFIRMED, PART_PENDING};
use shared::{Fen, Role};
use std::collections::BTreeMap;

#[component]
pub fn VendorPage() -> impl IntoView {
    view! {
        <h1>{t(K::stall_orders)}</h1>
        <Guarded next="/vendor" role=Role::Vendor><StallConsole/> <super::supply::StallPurchasing/> <TakeIn/> <StallProducts/> <StallDays/></Guarded>
    }
}

#[component]
fn StallConsole() -> impl IntoView {
    let slot = RwSignal::new(None::<i64>);
    let slots = Load::new(move || api::slots_path(None));
    let live = RwSignal::new(false);
    // New orders arrive as they are placed; the slow poll only covers a stream that is down.
    let parts =
        Load::every_page(move || Some(api::vendor_orders_path(slot.get()))).live(api::VENDOR_EVENTS, live).every(60);
    let message = RwSignal::new(None::<(bool, String)>);
    view! {
        <label class="field">{tr("时段", "Time")}
            {slots.show_items(move |list: Vec<Slot>| view! {
                <select id="vendor-slot" on:change=move |ev| slot.set(event_target_value(&ev).parse().ok())>
                    <option value="">{tr("全部时段", "All slots")}</option>
                    {list.into_iter().map(|s| {
                        let (day, time) = day_and_time(&s.starts_at);
                        view! { <option value=s.id.to_string()>{day.get(5..).unwrap_or_default().to_owned()} " " {time} "–" {day_and_time(&s.ends_at).1}</option> }
                    }).collect_view()}
                </select>
            })}
        </label>
        <p class="live-state" id="vendor-live" class:on=move || live.get()>
            {move || if live.get() { tr("● 新订单会自动出现", "● New orders appear by themselves")() } else { tr("○ 正在连接，订单每分钟刷新", "○ Connecting; orders refresh every minute")() }}
        </p>
        {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:banner=ok class:success=ok role="status" id="vendor-message">{m}</p> })}
        {parts.show_items(move |list: Vec<VendorPart>| view! {
            <PickList parts=list.clone()/>
            {if list.is_empty() {
                view! { <div class="card center"><p>{tr("暂时没有订单", "No orders yet")}</p></div> }.into_any()
            } else {
                view! {
                    <ul class="vendor-parts">
                        {list.into_iter().map(|p| view! { <PartCard part=p parts=parts message=message/> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        })}
    }
}

/// What to take from the stall for these parts: each product totalled, less what is short.
#[component]
fn PickList(parts: Vec<VendorPart>) -> impl IntoView {
    let mut totals: BTreeMap<(String, String), i64> = BTreeMap::new();
    for p in parts.iter().filter(|p| p.status != shared::order::PART_PACKED) {
        for l in &p.items {
            *totals.entry((l.name.clone(), l.unit.clone())).or_default() += l.quantity - l.short_quantity;
        }
    }
    (!totals.is_empty()).then(|| view! {
        <div class="card" id="pick-list">
            <h2>{tr("配货单", "Pick list")}</h2>
            <table class="pick"><tbody>
                {totals.into_iter().map(|((name, unit), q)| view! { <tr><td>{name}</td><td class="num">{q} {unit}</td></tr> }).collect_view()}
            </tbody></table>
        </div>
    })
}

#[component]
fn PartCard(part: VendorPart, parts: Load, message: RwSignal<Option<(bool, String)>>) -> impl IntoView {
    let id = part.id.get();
    let short: RwSignal<BTreeMap<i64, i64>> = RwSignal::new(BTreeMap::new());
    let busy = RwSignal::new(false);
    let done = move |r: api::ApiResult<VendorPart>| {
        match r {
            Ok(_) => message.set(Some((true, now(K::saved).to_owned()))),
            Err(f) => message.set(Some((false, f.text()))),
        }
        busy.set(false);
        parts.reload();
    };
    let confirm = move |_| {
        busy.set(true);
        let shortages = short
            .get_untracked()
            .into_iter()
            .filter(|(_, q)| *q > 0)
            .map(|(product, quantity)| Shortage { product_id: shared::ProductId(product), quantity })
            .collect();
        leptos::task::spawn_local(async move { done(api::confirm_part(id, &ConfirmPart { shortages }).await) });
    };
    let pack = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move { done(api::pack_part(id).await) });
    };
    let pending = part.status == PART_PENDING;
    let confirmed = part.status == PART_CONFIRMED;
    let address = [part.building.clone(), part.unit.clone(), part.room.clone()];
    let subtotal: Fen = part.subtotal_fen;
    view! {
        <li class="card vendor-part" data-part=id>
            <p class="slot-head">
                <strong>{t(K::order_no)} " " {part.order_id.get()}</strong>
                <span class=format!("badge part-{}", part.status)>{part_label(&part.status)}</span>
            </p>
            <p>{match part.pickup_point.clone() {
                    Some(point) => view! { "📍" {tr("自提点", "Pickup point")} " " {point} }.into_any(),
                    None => view! { <span translate="no">{part.community.clone().unwrap_or_default()}</span> " " {address[0].clone().unwrap_or_default()} {t(K::building)} " " {address[1].clone().unwrap_or_default()} {t(K::unit)} " "
                        {address[2].clone().unwrap_or_default()} {t(K::room)} }.into_any(),
                }}
                " · " {part.phone.clone().unwrap_or_default()}
                {part.group_buy_id.map(|g| g.get()).map(|g| view! { " · " <span class="badge">{t(K::nav_group)} " #" {g}</span> })}</p>
            {part.note.clone().map(|n| view! { <p class="note">{tr("备注（选填）", "Note (optional)")} ": " {n}</p> })}
            <ul class="box-items">
                {part.items.iter().map(|l| {
                    let product = l.product_id.get();
                    let quantity = l.quantity;
                    view! {
                        <li>
                            <span>{l.name.clone()} " ×" {l.quantity} {l.unit.clone()}
                                {(l.short_quantity > 0).then(|| view! { " " <span class="note warn">{tr("缺货", "Out of stock:")} " " {l.short_quantity}</span> })}
                                {l.recalled.clone().map(|why| view! { <strong class="form-error recalled" role="alert">"⚠ " {why}</strong> })}</span>
                            {pending.then(|| view! {
                                <span class="short-step"><span class="note">{tr("缺货", "Out of stock:")}</span>
                                    {move || view! {
                                        <Stepper quantity=short.get().get(&product).copied().unwrap_or(0) max=quantity min=0
                                            on_change=Callback::new(move |q| short.update(|m| { m.insert(product, q); }))/>
                                    }}
                                </span>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <p class="order-total-line">{tr("合计", "Total")} " " <strong>{subtotal.yuan()}</strong></p>
            {pending.then(|| view! { <button class="btn primary block confirm-part" disabled=move || busy.get() on:click=confirm>{tr("确认接单", "Confirm")}</button> })}
            {confirmed.then(|| view! { <button class="btn primary block pack-part" disabled=move || busy.get() on:click=pack>{tr("已打包", "Packed")}</button> })}
        </li>
    }
}

fn part_label(status: &str) -> impl Fn() -> &'static str {
    t(match status {
        PART_PENDING => K::part_pending,
        PART_CONFIRMED => K::part_confirmed,
        _ => K::part_packed,
    })
}

/// The stall holder's own 休市 (a day of rest) and 停业 (closed until opened again): residents
/// cannot order its goods for then.
#[component]
fn StallDays() -> impl IntoView {
    let session = crate::session::use_session();
    let stall =
        Load::when(move || session.user.get().and_then(|u| u.vendor_id).map(|v| format!("{}/{v}", api::VENDORS)));
    let said = RwSignal::new(None::<Result<(), String>>);
    let change = move |body: shared::api::UpdateStall| {
        leptos::task::spawn_local(async move {
            said.set(Some(api::change_own_stall(&body).await.map(|_| ()).map_err(|e| e.text())));
            stall.reload();
        });
    };
    view! {
        <div class="card" id="stall-days">
            <h2>{tr("营业与休市", "Open, closed, resting")}</h2>
            {stall.show(move |v: shared::api::Vendor| {
                let open = v.open;
                let day = v.closed_on.clone().unwrap_or_default();
                view! {
                    <button class="btn secondary block" id="own-open" class:warn=!open
                        on:click=move |_| change(shared::api::UpdateStall { open: Some(!open), ..Default::default() })>
                        {if open { tr("营业中 · 暂停营业", "Open · close the stall") } else { tr("已停业 · 恢复营业", "Closed · open the stall") }}
                    </button>
                    <label class="block-label" for="own-rest-day">{tr("休市日（这天不送、不自提）", "Resting day (nothing goes out that day)")}</label>
                    <input id="own-rest-day" type="date" prop:value=day
                        on:change=move |ev| change(shared::api::UpdateStall { closed_on: Some(event_target_value(&ev)), ..Default::default() })/>
                }
            })}
            {move || said.get().map(|s| match s {
                Ok(()) => view! { <p class="note" role="status" id="stall-days-done">{t(K::saved)}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
        </div>
    }
}

/// The stall's own goods: stock and price, each change kept in the public price record.
#[component]
fn StallProducts() -> impl IntoView {
    let session = crate::session::use_session();
    let stall = move || session.user.get().and_then(|u| u.vendor_id);
    let products = Load::when(move || {
        stall().map(|v| api::products_path(&api::ProductFilter { vendor_id: Some(v), ..Default::default() }))
    });
    let message = RwSignal::new(None::<(bool, String)>);
    view! {
        <div class="card" id="stall-products">
            <h2>{tr("我的商品（库存、价格、照片）", "My goods (stock, prices, photos)")}</h2>
            {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:added=ok role="status">{m}</p> })}
            {products.show_items(move |list: Vec<shared::api::Product>| view! {
                <ul class="households">
                    {list.into_iter().map(|p| {
                        let id = p.id.get();
                        let stock = RwSignal::new(p.stock.to_string());
                        let price = RwSignal::new(format!("{}.{:02}", p.price_fen.get() / 100, p.price_fen.get() % 100));
                        let save = move |_| {
                            let Some(fen) = shared::domain::fen_of_yuan(&price.get_untracked()) else {
                                message.set(Some((false, now(K::bad_price).to_owned())));
                                return;
                            };
                            let body = shared::api::UpdateProductRequest {
                                stock: stock.get_untracked().trim().parse().ok(),
                                price_fen: Fen::new(fen).ok(),
                                ..Default::default()
                            };
                            leptos::task::spawn_local(async move {
                                match api::update_own_product(id, &body).await {
                                    Ok(_) => message.set(Some((true, now(K::saved).to_owned()))),
                                    Err(f) => message.set(Some((false, f.text()))),
                                }
                                products.reload();
                            });
                        };
                        let photo = NodeRef::<leptos::html::Input>::new();
                        let upload = move |_| {
                            let Some(file) = photo.get_untracked().and_then(|i| i.files()).and_then(|f| f.get(0)) else { return };
                            message.set(Some((true, tr("正在上传…", "Uploading…")().to_owned())));
                            leptos::task::spawn_local(async move {
                                match api::product_photo(id, &file, true).await {
                                    Ok(_) => message.set(Some((true, tr("照片已更新", "Photo saved")().to_owned()))),
                                    Err(f) => message.set(Some((false, f.text()))),
                                }
                                products.reload();
                            });
                        };
                        let picture = p.photo.clone().map(|ph| view! { <img class="product-icon" src=ph.thumb_url alt="" width="64" height="64" loading="lazy"/> });
                        view! {
                            <li class="own-product" data-product=id>
                                {picture}
                                <strong>{p.name.clone()}</strong>
                                <label class="photo-pick">{tr("📷 拍照片", "📷 Photo")}
                                    <input class="own-photo" type="file" accept="image/jpeg,image/png,image/webp" node_ref=photo on:change=upload/></label>
                                <label>{t(K::stock)} <input class="own-stock" inputmode="numeric" prop:value=move || stock.get() on:input=move |ev| stock.set(event_target_value(&ev))/></label>
                                <label>"¥" <input class="own-price" inputmode="decimal" prop:value=move || price.get() on:input=move |ev| price.set(event_target_value(&ev))/> "/" {p.unit.clone()}</label>
                                <button class="btn secondary save-product" on:click=save>{t(K::save)}</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
}

/// 收货登记: a delivery taken in as a lot, with the certificate that came with it (无证不得收购)
/// and the rapid test if one was done; then the stall's lots.
#[component]
fn TakeIn() -> impl IntoView {
    let session = crate::session::use_session();
    let stall = move || session.user.get().and_then(|u| u.vendor_id);
    let products = Load::when(move || {
        stall().map(|v| api::products_path(&api::ProductFilter { vendor_id: Some(v), ..Default::default() }))
    });
    let lots = Load::new(|| api::lots_path(true));
    let field = || RwSignal::new(String::new());
    let (product, quantity, printed, origin, issued, issuer, contact) =
        (field(), field(), field(), field(), field(), field(), field());
    let tested = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let paper = NodeRef::<leptos::html::Input>::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(product_id) = product.get_untracked().parse::<i64>().ok() else {
            message.set(Some((false, tr("请选择商品", "Choose the product")().to_owned())));
            return;
        };
        let name = products
            .value::<shared::api::List<shared::api::Product>>()
            .and_then(|l| l.items.into_iter().find(|p| p.id.get() == product_id).map(|p| p.name))
            .unwrap_or_default();
        let test = match tested.get_untracked().as_str() {
            "" => vec![],
            result => vec![shared::api::LotTest {
                method: "酶抑制率法".into(),
                result: result.to_owned(),
                by: tr("摊位自检", "The stall")().to_owned(),
                at: js_sys::Date::new_0().to_iso_string().as_string().unwrap_or_default(),
            }],
        };
        let body = shared::api::TakeInLot {
            product_id: shared::ProductId(product_id),
            quantity: quantity.get_untracked().trim().parse().unwrap_or(0),
            certificate: Some(shared::api::Certificate {
                product: name,
                quantity: printed.get_untracked(),
                origin: origin.get_untracked(),
                issued_at: issued.get_untracked(),
                issuer: issuer.get_untracked(),
                contact: contact.get_untracked(),
                qr: None,
            }),
            tests: test,
        };
        let photo = super::goods::chosen(paper);
        leptos::task::spawn_local(async move {
            let taken = api::take_in_lot(&body).await;
            // The certificate's photo goes with the lot it belongs to, once the lot exists.
            let taken = match (taken, photo) {
                (Ok(lot), Some(file)) => match api::certificate_photo(lot.id, &file).await {
                    Ok(with_photo) => Ok(with_photo),
                    Err(f) => {
                        message.set(Some((false, f.text())));
                        lots.reload();
                        return;
                    }
                },
                (taken, _) => taken,
            };
            match taken {
                Ok(lot) if lot.held.is_some() => message.set(Some((
                    false,
                    format!(
                        "{} {}: {}",
                        tr("批次", "Lot")(),
                        lot.id,
                        tr("快检不合格，已登记但不上架", "failed its test: recorded, not on sale")()
                    ),
                ))),
                Ok(lot) => message.set(Some((
                    true,
                    format!(
                        "✓ {} {} · {} {}",
                        tr("已收货，批次", "Taken in, lot")(),
                        lot.id,
                        lot.quantity,
                        tr("已加入库存", "added to stock")()
                    ),
                ))),
                Err(f) => message.set(Some((false, f.text()))),
            }
            lots.reload();
        });
    };
    let input = |id: &'static str,
                 label: &'static str,
                 en: &'static str,
                 value: RwSignal<String>,
                 kind: &'static str| {
        view! {
            <label class="field" for=id>{tr(label, en)}</label>
            <input id=id type=kind prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
        }
    };
    view! {
        <form class="card" id="take-in" on:submit=submit>
            <h2>{tr("收货登记（须有合格证）", "Take a delivery in (with its certificate)")}</h2>
            <label class="field" for="lot-product">{tr("商品", "Product")}</label>
            {products.show_items(move |list: Vec<shared::api::Product>| view! {
                <select id="lot-product" on:change=move |ev| product.set(event_target_value(&ev))>
                    <option value="">{tr("请选择", "Choose")}</option>
                    {list.into_iter().map(|p| view! { <option value=p.id.get().to_string()>{p.name}</option> }).collect_view()}
                </select>
            })}
            {input("lot-quantity", "收货数量（按商品单位）", "Quantity (in the product's unit)", quantity, "number")}
            <p class="note">{tr("合格证上的内容：", "As the certificate says:")}</p>
            {input("lot-printed", "合格证数量（如 500公斤）", "Certificate quantity (e.g. 500 kg)", printed, "text")}
            {input("lot-origin", "产地", "Origin", origin, "text")}
            {input("lot-issued", "开具日期", "Issued on", issued, "date")}
            {input("lot-issuer", "开具者（农场、合作社）", "Issuer (farm, cooperative)", issuer, "text")}
            {input("lot-contact", "联系电话", "Contact phone", contact, "tel")}
            <label class="field" for="lot-paper">{tr("合格证照片（选填，拍照）", "Photo of the certificate (optional)")}</label>
            <input id="lot-paper" type="file" accept="image/jpeg,image/png,image/webp" node_ref=paper/>
            <label class="field" for="lot-test">{tr("农残快检（选填）", "Rapid test (optional)")}</label>
            <select id="lot-test" on:change=move |ev| tested.set(event_target_value(&ev))>
                <option value="">{tr("未检测", "Not tested")}</option>
                <option value="pass">{tr("合格", "Passed")}</option>
                <option value="fail">{tr("不合格", "Failed")}</option>
            </select>
            {move || message.get().map(|(ok, m)| view! { <p class:form-error=!ok class:added=ok role="status" id="take-in-message">{m}</p> })}
            <button class="btn primary block" id="take-in-submit" type="submit">{tr("登记收货", "Take it in")}</button>
        </form>
        <div class="card" id="own-lots">
            <h2>{tr("我的批次", "My lots")}</h2>
            {lots.show_items(|list: Vec<shared::api::Lot>| view! { <ul class="households">{list.into_iter().map(lot_row).collect_view()}</ul> })}
        </div>
    }
}

/// One lot in a list: product, what is left, origin and issuer, its latest test, held or not.
pub(super) fn lot_row(l: shared::api::Lot) -> impl IntoView {
    view! { <li class="lot" data-lot=l.id>{lot_facts(&l)}</li> }
}

/// What a lot's row says (the names are the market's data, never translated).
pub(super) fn lot_facts(l: &shared::api::Lot) -> impl IntoView {
    let test = l.tests.first().map(|t| {
        if t.result == "pass" {
            tr("快检合格", "Test passed")
        } else {
            tr("快检不合格", "Test failed")
        }
    });
    view! {
        <strong>{tr("批次", "Lot")} " " {l.id} " · " <span translate="no">{l.product_name.clone()}</span></strong>
        <span>{l.remaining} " / " {l.quantity}</span>
        <span class="note" translate="no">{l.certificate.origin.clone()} " · " {l.certificate.issuer.clone()}</span>
        {test.map(|t| view! { <span class="note">{t}</span> })}
        {l.certificate_photo.clone().map(|p| view! { <a class="note" href=p.url target="_blank">"📄 " {tr("合格证照片", "Certificate photo")}</a> })}
        {l.held.clone().map(|h| view! { <span class="badge status-cancelled lot-held">{tr("已停售", "Held")} ": " <span translate="no">{h.reason}</span></span> })}
    }
}
