-- Many markets, one deployment. A market is the root of what it runs: the buildings it serves
-- (its residents are the people living there), its stalls (and so their goods, stock, lots and
-- price record), its slots (and so the orders and batches in them), its group-buys, pickup
-- points and gates, and the people who work there (staff, volunteers, keepers: `users.market_id`,
-- the market an account belongs to when it has no home; a home's building decides otherwise).
-- Everything there was before belongs to the first market.
--
-- SQLite cannot add a column with a REFERENCES clause and a default other than NULL while
-- foreign keys are on; the market's ids are written by the server from rows it read.
CREATE TABLE markets (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
INSERT INTO markets (id, name, created_at) VALUES (1, '傅鲜生', '2026-01-01T00:00:00Z');

ALTER TABLE buildings ADD COLUMN market_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE vendors ADD COLUMN market_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE slots ADD COLUMN market_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN market_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE group_buys ADD COLUMN market_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE pickup_points ADD COLUMN market_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE gates ADD COLUMN market_id INTEGER NOT NULL DEFAULT 1;

CREATE INDEX buildings_market ON buildings (market_id, number);
CREATE INDEX vendors_market ON vendors (market_id, stall_no);
CREATE INDEX slots_market ON slots (market_id, starts_at);
