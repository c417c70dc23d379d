//! The market's spreadsheet of goods: staff's file, row by row, becomes new products, changed
//! ones, unchanged ones, or errors with their column and reason. A row goes through the same
//! rules as a product made or changed one at a time (`domain::setup`): names unique at a stall,
//! numbers in range, prices under the emergency cap.

use super::prices::Cap;
use super::setup::{
    decide_new_product, decide_product_change, CategoryState, ProductChangeFacts, ProductFacts, ProductState,
};
use super::Refusal;
use shared::api::{ImportAction, ImportError, ImportRow, NewProduct, UpdateProductRequest};
use shared::{ErrorCode, Fen};
use std::collections::HashMap;

/// The columns of the catalogue's file, as their headings are shown in errors, in the order the
/// export writes them. 编号 (the product's number) is empty for a new product; a row without it
/// is matched by its stall and name.
pub const COLUMNS: [&str; 11] =
    ["编号", "摊位号", "分类", "品名", "单位", "价格", "库存", "限购", "产地", "在售", "说明"];

/// One row of the file as read, cells trimmed; None: the file has no such column (what it
/// says stays as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueLine {
    pub row: u32,
    pub id: Option<String>,
    pub stall: String,
    pub name: String,
    pub category: Option<String>,
    pub unit: Option<String>,
    /// Yuan, as people write it: `3.50`, `¥3.5`.
    pub price: Option<String>,
    pub stock: Option<String>,
    /// Empty: no limit.
    pub limit: Option<String>,
    pub origin: Option<String>,
    /// 是 / 否 (yes / no); empty: on sale.
    pub on_sale: Option<String>,
    pub description: Option<String>,
}

/// A product on record, as the import matches and changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownProduct {
    pub id: i64,
    pub state: ProductState,
    /// Its price when the day began, for the emergency cap.
    pub day_open_fen: i64,
    /// A 菜盒子 is made of other goods: not changed from this file.
    pub is_box: bool,
}

/// What the import reads before deciding (the products locked).
#[derive(Debug, Clone, Default)]
pub struct CatalogueSnapshot {
    pub categories: Vec<CategoryState>,
    /// Every stall: its id and number.
    pub stalls: Vec<(i64, String)>,
    pub products: Vec<KnownProduct>,
    pub cap: Option<Cap>,
}

/// One change the import makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    Create(ProductState),
    Update { id: i64, before: ProductState, after: ProductState },
}

/// Each row's verdict and, when no row is an error, the changes to make.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CataloguePlan {
    pub rows: Vec<ImportRow>,
    pub changes: Vec<Planned>,
}

impl CataloguePlan {
    /// Whether every row can be taken: only then is anything applied.
    pub fn clean(&self) -> bool {
        self.rows.iter().all(|r| r.action != ImportAction::Error)
    }
}

/// The column a rule's refusal is about (`price_fen: ...` is 价格).
fn column_of(refusal: &Refusal) -> &'static str {
    let field = refusal.message.split(':').next().unwrap_or("");
    match (refusal.code, field) {
        (ErrorCode::PriceCapped, _) | (_, "price_fen" | "price_ceiling_fen") => "价格",
        (_, "unit") => "单位",
        (_, "category") => "分类",
        (_, "stock") => "库存",
        (_, "per_order_limit") => "限购",
        (_, "origin") => "产地",
        (_, "description") => "说明",
        _ => "品名",
    }
}

fn fault(errors: &mut Vec<ImportError>, column: &str, reason: impl Into<String>) {
    errors.push(ImportError { column: Some(column.to_owned()), reason: reason.into() });
}

/// 是 / 否 as people write them.
fn present(cell: &Option<String>) -> Option<&str> {
    cell.as_deref().map(str::trim)
}

fn yes_no(cell: &str) -> Option<bool> {
    match cell.to_lowercase().as_str() {
        "" | "是" | "在售" | "上架" | "yes" | "y" | "true" | "1" => Some(true),
        "否" | "下架" | "停售" | "no" | "n" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// The category a cell names: its key, Chinese or English name.
fn category_key(categories: &[CategoryState], cell: &str) -> Option<String> {
    categories
        .iter()
        .find(|c| c.id == cell || c.name == cell || c.name_en.eq_ignore_ascii_case(cell))
        .map(|c| c.id.clone())
}

/// A line's cells read as a change (what it says beside its name); cells that cannot be read
/// are errors in their column.
fn read_change(
    line: &CatalogueLine,
    snapshot: &CatalogueSnapshot,
    errors: &mut Vec<ImportError>,
) -> UpdateProductRequest {
    let mut change = UpdateProductRequest { name: Some(line.name.clone()), ..Default::default() };
    if let Some(cell) = present(&line.category).filter(|c| !c.is_empty()) {
        match category_key(&snapshot.categories, cell) {
            Some(key) => change.category = Some(key),
            None => fault(errors, "分类", format!("没有分类“{cell}” (no category {cell})")),
        }
    }
    change.unit = present(&line.unit).filter(|u| !u.is_empty()).map(str::to_owned);
    if let Some(cell) = present(&line.price).filter(|p| !p.is_empty()) {
        match shared::domain::fen_of_yuan(cell).and_then(|f| Fen::price(f).ok()) {
            Some(fen) => change.price_fen = Some(fen),
            None => fault(errors, "价格", format!("“{cell}”不是价格，应写元，如 3.50 (a price in yuan, such as 3.50)")),
        }
    }
    if let Some(cell) = present(&line.stock).filter(|s| !s.is_empty()) {
        match cell.parse::<i64>() {
            Ok(stock) => change.stock = Some(stock),
            Err(_) => fault(errors, "库存", format!("“{cell}”不是整数 (not a whole number)")),
        }
    }
    if let Some(cell) = present(&line.limit) {
        match cell {
            "" | "不限" => change.per_order_limit = Some(0),
            _ => match cell.parse::<i64>() {
                Ok(0) => fault(errors, "限购", "不限购请留空 (leave it empty for no limit)"),
                Ok(limit) => change.per_order_limit = Some(limit),
                Err(_) => fault(errors, "限购", format!("“{cell}”不是整数 (not a whole number)")),
            },
        }
    }
    change.origin = present(&line.origin).map(str::to_owned);
    change.description = present(&line.description).map(str::to_owned);
    if let Some(cell) = present(&line.on_sale) {
        match yes_no(cell) {
            Some(on_sale) => change.on_sale = Some(on_sale),
            None => fault(errors, "在售", format!("“{cell}”应为“是”或“否” (yes or no)")),
        }
    }
    change
}

/// Staff's catalogue file, row by row: a row with a number (编号) changes that product; a row
/// without one changes the product its stall sells under that name, or makes a new one (which
/// needs its category, unit, price and stock). A product named twice in the file is an error
/// the second time; boxes are not changed from the file.
pub fn plan_catalogue_import(lines: &[CatalogueLine], snapshot: &CatalogueSnapshot) -> CataloguePlan {
    let mut plan = CataloguePlan::default();
    let categories: Vec<String> = snapshot.categories.iter().map(|c| c.id.clone()).collect();
    // Each stall's names as the file leaves them so far: (product, or None when new; name).
    let mut names: HashMap<i64, Vec<(Option<i64>, String)>> = HashMap::new();
    for p in &snapshot.products {
        names.entry(p.state.vendor_id).or_default().push((Some(p.id), p.state.name.clone()));
    }
    // Rows already taken: (product or None, stall, name, row).
    let mut taken: Vec<(Option<i64>, i64, String, u32)> = Vec::new();
    for line in lines {
        let mut errors = Vec::new();
        let stall_cell = line.stall.trim();
        let stall = snapshot.stalls.iter().find(|(_, no)| no.eq_ignore_ascii_case(stall_cell)).map(|(id, _)| *id);
        if stall.is_none() {
            let reason = if stall_cell.is_empty() {
                "请填写摊位号 (the stall's number is needed)".to_owned()
            } else {
                format!("没有{stall_cell}号摊位 (no stall {stall_cell})")
            };
            fault(&mut errors, "摊位号", reason);
        }
        let name = line.name.trim();
        if name.is_empty() {
            fault(&mut errors, "品名", "请填写品名 (the product's name is needed)");
        }
        let known = match line.id.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
            Some(cell) => {
                let found = cell.parse::<i64>().ok().and_then(|id| snapshot.products.iter().find(|p| p.id == id));
                if found.is_none() {
                    fault(
                        &mut errors,
                        "编号",
                        format!(
                            "没有编号为{cell}的商品，新商品请留空 (no product {cell}; leave it empty for a new one)"
                        ),
                    );
                }
                found
            }
            None => {
                stall.and_then(|s| snapshot.products.iter().find(|p| p.state.vendor_id == s && p.state.name == name))
            }
        };
        if let (Some(p), Some(s)) = (known, stall) {
            if p.state.vendor_id != s {
                fault(&mut errors, "摊位号", "商品属于另一个摊位 (the product is another stall's)");
            }
        }
        if known.is_some_and(|p| p.is_box) {
            fault(&mut errors, "品名", "菜盒子不在此表中修改 (boxes are not changed from this file)");
        }
        let change = read_change(line, snapshot, &mut errors);
        let (id, vendor) = (known.map(|p| p.id), stall.unwrap_or_default());
        let twice = taken.iter().find(|(i, s, n, _)| match (id, i) {
            (Some(id), Some(i)) => id == *i,
            _ => *s == vendor && n == name,
        });
        if let Some((.., row)) = twice {
            fault(&mut errors, "品名", format!("与第{row}行是同一商品 (the same product as row {row})"));
        }
        let others: Vec<String> = names
            .get(&vendor)
            .map(|list| list.iter().filter(|(i, _)| id.is_none() || *i != id).map(|(_, n)| n.clone()).collect())
            .unwrap_or_default();
        let decided = if !errors.is_empty() {
            None
        } else if let Some(p) = known {
            let facts = ProductChangeFacts {
                categories: categories.clone(),
                other_names_at_stall: others,
                day_open_fen: p.day_open_fen,
                cap: snapshot.cap,
            };
            Some(
                decide_product_change(&p.state, &change, &facts).map(|after| {
                    (after != p.state).then(|| Planned::Update { id: p.id, before: p.state.clone(), after })
                }),
            )
        } else {
            new_product(vendor, &change, &mut errors).map(|new| {
                let facts = ProductFacts { categories: categories.clone(), names_at_stall: others };
                decide_new_product(vendor, &new, &facts)
                    .map(|made| Some(Planned::Create(ProductState { on_sale: change.on_sale.unwrap_or(true), ..made })))
            })
        };
        let action = match decided {
            Some(Ok(Some(planned))) => {
                let (id, name) = match &planned {
                    Planned::Create(made) => (None, made.name.clone()),
                    Planned::Update { id, after, .. } => (Some(*id), after.name.clone()),
                };
                let list = names.entry(vendor).or_default();
                list.retain(|(i, _)| id.is_none() || *i != id);
                list.push((id, name));
                let action = if id.is_none() { ImportAction::Create } else { ImportAction::Update };
                plan.changes.push(planned);
                action
            }
            Some(Ok(None)) => ImportAction::Unchanged,
            Some(Err(refusal)) => {
                fault(&mut errors, column_of(&refusal), refusal.message);
                ImportAction::Error
            }
            None => ImportAction::Error,
        };
        if action != ImportAction::Error {
            taken.push((id, vendor, name.to_owned(), line.row));
        }
        plan.rows.push(ImportRow { row: line.row, action, errors });
    }
    if !plan.clean() {
        plan.changes.clear();
    }
    plan
}

/// A new product from a row: its category, unit, price and stock must be given.
fn new_product(vendor_id: i64, change: &UpdateProductRequest, errors: &mut Vec<ImportError>) -> Option<NewProduct> {
    let before = errors.len();
    for (column, given) in [
        ("分类", change.category.is_some()),
        ("单位", change.unit.is_some()),
        ("价格", change.price_fen.is_some()),
        ("库存", change.stock.is_some()),
    ] {
        if !given {
            fault(errors, column, format!("新商品请填写{column} (a new product needs it)"));
        }
    }
    if errors.len() > before {
        return None;
    }
    Some(NewProduct {
        vendor_id: Some(vendor_id),
        category: change.category.clone()?,
        name: change.name.clone().unwrap_or_default(),
        unit: change.unit.clone()?,
        price_fen: change.price_fen?,
        stock: change.stock?,
        per_order_limit: change.per_order_limit.filter(|l| *l > 0),
        origin: change.origin.clone(),
        description: change.description.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ImportAction::*;

    fn snapshot() -> CatalogueSnapshot {
        let cat = |id: &str, name: &str| CategoryState {
            id: id.into(),
            name: name.into(),
            name_en: id.into(),
            sort: 10,
            icon: "🥬".into(),
            retired: false,
        };
        let product = |id, vendor_id, name: &str, price_fen| KnownProduct {
            id,
            state: ProductState {
                vendor_id,
                category: "vegetable".into(),
                name: name.into(),
                unit: "斤".into(),
                price_fen,
                stock: 10,
                per_order_limit: None,
                origin: String::new(),
                description: String::new(),
                on_sale: true,
                price_ceiling_fen: None,
            },
            day_open_fen: price_fen,
            is_box: false,
        };
        CatalogueSnapshot {
            categories: vec![cat("vegetable", "蔬菜"), cat("fruit", "水果")],
            stalls: vec![(1, "A01".into()), (2, "A02".into())],
            products: vec![product(11, 1, "大白菜", 120), product(12, 1, "土豆", 200), product(21, 2, "苹果", 500)],
            cap: Some(Cap { max_daily_rise_percent: 10 }),
        }
    }

    fn line(row: u32, stall: &str, name: &str, price: &str, stock: &str) -> CatalogueLine {
        CatalogueLine {
            row,
            stall: stall.into(),
            name: name.into(),
            category: Some("蔬菜".into()),
            unit: Some("斤".into()),
            price: Some(price.into()),
            stock: Some(stock.into()),
            ..Default::default()
        }
    }

    fn verdicts(plan: &CataloguePlan) -> Vec<(u32, ImportAction, Vec<String>)> {
        plan.rows
            .iter()
            .map(|r| (r.row, r.action, r.errors.iter().map(|e| e.column.clone().unwrap_or_default()).collect()))
            .collect()
    }

    #[test]
    fn a_catalogue_file_makes_changes_and_keeps_what_it_repeats() {
        let s = snapshot();
        let lines = [
            line(2, "A01", "大白菜", "1.20", "10"),
            line(3, "a01", "土豆", "¥2.10", "50"),
            line(4, "A01", "洋葱", "3", "40"),
            CatalogueLine {
                id: Some("21".into()),
                on_sale: Some("否".into()),
                ..line(5, "A02", "红富士", "5.00", "10")
            },
        ];
        let plan = plan_catalogue_import(&lines, &s);
        assert_eq!(
            verdicts(&plan),
            [(2, Unchanged, vec![]), (3, Update, vec![]), (4, Create, vec![]), (5, Update, vec![])]
        );
        assert!(plan.clean());
        let Planned::Update { after, .. } = &plan.changes[0] else { panic!("an update") };
        assert_eq!((after.price_fen, after.stock), (210, 50));
        let Planned::Create(onion) = &plan.changes[1] else { panic!("a new product") };
        assert_eq!((onion.vendor_id, onion.price_fen, onion.on_sale), (1, 300, true));
        let Planned::Update { after: apple, .. } = &plan.changes[2] else { panic!("renamed by its number") };
        assert_eq!((apple.name.as_str(), apple.on_sale), ("红富士", false));
        // The same file applied: nothing more to do (the snapshot as it would then be).
        let mut later = s.clone();
        later.products[1].state.price_fen = 210;
        later.products[1].state.stock = 50;
        later.products[2].state.name = "红富士".into();
        later.products[2].state.on_sale = false;
        later.products.push(KnownProduct { id: 13, state: onion.clone(), day_open_fen: 300, is_box: false });
        let again = plan_catalogue_import(&lines, &later);
        assert!(again.rows.iter().all(|r| r.action == Unchanged), "{:?}", verdicts(&again));
        assert!(again.changes.is_empty());
    }

    #[test]
    fn a_bad_row_names_its_column_and_nothing_is_applied() {
        let s = snapshot();
        let lines = [
            line(2, "A01", "洋葱", "3", "40"),
            line(3, "A01", "芹菜", "abc", "40"),
            line(4, "Z9", "芹菜", "3", "40"),
            line(5, "A01", "土豆", "2.30", "x"),
            line(6, "A01", "土豆", "2.20", "10"),
            CatalogueLine { category: None, unit: None, ..line(7, "A01", "生姜", "8", "5") },
            line(8, "A01", "洋葱", "3", "40"),
            CatalogueLine { id: Some("999".into()), ..line(9, "A01", "韭菜", "3", "40") },
            CatalogueLine {
                on_sale: Some("maybe".into()), limit: Some("0".into()), ..line(10, "A02", "梨", "3", "4")
            },
            CatalogueLine { category: Some("海鲜".into()), ..line(11, "A02", "虾", "30", "4") },
            line(12, "A01", "", "3", "4"),
            line(13, "A01", "大白菜", "1.40", "10"),
        ];
        let plan = plan_catalogue_import(&lines, &s);
        let col = |c: &str| vec![c.to_owned()];
        assert_eq!(
            verdicts(&plan),
            [
                (2, Create, vec![]),
                (3, Error, col("价格")),
                (4, Error, col("摊位号")),
                (5, Error, col("库存")),
                (6, Update, vec![]),
                (7, Error, vec!["分类".to_owned(), "单位".to_owned()]),
                (8, Error, col("品名")),
                (9, Error, col("编号")),
                (10, Error, vec!["限购".to_owned(), "在售".to_owned()]),
                (11, Error, col("分类")),
                (12, Error, col("品名")),
                (13, Error, col("价格")),
            ],
            "the cap allows ¥1.32 for 大白菜 today"
        );
        assert!(!plan.clean());
        assert!(plan.changes.is_empty(), "all or nothing");
        let capped = &plan.rows[11].errors[0].reason;
        assert!(capped.contains("¥1.32"), "{capped}");
    }
}
