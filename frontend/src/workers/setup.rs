//! Staff set up the catalogue on a market's first day: categories, stalls and their goods, each
//! on sale at once and recorded in the audit.

use super::goods::line;
use crate::api;
use crate::components::Load;
use crate::i18n::{lang, tr, Lang};
use leptos::prelude::*;
use shared::api::{Category, CategoryOnRecord, List, NewCategory, NewProduct, NewStall, UpdateCategory, Vendor};

/// A choice among the loaded categories or stalls: (value, label) pairs.
fn choice(
    id: &'static str,
    label: impl IntoView,
    value: RwSignal<String>,
    options: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    view! {
        <label>{label}
            <select id=id on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="" selected=move || value.get().is_empty()>"—"</option>
                {move || options.get().into_iter().map(|(v, l)| {
                    let chosen = v.clone();
                    // Stall names are names: kept as they are in English.
                    view! { <option value=v translate="no" selected=move || value.get() == chosen>{l}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

#[component]
pub fn CatalogueSetup() -> impl IntoView {
    let categories = Load::of(api::CATEGORIES);
    let stalls = Load::of(api::VENDORS);
    let said = RwSignal::new(None::<Result<String, String>>);
    let category_options = Signal::derive(move || {
        let list: Vec<Category> = categories.value::<List<Category>>().map(|l| l.items).unwrap_or_default();
        let english = lang() != Lang::Zh;
        list.into_iter().map(|c| (c.id, if english { c.name_en } else { c.name_zh })).collect::<Vec<_>>()
    });
    let stall_options = Signal::derive(move || {
        let list: Vec<Vendor> = stalls.value::<List<Vendor>>().map(|l| l.items).unwrap_or_default();
        list.into_iter().map(|v| (v.id.to_string(), format!("{} {}", v.stall_no, v.name))).collect::<Vec<_>>()
    });
    let done = move |what: Result<String, api::Failure>| {
        said.set(Some(what.map_err(|f| f.text())));
    };

    // Categories on record: one is retired (out of the list, no new goods) once none of its
    // goods is on sale, and brought back the same way.
    let on_record = Load::of(api::CATEGORIES_ON_RECORD);
    let retire = move |id: String, retired: bool| {
        leptos::task::spawn_local(async move {
            let body = UpdateCategory { retired: Some(retired), ..Default::default() };
            let answer = api::change_category(&id, &body).await;
            if answer.is_ok() {
                on_record.reload();
                categories.reload();
            }
            done(answer.map(|c| c.name_zh));
        });
    };

    // A category.
    let cat_name = RwSignal::new(String::new());
    let cat_en = RwSignal::new(String::new());
    let add_category = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let en = cat_en.get_untracked();
        let body = NewCategory {
            name: cat_name.get_untracked(),
            name_en: (!en.trim().is_empty()).then_some(en),
            ..Default::default()
        };
        leptos::task::spawn_local(async move {
            let answer = api::add_category(&body).await;
            if answer.is_ok() {
                cat_name.set(String::new());
                cat_en.set(String::new());
                categories.reload();
                on_record.reload();
            }
            done(answer.map(|c| c.name_zh));
        });
    };

    // A stall.
    let stall_name = RwSignal::new(String::new());
    let hall = RwSignal::new(String::new());
    let number = RwSignal::new(String::new());
    let stall_category = RwSignal::new(String::new());
    let add_stall = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let given = |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
        let body = NewStall {
            name: stall_name.get_untracked(),
            hall: given(hall),
            number: given(number),
            category: given(stall_category),
            description: None,
        };
        leptos::task::spawn_local(async move {
            let answer = api::add_stall(&body).await;
            if answer.is_ok() {
                stall_name.set(String::new());
                number.set(String::new());
                stalls.reload();
            }
            done(answer.map(|v| format!("{} {}", v.stall_no, v.name)));
        });
    };

    // A product.
    let stall = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let unit = RwSignal::new("斤".to_owned());
    let price = RwSignal::new(String::new());
    let stock = RwSignal::new(String::new());
    let origin = RwSignal::new(String::new());
    let add_product = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Ok(vendor), Some(fen), Ok(stock_n)) = (
            stall.get_untracked().parse::<i64>(),
            shared::domain::fen_of_yuan(&price.get_untracked()),
            stock.get_untracked().trim().parse::<i64>(),
        ) else {
            said.set(Some(Err(tr(
                "请选择摊位，填写价格（元）和库存",
                "Choose the stall; enter the price (yuan) and stock",
            )()
            .to_owned())));
            return;
        };
        let Ok(price_fen) = shared::Fen::new(fen) else {
            said.set(Some(Err(tr("价格超出范围", "Price out of range")().to_owned())));
            return;
        };
        let o = origin.get_untracked();
        let body = NewProduct {
            vendor_id: Some(vendor),
            category: category.get_untracked(),
            name: name.get_untracked(),
            unit: unit.get_untracked(),
            price_fen,
            stock: stock_n,
            per_order_limit: None,
            origin: (!o.trim().is_empty()).then_some(o),
            description: None,
        };
        leptos::task::spawn_local(async move {
            let answer = api::add_product(&body).await;
            if answer.is_ok() {
                name.set(String::new());
                price.set(String::new());
                stock.set(String::new());
            }
            done(answer.map(|p| format!("{} {}/{}", p.product.name, p.product.price_fen.yuan(), p.product.unit)));
        });
    };

    view! {
        <section class="card" id="catalogue-setup">
            <h2>{tr("商品与摊位", "Goods and stalls")}</h2>
            <p class="note">{tr("新市场先建分类和摊位，再上架商品；添加后居民立即可见可买，价格进入公开的价格记录，每次改动都有记录。", "A new market adds categories and stalls first, then goods: residents see and can buy them at once, each price goes into the public price record, and every change is recorded.")}</p>
            {move || said.get().map(|s| match s {
                Ok(m) => view! { <p class="note" role="status" id="setup-done">{tr("已添加：", "Added: ")} <span translate="no">{m}</span></p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
            <h3>{tr("新分类", "A category")}</h3>
            <form class="form-grid" on:submit=add_category novalidate>
                {line("category-name", tr("名称", "Name"), cat_name, false)}
                {line("category-en", tr("英文名", "English name"), cat_en, false)}
                <button id="add-category" type="submit" class="btn secondary">{tr("添加分类", "Add the category")}</button>
            </form>
            <h3>{tr("全部分类", "Every category")}</h3>
            {on_record.show_items(move |items: Vec<CategoryOnRecord>| view! {
                <ul class="pick-list categories-on-record">
                    {items.into_iter().map(|c| {
                        let (id, retired) = (c.id.clone(), c.retired);
                        let (icon, zh, en) = (c.icon, c.name_zh, c.name_en);
                        let name = move || format!("{icon} {}", if lang() == Lang::Zh { &zh } else { &en });
                        view! {
                            <li data-category=c.id.clone() class:retired=retired>
                                <span translate="no">{name}</span>
                                <span class="note">{move || if retired {
                                    tr("已停用", "Retired")().to_owned()
                                } else {
                                    format!("{} {}", c.product_count, tr("样在售", "on sale")())
                                }}</span>
                                <button class="btn secondary toggle-retired" class:warn=retired
                                    on:click=move |_| retire(id.clone(), !retired)>
                                    {if retired { tr("恢复", "Bring it back") } else { tr("停用", "Retire it") }}
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            <h3>{tr("新摊位", "A stall")}</h3>
            <form class="form-grid" on:submit=add_stall novalidate>
                {line("stall-name", tr("摊位名称", "Name"), stall_name, false)}
                {choice("stall-category", tr("主营分类", "Mostly sells"), stall_category, category_options)}
                {line("stall-hall", tr("区", "Hall"), hall, false)}
                {line("stall-number", tr("号", "Number"), number, true)}
                <button id="add-stall" type="submit" class="btn secondary">{tr("添加摊位", "Add the stall")}</button>
            </form>
            <h3>{tr("新商品", "A product")}</h3>
            <form class="form-grid" on:submit=add_product novalidate>
                {choice("product-stall", tr("摊位", "Stall"), stall, stall_options)}
                {choice("product-category", tr("分类", "Category"), category, category_options)}
                {line("product-name", tr("品名", "Name"), name, false)}
                {line("product-unit", tr("单位", "Unit"), unit, false)}
                {line("product-price", tr("价格（元）", "Price (yuan)"), price, true)}
                {line("product-stock", tr("库存", "Stock"), stock, true)}
                {line("product-origin", tr("产地", "Origin"), origin, false)}
                <button id="add-product" type="submit" class="btn secondary">{tr("上架商品", "Put it on sale")}</button>
            </form>
        </section>
    }
}
