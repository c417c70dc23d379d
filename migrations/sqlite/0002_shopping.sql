-- Carts, delivery slots, orders split per stall, and idempotent checkout.

CREATE TABLE slots (
    id                  INTEGER PRIMARY KEY,
    kind                TEXT NOT NULL CHECK (kind IN ('delivery', 'pickup')),
    starts_at           TEXT NOT NULL,
    ends_at             TEXT NOT NULL,
    cutoff_at           TEXT NOT NULL,
    capacity            INTEGER NOT NULL CHECK (capacity >= 0),
    booked              INTEGER NOT NULL DEFAULT 0 CHECK (booked >= 0),
    priority_capacity   INTEGER NOT NULL DEFAULT 0 CHECK (priority_capacity >= 0),
    priority_booked     INTEGER NOT NULL DEFAULT 0 CHECK (priority_booked >= 0),
    priority_release_at TEXT,
    closed              INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
    created_at          TEXT NOT NULL,
    -- The last line of defence against overbooking, whatever the code above it does.
    CHECK (booked <= capacity)
);
CREATE INDEX slots_starts ON slots (starts_at);

CREATE TABLE cart_items (
    user_id          INTEGER NOT NULL REFERENCES users(id),
    product_id       INTEGER NOT NULL REFERENCES products(id),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    price_fen_at_add INTEGER NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (user_id, product_id)
);

CREATE TABLE orders (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users(id),
    slot_id          INTEGER NOT NULL REFERENCES slots(id),
    status           TEXT NOT NULL,
    payment          TEXT NOT NULL CHECK (payment IN ('wechat', 'on_delivery')),
    total_fen        INTEGER NOT NULL CHECK (total_fen >= 0),
    building         TEXT,
    unit             TEXT,
    room             TEXT,
    note             TEXT,
    handoff_code     TEXT NOT NULL,
    priority_booking INTEGER NOT NULL DEFAULT 0 CHECK (priority_booking IN (0, 1)),
    created_at       TEXT NOT NULL,
    expires_at       TEXT,
    updated_at       TEXT NOT NULL
);
CREATE INDEX orders_user ON orders (user_id, id);
CREATE INDEX orders_expiry ON orders (status, expires_at);
CREATE INDEX orders_slot ON orders (slot_id);

CREATE TABLE order_lines (
    order_id   INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    vendor_id  INTEGER NOT NULL REFERENCES vendors(id),
    name       TEXT NOT NULL,
    unit       TEXT NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    price_fen  INTEGER NOT NULL CHECK (price_fen >= 0),
    PRIMARY KEY (order_id, product_id)
);

-- One part per stall: what each vendor sees, confirms and packs.
CREATE TABLE order_parts (
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    vendor_id    INTEGER NOT NULL REFERENCES vendors(id),
    status       TEXT NOT NULL,
    subtotal_fen INTEGER NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (order_id, vendor_id)
);
CREATE INDEX order_parts_vendor ON order_parts (vendor_id, status);

CREATE TABLE order_events (
    id       INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    status   TEXT NOT NULL,
    at       TEXT NOT NULL,
    by_user  INTEGER REFERENCES users(id)
);
CREATE INDEX order_events_order ON order_events (order_id, id);

-- The first answer to each Idempotency-Key, so a retried "pay" never makes a second order.
CREATE TABLE idempotency_keys (
    user_id         INTEGER NOT NULL REFERENCES users(id),
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status INTEGER,
    response_body   TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);
