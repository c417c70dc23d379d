//! The schema migrations in `migrations/`, embedded in the binary so a deployed server needs
//! nothing beside it. sqlx's migrator applies them, records checksums and, on PostgreSQL, holds
//! an advisory lock so processes starting together migrate once.

use sqlx::migrate::{Migration, MigrationType, Migrator};
use std::borrow::Cow;

/// (version, description, SQL)
type Embedded = &'static [(i64, &'static str, &'static str)];

pub const SQLITE: Embedded = &[
    (1, "foundation", include_str!("../../../migrations/sqlite/0001_foundation.sql")),
    (2, "shopping", include_str!("../../../migrations/sqlite/0002_shopping.sql")),
    (3, "group buys", include_str!("../../../migrations/sqlite/0003_group_buys.sql")),
    (4, "stall parts", include_str!("../../../migrations/sqlite/0004_stall_parts.sql")),
    (5, "batches", include_str!("../../../migrations/sqlite/0005_batches.sql")),
    (6, "payments", include_str!("../../../migrations/sqlite/0006_payments.sql")),
    (7, "price cap", include_str!("../../../migrations/sqlite/0007_price_cap.sql")),
    (8, "notices", include_str!("../../../migrations/sqlite/0008_notices.sql")),
    (9, "donations", include_str!("../../../migrations/sqlite/0009_donations.sql")),
    (10, "share payments", include_str!("../../../migrations/sqlite/0010_share_payments.sql")),
    (11, "product list order", include_str!("../../../migrations/sqlite/0011_product_list_order.sql")),
    (12, "typed answers", include_str!("../../../migrations/sqlite/0012_typed_answers.sql")),
    (13, "household members", include_str!("../../../migrations/sqlite/0013_household_members.sql")),
    (14, "household slot limit", include_str!("../../../migrations/sqlite/0014_household_slot_limit.sql")),
    (15, "erasure", include_str!("../../../migrations/sqlite/0015_erasure.sql")),
    (16, "market setup", include_str!("../../../migrations/sqlite/0016_market_setup.sql")),
    (17, "product origin", include_str!("../../../migrations/sqlite/0017_product_origin.sql")),
    (18, "product photo", include_str!("../../../migrations/sqlite/0018_product_photo.sql")),
    (19, "stall opening", include_str!("../../../migrations/sqlite/0019_stall_opening.sql")),
    (20, "category retired", include_str!("../../../migrations/sqlite/0020_category_retired.sql")),
    (21, "stock ledger", include_str!("../../../migrations/sqlite/0021_stock_ledger.sql")),
    (22, "building number", include_str!("../../../migrations/sqlite/0022_building_number.sql")),
    (23, "standing orders", include_str!("../../../migrations/sqlite/0023_standing_orders.sql")),
    (24, "sms notices", include_str!("../../../migrations/sqlite/0024_sms_notices.sql")),
    (25, "door photos", include_str!("../../../migrations/sqlite/0025_door_photos.sql")),
    (26, "lots", include_str!("../../../migrations/sqlite/0026_lots.sql")),
    (27, "producers", include_str!("../../../migrations/sqlite/0027_producers.sql")),
    (28, "gate", include_str!("../../../migrations/sqlite/0028_gate.sql")),
    (29, "certificate photo", include_str!("../../../migrations/sqlite/0029_certificate_photo.sql")),
    (30, "pickup points", include_str!("../../../migrations/sqlite/0030_pickup_points.sql")),
    (31, "markets", include_str!("../../../migrations/sqlite/0031_markets.sql")),
    (32, "market pools", include_str!("../../../migrations/sqlite/0032_market_pools.sql")),
    (33, "market price caps", include_str!("../../../migrations/sqlite/0033_market_price_caps.sql")),
    (34, "market audit", include_str!("../../../migrations/sqlite/0034_market_audit.sql")),
    (35, "market names", include_str!("../../../migrations/sqlite/0035_market_names.sql")),
    (36, "box lots", include_str!("../../../migrations/sqlite/0036_box_lots.sql")),
    (37, "communities", include_str!("../../../migrations/sqlite/0037_communities.sql")),
];

pub const POSTGRES: Embedded = &[
    (1, "foundation", include_str!("../../../migrations/postgres/0001_foundation.sql")),
    (2, "shopping", include_str!("../../../migrations/postgres/0002_shopping.sql")),
    (3, "checkout function", include_str!("../../../migrations/postgres/0003_checkout_function.sql")),
    (4, "checkout batch", include_str!("../../../migrations/postgres/0004_checkout_batch.sql")),
    (5, "checkout load and apply", include_str!("../../../migrations/postgres/0005_checkout_load_apply.sql")),
    (6, "group buys", include_str!("../../../migrations/postgres/0006_group_buys.sql")),
    (7, "stall parts", include_str!("../../../migrations/postgres/0007_stall_parts.sql")),
    (8, "batches", include_str!("../../../migrations/postgres/0008_batches.sql")),
    (9, "payments", include_str!("../../../migrations/postgres/0009_payments.sql")),
    (10, "price cap", include_str!("../../../migrations/postgres/0010_price_cap.sql")),
    (11, "notices", include_str!("../../../migrations/postgres/0011_notices.sql")),
    (12, "donations", include_str!("../../../migrations/postgres/0012_donations.sql")),
    (13, "share payments", include_str!("../../../migrations/postgres/0013_share_payments.sql")),
    (14, "product list order", include_str!("../../../migrations/postgres/0014_product_list_order.sql")),
    (15, "typed answers", include_str!("../../../migrations/postgres/0015_typed_answers.sql")),
    (16, "household members", include_str!("../../../migrations/postgres/0016_household_members.sql")),
    (17, "household slot limit", include_str!("../../../migrations/postgres/0017_household_slot_limit.sql")),
    (18, "erasure", include_str!("../../../migrations/postgres/0018_erasure.sql")),
    (19, "market setup", include_str!("../../../migrations/postgres/0019_market_setup.sql")),
    (20, "product origin", include_str!("../../../migrations/postgres/0020_product_origin.sql")),
    (21, "product photo", include_str!("../../../migrations/postgres/0021_product_photo.sql")),
    (22, "stall opening", include_str!("../../../migrations/postgres/0022_stall_opening.sql")),
    (23, "category retired", include_str!("../../../migrations/postgres/0023_category_retired.sql")),
    (24, "stock ledger", include_str!("../../../migrations/postgres/0024_stock_ledger.sql")),
    (25, "building number", include_str!("../../../migrations/postgres/0025_building_number.sql")),
    (26, "standing orders", include_str!("../../../migrations/postgres/0026_standing_orders.sql")),
    (27, "sms notices", include_str!("../../../migrations/postgres/0027_sms_notices.sql")),
    (28, "door photos", include_str!("../../../migrations/postgres/0028_door_photos.sql")),
    (29, "lots", include_str!("../../../migrations/postgres/0029_lots.sql")),
    (30, "checkout load by id", include_str!("../../../migrations/postgres/0030_checkout_load_by_id.sql")),
    (31, "producers", include_str!("../../../migrations/postgres/0031_producers.sql")),
    (32, "gate", include_str!("../../../migrations/postgres/0032_gate.sql")),
    (33, "certificate photo", include_str!("../../../migrations/postgres/0033_certificate_photo.sql")),
    (34, "pickup points", include_str!("../../../migrations/postgres/0034_pickup_points.sql")),
    (35, "markets", include_str!("../../../migrations/postgres/0035_markets.sql")),
    (36, "market pools", include_str!("../../../migrations/postgres/0036_market_pools.sql")),
    (37, "market price caps", include_str!("../../../migrations/postgres/0037_market_price_caps.sql")),
    (38, "market audit", include_str!("../../../migrations/postgres/0038_market_audit.sql")),
    (39, "market names", include_str!("../../../migrations/postgres/0039_market_names.sql")),
    (40, "box lots", include_str!("../../../migrations/postgres/0040_box_lots.sql")),
    (41, "communities", include_str!("../../../migrations/postgres/0041_communities.sql")),
];

/// The newest migration this binary has for the database.
pub fn latest(postgres: bool) -> i64 {
    let embedded = if postgres { POSTGRES } else { SQLITE };
    embedded.iter().map(|m| m.0).max().unwrap_or(0)
}

pub fn migrator(embedded: Embedded) -> Migrator {
    let migrations = embedded
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, Cow::Borrowed(*sql), false)
        })
        .collect::<Vec<_>>();
    Migrator { migrations: Cow::Owned(migrations), ..Migrator::DEFAULT }
}
