-- Producers (产销对接): farms, cooperatives and wholesalers who offer goods to the stalls, the
-- days each offer can be delivered, and the stalls' purchase lines. A producer's purchase order
-- for a day is its lines of that day, kept up to date until the producer's cut-off.

-- The role list gains `producer`: SQLite cannot change a CHECK in place, so the small table is
-- rebuilt (as in 0003).
CREATE TABLE user_roles_new (
    user_id INTEGER NOT NULL REFERENCES users(id),
    role    TEXT NOT NULL CHECK (role IN ('resident', 'volunteer', 'vendor', 'staff', 'leader', 'producer')),
    PRIMARY KEY (user_id, role)
);
INSERT INTO user_roles_new (user_id, role) SELECT user_id, role FROM user_roles;
DROP TABLE user_roles;
ALTER TABLE user_roles_new RENAME TO user_roles;

CREATE TABLE producers (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    origin        TEXT NOT NULL,
    contact       TEXT NOT NULL,
    -- Orders for a day close at this hour (Shanghai) of the day before.
    cutoff_hour   INTEGER NOT NULL CHECK (cutoff_hour BETWEEN 0 AND 23),
    owner_user_id INTEGER UNIQUE REFERENCES users(id),
    created_at    TEXT NOT NULL
);

CREATE TABLE offers (
    id           INTEGER PRIMARY KEY,
    producer_id  INTEGER NOT NULL REFERENCES producers(id),
    product      TEXT NOT NULL,
    -- What can be delivered on each of its days, in `unit`.
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    unit         TEXT NOT NULL,
    price_fen    INTEGER NOT NULL CHECK (price_fen >= 0),
    origin       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    withdrawn_at TEXT
);
CREATE INDEX offers_producer ON offers (producer_id, id);

-- An offer's delivery days (YYYY-MM-DD, Shanghai) and how much of each the stalls ordered.
CREATE TABLE offer_days (
    offer_id INTEGER NOT NULL REFERENCES offers(id),
    day      TEXT NOT NULL,
    ordered  INTEGER NOT NULL DEFAULT 0 CHECK (ordered >= 0),
    PRIMARY KEY (offer_id, day)
);
CREATE INDEX offer_days_day ON offer_days (day);

-- What a stall wants of an offer on a day, for which of its products.
CREATE TABLE purchase_lines (
    offer_id   INTEGER NOT NULL,
    day        TEXT NOT NULL,
    vendor_id  INTEGER NOT NULL REFERENCES vendors(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    price_fen  INTEGER NOT NULL CHECK (price_fen >= 0),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (offer_id, day, vendor_id),
    FOREIGN KEY (offer_id, day) REFERENCES offer_days (offer_id, day)
);
CREATE INDEX purchase_lines_day ON purchase_lines (day, product_id);
CREATE INDEX purchase_lines_vendor ON purchase_lines (vendor_id, day);
