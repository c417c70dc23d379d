-- Standing orders (常购): a household's box or list every N days in a slot window, placed by
-- the server through the checkout (domain::standing decides when and in which slot; the
-- checkout decides the order as it decides every other). `next_on` is the Shanghai day of the
-- next order; `attempt` counts the tries for that day (each try is its own Idempotency-Key,
-- so a try cut short by a crash is answered the same when it is made again); `last_*` is what
-- the household was last told. Ended ones stay: their orders name them.
CREATE TABLE standing_orders (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    every_days    INTEGER NOT NULL CHECK (every_days BETWEEN 1 AND 28),
    slot_kind     TEXT NOT NULL CHECK (slot_kind IN ('delivery', 'pickup')),
    slot_window   TEXT NOT NULL CHECK (slot_window IN ('morning', 'afternoon', 'evening')),
    payment       TEXT NOT NULL CHECK (payment IN ('on_delivery', 'pool')),
    next_on       TEXT NOT NULL,
    paused        INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    attempt       INTEGER NOT NULL DEFAULT 0,
    tried_at      TEXT,
    last_on       TEXT,
    last_outcome  TEXT,
    last_message  TEXT,
    last_order_id INTEGER REFERENCES orders(id),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    ended_at      TEXT
);
CREATE INDEX standing_orders_due ON standing_orders (next_on, id) WHERE ended_at IS NULL AND paused = 0;
CREATE INDEX standing_orders_user ON standing_orders (user_id, id);

CREATE TABLE standing_order_items (
    standing_order_id INTEGER NOT NULL REFERENCES standing_orders(id),
    product_id        INTEGER NOT NULL REFERENCES products(id),
    quantity          INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    PRIMARY KEY (standing_order_id, product_id)
);

ALTER TABLE orders ADD COLUMN standing_order_id INTEGER REFERENCES standing_orders(id);
