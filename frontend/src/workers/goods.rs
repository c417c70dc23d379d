//! Staff keep the market's goods and people: the spreadsheet of goods (export, check, import),
//! one product changed, retired or given a photo, and who holds which role, stall and buildings.

use crate::api;
use crate::components::Load;
use crate::i18n::tr;
use leptos::prelude::*;
use shared::api::{CatalogueImport, ImportAction, Page, Product, UpdateProductRequest, User};

/// Words in both languages, shown in the one chosen.
type Words = (&'static str, &'static str);

/// A file chosen in a file input.
pub(super) fn chosen(input: NodeRef<leptos::html::Input>) -> Option<web_sys::File> {
    input.get_untracked()?.files()?.get(0)
}

/// A line of a form: a label over its input.
pub(super) fn line(id: &'static str, label: impl IntoView, value: RwSignal<String>, numeric: bool) -> impl IntoView {
    view! {
        <label>{label}<input id=id inputmode=if numeric { "decimal" } else { "text" } maxlength="30"
            prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/></label>
    }
}

/// A spreadsheet staff bring in at `path`: chosen, checked row by row (new, changed, unchanged,
/// errors with their row and column), then taken whole. Element ids start with `id`.
#[component]
fn SheetImport(id: &'static str, path: &'static str) -> impl IntoView {
    let file = NodeRef::<leptos::html::Input>::new();
    let busy = RwSignal::new(false);
    let checked = RwSignal::new(None::<CatalogueImport>);
    let said = RwSignal::new(None::<Result<(u32, u32), String>>);
    let run = move |dry_run: bool| {
        let Some(f) = chosen(file) else {
            said.set(Some(Err(tr("请先选择文件", "Choose a file first")().to_owned())));
            return;
        };
        busy.set(true);
        said.set(None);
        leptos::task::spawn_local(async move {
            match api::import_sheet(path, &f, dry_run).await {
                Ok(answer) if !dry_run && answer.applied => {
                    checked.set(None);
                    said.set(Some(Ok((answer.created, answer.updated))));
                }
                Ok(answer) => checked.set(Some(answer)),
                Err(e) => said.set(Some(Err(e.text()))),
            }
            busy.set(false);
        });
    };
    let count = |r: &CatalogueImport, a: ImportAction| r.rows.iter().filter(|row| row.action == a).count();
    view! {
        <label class="block-label" for=format!("{id}-file-input")>{tr("选择文件", "File")}</label>
        <input id=format!("{id}-file-input") type="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" node_ref=file
            on:change=move |_| { checked.set(None); said.set(None); }/>
        <button class="btn secondary block" id=format!("{id}-check") disabled=move || busy.get() on:click=move |_| run(true)>
            {move || if busy.get() { tr("正在处理…", "Working…")() } else { tr("检查文件", "Check the file")() }}
        </button>
        {move || checked.get().map(|r| {
            let clean = r.rows.iter().all(|row| row.action != ImportAction::Error);
            let summary = format!(
                "{} {} · {} {} · {} {} · {} {}",
                tr("新增", "new")(), count(&r, ImportAction::Create),
                tr("有改动", "changed")(), count(&r, ImportAction::Update),
                tr("无变化", "unchanged")(), count(&r, ImportAction::Unchanged),
                tr("有错误", "with errors")(), count(&r, ImportAction::Error),
            );
            let errors: Vec<_> = r.rows.iter().filter(|row| row.action == ImportAction::Error).take(50).cloned().collect();
            view! {
                <p class="note" role="status" id=format!("{id}-summary")>{summary}</p>
                <ul class="import-errors">
                    {errors.into_iter().map(|row| view! {
                        <li>{format!("{} {}", tr("第", "Row")(), row.row)} {tr("行", "")} " "
                            {row.errors.iter().map(|e| format!("{}：{}", e.column.clone().unwrap_or_default(), e.reason)).collect::<Vec<_>>().join("；")}</li>
                    }).collect_view()}
                </ul>
                {if clean {
                    view! { <button class="btn block" id=format!("{id}-apply") disabled=move || busy.get() on:click=move |_| run(false)>{tr("确认导入", "Import")}</button> }.into_any()
                } else {
                    view! { <p class="form-error" role="alert">{tr("请改正以上错误后重新选择文件（有错误时不会导入任何一行）", "Correct the rows above and choose the file again (nothing is imported while a row has an error)")}</p> }.into_any()
                }}
            }
        })}
        {move || said.get().map(|s| match s {
            Ok((created, updated)) => view! { <p class="note" role="status" id=format!("{id}-done")>
                {tr("已导入：新增", "Imported: new")} " " {created} " · " {tr("改动", "changed")} " " {updated}</p> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
        })}
    }
}

/// The market's spreadsheet of goods: download it (CSV or XLSX), edit it in Excel or WPS, check
/// it row by row and bring it in whole.
#[component]
pub fn CatalogueFile() -> impl IntoView {
    let failed = RwSignal::new(None::<String>);
    let download = move |xlsx: bool| {
        leptos::task::spawn_local(async move {
            let (path, name) = if xlsx {
                ("/api/v1/admin/catalogue/export.xlsx", "商品表.xlsx")
            } else {
                ("/api/v1/admin/catalogue/export.csv", "商品表.csv")
            };
            failed.set(api::download_file(path, name).await.err().map(|e| e.text()));
        });
    };
    view! {
        <section class="card" id="catalogue-file">
            <h2>{tr("商品表（批量上架、改价）", "The goods spreadsheet")}</h2>
            <p class="note">{tr("下载现有商品表，用Excel或WPS修改后上传：列为编号、摊位号、分类、品名、单位、价格（元）、库存、限购、产地、在售（是/否）、说明；新商品编号留空。先检查，无错误再导入；同一文件导入两次不会重复。",
                "Download the goods, edit them in Excel or WPS and bring them back: columns id, stall, category, name, unit, price (yuan), stock, limit, origin, on sale (是/否), description; leave the id empty for a new product. Check first, import when no row has an error; the same file twice changes nothing.")}</p>
            <div class="actions">
                <button class="btn secondary" id="catalogue-xlsx" on:click=move |_| download(true)>"⬇ Excel (XLSX)"</button>
                <button class="btn secondary" id="catalogue-csv" on:click=move |_| download(false)>"⬇ CSV"</button>
            </div>
            {move || failed.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <SheetImport id="catalogue" path="/api/v1/admin/catalogue/import"/>
        </section>
    }
}

/// The buildings the market serves, brought in as a list (a compound's buildings at once).
#[component]
pub fn BuildingList() -> impl IntoView {
    view! {
        <section class="card" id="building-list">
            <h2>{tr("批量导入楼栋", "Buildings from a list")}</h2>
            <p class="note">{tr("CSV或Excel文件，列为小区、楼号、单元数（空为1）、封闭（是/否，可空）。已有的楼按表更新单元数和封闭；先检查，无错误再导入。",
                "A CSV or Excel file with the columns community, building, units (1 when empty), closed (是/否, may be empty). Buildings on record take the list's units and closed. Check first, import when no row has an error.")}</p>
            <SheetImport id="buildings" path="/api/v1/admin/buildings/import"/>
        </section>
    }
}

/// One product found by name and changed: its name, unit, price, stock, limit and origin, its
/// photo, or taken off sale (retired products come back through the spreadsheet).
#[component]
pub fn ProductEditor() -> impl IntoView {
    let query = RwSignal::new(String::new());
    // On sale and retired alike: a retired product is found here to put it back.
    let found = Load::when(move || {
        let q = query.get();
        (!q.trim().is_empty()).then(|| api::find_products_path(q.trim()))
    });
    let editing = RwSignal::new(None::<Product>);
    // Outside the form: the form is made anew with the product as changed, the word stays.
    let said = RwSignal::new(None::<Result<Words, String>>);
    view! {
        <section class="card" id="product-editor">
            <h2>{tr("修改商品", "Change a product")}</h2>
            <label>{tr("按品名查找", "Find by name")}
                <input id="product-find" type="search" prop:value=move || query.get()
                    on:change=move |ev| { editing.set(None); said.set(None); query.set(event_target_value(&ev)); }/></label>
            {move || (!query.get().trim().is_empty() && editing.get().is_none()).then(|| found.show_items(move |items: Vec<Product>| view! {
                <ul class="pick-list">
                    {items.into_iter().take(20).map(|p| {
                        let off = if p.on_sale { "" } else { " ⛔" };
                        let label = format!("{} · {} · {}/{}{off}", p.name, p.vendor_name, p.price_fen.yuan(), p.unit);
                        view! { <li><button class="link product-pick" translate="no" on:click=move |_| editing.set(Some(p.clone()))>{label}</button></li> }
                    }).collect_view()}
                </ul>
            }))}
            {move || editing.get().map(|p| view! { <EditProduct product=p editing=editing said=said/> })}
            {move || said.get().map(|s| match s {
                Ok((zh, en)) => view! { <p class="note" role="status" id="edit-done">{tr(zh, en)}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn EditProduct(
    product: Product,
    editing: RwSignal<Option<Product>>,
    said: RwSignal<Option<Result<Words, String>>>,
) -> impl IntoView {
    let id = product.id.get();
    let name = RwSignal::new(product.name.clone());
    let unit = RwSignal::new(product.unit.clone());
    let price = RwSignal::new(product.price_fen.yuan().trim_start_matches('¥').to_owned());
    let stock = RwSignal::new(product.stock.to_string());
    let limit = RwSignal::new(product.per_order_limit.map(|l| l.to_string()).unwrap_or_default());
    let origin = RwSignal::new(product.origin.clone());
    let photo = NodeRef::<leptos::html::Input>::new();
    let busy = RwSignal::new(false);
    let done = move |answer: api::ApiResult<Product>, what: Words| match answer {
        Ok(p) => {
            said.set(Some(Ok(what)));
            editing.set(Some(p));
        }
        Err(e) => said.set(Some(Err(e.text()))),
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(fen) = shared::domain::fen_of_yuan(&price.get_untracked()).and_then(|f| shared::Fen::new(f).ok())
        else {
            said.set(Some(Err(tr("价格应写元，如 3.50", "Write the price in yuan, e.g. 3.50")().to_owned())));
            return;
        };
        let (Ok(stock), Ok(limit)) = (
            stock.get_untracked().trim().parse::<i64>(),
            match limit.get_untracked().trim() {
                "" => Ok(0),
                l => l.parse::<i64>(),
            },
        ) else {
            said.set(Some(Err(tr("库存和限购应为整数", "Stock and limit are whole numbers")().to_owned())));
            return;
        };
        let body = UpdateProductRequest {
            name: Some(name.get_untracked()),
            unit: Some(unit.get_untracked()),
            price_fen: Some(fen),
            stock: Some(stock),
            per_order_limit: Some(limit),
            origin: Some(origin.get_untracked()),
            ..Default::default()
        };
        leptos::task::spawn_local(async move {
            done(api::update_product(id, &body).await, ("已保存", "Saved"));
        });
    };
    let on_sale = product.on_sale;
    let toggle_sale = move |_| {
        let body = UpdateProductRequest { on_sale: Some(!on_sale), ..Default::default() };
        leptos::task::spawn_local(async move {
            let what = if on_sale { ("已下架", "Taken off sale") } else { ("已上架", "On sale again") };
            done(api::update_product(id, &body).await, what);
        });
    };
    let upload = move |_| {
        let Some(file) = chosen(photo) else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            done(api::product_photo(id, &file, false).await, ("照片已更新", "Photo saved"));
            busy.set(false);
        });
    };
    view! {
        <div class="edit-product">
            <h3 translate="no">{product.name.clone()} " · " {product.vendor_name.clone()}</h3>
            {product.photo.clone().map(|p| view! { <img class="product-icon" src=p.thumb_url alt="" width="64" height="64"/> })}
            <form class="form-grid" on:submit=save novalidate>
                {line("edit-name", tr("品名", "Name"), name, false)}
                {line("edit-unit", tr("单位", "Unit"), unit, false)}
                {line("edit-price", tr("价格（元）", "Price (yuan)"), price, true)}
                {line("edit-stock", tr("库存", "Stock"), stock, true)}
                {line("edit-limit", tr("每单限购（空为不限）", "Limit per order (empty: none)"), limit, true)}
                {line("edit-origin", tr("产地", "Origin"), origin, false)}
                <button id="edit-save" type="submit" class="btn">{tr("保存", "Save")}</button>
            </form>
            <label class="block-label" for="edit-photo">{tr("商品照片（拍照或从相册选）", "Photo (camera or gallery)")}</label>
            <input id="edit-photo" type="file" accept="image/jpeg,image/png,image/webp" node_ref=photo on:change=upload/>
            {move || busy.get().then(|| view! { <p class="note" role="status">{tr("正在上传…", "Uploading…")}</p> })}
            <button class="btn secondary block" id="edit-sale" on:click=toggle_sale>
                {if on_sale { tr("下架（不再出售）", "Take off sale") } else { tr("重新上架", "Put on sale again") }}
            </button>
        </div>
    }
}

/// Who holds which role: find an account by phone, give it roles, the stall a holder keeps, the
/// buildings a volunteer or leader serves; taking a role away ends what it allowed at once.
#[component]
pub fn People() -> impl IntoView {
    let phone = RwSignal::new(String::new());
    let found = Load::when(move || {
        let p = phone.get();
        (p.trim().len() >= 3).then(|| api::users_path(p.trim(), ""))
    });
    let target = RwSignal::new(String::new());
    let roles = RwSignal::new(vec!["resident".to_owned()]);
    let stall = RwSignal::new(String::new());
    let buildings = RwSignal::new(String::new());
    let said = RwSignal::new(None::<Result<String, String>>);
    let pick = move |u: &User| {
        target.set(u.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default());
        roles.set(u.roles.iter().map(|r| r.as_str().to_owned()).collect());
        stall.set(u.vendor_id.map(|v| v.to_string()).unwrap_or_default());
        buildings.set(u.leader_buildings.join(" "));
        said.set(None);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = shared::group_buy::SetRoles {
            roles: roles.get_untracked(),
            buildings: buildings
                .get_untracked()
                .split(|c: char| c.is_whitespace() || c == ',' || c == '，' || c == '、')
                .filter(|b| !b.is_empty())
                .map(str::to_owned)
                .collect(),
            stall_id: stall.get_untracked().trim().parse().ok(),
        };
        let who = target.get_untracked();
        leptos::task::spawn_local(async move {
            match api::set_roles(&who, &body).await {
                Ok(_) => {
                    said.set(Some(Ok(who)));
                    found.reload();
                }
                Err(e) => said.set(Some(Err(e.text()))),
            }
        });
    };
    let role_box = move |role: &'static str, label: &'static str, label_en: &'static str| {
        view! {
            <label class="check"><input type="checkbox" id=format!("role-{role}")
                prop:checked=move || roles.get().iter().any(|r| r == role)
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    roles.update(|rs| { rs.retain(|r| r != role); if on { rs.push(role.to_owned()); } });
                }/>
            {tr(label, label_en)}</label>
        }
    };
    view! {
        <section class="card" id="people">
            <h2>{tr("人员与权限", "People and roles")}</h2>
            <label>{tr("手机号（至少3位）", "Phone (3 digits or more)")}
                <input id="people-phone" inputmode="numeric" maxlength="11" prop:value=move || phone.get()
                    on:change=move |ev| phone.set(event_target_value(&ev))/></label>
            {move || (phone.get().trim().len() >= 3).then(|| found.show(move |page: Page<User>| view! {
                <ul class="pick-list">
                    {page.items.into_iter().map(|u| {
                        let label = format!("{} · {}", u.phone.as_ref().map(|p| p.as_str()).unwrap_or("—"),
                            u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "));
                        view! { <li><button class="link person-pick" translate="no" on:click=move |_| pick(&u)>{label}</button></li> }
                    }).collect_view()}
                </ul>
            }))}
            <form class="form-grid" on:submit=save novalidate>
                {line("people-target", tr("给这个手机号设置", "Set the roles of"), target, true)}
                {role_box("resident", "居民", "Resident")}
                {role_box("vendor", "摊主", "Stall holder")}
                {role_box("volunteer", "志愿者", "Volunteer")}
                {role_box("leader", "团长", "Leader")}
                {role_box("staff", "工作人员", "Staff")}
                {line("people-stall", tr("摊位编号（摊主）", "Stall id (stall holder)"), stall, true)}
                {line("people-buildings", tr("楼号（志愿者、团长；空格分开）", "Buildings (volunteer, leader; spaces between)"), buildings, false)}
                <button id="people-save" type="submit" class="btn">{tr("保存权限", "Save the roles")}</button>
            </form>
            {move || said.get().map(|s| match s {
                Ok(who) => view! { <p class="note" role="status" id="people-done">{tr("已保存：", "Saved: ")} <span translate="no">{who}</span></p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}

/// The stalls' opening: a stall closed (停业) until opened again, or resting (休市) on a day;
/// residents cannot order its goods for then, and see it on the stalls' list.
#[component]
pub fn StallOpening() -> impl IntoView {
    let stalls = Load::of(api::VENDORS);
    let said = RwSignal::new(None::<Result<String, String>>);
    let change = move |id: i64, body: shared::api::UpdateStall| {
        leptos::task::spawn_local(async move {
            match api::change_stall(id, &body).await {
                Ok(v) => {
                    said.set(Some(Ok(format!("{} {}", v.stall_no, v.name))));
                    stalls.reload();
                }
                Err(e) => said.set(Some(Err(e.text()))),
            }
        });
    };
    view! {
        <section class="card" id="stall-opening">
            <h2>{tr("摊位营业", "Stalls open and closed")}</h2>
            <p class="note">{tr("停业：到重新营业前都不能买它的商品。休市：选中的那一天不送、不自提它的商品。",
                "Closed: none of its goods can be bought until it opens again. Resting: none of its goods go out on that day.")}</p>
            {move || said.get().map(|s| match s {
                Ok(m) => view! { <p class="note" role="status" id="stall-opening-done">{tr("已保存：", "Saved: ")} <span translate="no">{m}</span></p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
            {stalls.show_items(move |items: Vec<shared::api::Vendor>| view! {
                <ul class="pick-list stall-days">
                    {items.into_iter().map(|v| {
                        let id = v.id;
                        let open = v.open;
                        let day = RwSignal::new(v.closed_on.clone().unwrap_or_default());
                        view! {
                            <li data-stall=id>
                                <span translate="no">{format!("{} {}", v.stall_no, v.name)}</span>
                                <button class="btn secondary toggle-open" class:warn=!open
                                    on:click=move |_| change(id, shared::api::UpdateStall { open: Some(!open), ..Default::default() })>
                                    {if open { tr("营业中 · 设为停业", "Open · close it") } else { tr("停业中 · 重新营业", "Closed · open it") }}
                                </button>
                                <label>{tr("休市日", "Resting day")}
                                    <input type="date" class="rest-day" prop:value=move || day.get()
                                        on:change=move |ev| {
                                            let d = event_target_value(&ev);
                                            day.set(d.clone());
                                            change(id, shared::api::UpdateStall { closed_on: Some(d), ..Default::default() });
                                        }/></label>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

/// A new 菜盒子: its name, price and stock, and what goes in it (found by name, a few of each).
#[component]
pub fn BoxPacking() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let price = RwSignal::new(String::new());
    let stock = RwSignal::new(String::new());
    let query = RwSignal::new(String::new());
    let found = Load::when(move || {
        let q = query.get();
        (!q.trim().is_empty()).then(|| api::products_path(&api::ProductFilter { q: Some(q), ..Default::default() }))
    });
    // The boxes on sale, to change one: its contents, name, price or how many.
    let boxes = Load::new(|| {
        api::products_path(&api::ProductFilter { category: Some("box".to_owned()), ..Default::default() })
    });
    // The box being changed (none: a new one) and its fields as loaded, to send only what changed
    // (its stock moves with every sale: sending it back unchanged would undo those sales).
    let editing = RwSignal::new(None::<(i64, String, String, String)>);
    // The lines so far: (product id, its name and unit, how many).
    let lines = RwSignal::new(Vec::<(i64, String, i64)>::new());
    let said = RwSignal::new(None::<Result<String, String>>);
    let clear = move || {
        editing.set(None);
        lines.set(Vec::new());
        name.set(String::new());
        price.set(String::new());
        stock.set(String::new());
    };
    let open_box = move |id: i64| {
        leptos::task::spawn_local(async move {
            match api::get_json(api::product_path(id)).await.and_then(api::parse::<shared::api::ProductDetail>) {
                Ok(detail) => {
                    let p = detail.product;
                    let loaded =
                        (p.name.clone(), p.price_fen.yuan().trim_start_matches('¥').to_owned(), p.stock.to_string());
                    name.set(loaded.0.clone());
                    price.set(loaded.1.clone());
                    stock.set(loaded.2.clone());
                    lines.set(
                        detail
                            .box_items
                            .into_iter()
                            .map(|i| (i.product_id.get(), format!("{} ({})", i.name, i.unit), i.quantity))
                            .collect(),
                    );
                    editing.set(Some((id, loaded.0, loaded.1, loaded.2)));
                    said.set(None);
                }
                Err(e) => said.set(Some(Err(e.text()))),
            }
        });
    };
    let items = move || {
        lines
            .get_untracked()
            .iter()
            .map(|(id, _, n)| shared::api::BoxLine { product_id: *id, quantity: *n })
            .collect::<Vec<_>>()
    };
    let pack = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(fen), Ok(count)) = (
            shared::domain::fen_of_yuan(&price.get_untracked()).and_then(|f| shared::Fen::new(f).ok()),
            stock.get_untracked().trim().parse::<i64>(),
        ) else {
            said.set(Some(Err(tr("请填写价格（元）和库存", "Enter the price (yuan) and stock")().to_owned())));
            return;
        };
        if let Some((id, was_name, was_price, was_stock)) = editing.get_untracked() {
            let now_name = name.get_untracked();
            let body = shared::api::UpdateBox {
                name: (now_name.trim() != was_name).then_some(now_name),
                price_fen: (price.get_untracked().trim() != was_price).then_some(fen),
                stock: (stock.get_untracked().trim() != was_stock).then_some(count),
                items: Some(items()),
                ..Default::default()
            };
            leptos::task::spawn_local(async move {
                match api::change_box(id, &body).await {
                    Ok(changed) => {
                        said.set(Some(Ok(changed.product.name)));
                        clear();
                        boxes.reload();
                    }
                    Err(e) => said.set(Some(Err(e.text()))),
                }
            });
            return;
        }
        let body = shared::api::NewBox {
            name: name.get_untracked(),
            price_fen: fen,
            stock: count,
            items: items(),
            vendor_id: None,
            per_order_limit: None,
            description: None,
        };
        leptos::task::spawn_local(async move {
            match api::add_box(&body).await {
                Ok(made) => {
                    said.set(Some(Ok(made.product.name)));
                    clear();
                    boxes.reload();
                }
                Err(e) => said.set(Some(Err(e.text()))),
            }
        });
    };
    view! {
        <section class="card" id="box-packing">
            <h2>{move || if editing.get().is_some() { tr("改菜盒子", "Change a veg box")() } else { tr("新菜盒子", "A new veg box")() }}</h2>
            {boxes.show_items(move |items: Vec<Product>| (!items.is_empty()).then(|| view! {
                <p class="note">{tr("改一个在售的菜盒子：", "Change a box on sale:")}</p>
                <ul class="pick-list" id="boxes-on-sale">
                    {items.into_iter().map(|p| {
                        let id = p.id.get();
                        view! { <li><button class="link box-open" data-box=id translate="no" on:click=move |_| open_box(id)>
                            {format!("{} · {} · {}", p.name, p.price_fen.yuan(), p.stock)}</button></li> }
                    }).collect_view()}
                </ul>
            }))}
            <label>{tr("找商品放进盒子", "Find goods to put in")}
                <input id="box-find" type="search" prop:value=move || query.get() on:change=move |ev| query.set(event_target_value(&ev))/></label>
            {move || (!query.get().trim().is_empty()).then(|| found.show_items(move |items: Vec<Product>| view! {
                <ul class="pick-list">
                    {items.into_iter().filter(|p| !p.is_box).take(10).map(|p| {
                        let label = format!("+ {} · {}", p.name, p.unit);
                        let (id, what) = (p.id.get(), format!("{} ({})", p.name, p.unit));
                        view! { <li><button class="link box-add" translate="no" on:click=move |_| lines.update(|l| {
                            match l.iter_mut().find(|(i, ..)| *i == id) {
                                Some(line) => line.2 += 1,
                                None => l.push((id, what.clone(), 1)),
                            }
                        })>{label}</button></li> }
                    }).collect_view()}
                </ul>
            }))}
            <ul class="box-items" id="box-lines">
                {move || lines.get().into_iter().map(|(id, what, n)| view! {
                    <li><span translate="no">{what}</span><span>"× " {n} " "
                        <button class="link box-remove" on:click=move |_| lines.update(|l| l.retain(|(i, ..)| *i != id))>{tr("移除", "Remove")}</button></span></li>
                }).collect_view()}
            </ul>
            <form class="form-grid" on:submit=pack novalidate>
                {line("box-name", tr("盒子名称", "Name"), name, false)}
                {line("box-price", tr("价格（元）", "Price (yuan)"), price, true)}
                {line("box-stock", tr("份数", "How many"), stock, true)}
                <button id="box-pack" type="submit" class="btn">{move || if editing.get().is_some() {
                    tr("保存菜盒子", "Save the box")()
                } else {
                    tr("上架菜盒子", "Put the box on sale")()
                }}</button>
                {move || editing.get().is_some().then(|| view! {
                    <button id="box-cancel" type="button" class="btn secondary" on:click=move |_| clear()>{tr("不改了", "Leave it")}</button>
                })}
            </form>
            {move || said.get().map(|s| match s {
                Ok(m) => view! { <p class="note" role="status" id="box-done">{tr("已保存：", "Saved: ")} <span translate="no">{m}</span></p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}

/// The newest changes to the set-up: who, when, what, and each field as it was and became.
#[component]
pub fn AuditLog() -> impl IntoView {
    let subject = RwSignal::new(String::new());
    let entries = Load::new(move || api::audit_path(&subject.get()));
    let changes = |e: &shared::api::AuditEntry| -> String {
        let text = |v: &leptos::serde_json::Value| match v {
            leptos::serde_json::Value::String(s) => s.clone(),
            leptos::serde_json::Value::Null => "—".to_owned(),
            other => other.to_string(),
        };
        let empty = leptos::serde_json::Map::new();
        let before = e.before.as_ref().and_then(|b| b.as_object()).unwrap_or(&empty);
        let after = e.after.as_ref().and_then(|a| a.as_object()).unwrap_or(&empty);
        after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(v))
            .map(|(k, v)| match before.get(k) {
                Some(old) => format!("{k}: {} → {}", text(old), text(v)),
                None => format!("{k}: {}", text(v)),
            })
            .take(8)
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let choice = move |value: &'static str, zh: &'static str, en: &'static str| {
        view! { <option value=value selected=move || subject.get() == value>{tr(zh, en)}</option> }
    };
    view! {
        <section class="card" id="audit-log">
            <h2>{tr("改动记录", "Record of changes")}</h2>
            <label>{tr("查看", "Show")}
                <select id="audit-subject" on:change=move |ev| subject.set(event_target_value(&ev))>
                    {choice("", "全部", "Everything")}
                    {choice("product", "商品", "Goods")}
                    {choice("stall", "摊位", "Stalls")}
                    {choice("category", "分类", "Categories")}
                    {choice("building", "楼栋", "Buildings")}
                    {choice("user", "人员权限", "People")}
                </select></label>
            {entries.show(move |page: shared::api::Page<shared::api::AuditEntry>| view! {
                <ul class="audit">
                    {page.items.into_iter().map(|e| {
                        let head = format!("{} · {} {} · {}", e.at.get(5..16).unwrap_or(&e.at).replace('T', " "), e.subject, e.subject_id, e.action);
                        let who = e.actor.clone().unwrap_or_else(|| "—".to_owned());
                        view! { <li><strong translate="no">{head}</strong> " " <span translate="no">{who}</span><br/><small translate="no">{changes(&e)}</small></li> }
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}
