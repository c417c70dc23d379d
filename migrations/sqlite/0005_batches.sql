-- Delivery batches: a slot's orders for one building (or one group-buy's drop) that one
-- volunteer carries. A batch is `open` while its orders wait for the stalls; a volunteer claims
-- it (its orders are then fixed: orders.batch_id), picks it up, hands each order over.
CREATE TABLE batches (
    id           INTEGER PRIMARY KEY,
    slot_id      INTEGER NOT NULL REFERENCES slots(id),
    -- The building's number; for a group-buy's drop, its buildings ("3、5").
    building     TEXT NOT NULL,
    group_buy_id INTEGER REFERENCES group_buys(id),
    status       TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'out', 'done')),
    volunteer_id INTEGER REFERENCES users(id),
    created_at   TEXT NOT NULL,
    claimed_at   TEXT,
    picked_up_at TEXT,
    done_at      TEXT
);
-- One open batch per slot and building (or group-buy): orders that come later join it.
CREATE UNIQUE INDEX batches_open ON batches (slot_id, building, COALESCE(group_buy_id, 0)) WHERE status = 'open';
CREATE INDEX batches_slot ON batches (slot_id, id);

ALTER TABLE orders ADD COLUMN batch_id INTEGER REFERENCES batches(id);
-- Wrong hand-off codes typed for the order; at 5 it takes no more until staff reset it.
ALTER TABLE orders ADD COLUMN handoff_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN delivered_by INTEGER REFERENCES users(id);
ALTER TABLE orders ADD COLUMN delivered_at TEXT;
CREATE INDEX orders_batch ON orders (batch_id);
-- Nobody home: the volunteer left it at the door, with a note the resident sees.
ALTER TABLE orders ADD COLUMN left_at_door INTEGER NOT NULL DEFAULT 0 CHECK (left_at_door IN (0, 1));
ALTER TABLE orders ADD COLUMN handoff_note TEXT;
CREATE INDEX orders_delivered ON orders (delivered_at);

-- A resident's report of a problem with a delivered order (missing, damaged, wrong door).
CREATE TABLE order_problems (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX order_problems_time ON order_problems (created_at);
