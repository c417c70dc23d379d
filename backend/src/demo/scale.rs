//! The market at its real size (`FXS_DEMO_SCALE=seed` with `FXS_DEMO=1`): the small demo's
//! stalls and accounts, 71 more stalls (85 in all) selling about 2,000 products, the
//! communities within a kilometre of the market (about 20,000 households, 60,000 residents) and
//! the last 30 days of the market's life (about 150,000 orders with their stall parts, steps
//! and payments, and the price changes of the month). Everything is made from `SEED`, so two
//! runs make the same market; the catalogue goes in through the store's ordinary seed and the
//! history through its bulk loader (`store::bulk`), in one transaction.
//!
//! The market names a building by its number alone (an order's address is building, unit,
//! room), so the buildings of the neighbouring communities are numbered on from 七里山小区's 12.

use super::{Seed, SeedAccount, SeedBuilding, SeedProduct, SeedVendor};
use crate::domain::time::{shanghai_offset, shanghai_today_start};
use crate::store::db::args;
use crate::store::seed::bulk::{Plan, Rows, SeededMarket};
use crate::store::{Store, StoreResult};
use chrono::{DateTime, Duration, TimeZone, Utc};
use shared::Role;
use std::collections::{BTreeMap, HashSet};

/// The seed every run starts from.
pub const SEED: u64 = 20_200_215;
/// Stalls, products, days of history before today and orders in them, at full size.
pub const STALLS: usize = 85;
pub const PRODUCTS: usize = 2_000;
pub const DAYS: i64 = 30;
pub const ORDERS: i64 = 150_000;
/// The most products the names below can make (the benchmarks go to 10,000).
pub const MAX_PRODUCTS: usize = 12_000;

/// How big a market to make: the full size by default, other sizes for the benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub products: usize,
    pub days: i64,
    pub orders: i64,
}

impl Default for Size {
    fn default() -> Self {
        Size { products: PRODUCTS, days: DAYS, orders: ORDERS }
    }
}
/// Volunteers with accounts (the small demo's 10 and more).
pub const VOLUNTEERS: usize = 60;

/// A small, fast, deterministic generator (SplitMix64): the same seed, the same market.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in 0..n.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    pub fn chance(&mut self, per_thousand: u64) -> bool {
        self.below(1000) < per_thousand
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// (name, unit, lowest and highest price in fen)
type Base = (&'static str, &'static str, i64, i64);

/// Per category: its hall letter, its stalls' name endings, the goods and the words that make
/// them many (origin, variety, way of raising), as a market of this size sells them.
struct Kind {
    category: &'static str,
    hall: char,
    stalls: usize,
    ending: &'static str,
    bases: &'static [Base],
    qualifiers: &'static [&'static str],
}

#[rustfmt::skip]
const KINDS: &[Kind] = &[
    Kind {
        category: "vegetable",
        hall: 'A',
        stalls: 18,
        ending: "蔬菜",
        bases: &[
            ("白菜", "斤", 80, 200), ("小白菜", "斤", 200, 400), ("娃娃菜", "斤", 300, 600), ("油麦菜", "斤", 300, 600),
            ("空心菜", "斤", 300, 600), ("茼蒿", "斤", 300, 700), ("香菜", "把", 150, 400), ("西芹", "斤", 250, 500),
            ("韭黄", "斤", 600, 1200), ("蒜薹", "斤", 500, 1000), ("豆角", "斤", 400, 900), ("荷兰豆", "斤", 600, 1200),
            ("四季豆", "斤", 400, 800), ("毛豆", "斤", 400, 800), ("丝瓜", "斤", 300, 600), ("苦瓜", "斤", 300, 700),
            ("冬瓜", "斤", 100, 250), ("南瓜", "斤", 150, 350), ("西葫芦", "斤", 200, 400), ("山药", "斤", 500, 1000),
            ("莲藕", "斤", 400, 800), ("芋头", "斤", 400, 800), ("红薯", "斤", 200, 400), ("紫薯", "斤", 300, 600),
            ("莴笋", "斤", 250, 500), ("竹笋", "斤", 600, 1200), ("金针菇", "袋", 200, 400), ("平菇", "斤", 400, 800),
            ("杏鲍菇", "斤", 500, 900), ("黑木耳", "斤", 800, 1600), ("黄豆芽", "斤", 150, 300), ("绿豆芽", "斤", 150, 300),
            ("生姜", "斤", 600, 1200), ("大蒜", "斤", 500, 1000), ("小葱", "把", 150, 300), ("秋葵", "斤", 600, 1200),
            ("芥蓝", "斤", 500, 900), ("菜心", "斤", 400, 800), ("紫甘蓝", "斤", 250, 500), ("圆白菜", "斤", 150, 300),
            ("樱桃萝卜", "斤", 400, 800), ("彩椒", "斤", 600, 1200), ("尖椒", "斤", 400, 800), ("线椒", "斤", 500, 900),
            ("苋菜", "斤", 400, 800), ("西红柿", "斤", 300, 600), ("黄瓜", "斤", 250, 500), ("茄子", "斤", 250, 500),
        ],
        qualifiers: &["寿光", "章丘", "平阴", "济阳", "商河", "有机", "农家", "大棚", "露天", "精选", "本地", "绿色"],
    },
    Kind {
        category: "fruit",
        hall: 'B',
        stalls: 12,
        ending: "鲜果",
        bases: &[
            ("苹果", "斤", 500, 1000), ("香蕉", "斤", 350, 700), ("橙子", "斤", 500, 1000), ("砂糖橘", "斤", 500, 900),
            ("柚子", "个", 800, 1500), ("雪梨", "斤", 400, 800), ("葡萄", "斤", 800, 1600), ("提子", "斤", 1000, 2000),
            ("猕猴桃", "斤", 800, 1500), ("火龙果", "斤", 700, 1300), ("芒果", "斤", 800, 1500), ("菠萝", "个", 800, 1500),
            ("草莓", "盒", 1500, 3000), ("蓝莓", "盒", 1500, 3000), ("樱桃", "斤", 2500, 5000), ("桃子", "斤", 500, 1000),
            ("西瓜", "斤", 200, 500), ("哈密瓜", "斤", 400, 800), ("香瓜", "斤", 400, 800), ("柠檬", "斤", 600, 1200),
            ("石榴", "斤", 700, 1300), ("柿子", "斤", 400, 800), ("冬枣", "斤", 800, 1500), ("金桔", "斤", 800, 1500),
            ("山楂", "斤", 500, 1000), ("杨桃", "斤", 800, 1500), ("百香果", "斤", 800, 1500), ("椰子", "个", 800, 1500),
        ],
        qualifiers: &["烟台", "沾化", "肥城", "新疆", "海南", "云南", "赣南", "进口", "精品", "特级", "山东", "当季"],
    },
    Kind {
        category: "meat",
        hall: 'C',
        stalls: 10,
        ending: "肉铺",
        bases: &[
            ("五花肉", "斤", 1800, 3000), ("里脊", "斤", 2000, 3200), ("前腿肉", "斤", 1800, 2800), ("后腿肉", "斤", 1800, 2800),
            ("肋排", "斤", 2800, 4200), ("猪蹄", "斤", 1800, 2800), ("猪肝", "斤", 1000, 1800), ("牛腩", "斤", 4000, 6000),
            ("牛腱子", "斤", 4500, 7000), ("牛里脊", "斤", 5000, 8000), ("羊肉片", "斤", 4000, 6500), ("羊排", "斤", 4500, 7000),
            ("鸡胸肉", "斤", 1000, 1600), ("鸡腿", "斤", 1000, 1600), ("鸡翅中", "斤", 2000, 3200), ("鸡爪", "斤", 1500, 2500),
            ("整鸡", "只", 3500, 6000), ("鸭腿", "斤", 900, 1500), ("整鸭", "只", 3000, 5000), ("猪肉馅", "斤", 1800, 2800),
            ("牛肉馅", "斤", 3500, 5000), ("腊肉", "斤", 3000, 5000), ("香肠", "斤", 2500, 4000), ("大骨棒", "斤", 1000, 1800),
        ],
        qualifiers: &["黑猪", "土猪", "鲁西", "草原", "冷鲜", "散养", "精选", "本地", "清真", "农家", "沂蒙", "鲜切"],
    },
    Kind {
        category: "egg",
        hall: 'D',
        stalls: 4,
        ending: "蛋品",
        bases: &[
            ("鸡蛋", "斤", 500, 900), ("土鸡蛋", "斤", 900, 1500), ("鸭蛋", "斤", 700, 1200), ("鹌鹑蛋", "斤", 900, 1500),
            ("咸鸭蛋", "枚", 150, 300), ("松花蛋", "枚", 150, 300), ("鹅蛋", "枚", 300, 600), ("乌鸡蛋", "斤", 1500, 2500),
        ],
        qualifiers: &["农家", "散养", "有机", "柴", "山林", "本地", "精选", "初生", "谷物", "富硒", "草鸡", "高山", "平阴", "章丘"],
    },
    Kind {
        category: "grain_oil",
        hall: 'E',
        stalls: 7,
        ending: "粮油",
        bases: &[
            ("大米", "袋", 2500, 6000), ("小米", "斤", 500, 1000), ("面粉", "袋", 2000, 4500), ("挂面", "把", 400, 900),
            ("玉米面", "斤", 300, 600), ("黑米", "斤", 600, 1200), ("糯米", "斤", 500, 900), ("燕麦片", "袋", 1200, 2500),
            ("绿豆", "斤", 600, 1100), ("红豆", "斤", 700, 1200), ("黄豆", "斤", 500, 900), ("花生油", "桶", 6000, 12000),
            ("大豆油", "桶", 4500, 8000), ("玉米油", "桶", 5000, 9000), ("香油", "瓶", 1500, 3000), ("菜籽油", "桶", 5000, 9000),
            ("食盐", "袋", 200, 400), ("白糖", "袋", 500, 900), ("酱油", "瓶", 800, 1600), ("米醋", "瓶", 600, 1200),
        ],
        qualifiers: &["五常", "鲁花", "章丘", "沂蒙", "东北", "有机", "精制", "农家", "特级", "山东", "古法", "优选"],
    },
    Kind {
        category: "tofu",
        hall: 'F',
        stalls: 5,
        ending: "豆腐坊",
        bases: &[
            ("北豆腐", "块", 250, 500), ("南豆腐", "盒", 250, 500), ("豆腐皮", "斤", 800, 1400), ("干豆腐", "斤", 700, 1200),
            ("豆腐干", "斤", 800, 1400), ("腐竹", "斤", 1500, 2500), ("豆浆", "袋", 200, 400), ("油豆腐", "斤", 900, 1500),
            ("冻豆腐", "斤", 500, 900), ("素鸡", "斤", 900, 1500), ("豆腐泡", "斤", 900, 1500), ("豆花", "碗", 300, 600),
        ],
        qualifiers: &["卤水", "石磨", "手工", "老", "嫩", "黄豆", "黑豆", "农家", "本地", "古法", "精选", "鲜"],
    },
    Kind {
        category: "seafood",
        hall: 'G',
        stalls: 8,
        ending: "水产",
        bases: &[
            ("草鱼", "斤", 900, 1500), ("鲤鱼", "斤", 800, 1300), ("鲫鱼", "斤", 1000, 1600), ("鲈鱼", "斤", 2000, 3200),
            ("带鱼", "斤", 2000, 3500), ("黄花鱼", "斤", 2500, 4000), ("鲅鱼", "斤", 1500, 2500), ("基围虾", "斤", 4000, 6500),
            ("对虾", "斤", 5000, 8000), ("扇贝", "斤", 1500, 2500), ("花蛤", "斤", 800, 1500), ("海带", "斤", 400, 800),
            ("鱿鱼", "斤", 2500, 4000), ("墨鱼", "斤", 3000, 4500), ("梭子蟹", "斤", 5000, 9000), ("海蛎子", "斤", 1500, 2500),
            ("鲳鱼", "斤", 3000, 5000), ("虾皮", "袋", 1000, 2000),
        ],
        qualifiers: &["黄河", "渤海", "青岛", "威海", "日照", "烟台", "东海", "鲜活", "冷冻", "野生", "精选", "本地"],
    },
    Kind {
        category: "staple",
        hall: 'H',
        stalls: 7,
        ending: "面食",
        bases: &[
            ("馒头", "个", 60, 150), ("花卷", "个", 80, 150), ("大包子", "个", 150, 300), ("水饺", "斤", 1500, 2500),
            ("烧饼", "个", 150, 300), ("煎饼", "张", 200, 400), ("大饼", "斤", 600, 1000), ("发糕", "块", 300, 600),
            ("窝头", "个", 80, 150), ("馄饨", "斤", 1500, 2500), ("手擀面", "斤", 500, 900), ("粽子", "个", 400, 800),
            ("年糕", "斤", 800, 1400), ("烙饼", "张", 300, 600), ("春卷", "袋", 1200, 2000), ("油饼", "个", 200, 400),
        ],
        qualifiers: &["手工", "老济南", "杂粮", "全麦", "荠菜", "三鲜", "韭菜", "玉米", "红糖", "黑米", "速冻", "现蒸"],
    },
];

/// A name may also come in a size of its own, priced from its base's price.
const SIZES: &[(&str, &str, f64)] = &[
    ("", "", 1.0),
    ("·家庭装", "份", 2.6),
    ("·小份", "份", 0.55),
    ("·整箱", "箱", 8.0),
    ("·礼盒装", "盒", 3.5),
    ("·半斤装", "袋", 0.5),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许", "傅", "沈", "曾",
    "彭", "吕",
];
const STALL_STYLES: &[&str] = &["老{s}", "{s}记", "{s}家", "{s}大姐", "{s}师傅"];
const TITLES: &[&str] = &["先生", "女士", "阿姨", "大爷", "奶奶", "爷爷", "大姐", "师傅", "同学", "老师"];

/// The communities within a kilometre of the market, after 七里山小区 (the small demo's 12
/// buildings): (name, buildings, units, floors). Rooms per floor of a unit: `rooms_per_floor`.
const COMMUNITIES: &[(&str, i64, i64, i64)] = &[
    ("七里山南区", 24, 3, 6),
    ("七里山北区", 12, 3, 6),
    ("玉函小区", 30, 2, 11),
    ("六里山南苑", 36, 3, 6),
    ("英雄山小区", 28, 4, 6),
    ("郎茂山小区", 40, 3, 7),
    ("舜玉小区", 60, 3, 6),
    ("领秀城", 40, 2, 26),
    ("万科城", 15, 2, 18),
];

/// Flats on each floor of a unit: four in a tower (more than 11 floors), two in a walk-up.
pub fn rooms_per_floor(floors: i64) -> i64 {
    if floors > 11 {
        4
    } else {
        2
    }
}

/// Every household of a building: (unit, room), room as the door says it (floor then flat: "302").
pub fn flats(units: i64, floors: i64) -> impl Iterator<Item = (String, String)> {
    let per_floor = rooms_per_floor(floors);
    (1..=units).flat_map(move |u| {
        (1..=floors).flat_map(move |f| (1..=per_floor).map(move |r| (u.to_string(), format!("{f}{r:02}"))))
    })
}

fn round10(fen: f64) -> i64 {
    ((fen / 10.0).round() as i64 * 10).max(10)
}

/// The market at full size: the small demo, then 71 stalls more (selling `products` in all,
/// the small demo's included); every building; the named accounts (staff, every stall's owner,
/// volunteers, the demo's residents).
pub fn market(products: usize) -> Seed {
    let mut seed = super::market();
    let mut rng = Rng::new(SEED);
    let mut used: HashSet<String> =
        seed.vendors.iter().flat_map(|v| v.products.iter().map(|p| p.name.clone())).collect();
    let existing: usize = seed.vendors.iter().map(|v| v.products.len()).sum::<usize>() + seed.boxes.len();
    let new_stalls: usize = KINDS.iter().map(|k| k.stalls).sum();
    debug_assert_eq!(seed.vendors.len() + new_stalls, STALLS);
    let to_make = products.min(MAX_PRODUCTS).saturating_sub(existing);
    let mut stall_names: HashSet<String> = seed.vendors.iter().map(|v| v.name.clone()).collect();
    let mut made = 0;
    let mut index = 0;
    for kind in KINDS {
        // Every name this kind can make, the plain ones first, each group in a shuffled order.
        let mut names = Vec::new();
        for size in SIZES {
            let mut group = Vec::new();
            for q in kind.qualifiers {
                for b in kind.bases {
                    group.push((format!("{q}{}{}", b.0, size.0), *b, *size));
                }
            }
            rng.shuffle(&mut group);
            names.extend(group);
        }
        names.retain(|(n, _, _)| !used.contains(n));
        let mut names = names.into_iter();
        let taken = seed.vendors.iter().filter(|v| v.category == kind.category).count();
        for s in 0..kind.stalls {
            // Products spread evenly over the new stalls so the whole comes to PRODUCTS.
            let count = to_make / new_stalls + usize::from(index < to_make % new_stalls);
            index += 1;
            let name = loop {
                let surname = *rng.pick(SURNAMES);
                let style = rng.pick(STALL_STYLES).replace("{s}", surname);
                let candidate = format!("{style}{}", kind.ending);
                if stall_names.insert(candidate.clone()) {
                    break candidate;
                }
            };
            let mut products = Vec::with_capacity(count);
            for (product, (_, unit, lo, hi), (_, size_unit, factor)) in names.by_ref().take(count) {
                used.insert(product.clone());
                let base = (lo + rng.below((hi - lo + 1) as u64) as i64) as f64;
                products.push(SeedProduct {
                    name: product,
                    unit: if size_unit.is_empty() { unit } else { size_unit },
                    price_fen: round10(base * factor),
                    stock: 50 + rng.below(1_500) as i64,
                    per_order_limit: rng.chance(100).then(|| 2 + rng.below(4) as i64),
                    description: "",
                });
            }
            made += products.len();
            seed.vendors.push(SeedVendor {
                name,
                stall_no: format!("{}{:02}", kind.hall, taken + s + 1),
                category: kind.category,
                description: "",
                owner_phone: super::vendor_phone(seed.vendors.len()),
                products,
            });
        }
    }
    debug_assert_eq!(made, to_make, "the kinds make enough names");
    for v in &seed.vendors[STALLS - new_stalls..] {
        seed.accounts.push(SeedAccount {
            phone: v.owner_phone.clone(),
            display_name: format!("{} 摊主", v.name),
            roles: vec![Role::Vendor],
            household: None,
        });
    }
    for i in 10..VOLUNTEERS {
        seed.accounts.push(SeedAccount {
            phone: super::volunteer_phone(i),
            display_name: format!("志愿者{:02}", i + 1),
            roles: vec![Role::Volunteer],
            household: None,
        });
    }
    let mut number = seed.buildings.len() as i64;
    for &(community, count, units, floors) in COMMUNITIES {
        for _ in 0..count {
            number += 1;
            seed.buildings.push(SeedBuilding { community, number: number.to_string(), units, floors });
        }
    }
    seed
}

/// The month before today, as rows: households and their residents, price changes, and each
/// day's slots and orders (with lines, stall parts, steps and payments).
pub struct History {
    rng: Rng,
    now: DateTime<Utc>,
    market: SeededMarket,
    stage: Stage,
    next_id: BTreeMap<&'static str, i64>,
    households: Vec<Home>,
    days: i64,
    /// (user id, index into households)
    residents: Vec<(i64, usize)>,
    /// Each product's prices over the month: (from, price), oldest first; by index in `market.products`.
    prices: Vec<Vec<(DateTime<Utc>, i64)>>,
    /// Indexes into `market.products` of everything but boxes, the best sellers first.
    popular: Vec<usize>,
    pub orders: u64,
    per_day: i64,
    /// Told (day, of days) as each day of history is made.
    progress: Option<Progress>,
}

/// Told how far the seeding is: (days done, days in all).
pub type Progress = Box<dyn Fn(i64, i64) + Send + Sync>;

/// A household to be, and where it is.
struct Home {
    id: i64,
    building_id: i64,
    number: String,
    unit: String,
    room: String,
}

enum Stage {
    Homes(usize),
    Prices,
    Day(i64),
    Done,
}

/// Households (with their residents) per chunk.
const HOMES_PER_CHUNK: usize = 2_000;

impl History {
    pub fn new(market: SeededMarket, now: DateTime<Utc>) -> Self {
        History {
            rng: Rng::new(SEED ^ 0x5EED),
            now,
            market,
            stage: Stage::Homes(0),
            next_id: BTreeMap::new(),
            households: Vec::new(),
            residents: Vec::new(),
            prices: Vec::new(),
            popular: Vec::new(),
            orders: 0,
            days: DAYS,
            per_day: ORDERS / DAYS,
            progress: None,
        }
    }

    /// Another length or number of orders than the full size's.
    pub fn sized(mut self, days: i64, orders: i64) -> Self {
        self.days = days.max(1);
        self.per_day = orders.max(0) / self.days;
        self
    }

    fn id(&mut self, table: &'static str) -> i64 {
        let next = self.next_id.entry(table).or_insert(0);
        *next += 1;
        *next
    }

    /// Every flat of every building not already on record, with its id to be.
    fn plan_homes(&mut self) {
        let known: HashSet<(i64, &str, &str)> =
            self.market.households.iter().map(|(b, u, r)| (*b, u.as_str(), r.as_str())).collect();
        let mut homes = Vec::new();
        for (building_id, number, units, floors) in &self.market.buildings {
            for (unit, room) in flats(*units, *floors) {
                if !known.contains(&(*building_id, unit.as_str(), room.as_str())) {
                    homes.push((*building_id, number.clone(), unit, room));
                }
            }
        }
        for (building_id, number, unit, room) in homes {
            let id = self.id("households");
            self.households.push(Home { id, building_id, number, unit, room });
        }
    }

    fn homes_chunk(&mut self, from: usize) -> Vec<Rows> {
        let mut homes =
            Rows::new("households", &["id", "building_id", "unit", "room", "quarantined", "hardship", "elderly"]);
        let mut users = Rows::new("users", &["id", "phone", "display_name", "household_id", "created_at"]);
        let mut roles = Rows::new("user_roles", &["user_id", "role"]);
        let end = (from + HOMES_PER_CHUNK).min(self.households.len());
        let joined = self.now - Duration::days(self.days + 10);
        for index in from..end {
            let Home { id, building_id, ref unit, ref room, .. } = self.households[index];
            let (unit, room) = (unit.clone(), room.clone());
            // A building in lockdown is wholly quarantined: about one in twenty-five.
            let quarantined = building_id % 25 == 7;
            let elderly = self.rng.chance(150);
            let hardship = self.rng.chance(20);
            homes.push(args![id, building_id, unit, room, quarantined, hardship, elderly]);
            for _ in 0..1 + self.rng.below(5) {
                let user = self.id("users");
                let phone = format!("158{:08}", self.residents.len());
                let name = format!("{}{}", self.rng.pick(SURNAMES), self.rng.pick(TITLES));
                users.push(args![user, phone, name, id, joined]);
                roles.push(args![user, "resident"]);
                self.residents.push((user, index));
            }
        }
        self.stage = if end < self.households.len() { Stage::Homes(end) } else { Stage::Prices };
        vec![homes, users, roles]
    }

    /// The month's price changes: each product changed price up to three times; the price it
    /// has now is the last of them (the store's seed wrote it, as of now).
    fn prices_chunk(&mut self) -> Vec<Rows> {
        let mut rows = Rows::new("price_history", &["product_id", "price_fen", "changed_at"]);
        let month_ago = self.now - Duration::days(self.days + 1);
        for p in &self.market.products {
            let mut timeline = vec![(self.now, p.price_fen)];
            if !p.is_box {
                let mut days: Vec<i64> =
                    (0..self.rng.below(4)).map(|_| 1 + self.rng.below(self.days as u64) as i64).collect();
                days.sort_unstable();
                days.dedup();
                let mut price = p.price_fen;
                for day in days {
                    // Walking back: the price before this change differed by 5–15 %.
                    let step = 1.0 + (0.05 + self.rng.unit() * 0.10) * if self.rng.chance(500) { 1.0 } else { -1.0 };
                    price = round10(price as f64 * step);
                    let at = self.now - Duration::days(day) - Duration::minutes(self.rng.below(600) as i64);
                    timeline.push((at, price));
                }
            }
            timeline.push((month_ago, timeline.last().map_or(p.price_fen, |t| t.1)));
            timeline.reverse();
            timeline.dedup_by_key(|t| t.0);
            for (at, price) in &timeline[..timeline.len() - 1] {
                rows.push(args![p.id, *price, *at]);
            }
            self.prices.push(timeline);
        }
        // Popularity: a few goods sell far more than most (the first of this order most).
        let mut order: Vec<usize> =
            (0..self.market.products.len()).filter(|&i| !self.market.products[i].is_box).collect();
        self.rng.shuffle(&mut order);
        self.popular = order;
        self.stage = Stage::Day(self.days);
        vec![rows]
    }

    fn price_at(&self, product: usize, at: DateTime<Utc>) -> i64 {
        let timeline = &self.prices[product];
        timeline.iter().take_while(|(from, _)| *from <= at).last().unwrap_or(&timeline[0]).1
    }

    /// A product, the popular ones far more often (the square of a uniform number leans to 0).
    fn some_product(&mut self) -> usize {
        let u = self.rng.unit();
        self.popular[((u * u) * self.popular.len() as f64) as usize]
    }

    /// One day's slots and orders, `days_ago` before today.
    fn day_chunk(&mut self, days_ago: i64) -> Vec<Rows> {
        let day = shanghai_today_start(self.now) - Duration::days(days_ago);
        let local = day.with_timezone(&shanghai_offset()).date_naive();
        let at = |hour: u32| {
            shanghai_offset()
                .from_local_datetime(&local.and_hms_opt(hour, 0, 0).unwrap_or_default())
                .single()
                .map_or(day, |t| t.with_timezone(&Utc))
        };
        // (id, kind, start, end, capacity, priority capacity)
        let mut slots = Vec::new();
        for (from, to) in super::DELIVERY_WINDOWS {
            slots.push((self.id("slots"), "delivery", at(from), at(to), 1_200i64, 300i64));
        }
        let pickup = super::PICKUP_WINDOW;
        slots.push((self.id("slots"), "pickup", at(pickup.0), at(pickup.1), 1_000, 0));

        struct Planned {
            created: DateTime<Utc>,
            resident: usize,
            slot: usize,
            wechat: bool,
            /// 'd'elivered, 'c'ancelled, 'e'xpired
            fate: char,
            lines: Vec<(usize, i64)>,
        }
        // About the day's share, give or take a tenth.
        let spread = (self.per_day / 5).max(1) as u64;
        let count = (self.per_day - spread as i64 / 2).max(0) as usize + self.rng.below(spread) as usize;
        let mut planned = Vec::with_capacity(count);
        let mut booked = vec![0i64; slots.len()];
        let boxes: Vec<usize> = (0..self.market.products.len()).filter(|&i| self.market.products[i].is_box).collect();
        for _ in 0..count {
            let slot = if self.rng.chance(150) { slots.len() - 1 } else { self.rng.below(4) as usize };
            let (_, _, start, _, capacity, _) = slots[slot];
            let wechat = self.rng.chance(750);
            let roll = self.rng.below(1000);
            let fate = if roll < 25 {
                'c'
            } else if roll < 40 && wechat {
                'e'
            } else {
                'd'
            };
            if fate == 'd' && booked[slot] >= capacity {
                continue;
            }
            if fate == 'd' {
                booked[slot] += 1;
            }
            // Ordered between 7 a.m. the day before and the slot's cut-off an hour before it.
            let window = (start - Duration::hours(1)) - (day - Duration::hours(17));
            let created =
                day - Duration::hours(17) + Duration::seconds(self.rng.below(window.num_seconds() as u64) as i64);
            let mut lines: Vec<(usize, i64)> = Vec::new();
            if !boxes.is_empty() && self.rng.chance(60) {
                lines.push((*self.rng.pick(&boxes), 1));
            }
            for _ in 0..1 + self.rng.below(5) {
                let product = self.some_product();
                if !lines.iter().any(|(p, _)| *p == product) {
                    lines.push((product, 1 + self.rng.below(3) as i64));
                }
            }
            let resident = self.rng.below(self.residents.len() as u64) as usize;
            planned.push(Planned { created, resident, slot, wechat, fate, lines });
        }
        // Ids in the order the orders came, as the checkout gives them.
        planned.sort_by_key(|p| p.created);

        let mut orders = Rows::new(
            "orders",
            &[
                "id",
                "user_id",
                "slot_id",
                "status",
                "payment",
                "total_fen",
                "building",
                "unit",
                "room",
                "handoff_code",
                "priority_booking",
                "created_at",
                "expires_at",
                "updated_at",
                "delivered_by",
                "delivered_at",
            ],
        );
        let mut lines =
            Rows::new("order_lines", &["order_id", "product_id", "vendor_id", "name", "unit", "quantity", "price_fen"]);
        let mut parts = Rows::new("order_parts", &["order_id", "vendor_id", "status", "subtotal_fen", "updated_at"]);
        let mut events = Rows::new("order_events", &["order_id", "status", "at", "by_user"]);
        let mut payments = Rows::new(
            "payments",
            &[
                "out_trade_no",
                "order_id",
                "amount_fen",
                "payer_openid",
                "prepay_id",
                "created_at",
                "transaction_id",
                "paid_at",
            ],
        );
        // The goods the day's delivered orders took came in that morning: the stock ledger's
        // 'added' rows, so the month's orders are accounted for as the market's own are.
        let mut came_in: BTreeMap<i64, i64> = BTreeMap::new();
        for p in planned {
            let id = self.id("orders");
            let (user, home) = self.residents[p.resident];
            let Home { number: ref building, ref unit, ref room, .. } = self.households[home];
            let (building, unit, room) = (building.clone(), unit.clone(), room.clone());
            let (slot_id, kind, start, end, _, _) = slots[p.slot];
            let mut by_vendor: BTreeMap<i64, i64> = BTreeMap::new();
            let mut total = 0;
            for &(product, quantity) in &p.lines {
                let price = self.price_at(product, p.created);
                let row = &self.market.products[product];
                lines.push(args![id, row.id, row.vendor_id, row.name.as_str(), row.unit.as_str(), quantity, price]);
                if p.fate == 'd' {
                    *came_in.entry(row.id).or_default() += quantity;
                }
                *by_vendor.entry(row.vendor_id).or_default() += price * quantity;
                total += price * quantity;
            }
            let first = if p.wechat { "pending_payment" } else { "placed" };
            let mut steps: Vec<(&str, DateTime<Utc>, Option<i64>)> = vec![(first, p.created, Some(user))];
            let minutes = |rng: &mut Rng, lo: i64, hi: i64| Duration::minutes(lo + rng.below((hi - lo) as u64) as i64);
            let (status, part_status, updated, delivered) = match p.fate {
                'c' => {
                    let at = p.created + minutes(&mut self.rng, 2, 60);
                    steps.push(("cancelled", at, Some(user)));
                    ("cancelled", "cancelled", at, None)
                }
                'e' => {
                    let at = p.created + Duration::minutes(15);
                    steps.push(("expired", at, None));
                    ("expired", "cancelled", at, None)
                }
                _ => {
                    let mut at = p.created;
                    if p.wechat {
                        at += minutes(&mut self.rng, 1, 5);
                        steps.push(("paid", at, Some(user)));
                    }
                    let cutoff = start - Duration::hours(1);
                    let confirmed = (at + minutes(&mut self.rng, 10, 120)).min(cutoff);
                    steps.push(("confirmed", confirmed, None));
                    steps.push(("packed", (confirmed + minutes(&mut self.rng, 10, 60)).min(start), None));
                    if kind == "delivery" {
                        steps.push(("out_for_delivery", start, None));
                    }
                    let done = start + Duration::seconds(self.rng.below((end - start).num_seconds() as u64) as i64);
                    let volunteer = (kind == "delivery").then(|| *self.rng.pick(&self.market.volunteers));
                    steps.push(("delivered", done, volunteer));
                    ("delivered", "packed", done, Some((volunteer, done)))
                }
            };
            for (step, at, by) in &steps {
                events.push(args![id, *step, *at, *by]);
            }
            for (vendor, subtotal) in by_vendor {
                parts.push(args![id, vendor, part_status, subtotal, updated]);
            }
            let expires = p.wechat.then(|| p.created + Duration::minutes(15));
            let handoff = format!("{:06}", self.rng.below(1_000_000));
            let (delivered_by, delivered_at) = delivered.map_or((None, None), |(by, at)| (by, Some(at)));
            orders.push(args![
                id,
                user,
                slot_id,
                status,
                if p.wechat { "wechat" } else { "on_delivery" },
                total,
                building,
                unit,
                room,
                handoff,
                false,
                p.created,
                expires,
                updated,
                delivered_by,
                delivered_at
            ]);
            if p.wechat && p.fate == 'd' {
                let paid = steps[1].1;
                payments.push(args![
                    crate::store::money::payments::out_trade_no(id),
                    id,
                    total,
                    format!("o-seed-{user}"),
                    format!("wx-seed-{id}"),
                    p.created,
                    format!("42000{id:015}"),
                    paid
                ]);
            }
            self.orders += 1;
        }
        let mut slot_rows = Rows::new(
            "slots",
            &[
                "id",
                "kind",
                "starts_at",
                "ends_at",
                "cutoff_at",
                "capacity",
                "booked",
                "priority_capacity",
                "priority_release_at",
                "created_at",
            ],
        );
        for (i, (id, kind, start, end, capacity, priority)) in slots.into_iter().enumerate() {
            let release = (priority > 0).then(|| start - Duration::hours(3));
            slot_rows.push(args![
                id,
                kind,
                start,
                end,
                start - Duration::hours(1),
                capacity,
                booked[i],
                priority,
                release,
                day - Duration::days(2)
            ]);
        }
        match &self.progress {
            Some(told) => told(self.days - days_ago + 1, self.days),
            None => tracing::info!(
                day = self.days - days_ago + 1,
                of = self.days,
                orders = self.orders,
                "seed-scale history"
            ),
        }
        self.stage = if days_ago > 1 { Stage::Day(days_ago - 1) } else { Stage::Done };
        let mut stock = Rows::new("stock_changes", &["product_id", "change", "reason", "changed_at"]);
        for (product, quantity) in came_in {
            stock.push(args![product, quantity, "added", day - Duration::hours(17)]);
        }
        vec![slot_rows, orders, lines, parts, events, payments, stock]
    }
}

impl Plan for History {
    fn keyed(&self) -> &'static [&'static str] {
        &["households", "users", "slots", "orders"]
    }

    fn start(&mut self, max_ids: &BTreeMap<&'static str, i64>) -> bool {
        // The month is there already when the neighbourhood's homes are.
        if max_ids.get("households").copied().unwrap_or(0) > 1_000 || self.market.volunteers.is_empty() {
            return false;
        }
        self.next_id = max_ids.clone();
        self.plan_homes();
        true
    }

    fn next_rows(&mut self) -> Option<Vec<Rows>> {
        match self.stage {
            Stage::Homes(from) => Some(self.homes_chunk(from)),
            Stage::Prices => Some(self.prices_chunk()),
            Stage::Day(days_ago) => Some(self.day_chunk(days_ago)),
            Stage::Done => None,
        }
    }

    fn finish(&self) -> Vec<&'static str> {
        // The month's steps were told at the time: notices start after them.
        vec![
            "INSERT INTO notice_cursor (id, last_event) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
            "UPDATE notice_cursor SET last_event = (SELECT COALESCE(MAX(id), 0) FROM order_events) WHERE id = 1",
        ]
    }
}

/// What seeding at full size did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub catalogue: bool,
    pub rows: Option<u64>,
    pub orders: u64,
    pub households: usize,
    pub residents: usize,
}

/// Seeds the full-size market: the catalogue and named accounts (unless a market is there) and
/// the month's history (unless it is there). A database that holds the small demo is refused.
pub async fn seed(store: &Store, now: DateTime<Utc>, size: Size, progress: Option<Progress>) -> StoreResult<Report> {
    let catalogue = store.seed().demo(&market(size.products), now).await?;
    let stalls = store.catalogue().vendors(shared::MarketId::FIRST).await?.len();
    if stalls < STALLS {
        return Err(crate::store::StoreError::Broken(format!(
            "FXS_DEMO_SCALE=seed: this database holds a market of {stalls} stalls (the small demo?); \
             start it on an empty one (a new FXS_DATA_DIR or database)"
        )));
    }
    let seeded = store.bulk().market().await?;
    let mut history = History::new(seeded, now).sized(size.days, size.orders);
    history.progress = progress;
    let rows = store.bulk().load(&mut history).await?;
    Ok(Report {
        catalogue,
        rows,
        orders: history.orders,
        households: history.households.len(),
        residents: history.residents.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_full_market_is_the_size_of_the_real_one_and_the_same_every_time() {
        let m = market(PRODUCTS);
        assert_eq!(m.vendors.len(), STALLS);
        let products: usize = m.vendors.iter().map(|v| v.products.len()).sum::<usize>() + m.boxes.len();
        assert_eq!(products, PRODUCTS);
        let names: HashSet<&str> = m.vendors.iter().flat_map(|v| v.products.iter().map(|p| p.name.as_str())).collect();
        assert_eq!(names.len() + m.boxes.len(), PRODUCTS, "names are unique");
        let stalls: HashSet<&str> = m.vendors.iter().map(|v| v.stall_no.as_str()).collect();
        assert_eq!(stalls.len(), STALLS);
        let phones: HashSet<&str> = m.accounts.iter().map(|a| a.phone.as_str()).collect();
        assert_eq!(phones.len(), m.accounts.len());
        let households: i64 = m.buildings.iter().map(|b| b.units * b.floors * rooms_per_floor(b.floors)).sum();
        assert!((19_000..=21_000).contains(&households), "{households} households");
        for v in &m.vendors {
            for p in &v.products {
                assert!(p.price_fen > 0 && p.stock > 0, "{}", p.name);
            }
        }
        let again = market(PRODUCTS);
        let first: Vec<_> = m
            .vendors
            .iter()
            .map(|v| (&v.name, v.products.iter().map(|p| (&p.name, p.price_fen)).collect::<Vec<_>>()))
            .collect();
        let second: Vec<_> = again
            .vendors
            .iter()
            .map(|v| (&v.name, v.products.iter().map(|p| (&p.name, p.price_fen)).collect::<Vec<_>>()))
            .collect();
        assert_eq!(first, second, "deterministic");
    }

    #[test]
    fn the_benchmarks_markets_come_in_other_sizes() {
        for size in [100, 10_000] {
            let m = market(size);
            assert_eq!(m.vendors.len(), STALLS);
            let names: HashSet<&str> =
                m.vendors.iter().flat_map(|v| v.products.iter().map(|p| p.name.as_str())).collect();
            assert_eq!(names.len() + m.boxes.len(), size.max(106), "{size}: unique names");
        }
    }

    #[test]
    fn the_month_is_consistent_and_deterministic() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T04:00:00Z").expect("time").with_timezone(&Utc);
        let market = || SeededMarket {
            products: (1..=40)
                .map(|i| crate::store::seed::bulk::SeededProduct {
                    id: i,
                    vendor_id: 1 + i % 5,
                    name: format!("p{i}"),
                    unit: "斤".into(),
                    price_fen: 100 * i,
                    is_box: i == 40,
                })
                .collect(),
            buildings: vec![(1, "1".into(), 2, 6), (2, "2".into(), 2, 18)],
            households: vec![(1, "1".into(), "101".into())],
            volunteers: vec![7, 8],
        };
        let run = || {
            let mut h = History::new(market(), now).sized(2, 2 * ORDERS / DAYS);
            let ids = BTreeMap::from([("households", 1), ("users", 100), ("slots", 0), ("orders", 0)]);
            assert!(h.start(&ids));
            let mut tables: BTreeMap<&str, Vec<Vec<crate::store::db::Arg>>> = BTreeMap::new();
            while let Some(chunk) = h.next_rows() {
                for rows in chunk {
                    tables.entry(rows.table).or_default().extend(rows.rows);
                }
            }
            tables
        };
        let tables = run();
        assert_eq!(tables, run(), "deterministic");
        // 2×6×2 + 2×18×4 flats, less the one on record.
        assert_eq!(tables["households"].len(), 24 + 144 - 1);
        let orders = &tables["orders"];
        assert!(orders.len() >= 2 * 4_500, "{} orders", orders.len());
        // Every order's total is its lines' sum; every slot's booked is its delivered orders.
        let mut sums: HashMap<i64, i64> = HashMap::new();
        for l in &tables["order_lines"] {
            let (crate::store::db::Arg::Int(order), crate::store::db::Arg::Int(q), crate::store::db::Arg::Int(p)) =
                (&l[0], &l[5], &l[6])
            else {
                panic!("line {l:?}")
            };
            *sums.entry(*order).or_default() += q * p;
        }
        for o in orders {
            let (crate::store::db::Arg::Int(id), crate::store::db::Arg::Int(total)) = (&o[0], &o[5]) else {
                panic!("order {o:?}")
            };
            assert_eq!(sums[id], *total);
        }
        let delivered = orders.iter().filter(|o| o[3] == crate::store::db::Arg::from("delivered")).count() as i64;
        let booked: i64 =
            tables["slots"].iter().map(|s| if let crate::store::db::Arg::Int(b) = s[6] { b } else { 0 }).sum();
        assert_eq!(booked, delivered);
        // No order is in the future.
        for o in orders {
            let crate::store::db::Arg::Time(created) = o[11] else { panic!() };
            assert!(created < now);
        }
    }
}
