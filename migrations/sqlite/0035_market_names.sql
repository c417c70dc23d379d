-- Stall numbers and the names of pickup points and gates are a market's own: two markets may
-- both have a stall A01 or a 北门. SQLite keeps a column's UNIQUE inside its table, so the three
-- tables are made again with the pair (market, number or name) unique instead; their rows and
-- ids stay as they were. Foreign keys stay on and are deferred to the end of this migration's
-- transaction: the rows put back into each table are the parents its children point to again,
-- and a row not put back would fail the migration whole.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE vendors_kept AS SELECT * FROM vendors;
DROP TABLE vendors;
CREATE TABLE vendors (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    stall_no      TEXT NOT NULL,
    category_id   TEXT NOT NULL REFERENCES categories(id),
    description   TEXT NOT NULL DEFAULT '',
    owner_user_id INTEGER UNIQUE REFERENCES users(id),
    is_open       INTEGER NOT NULL DEFAULT 1 CHECK (is_open IN (0, 1)),
    closed_on     TEXT,
    market_id     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (market_id, stall_no)
);
INSERT INTO vendors (id, name, stall_no, category_id, description, owner_user_id, is_open, closed_on, market_id)
    SELECT id, name, stall_no, category_id, description, owner_user_id, is_open, closed_on, market_id
    FROM vendors_kept;
DROP TABLE vendors_kept;

CREATE TEMP TABLE pickup_points_kept AS SELECT * FROM pickup_points;
DROP TABLE pickup_points;
CREATE TABLE pickup_points (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    address        TEXT NOT NULL,
    -- Opening hours, Shanghai time, 'HH:MM'.
    opens          TEXT NOT NULL,
    closes         TEXT NOT NULL,
    capacity       INTEGER NOT NULL CHECK (capacity > 0),
    keeper_user_id INTEGER REFERENCES users(id),
    uncollected    TEXT NOT NULL DEFAULT 'keep_day' CHECK (uncollected IN ('keep_day', 'return')),
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    market_id      INTEGER NOT NULL DEFAULT 1,
    UNIQUE (market_id, name)
);
INSERT INTO pickup_points (id, name, address, opens, closes, capacity, keeper_user_id, uncollected, active,
                           created_at, market_id)
    SELECT id, name, address, opens, closes, capacity, keeper_user_id, uncollected, active, created_at, market_id
    FROM pickup_points_kept;
DROP TABLE pickup_points_kept;
CREATE INDEX pickup_points_keeper ON pickup_points (keeper_user_id);

CREATE TEMP TABLE gates_kept AS SELECT * FROM gates;
DROP TABLE gates;
CREATE TABLE gates (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    -- The code a poster carries: one per gate across the deployment (a scan finds its gate).
    code       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    rotated_at TEXT,
    market_id  INTEGER NOT NULL DEFAULT 1,
    UNIQUE (market_id, name)
);
INSERT INTO gates (id, name, code, created_at, rotated_at, market_id)
    SELECT id, name, code, created_at, rotated_at, market_id FROM gates_kept;
DROP TABLE gates_kept;
