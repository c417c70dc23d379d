-- Group-buys for quarantined buildings (团购): leaders and their buildings, the group-buy with
-- its buildings and items (stock set aside), each household's share, and the orders they become.

-- The role list gains `leader` (团长): SQLite cannot change a CHECK in place, so the small
-- table is rebuilt.
CREATE TABLE user_roles_new (
    user_id INTEGER NOT NULL REFERENCES users(id),
    role    TEXT NOT NULL CHECK (role IN ('resident', 'volunteer', 'vendor', 'staff', 'leader')),
    PRIMARY KEY (user_id, role)
);
INSERT INTO user_roles_new (user_id, role) SELECT user_id, role FROM user_roles;
DROP TABLE user_roles;
ALTER TABLE user_roles_new RENAME TO user_roles;

-- The buildings a leader runs group-buys for.
CREATE TABLE leader_buildings (
    user_id     INTEGER NOT NULL REFERENCES users(id),
    building_id INTEGER NOT NULL REFERENCES buildings(id),
    PRIMARY KEY (user_id, building_id)
);

CREATE TABLE group_buys (
    id                INTEGER PRIMARY KEY,
    title             TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'failed', 'cancelled')),
    min_households    INTEGER NOT NULL CHECK (min_households >= 1),
    -- Joining opens for priority households at priority_opens_at, for everyone at opens_at.
    opens_at          TEXT NOT NULL,
    priority_opens_at TEXT NOT NULL,
    deadline          TEXT NOT NULL,
    slot_id           INTEGER NOT NULL REFERENCES slots(id),
    on_shortfall      TEXT NOT NULL CHECK (on_shortfall IN ('proceed', 'cancel')),
    joined_households INTEGER NOT NULL DEFAULT 0 CHECK (joined_households >= 0),
    created_by        INTEGER NOT NULL REFERENCES users(id),
    created_at        TEXT NOT NULL,
    closed_at         TEXT,
    closed_by         INTEGER REFERENCES users(id),
    outcome           TEXT
);
CREATE INDEX group_buys_due ON group_buys (status, deadline);

CREATE TABLE group_buy_buildings (
    group_buy_id INTEGER NOT NULL REFERENCES group_buys(id),
    building_id  INTEGER NOT NULL REFERENCES buildings(id),
    PRIMARY KEY (group_buy_id, building_id)
);
CREATE INDEX group_buy_buildings_building ON group_buy_buildings (building_id);

CREATE TABLE group_buy_items (
    group_buy_id        INTEGER NOT NULL REFERENCES group_buys(id),
    product_id          INTEGER NOT NULL REFERENCES products(id),
    price_fen           INTEGER NOT NULL CHECK (price_fen >= 0),
    max_quantity        INTEGER NOT NULL CHECK (max_quantity > 0),
    per_household_limit INTEGER NOT NULL CHECK (per_household_limit > 0),
    joined_quantity     INTEGER NOT NULL DEFAULT 0 CHECK (joined_quantity >= 0),
    PRIMARY KEY (group_buy_id, product_id),
    -- The last line of defence against taking more than was set aside.
    CHECK (joined_quantity <= max_quantity)
);

-- One share per household; placed_by is who placed it for a household without a phone.
CREATE TABLE group_buy_shares (
    group_buy_id     INTEGER NOT NULL REFERENCES group_buys(id),
    household_id     INTEGER NOT NULL REFERENCES households(id),
    user_id          INTEGER NOT NULL REFERENCES users(id),
    placed_by        INTEGER REFERENCES users(id),
    placed_by_label  TEXT,
    total_fen        INTEGER NOT NULL CHECK (total_fen >= 0),
    priority_booking INTEGER NOT NULL DEFAULT 0 CHECK (priority_booking IN (0, 1)),
    payment_status   TEXT NOT NULL DEFAULT 'unpaid' CHECK (payment_status IN ('unpaid', 'paid', 'refund_due')),
    refund_no        TEXT UNIQUE,
    order_id         INTEGER REFERENCES orders(id),
    joined_at        TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (group_buy_id, household_id)
);

CREATE TABLE group_buy_share_lines (
    group_buy_id INTEGER NOT NULL,
    household_id INTEGER NOT NULL,
    product_id   INTEGER NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (group_buy_id, household_id, product_id),
    FOREIGN KEY (group_buy_id, household_id) REFERENCES group_buy_shares (group_buy_id, household_id)
);

ALTER TABLE orders ADD COLUMN group_buy_id INTEGER REFERENCES group_buys(id);
ALTER TABLE orders ADD COLUMN household_id INTEGER REFERENCES households(id);
ALTER TABLE orders ADD COLUMN placed_by_label TEXT;
CREATE INDEX orders_household ON orders (household_id, id);
