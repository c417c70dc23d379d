//! The demo market: a dozen stalls of a Jinan community market in spring 2020, with their
//! goods at the prices of the time (in fen), the market's own 菜盒子 boxes, the buildings of
//! 七里山小区, and the demo accounts of docs/contract.md.

use crate::store::checkout::SlotRecord;
use crate::store::seed::{
    Seed, SeedAccount, SeedBox, SeedBuilding, SeedCategory, SeedHousehold, SeedPoint, SeedProducer, SeedProduct,
    SeedVendor,
};
use shared::Role;

pub mod photos;
pub mod scale;

pub const COMMUNITY: &str = "七里山小区";
pub const STAFF_PHONE: &str = "13800000000";

/// (name, unit, price_fen, stock, per-order limit)
type Goods = &'static [(&'static str, &'static str, i64, i64, Option<i64>)];

const CATEGORIES: &[(&str, &str, &str, &str)] = &[
    ("box", "菜盒子", "Veg boxes", "📦"),
    ("vegetable", "蔬菜", "Vegetables", "🥬"),
    ("fruit", "水果", "Fruit", "🍎"),
    ("meat", "肉禽", "Meat & poultry", "🥩"),
    ("egg", "蛋", "Eggs", "🥚"),
    ("grain_oil", "粮油", "Grain & oil", "🌾"),
    ("tofu", "豆制品", "Tofu & soy", "🫘"),
    ("seafood", "水产", "Fish & seafood", "🐟"),
    ("staple", "主食厨房", "Staple kitchen", "🥟"),
];

/// Where the demo's fresh goods come from, by category (产销对接 with Shandong's vegetable
/// country): origin, the issuer of the certificates (合格证) and its phone.
const PRODUCERS: &[(&str, &str, &str, &str)] = &[
    ("vegetable", "山东寿光", "寿光市洛城街道蔬菜专业合作社", "0536-5200001"),
    ("fruit", "山东烟台栖霞", "栖霞市苹果专业合作社", "0535-5200002"),
    ("meat", "山东临沂", "临沂市兰陵县生猪养殖合作社", "0539-5200003"),
    ("egg", "山东济南章丘", "章丘区绣惠镇蛋鸡养殖场", "0531-5200004"),
    ("seafood", "山东东营", "东营市黄河口水产养殖合作社", "0546-5200005"),
];

const STALLS: &[(&str, &str, &str, &str, Goods)] = &[
    (
        "A01",
        "老王蔬菜",
        "vegetable",
        "章丘、平阴基地直供的家常菜",
        &[
            ("大白菜", "斤", 120, 800, None),
            ("土豆", "斤", 150, 600, None),
            ("西红柿", "斤", 350, 300, None),
            ("黄瓜", "斤", 300, 300, None),
            ("茄子", "斤", 280, 200, None),
            ("青椒", "斤", 350, 200, None),
            ("胡萝卜", "斤", 180, 400, None),
            ("白萝卜", "斤", 100, 400, None),
            ("洋葱", "斤", 160, 300, None),
            ("章丘大葱", "斤", 300, 300, None),
        ],
    ),
    (
        "A02",
        "绿园时蔬",
        "vegetable",
        "当天采摘的叶菜",
        &[
            ("菠菜", "把", 250, 150, None),
            ("油菜", "斤", 300, 200, None),
            ("生菜", "斤", 400, 120, None),
            ("芹菜", "斤", 280, 200, None),
            ("韭菜", "把", 300, 150, None),
            ("蒜苗", "斤", 600, 100, None),
            ("西兰花", "个", 500, 120, None),
            ("菜花", "斤", 350, 150, None),
            ("香菜", "把", 200, 100, None),
            ("小白菜", "斤", 300, 150, None),
        ],
    ),
    (
        "A03",
        "平阴农家菜",
        "vegetable",
        "根茎菜、菌菇和调味菜",
        &[
            ("山药", "斤", 600, 150, None),
            ("莲藕", "斤", 550, 120, None),
            ("冬瓜", "斤", 120, 200, None),
            ("南瓜", "斤", 180, 200, None),
            ("豆角", "斤", 500, 150, None),
            ("大蒜", "斤", 450, 200, None),
            ("生姜", "斤", 800, 150, None),
            ("香菇", "斤", 900, 100, None),
            ("金针菇", "袋", 250, 200, None),
            ("平菇", "斤", 500, 120, None),
        ],
    ),
    (
        "B01",
        "鲜果坊",
        "fruit",
        "应季水果",
        &[
            ("香蕉", "斤", 350, 300, None),
            ("脐橙", "斤", 500, 300, None),
            ("砂糖橘", "斤", 600, 250, None),
            ("莱阳梨", "斤", 400, 200, None),
            ("草莓", "盒", 1800, 80, Some(3)),
            ("猕猴桃", "斤", 800, 150, None),
            ("柚子", "个", 1200, 100, None),
            ("巨峰葡萄", "斤", 900, 100, None),
        ],
    ),
    (
        "B02",
        "烟台苹果直供",
        "fruit",
        "烟台果园直发",
        &[
            ("红富士苹果", "斤", 550, 500, None),
            ("黄元帅苹果", "斤", 500, 200, None),
            ("嘎啦果", "斤", 600, 150, None),
            ("沾化冬枣", "斤", 1000, 100, None),
            ("哈密瓜", "个", 1500, 60, None),
            ("火龙果", "个", 600, 120, None),
            ("芒果", "斤", 900, 100, None),
        ],
    ),
    (
        "C01",
        "振大鲜肉",
        "meat",
        "定点屠宰，检疫合格",
        &[
            ("五花肉", "斤", 2800, 200, Some(3)),
            ("猪里脊", "斤", 3000, 120, Some(3)),
            ("猪排骨", "斤", 3500, 100, Some(3)),
            ("猪蹄", "个", 1500, 80, None),
            ("牛肉", "斤", 4500, 100, Some(2)),
            ("羊肉", "斤", 4200, 80, Some(2)),
            ("猪肉馅", "斤", 2600, 150, Some(3)),
        ],
    ),
    (
        "C02",
        "禽类专柜",
        "meat",
        "冷鲜禽肉",
        &[
            ("白条鸡", "只", 3000, 80, None),
            ("鸡胸肉", "斤", 1200, 150, None),
            ("鸡腿", "斤", 1300, 150, None),
            ("鸡翅中", "斤", 2800, 80, None),
            ("鸭腿", "斤", 1100, 100, None),
        ],
    ),
    (
        "D01",
        "章丘鸡蛋",
        "egg",
        "本地养殖场直供",
        &[
            ("鲜鸡蛋", "斤", 450, 600, Some(5)),
            ("土鸡蛋", "盒", 3500, 100, Some(2)),
            ("鸭蛋", "斤", 700, 100, None),
            ("鹌鹑蛋", "盒", 800, 80, None),
            ("咸鸭蛋", "个", 200, 200, None),
            ("松花蛋", "个", 150, 200, None),
        ],
    ),
    (
        "E01",
        "粮油副食",
        "grain_oil",
        "米面粮油、调味品",
        &[
            ("大米", "袋", 3500, 200, Some(2)),
            ("面粉", "袋", 2800, 200, Some(2)),
            ("花生油", "桶", 8900, 100, Some(1)),
            ("大豆油", "桶", 6500, 100, Some(1)),
            ("小米", "斤", 600, 200, None),
            ("挂面", "袋", 500, 300, None),
            ("食盐", "袋", 250, 300, None),
            ("酱油", "瓶", 900, 150, None),
            ("米醋", "瓶", 700, 150, None),
            ("玉米面", "斤", 300, 200, None),
        ],
    ),
    (
        "F01",
        "豆腐坊",
        "tofu",
        "每天现做",
        &[
            ("老豆腐", "斤", 300, 150, None),
            ("嫩豆腐", "盒", 250, 120, None),
            ("豆腐皮", "斤", 800, 80, None),
            ("腐竹", "袋", 900, 80, None),
            ("豆浆", "袋", 200, 150, None),
            ("千张", "斤", 700, 80, None),
            ("绿豆芽", "斤", 200, 150, None),
        ],
    ),
    (
        "G01",
        "黄河水产",
        "seafood",
        "活鱼现杀",
        &[
            ("黄河鲤鱼", "斤", 1200, 80, None),
            ("草鱼", "斤", 900, 100, None),
            ("鲫鱼", "斤", 1000, 80, None),
            ("带鱼", "斤", 2200, 80, None),
            ("虾仁", "袋", 3500, 60, None),
            ("海带", "斤", 500, 100, None),
            ("鱿鱼", "斤", 1800, 60, None),
            ("花蛤", "斤", 800, 80, None),
        ],
    ),
    (
        "H01",
        "主食厨房",
        "staple",
        "馒头、包子、水饺当天蒸煮",
        &[
            ("馒头", "个", 50, 2000, None),
            ("花卷", "个", 60, 800, None),
            ("猪肉大葱包子", "个", 150, 800, None),
            ("杂粮煎饼", "个", 300, 300, None),
            ("芝麻烧饼", "个", 150, 400, None),
            ("速冻水饺", "袋", 1800, 150, None),
            ("油条", "根", 100, 400, None),
            ("粽子", "个", 400, 200, None),
        ],
    ),
    (
        "H02",
        "老济南面食",
        "staple",
        "老济南风味",
        &[
            ("手擀面", "斤", 500, 150, None),
            ("大饼", "斤", 600, 100, None),
            ("发面饼", "个", 200, 200, None),
            ("把子肉", "份", 1200, 100, None),
            ("油旋", "个", 300, 200, None),
            ("甜沫", "份", 400, 100, None),
        ],
    ),
];

const BOX_STALL: (&str, &str, &str) = ("Z01", "振大社区菜盒子", "市场统一配好的蔬菜盒子，配送到家");

/// (name, price_fen, stock, limit, description, contents)
type BoxRow = (&'static str, i64, i64, Option<i64>, &'static str, &'static [(&'static str, i64)]);
const BOXES: &[BoxRow] = &[
    (
        "菜盒子·家常装",
        3980,
        300,
        Some(2),
        "三口之家两三天的家常菜",
        &[("大白菜", 2), ("土豆", 2), ("西红柿", 1), ("黄瓜", 1), ("胡萝卜", 1), ("章丘大葱", 1), ("鲜鸡蛋", 1)],
    ),
    (
        "菜盒子·时蔬装",
        2980,
        200,
        Some(2),
        "五样当季叶菜和菌菇",
        &[("菠菜", 1), ("油菜", 1), ("芹菜", 1), ("西兰花", 1), ("香菇", 1)],
    ),
    (
        "菜盒子·荤素搭配",
        6880,
        150,
        Some(1),
        "有肉有蛋有豆腐，配十个馒头",
        &[("五花肉", 1), ("鲜鸡蛋", 1), ("大白菜", 1), ("土豆", 1), ("老豆腐", 1), ("馒头", 10)],
    ),
    (
        "爱心盒·居家隔离",
        4500,
        200,
        Some(1),
        "为居家隔离户准备：菜、蛋、主食和水果",
        &[("大白菜", 2), ("土豆", 2), ("鲜鸡蛋", 2), ("馒头", 10), ("红富士苹果", 2), ("挂面", 1)],
    ),
];

/// (phone, name, building, unit, room, quarantined, hardship, elderly)
type ResidentRow = (&'static str, &'static str, &'static str, &'static str, &'static str, bool, bool, bool);
const RESIDENTS: &[ResidentRow] = &[
    ("13900000001", "张阿姨", "3", "2", "501", false, false, true),
    ("13900000002", "李先生", "5", "1", "302", true, false, false),
    ("13900000003", "王奶奶", "7", "3", "101", false, true, true),
    ("13900000004", "赵女士", "1", "1", "201", false, false, false),
    ("13900000005", "刘大爷", "9", "2", "602", true, false, true),
];

fn product(
    name: &'static str,
    unit: &'static str,
    price_fen: i64,
    stock: i64,
    limit: Option<i64>,
    description: &'static str,
) -> SeedProduct {
    SeedProduct { name: name.to_owned(), unit, price_fen, stock, per_order_limit: limit, description }
}

pub fn vendor_phone(index: usize) -> String {
    format!("138000001{:02}", index + 1)
}

pub fn volunteer_phone(index: usize) -> String {
    format!("138000002{:02}", index + 1)
}

/// The demo producers' phones: 13800000401 speaks for 寿光's vegetables, and so on.
pub fn producer_phone(index: usize) -> String {
    format!("138000004{:02}", index + 1)
}

pub fn market() -> Seed {
    let mut vendors: Vec<SeedVendor> = STALLS
        .iter()
        .enumerate()
        .map(|(i, (stall_no, name, category, description, goods))| SeedVendor {
            name: (*name).to_owned(),
            stall_no: (*stall_no).to_owned(),
            category,
            description,
            owner_phone: vendor_phone(i),
            products: goods.iter().map(|&(n, u, p, s, l)| product(n, u, p, s, l, "")).collect(),
        })
        .collect();
    vendors.push(SeedVendor {
        name: BOX_STALL.1.to_owned(),
        stall_no: BOX_STALL.0.to_owned(),
        category: "box",
        description: BOX_STALL.2,
        owner_phone: vendor_phone(STALLS.len()),
        products: Vec::new(),
    });
    let boxes = BOXES
        .iter()
        .map(|&(name, price, stock, limit, description, contents)| SeedBox {
            stall_no: BOX_STALL.0.to_owned(),
            product: product(name, "盒", price, stock, limit, description),
            contents: contents.to_vec(),
        })
        .collect();
    let mut accounts = vec![SeedAccount {
        phone: STAFF_PHONE.into(),
        display_name: "市场工作人员".into(),
        roles: vec![Role::Staff],
        household: None,
    }];
    accounts.extend(vendors.iter().map(|v| SeedAccount {
        phone: v.owner_phone.clone(),
        display_name: format!("{} 摊主", v.name),
        roles: vec![Role::Vendor],
        household: None,
    }));
    accounts.extend((0..10).map(|i| SeedAccount {
        phone: volunteer_phone(i),
        display_name: format!("志愿者{:02}", i + 1),
        roles: vec![Role::Volunteer],
        household: None,
    }));
    accounts.extend(PRODUCERS.iter().enumerate().map(|(i, &(_, _, issuer, _))| SeedAccount {
        phone: producer_phone(i),
        display_name: issuer.into(),
        roles: vec![Role::Producer],
        household: None,
    }));
    accounts.extend(RESIDENTS.iter().map(|&(phone, name, b, u, r, q, h, e)| SeedAccount {
        phone: phone.into(),
        display_name: name.into(),
        roles: vec![Role::Resident],
        household: Some(SeedHousehold {
            building: b.into(),
            unit: u.into(),
            room: r.into(),
            quarantined: q,
            hardship: h,
            elderly: e,
        }),
    }));
    Seed {
        categories: CATEGORIES
            .iter()
            .map(|&(id, name_zh, name_en, icon)| SeedCategory { id, name_zh, name_en, icon })
            .collect(),
        vendors,
        boxes,
        buildings: (1..=12)
            .map(|n| SeedBuilding { community: COMMUNITY, number: n.to_string(), units: 3, floors: 6 })
            .collect(),
        accounts,
        pickup_points: PICKUP_POINTS.to_vec(),
        producers: PRODUCERS
            .iter()
            .enumerate()
            .map(|(i, &(category, origin, issuer, contact))| SeedProducer {
                category,
                origin,
                issuer,
                contact,
                phone: producer_phone(i),
            })
            .collect(),
    }
}

/// Daily delivery windows (Asia/Shanghai) and the market-counter pickup window.
/// The demo's pickup points (自提点), in compounds a short walk from the market.
const PICKUP_POINTS: [SeedPoint; 2] = [
    SeedPoint {
        name: "翠苑小区自提点",
        address: "翠苑小区南门物业旁",
        opens: "08:00",
        closes: "20:00",
        capacity: 60,
        keeper: "13800000501",
        uncollected: "keep_day",
    },
    SeedPoint {
        name: "绿地新城自提点",
        address: "绿地新城3号楼架空层",
        opens: "09:00",
        closes: "21:00",
        capacity: 40,
        keeper: "13800000502",
        uncollected: "return",
    },
];

const DELIVERY_WINDOWS: [(u32, u32); 4] = [(8, 10), (10, 12), (14, 16), (16, 18)];
const PICKUP_WINDOW: (u32, u32) = (17, 19);

/// Demo mode keeps slots open for today and the next three days: a day that has none gets
/// the market's usual windows. Idempotent per day.
pub async fn ensure_slots(
    store: &crate::store::Store,
    now: chrono::DateTime<chrono::Utc>,
    full_size: bool,
) -> crate::store::StoreResult<usize> {
    use crate::domain::time::{shanghai_offset, shanghai_today_start};
    use chrono::{Duration, TimeZone};
    use shared::order::SlotKind;
    let today = shanghai_today_start(now);
    let mut made = 0;
    for day in 0..4 {
        let start = today + Duration::days(day);
        if !store.slots().between(Some(shared::MarketId::FIRST), start, start + Duration::days(1)).await?.is_empty() {
            continue;
        }
        let local = start.with_timezone(&shanghai_offset()).date_naive();
        let at = |hour: u32| {
            local
                .and_hms_opt(hour, 0, 0)
                .and_then(|t| shanghai_offset().from_local_datetime(&t).single())
                .map(|t| t.with_timezone(&chrono::Utc))
        };
        let windows =
            DELIVERY_WINDOWS.iter().map(|w| (SlotKind::Delivery, *w)).chain([(SlotKind::Pickup, PICKUP_WINDOW)]);
        for (kind, (from, to)) in windows {
            let (Some(starts_at), Some(ends_at)) = (at(from), at(to)) else { continue };
            let slot = crate::store::checkout::NewSlot {
                kind,
                starts_at,
                ends_at,
                cutoff_at: starts_at - Duration::hours(1),
                capacity: match (kind, full_size) {
                    (SlotKind::Delivery, false) => 60,
                    (SlotKind::Pickup, false) => 120,
                    (SlotKind::Delivery, true) => 1_200,
                    (SlotKind::Pickup, true) => 1_000,
                },
                priority_capacity: match (kind, full_size) {
                    (SlotKind::Delivery, false) => 15,
                    (SlotKind::Delivery, true) => 300,
                    (SlotKind::Pickup, _) => 0,
                },
                priority_release_at: Some(starts_at - Duration::hours(3)),
                household_limit: 1,
            };
            store.slots().create(shared::MarketId::FIRST, &slot, now).await?;
            made += 1;
        }
    }
    Ok(made)
}

/// On the demo's first start: a gift to the donation pool from the community's fund, recorded
/// by the demo's staff, so the pool has something to help with.
pub async fn fill_pool(
    store: &crate::store::Store,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::store::StoreResult<i64> {
    let staff = store.accounts().user_for_phone(STAFF_PHONE, now).await?;
    let gift = crate::store::money::donations::NewGift {
        market: shared::MarketId::FIRST,
        user_id: None,
        donor_name: Some("振大社区爱心基金"),
        amount: shared::Fen::stored(10_000),
        boxes: 0,
        product_id: None,
        note: Some("演示数据 (demo)"),
        recorded_by: Some(staff.id),
    };
    store.donations().give(&gift, now).await
}

/// The demo's group leader (团长) of buildings 3 and 5.
pub const LEADER_PHONE: &str = "13800000301";

/// On the demo's first start: its leader, its volunteers' buildings, and one group-buy for buildings 3 and 5 that closes an
/// hour before tomorrow's first delivery slot's cut-off, so the 团购 tab has something to join.
pub async fn open_group_buy(
    store: &crate::store::Store,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::store::StoreResult<Option<i64>> {
    use crate::domain::group_buy::{OpenRequest, Runner};
    use shared::{group_buy::SetRoles, order::SlotKind};
    let roles = |roles: &[&str], buildings: Vec<String>| SetRoles {
        roles: roles.iter().map(|r| r.to_string()).collect(),
        buildings,
        stall_id: None,
    };
    let leads = roles(&["resident", "leader"], vec!["3".to_owned(), "5".to_owned()]);
    let Ok(leader) = store.accounts().set_roles(shared::MarketId::FIRST, LEADER_PHONE, &leads, None, now).await? else {
        return Ok(None);
    };
    // The demo's volunteers serve its twelve buildings (staff assign a real market's).
    let serves = roles(&["volunteer"], (1..=12).map(|b| b.to_string()).collect());
    for i in 0..10 {
        let _ = store.accounts().set_roles(shared::MarketId::FIRST, &volunteer_phone(i), &serves, None, now).await?;
    }
    let tomorrow = crate::domain::time::shanghai_today_start(now) + chrono::Duration::days(1);
    let slots =
        store.slots().between(Some(shared::MarketId::FIRST), tomorrow, tomorrow + chrono::Duration::days(1)).await?;
    let Some(slot) = slots.into_iter().map(SlotRecord::into_row).find(|s| s.kind == SlotKind::Delivery) else {
        return Ok(None);
    };
    let mut items = Vec::new();
    for (name, price, max, limit) in [("大白菜", 100, 200, 3), ("土豆", 120, 200, 5), ("西红柿", 300, 100, 2)] {
        let query = shared::api::ProductQuery { q: Some(name.to_owned()), ..Default::default() };
        let page = crate::store::catalogue::ProductPage { limit: shared::api::MAX_LIMIT, after: None };
        if let Some(p) = store
            .catalogue()
            .products(shared::MarketId::FIRST, &query, &page)
            .await?
            .0
            .into_iter()
            .find(|p| p.name == name)
        {
            items.push((p.id.get(), price, max, limit));
        }
    }
    let request = OpenRequest {
        title: "3号楼·5号楼 蔬菜团购".to_owned(),
        buildings: leads.buildings.clone(),
        items,
        min_households: 10,
        deadline: slot.state.cutoff_at - chrono::Duration::hours(1),
        opens_at: None,
        head_start_minutes: 0,
        slot_id: slot.id.get(),
        on_shortfall: shared::group_buy::OnShortfall::Proceed,
        now,
    };
    let leads = store.accounts().leads(leader).await?;
    let runner = Runner { user_id: leader, staff: false, leads, market: shared::MarketId::FIRST };
    Ok(store.group_buys().open(&request, &runner, leader).await?.ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn demo_market_is_the_size_the_issue_asks_for() {
        let m = market();
        assert!(m.vendors.len() >= 12);
        let products: usize = m.vendors.iter().map(|v| v.products.len()).sum();
        assert!(products >= 100, "{products} products");
        assert!(m.boxes.len() >= 3);
        let names: HashSet<_> = m.vendors.iter().flat_map(|v| v.products.iter().map(|p| p.name.as_str())).collect();
        assert_eq!(names.len(), products, "product names are unique, so box contents are unambiguous");
        for b in &m.boxes {
            for (item, _) in &b.contents {
                assert!(names.contains(item), "box item {item} is on sale");
            }
        }
        let phones: HashSet<_> = m.accounts.iter().map(|a| a.phone.clone()).collect();
        assert_eq!(phones.len(), m.accounts.len());
        assert!(phones.contains("13800000000") && phones.contains("13800000101") && phones.contains("13800000210"));
        for a in &m.accounts {
            assert!(shared::Phone::parse(&a.phone).is_ok(), "{}", a.phone);
        }
    }
}
