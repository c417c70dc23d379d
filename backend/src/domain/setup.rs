//! The catalogue's set-up: the categories goods are shown under and the stalls of the market
//! hall, as staff make and change them (a real market's first day).

use super::Refusal;
use serde::Serialize;
use shared::api::{NewCategory, NewProduct, NewStall, UpdateCategory, UpdateStall};
use shared::ErrorCode;

/// The longest category name, in characters (Chinese; English may be twice as long).
pub const MAX_CATEGORY_CHARS: usize = 20;
/// The longest stall name, in characters.
pub const MAX_STALL_CHARS: usize = 30;
/// The longest stall description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 200;
const DEFAULT_ICON: &str = "🧺";

/// A category as the rules see it (`id`: the stable key filters use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryState {
    pub id: String,
    pub name: String,
    pub name_en: String,
    pub sort: i64,
    pub icon: String,
    /// Out of the catalogue's list, taking no new goods.
    #[serde(default)]
    pub retired: bool,
}

/// A stall as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StallState {
    pub name: String,
    pub stall_no: String,
    pub category: String,
    pub description: String,
    /// False: closed (停业) until opened again.
    pub open: bool,
    /// A day it rests (休市), `YYYY-MM-DD` in Shanghai.
    pub closed_on: Option<String>,
}

/// What the rules need of the catalogue as it stands.
#[derive(Debug, Clone, Default)]
pub struct CatalogueFacts {
    /// Every category, in order.
    pub categories: Vec<CategoryState>,
    /// Every stall's number.
    pub stall_numbers: Vec<String>,
}

fn text(field: &str, value: &str, max: usize) -> Result<String, Refusal> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(Refusal::new(ErrorCode::InvalidField, format!("{field}: 1 to {max} characters")));
    }
    Ok(v.to_owned())
}

fn sort_ok(sort: i64) -> Result<i64, Refusal> {
    if (0..=10_000).contains(&sort) {
        Ok(sort)
    } else {
        Err(Refusal::new(ErrorCode::InvalidField, "sort: 0 to 10000"))
    }
}

fn icon_ok(icon: &str) -> Result<String, Refusal> {
    let icon = icon.trim();
    if icon.is_empty() || icon.chars().count() > 8 || icon.is_ascii() {
        return Err(Refusal::new(ErrorCode::InvalidField, "icon: one emoji"));
    }
    Ok(icon.to_owned())
}

fn taken_name(facts: &CatalogueFacts, name: &str, except: Option<&str>) -> Result<(), Refusal> {
    if facts.categories.iter().any(|c| c.name == name && Some(c.id.as_str()) != except) {
        return Err(Refusal::new(ErrorCode::AlreadyExists, format!("已有分类“{name}” (category {name} exists)")));
    }
    Ok(())
}

/// A new category: a Chinese name (unique), an English one (the Chinese when not given), a
/// place in the list (after the last when not given), an emoji; its key is made from the
/// English name (`Dried goods`: `dried_goods`), or `c` and a number.
pub fn decide_new_category(new: &NewCategory, facts: &CatalogueFacts) -> Result<CategoryState, Refusal> {
    let name = text("name", &new.name, MAX_CATEGORY_CHARS)?;
    let name_en = match &new.name_en {
        Some(en) => text("name_en", en, MAX_CATEGORY_CHARS * 2)?,
        None => name.clone(),
    };
    let last = facts.categories.iter().map(|c| c.sort).max().unwrap_or(0);
    let sort = sort_ok(new.sort.unwrap_or(last + 10).min(10_000))?;
    let icon = icon_ok(new.icon.as_deref().unwrap_or(DEFAULT_ICON))?;
    taken_name(facts, &name, None)?;
    let free = |id: &str| !id.is_empty() && facts.categories.iter().all(|c| c.id != id);
    let slug: String = name_en
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
        .chars()
        .take(30)
        .collect();
    let id = if free(&slug) && slug.starts_with(|c: char| c.is_ascii_lowercase()) {
        slug
    } else {
        (facts.categories.len() + 1..).map(|n| format!("c{n}")).find(|id| free(id)).unwrap_or_default()
    };
    Ok(CategoryState { id, name, name_en, sort, icon, retired: false })
}

/// A category changed: its names, place or emoji (its key stays); retired only when none of its
/// goods is on sale (`on_sale`: how many are).
pub fn decide_category_change(
    now: &CategoryState,
    change: &UpdateCategory,
    facts: &CatalogueFacts,
    on_sale: i64,
) -> Result<CategoryState, Refusal> {
    let mut next = now.clone();
    if let Some(retired) = change.retired {
        if retired && !now.retired && on_sale > 0 {
            return Err(Refusal::new(
                ErrorCode::WrongState,
                format!("该分类还有{on_sale}件在售商品，请先换分类或下架 ({on_sale} of its goods are on sale: move or retire them first)"),
            ));
        }
        next.retired = retired;
    }
    if let Some(name) = &change.name {
        next.name = text("name", name, MAX_CATEGORY_CHARS)?;
        taken_name(facts, &next.name, Some(&now.id))?;
    }
    if let Some(en) = &change.name_en {
        next.name_en = text("name_en", en, MAX_CATEGORY_CHARS * 2)?;
    }
    if let Some(sort) = change.sort {
        next.sort = sort_ok(sort)?;
    }
    if let Some(icon) = &change.icon {
        next.icon = icon_ok(icon)?;
    }
    Ok(next)
}

fn category_of(facts: &CatalogueFacts, wanted: Option<&str>) -> Result<String, Refusal> {
    match wanted {
        Some(id) => facts
            .categories
            .iter()
            .find(|c| c.id == id.trim() && !c.retired)
            .map(|c| c.id.clone())
            .ok_or_else(|| Refusal::new(ErrorCode::InvalidField, format!("category: no category `{id}`"))),
        None => facts
            .categories
            .iter()
            .filter(|c| !c.retired)
            .min_by_key(|c| c.sort)
            .map(|c| c.id.clone())
            .ok_or_else(|| Refusal::new(ErrorCode::WrongState, "请先添加商品分类 (add a category of goods first)")),
    }
}

fn description_ok(description: Option<&str>) -> Result<String, Refusal> {
    let d = description.unwrap_or("").trim();
    if d.chars().count() > MAX_DESCRIPTION_CHARS || d.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Refusal::new(
            ErrorCode::InvalidField,
            format!("description: at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(d.to_owned())
}

/// A new stall: a name, its number in the hall (`hall` + `number`, unique; `S` and the next
/// free number when left out), the category it mostly sells (the first when not given).
pub fn decide_new_stall(new: &NewStall, facts: &CatalogueFacts) -> Result<StallState, Refusal> {
    let name = text("name", &new.name, MAX_STALL_CHARS)?;
    let part = |field: &str, v: &Option<String>, max: usize| -> Result<String, Refusal> {
        let v = v.as_deref().unwrap_or("").trim();
        if v.chars().count() > max || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(Refusal::new(ErrorCode::InvalidField, format!("{field}: letters and digits, at most {max}")));
        }
        Ok(v.to_uppercase())
    };
    let hall = part("hall", &new.hall, 4)?;
    let number = part("number", &new.number, 6)?;
    let taken = |no: &str| facts.stall_numbers.iter().any(|s| s.eq_ignore_ascii_case(no));
    let stall_no = if number.is_empty() {
        (facts.stall_numbers.len() + 1..).map(|n| format!("{hall}S{n}")).find(|no| !taken(no)).unwrap_or_default()
    } else {
        format!("{hall}{number}")
    };
    if taken(&stall_no) {
        return Err(Refusal::new(ErrorCode::AlreadyExists, format!("已有{stall_no}号摊位 (stall {stall_no} exists)")));
    }
    let category = category_of(facts, new.category.as_deref())?;
    let description = description_ok(new.description.as_deref())?;
    Ok(StallState { name, stall_no, category, description, open: true, closed_on: None })
}

/// A stall changed: its name, category or description (its number stays).
pub fn decide_stall_change(
    now: &StallState,
    change: &UpdateStall,
    facts: &CatalogueFacts,
) -> Result<StallState, Refusal> {
    let mut next = now.clone();
    if let Some(name) = &change.name {
        next.name = text("name", name, MAX_STALL_CHARS)?;
    }
    if let Some(category) = &change.category {
        next.category = category_of(facts, Some(category))?;
    }
    if let Some(description) = &change.description {
        next.description = description_ok(Some(description))?;
    }
    if let Some(open) = change.open {
        next.open = open;
    }
    if let Some(day) = &change.closed_on {
        let day = day.trim();
        next.closed_on = match day {
            "" => None,
            _ => match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
                Ok(d) => Some(d.format("%Y-%m-%d").to_string()),
                Err(_) => return Err(Refusal::field("closed_on", "a day as YYYY-MM-DD, or \"\" to clear it")),
            },
        };
    }
    Ok(next)
}

/// Why nothing of a stall can be had in a slot on `day` (`YYYY-MM-DD`, Shanghai), if so: it is
/// closed, or it rests that day.
pub fn stall_refusal(stall_name: &str, open: bool, closed_on: Option<&str>, day: &str) -> Option<Refusal> {
    if !open {
        return Some(Refusal::new(
            ErrorCode::StallClosed,
            format!("{stall_name}暂停营业，它的商品暂不能买 ({stall_name} is closed: its goods cannot be had for now)"),
        ));
    }
    (closed_on == Some(day)).then(|| {
        Refusal::new(
            ErrorCode::StallClosed,
            format!(
                "{stall_name}在{day}休市，请选别的日子或移除它的商品 ({stall_name} rests on {day}; choose another day)"
            ),
        )
    })
}

/// A product as the rules make it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductState {
    pub vendor_id: i64,
    pub category: String,
    pub name: String,
    pub unit: String,
    pub price_fen: i64,
    pub stock: i64,
    pub per_order_limit: Option<i64>,
    pub origin: String,
    pub description: String,
    /// False: retired (out of the catalogue, never deleted).
    pub on_sale: bool,
    /// The most it may cost while the emergency cap is on (staff set it).
    pub price_ceiling_fen: Option<i64>,
}

/// What a new product's rule needs: the categories, and the names the stall sells already.
#[derive(Debug, Clone, Default)]
pub struct ProductFacts {
    pub categories: Vec<String>,
    pub names_at_stall: Vec<String>,
}

/// The longest product name, in characters.
pub const MAX_PRODUCT_CHARS: usize = 30;
/// The most stock a product holds, and the longest per-order limit.
pub const MAX_STOCK: i64 = 1_000_000;
pub const MAX_PER_ORDER: i64 = 999;

/// A new product of `vendor_id`: a name the stall does not sell yet (409 `already_exists`), a
/// unit (1 to 4 characters), a category on record, a price (already in range as a `Fen`), stock
/// from 0 to 1,000,000, a per-order limit from 1 to 999 when given, an origin and description.
pub fn decide_new_product(vendor_id: i64, new: &NewProduct, facts: &ProductFacts) -> Result<ProductState, Refusal> {
    let name = text("name", &new.name, MAX_PRODUCT_CHARS)?;
    let unit = text("unit", &new.unit, 4)?;
    let category = new.category.trim();
    if !facts.categories.iter().any(|c| c == category) {
        return Err(Refusal::new(ErrorCode::InvalidField, format!("category: no category `{category}`")));
    }
    if !(0..=MAX_STOCK).contains(&new.stock) {
        return Err(Refusal::new(ErrorCode::InvalidField, format!("stock: 0 to {MAX_STOCK}")));
    }
    if new.per_order_limit.is_some_and(|l| !(1..=MAX_PER_ORDER).contains(&l)) {
        return Err(Refusal::new(ErrorCode::InvalidField, format!("per_order_limit: 1 to {MAX_PER_ORDER}")));
    }
    let origin = match new.origin.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        Some(origin) => text("origin", origin, 30)?,
        None => String::new(),
    };
    let description = description_ok(new.description.as_deref())?;
    if facts.names_at_stall.contains(&name) {
        return Err(Refusal::new(
            ErrorCode::AlreadyExists,
            format!("本摊位已有“{name}” (the stall sells {name} already)"),
        ));
    }
    Ok(ProductState {
        vendor_id,
        category: category.to_owned(),
        name,
        unit,
        price_fen: new.price_fen.get(),
        stock: new.stock,
        per_order_limit: new.per_order_limit,
        origin,
        description,
        on_sale: true,
        price_ceiling_fen: None,
    })
}

/// What a product's change needs beside the product: the categories, the other names its stall
/// sells, and its price as the cap sees it (its price when the day began, the cap when on).
#[derive(Debug, Clone, Default)]
pub struct ProductChangeFacts {
    pub categories: Vec<String>,
    pub other_names_at_stall: Vec<String>,
    pub day_open_fen: i64,
    pub cap: Option<super::prices::Cap>,
}

/// A product changed by staff or its stall: any of its name (still its own at the stall), unit,
/// category, per-order limit (0 lifts it), origin, description, stock, price (under the emergency
/// cap and its ceiling, as every price), ceiling (0 clears it) and whether it is on sale.
pub fn decide_product_change(
    now: &ProductState,
    change: &shared::api::UpdateProductRequest,
    facts: &ProductChangeFacts,
) -> Result<ProductState, Refusal> {
    let mut next = now.clone();
    if let Some(name) = &change.name {
        next.name = text("name", name, MAX_PRODUCT_CHARS)?;
        if facts.other_names_at_stall.contains(&next.name) {
            return Err(Refusal::new(
                ErrorCode::AlreadyExists,
                format!("本摊位已有“{}” (the stall sells {} already)", next.name, next.name),
            ));
        }
    }
    if let Some(unit) = &change.unit {
        next.unit = text("unit", unit, 4)?;
    }
    if let Some(category) = &change.category {
        let category = category.trim();
        if !facts.categories.iter().any(|c| c == category) {
            return Err(Refusal::new(ErrorCode::InvalidField, format!("category: no category `{category}`")));
        }
        next.category = category.to_owned();
    }
    match change.per_order_limit {
        None => {}
        Some(0) => next.per_order_limit = None,
        Some(l) if (1..=MAX_PER_ORDER).contains(&l) => next.per_order_limit = Some(l),
        Some(_) => return Err(Refusal::new(ErrorCode::InvalidField, format!("per_order_limit: 0 to {MAX_PER_ORDER}"))),
    }
    if let Some(origin) = &change.origin {
        next.origin = if origin.trim().is_empty() { String::new() } else { text("origin", origin, 30)? };
    }
    if let Some(description) = &change.description {
        next.description = description_ok(Some(description))?;
    }
    if let Some(stock) = change.stock {
        if !(0..=MAX_STOCK).contains(&stock) {
            return Err(Refusal::new(ErrorCode::InvalidField, format!("stock: 0 to {MAX_STOCK}")));
        }
        next.stock = stock;
    }
    match change.price_ceiling_fen {
        None => {}
        Some(0) => next.price_ceiling_fen = None,
        Some(c) => {
            let c = shared::Fen::price(c)
                .map_err(|e| Refusal::new(ErrorCode::InvalidField, format!("price_ceiling_fen: {e}")))?;
            next.price_ceiling_fen = Some(c.get());
        }
    }
    if let Some(price) = change.price_fen {
        let price = shared::Fen::price(price.get())
            .map_err(|e| Refusal::new(ErrorCode::InvalidField, format!("price_fen: {e}")))?;
        let snapshot = super::prices::PriceSnapshot {
            current: now.price_fen,
            day_open: facts.day_open_fen,
            ceiling: next.price_ceiling_fen,
        };
        super::prices::decide_price(&snapshot, price.get(), facts.cap.as_ref())?;
        next.price_fen = price.get();
    }
    if let Some(on_sale) = change.on_sale {
        next.on_sale = on_sale;
    }
    Ok(next)
}

/// A box's contents as decided: (product, quantity) lines.
pub type BoxLines = Vec<(i64, i64)>;

/// The most lines a box holds, and the most of one line.
pub const MAX_BOX_LINES: usize = 20;
pub const MAX_BOX_QUANTITY: i64 = 99;

/// A product a box's line names, as the box rule reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxPart {
    pub id: i64,
    pub on_sale: bool,
    pub is_box: bool,
}

/// A box's contents: 1 to 20 lines, each a product on sale that is not itself a box, 1 to 99 of
/// it, no product twice. `parts`: the products the lines name that are on record.
pub fn decide_box_lines(lines: &[shared::api::BoxLine], parts: &[BoxPart]) -> Result<BoxLines, Refusal> {
    if lines.is_empty() || lines.len() > MAX_BOX_LINES {
        return Err(Refusal::field("items", &format!("1 to {MAX_BOX_LINES} lines")));
    }
    let mut out: Vec<(i64, i64)> = Vec::new();
    for line in lines {
        let part = parts.iter().find(|p| p.id == line.product_id);
        match part {
            None => return Err(Refusal::field("items", &format!("no product {}", line.product_id))),
            Some(p) if !p.on_sale => {
                return Err(Refusal::field("items", &format!("product {} is not on sale", line.product_id)))
            }
            Some(p) if p.is_box => return Err(Refusal::field("items", "a box cannot hold a box")),
            Some(_) => {}
        }
        if !(1..=MAX_BOX_QUANTITY).contains(&line.quantity) {
            return Err(Refusal::field("items", &format!("quantity: 1 to {MAX_BOX_QUANTITY}")));
        }
        if out.iter().any(|(id, _)| *id == line.product_id) {
            return Err(Refusal::field("items", &format!("product {} twice", line.product_id)));
        }
        out.push((line.product_id, line.quantity));
    }
    Ok(out)
}

/// A new 菜盒子 of stall `vendor_id`: a product (unit 盒, category `box`) by the new product's
/// rule, and its contents by `decide_box_lines`.
pub fn decide_new_box(
    vendor_id: i64,
    new: &shared::api::NewBox,
    names_at_stall: Vec<String>,
    parts: &[BoxPart],
) -> Result<(ProductState, BoxLines), Refusal> {
    let as_product = NewProduct {
        vendor_id: Some(vendor_id),
        category: BOX_CATEGORY.into(),
        name: new.name.clone(),
        unit: "盒".into(),
        price_fen: new.price_fen,
        stock: new.stock,
        per_order_limit: new.per_order_limit,
        origin: None,
        description: new.description.clone(),
    };
    let facts = ProductFacts { categories: vec![BOX_CATEGORY.into()], names_at_stall };
    let made = decide_new_product(vendor_id, &as_product, &facts)?;
    Ok((made, decide_box_lines(&new.items, parts)?))
}

/// A box changed: its product's fields by the product change rule (its price under the cap),
/// its contents (when given) by `decide_box_lines`.
pub fn decide_box_change(
    now: &ProductState,
    change: &shared::api::UpdateBox,
    facts: &ProductChangeFacts,
    parts: &[BoxPart],
) -> Result<(ProductState, Option<BoxLines>), Refusal> {
    let as_product = shared::api::UpdateProductRequest {
        name: change.name.clone(),
        price_fen: change.price_fen,
        stock: change.stock,
        per_order_limit: change.per_order_limit,
        description: change.description.clone(),
        on_sale: change.on_sale,
        ..Default::default()
    };
    let after = decide_product_change(now, &as_product, facts)?;
    let lines = change.items.as_deref().map(|lines| decide_box_lines(lines, parts)).transpose()?;
    Ok((after, lines))
}

/// The category boxes are shown under (the storefront's 菜盒子 shelf).
pub const BOX_CATEGORY: &str = "box";

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> CatalogueFacts {
        let cat = |id: &str, name: &str, sort| CategoryState {
            id: id.into(),
            name: name.into(),
            name_en: id.into(),
            sort,
            icon: "🥬".into(),
            retired: false,
        };
        CatalogueFacts {
            categories: vec![cat("vegetable", "蔬菜", 10), cat("fruit", "水果", 20)],
            stall_numbers: vec!["A03".into(), "S3".into()],
        }
    }

    #[test]
    fn a_category_gets_a_key_a_place_and_a_name_of_its_own() {
        let f = facts();
        let new = |name: &str, en: Option<&str>| NewCategory {
            name: name.into(),
            name_en: en.map(str::to_owned),
            ..Default::default()
        };
        let dried = decide_new_category(&new(" 干货 ", Some("Dried goods")), &f).expect("made");
        assert_eq!(
            (dried.id.as_str(), dried.name.as_str(), dried.sort, dried.icon.as_str()),
            ("dried_goods", "干货", 30, "🧺")
        );
        let chinese_only = decide_new_category(&new("粮油", None), &f).expect("made");
        assert_eq!((chinese_only.id.as_str(), chinese_only.name_en.as_str()), ("c3", "粮油"));
        let again = decide_new_category(&new("水果2", Some("fruit")), &f).expect("made");
        assert_eq!(again.id, "c3", "a key in use is not taken twice");
        assert_eq!(decide_new_category(&new("蔬菜", None), &f).map_err(|r| r.code), Err(ErrorCode::AlreadyExists));
        assert_eq!(decide_new_category(&new("", None), &f).map_err(|r| r.code), Err(ErrorCode::InvalidField));
        let bad_icon = NewCategory { icon: Some("x".into()), ..new("肉", None) };
        assert!(decide_new_category(&bad_icon, &f).is_err());
        let veg = f.categories[0].clone();
        let renamed = decide_category_change(
            &veg,
            &UpdateCategory { name: Some("时令蔬菜".into()), sort: Some(5), ..Default::default() },
            &f,
            0,
        );
        assert_eq!(renamed.map(|c| (c.id, c.name, c.sort)), Ok(("vegetable".into(), "时令蔬菜".into(), 5)));
        let clash =
            decide_category_change(&veg, &UpdateCategory { name: Some("水果".into()), ..Default::default() }, &f, 0);
        assert_eq!(clash.map_err(|r| r.code), Err(ErrorCode::AlreadyExists));
        let same =
            decide_category_change(&veg, &UpdateCategory { name: Some("蔬菜".into()), ..Default::default() }, &f, 0);
        assert!(same.is_ok(), "its own name is not a clash");
        let retire = UpdateCategory { retired: Some(true), ..Default::default() };
        assert_eq!(decide_category_change(&veg, &retire, &f, 3).map_err(|r| r.code), Err(ErrorCode::WrongState));
        assert_eq!(decide_category_change(&veg, &retire, &f, 0).map(|c| c.retired), Ok(true));
    }

    #[test]
    fn a_stall_has_a_number_of_its_own_and_a_category_on_record() {
        let f = facts();
        let new = |hall: Option<&str>, number: Option<&str>, category: Option<&str>| NewStall {
            name: "张记蔬菜".into(),
            hall: hall.map(str::to_owned),
            number: number.map(str::to_owned),
            category: category.map(str::to_owned),
            description: None,
        };
        let b7 = decide_new_stall(&new(Some("b"), Some("07"), Some("fruit")), &f).expect("made");
        assert_eq!((b7.stall_no.as_str(), b7.category.as_str()), ("B07", "fruit"));
        let numbered = decide_new_stall(&new(None, None, None), &f).expect("made");
        assert_eq!((numbered.stall_no.as_str(), numbered.category.as_str()), ("S4", "vegetable"), "S3 is taken");
        let code = |s: NewStall, f: &CatalogueFacts| decide_new_stall(&s, f).map_err(|r| r.code);
        assert_eq!(code(new(Some("a"), Some("03"), None), &f), Err(ErrorCode::AlreadyExists));
        assert_eq!(code(new(None, Some("3号"), None), &f), Err(ErrorCode::InvalidField));
        assert_eq!(code(new(None, Some("9"), Some("meat")), &f), Err(ErrorCode::InvalidField));
        assert_eq!(code(new(None, Some("9"), None), &CatalogueFacts::default()), Err(ErrorCode::WrongState));
        let changed =
            decide_stall_change(&b7, &UpdateStall { category: Some("vegetable".into()), ..Default::default() }, &f);
        assert_eq!(changed.map(|s| (s.stall_no, s.category)), Ok(("B07".into(), "vegetable".into())));
        let rest = |day: &str| UpdateStall { closed_on: Some(day.into()), ..Default::default() };
        let resting = decide_stall_change(&b7, &rest("2026-12-08"), &f).expect("a day");
        assert_eq!(resting.closed_on.as_deref(), Some("2026-12-08"));
        assert_eq!(decide_stall_change(&resting, &rest(""), &f).map(|s| s.closed_on), Ok(None));
        assert!(decide_stall_change(&b7, &rest("8 December"), &f).is_err());
        let day = "2026-12-08";
        assert_eq!(stall_refusal("张记", true, Some(day), day).map(|r| r.code), Some(ErrorCode::StallClosed));
        assert_eq!(stall_refusal("张记", true, Some(day), "2026-12-09"), None, "other days it sells");
        assert_eq!(stall_refusal("张记", false, None, day).map(|r| r.code), Some(ErrorCode::StallClosed));
    }

    #[test]
    fn a_product_has_a_name_of_its_own_at_its_stall_and_numbers_in_range() {
        let facts = ProductFacts { categories: vec!["vegetable".into()], names_at_stall: vec!["大白菜".into()] };
        let new = |name: &str, stock: i64, limit: Option<i64>| NewProduct {
            vendor_id: None,
            category: "vegetable".into(),
            name: name.into(),
            unit: "斤".into(),
            price_fen: shared::Fen::new(350).expect("fen"),
            stock,
            per_order_limit: limit,
            origin: Some(" 山东寿光 ".into()),
            description: None,
        };
        let made = decide_new_product(7, &new(" 小油菜 ", 80, Some(5)), &facts).expect("made");
        assert_eq!(
            (made.vendor_id, made.name.as_str(), made.origin.as_str(), made.price_fen),
            (7, "小油菜", "山东寿光", 350)
        );
        let code = |p: NewProduct| decide_new_product(7, &p, &facts).map_err(|r| r.code);
        assert_eq!(code(new("大白菜", 1, None)), Err(ErrorCode::AlreadyExists));
        assert_eq!(code(new("", 1, None)), Err(ErrorCode::InvalidField));
        assert_eq!(code(new("萝卜", -1, None)), Err(ErrorCode::InvalidField));
        assert_eq!(code(new("萝卜", 1, Some(0))), Err(ErrorCode::InvalidField));
        assert_eq!(code(NewProduct { category: "meat".into(), ..new("萝卜", 1, None) }), Err(ErrorCode::InvalidField));
        assert_eq!(code(NewProduct { unit: "".into(), ..new("萝卜", 1, None) }), Err(ErrorCode::InvalidField));
    }

    #[test]
    fn a_product_changes_within_the_rules_and_retires_without_going() {
        use shared::api::UpdateProductRequest as Change;
        let now = ProductState {
            vendor_id: 7,
            category: "vegetable".into(),
            name: "小油菜".into(),
            unit: "斤".into(),
            price_fen: 300,
            stock: 10,
            per_order_limit: Some(5),
            origin: "山东寿光".into(),
            description: String::new(),
            on_sale: true,
            price_ceiling_fen: None,
        };
        let facts = ProductChangeFacts {
            categories: vec!["vegetable".into(), "fruit".into()],
            other_names_at_stall: vec!["大白菜".into()],
            day_open_fen: 300,
            cap: Some(crate::domain::prices::Cap { max_daily_rise_percent: 10 }),
        };
        let fen = |f| Some(shared::Fen::new(f).expect("fen"));
        let changed = decide_product_change(
            &now,
            &Change {
                name: Some(" 上海青 ".into()),
                unit: Some("把".into()),
                per_order_limit: Some(0),
                origin: Some(" ".into()),
                price_fen: fen(330),
                on_sale: Some(false),
                ..Default::default()
            },
            &facts,
        )
        .expect("changed");
        assert_eq!(
            (changed.name.as_str(), changed.unit.as_str(), changed.per_order_limit, changed.origin.as_str()),
            ("上海青", "把", None, "")
        );
        assert_eq!((changed.price_fen, changed.on_sale, changed.stock), (330, false, 10));
        let code = |c: Change| decide_product_change(&now, &c, &facts).map_err(|r| r.code);
        assert_eq!(code(Change { price_fen: fen(331), ..Default::default() }), Err(ErrorCode::PriceCapped));
        assert_eq!(
            code(Change { price_fen: fen(320), price_ceiling_fen: Some(310), ..Default::default() }),
            Err(ErrorCode::PriceCapped),
            "a ceiling set in the same change counts"
        );
        assert_eq!(code(Change { name: Some("大白菜".into()), ..Default::default() }), Err(ErrorCode::AlreadyExists));
        assert_eq!(code(Change { category: Some("meat".into()), ..Default::default() }), Err(ErrorCode::InvalidField));
        assert_eq!(code(Change { per_order_limit: Some(1000), ..Default::default() }), Err(ErrorCode::InvalidField));
        assert_eq!(code(Change { stock: Some(-1), ..Default::default() }), Err(ErrorCode::InvalidField));
        assert_eq!(decide_product_change(&now, &Change::default(), &facts), Ok(now.clone()), "nothing asked");
    }

    #[test]
    fn a_box_holds_goods_on_sale_once_each() {
        use shared::api::BoxLine;
        let parts = [
            BoxPart { id: 1, on_sale: true, is_box: false },
            BoxPart { id: 2, on_sale: false, is_box: false },
            BoxPart { id: 3, on_sale: true, is_box: true },
            BoxPart { id: 4, on_sale: true, is_box: false },
        ];
        let line = |product_id, quantity| BoxLine { product_id, quantity };
        assert_eq!(decide_box_lines(&[line(1, 2), line(4, 1)], &parts), Ok(vec![(1, 2), (4, 1)]));
        for bad in [
            vec![],
            vec![line(2, 1)],
            vec![line(3, 1)],
            vec![line(9, 1)],
            vec![line(1, 0)],
            vec![line(1, 1), line(1, 2)],
        ] {
            assert!(decide_box_lines(&bad, &parts).is_err(), "{bad:?}");
        }
        let new = shared::api::NewBox {
            name: "一周菜盒".into(),
            price_fen: shared::Fen::new(3990).expect("fen"),
            stock: 20,
            items: vec![line(1, 2)],
            vendor_id: None,
            per_order_limit: Some(1),
            description: None,
        };
        let (made, lines) = decide_new_box(9, &new, vec![], &parts).expect("made");
        assert_eq!(
            (made.category.as_str(), made.unit.as_str(), made.price_fen, lines),
            ("box", "盒", 3990, vec![(1, 2)])
        );
        assert!(decide_new_box(9, &new, vec!["一周菜盒".into()], &parts).is_err(), "its name at the stall");
    }
}
