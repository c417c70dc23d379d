-- Satellite pickup points (自提点): a point in a residential compound takes a number of orders
-- per delivery slot; the market's volunteers drop them there in one batch, and the point's
-- keeper hands each over by its code. An order not collected by the point's closing time is
-- kept a day or returned, as the point is set (`uncollected`).
CREATE TABLE pickup_points (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    address        TEXT NOT NULL,
    -- Opening hours, Shanghai time, 'HH:MM'.
    opens          TEXT NOT NULL,
    closes         TEXT NOT NULL,
    capacity       INTEGER NOT NULL CHECK (capacity > 0),
    keeper_user_id INTEGER REFERENCES users(id),
    uncollected    TEXT NOT NULL DEFAULT 'keep_day' CHECK (uncollected IN ('keep_day', 'return')),
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL
);
CREATE INDEX pickup_points_keeper ON pickup_points (keeper_user_id);

ALTER TABLE orders ADD COLUMN pickup_point_id INTEGER REFERENCES pickup_points(id);
-- Dropped at the point (the batch's volunteer), and the time it waits there until.
ALTER TABLE orders ADD COLUMN at_point_at TEXT;
ALTER TABLE orders ADD COLUMN collect_by TEXT;
-- Not collected in time once already (kept a day).
ALTER TABLE orders ADD COLUMN uncollected_at TEXT;
CREATE INDEX orders_point_slot ON orders (pickup_point_id, slot_id) WHERE pickup_point_id IS NOT NULL;
CREATE INDEX orders_at_point ON orders (collect_by) WHERE at_point_at IS NOT NULL AND status = 'out_for_delivery';

-- A point's drop is one batch per slot: keyed by the point (its `building` is '').
ALTER TABLE batches ADD COLUMN pickup_point_id INTEGER REFERENCES pickup_points(id);
DROP INDEX batches_open;
CREATE UNIQUE INDEX batches_open ON batches (slot_id, building, COALESCE(group_buy_id, 0), COALESCE(pickup_point_id, 0))
    WHERE status = 'open';
