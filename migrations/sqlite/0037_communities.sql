-- An address carries its community: two communities (小区) of one market may both have a
-- building 3. A building's number is unique within its community and market, no longer across
-- the market; SQLite keeps a table's UNIQUE inside the table, so `buildings` is made again with
-- (market, community, number) unique, its rows and ids as they were (foreign keys deferred to
-- the end of the migration's transaction, as in 0035).
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE buildings_kept AS SELECT * FROM buildings;
DROP TABLE buildings;
CREATE TABLE buildings (
    id          INTEGER PRIMARY KEY,
    community   TEXT NOT NULL,
    number      TEXT NOT NULL,
    units       INTEGER NOT NULL CHECK (units > 0),
    floors      INTEGER NOT NULL CHECK (floors > 0),
    closed      INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
    market_id   INTEGER NOT NULL DEFAULT 1,
    UNIQUE (market_id, community, number)
);
INSERT INTO buildings (id, community, number, units, floors, closed, market_id)
    SELECT id, community, number, units, floors, closed, market_id FROM buildings_kept;
DROP TABLE buildings_kept;
CREATE INDEX buildings_number ON buildings (number, id);
CREATE INDEX buildings_market ON buildings (market_id, number);

-- An order to the door records the community of its building, as the checkout found it.
ALTER TABLE orders ADD COLUMN community TEXT;
UPDATE orders SET community = (
    SELECT b.community FROM buildings b JOIN slots s ON s.market_id = b.market_id
    WHERE s.id = orders.slot_id AND b.number = orders.building ORDER BY b.id LIMIT 1)
WHERE building IS NOT NULL;

-- A building's batch is keyed by (slot, community, building); a group-buy's or a point's drop
-- has community ''.
ALTER TABLE batches ADD COLUMN community TEXT NOT NULL DEFAULT '';
UPDATE batches SET community = COALESCE((
    SELECT b.community FROM buildings b JOIN slots s ON s.market_id = b.market_id
    WHERE s.id = batches.slot_id AND b.number = batches.building ORDER BY b.id LIMIT 1), '')
WHERE group_buy_id IS NULL AND pickup_point_id IS NULL;
DROP INDEX batches_open;
CREATE UNIQUE INDEX batches_open
    ON batches (slot_id, community, building, COALESCE(group_buy_id, 0), COALESCE(pickup_point_id, 0))
    WHERE status = 'open';

-- A visit through the gate records the community of the visitor's home beside its building.
ALTER TABLE gate_visits ADD COLUMN community TEXT;
UPDATE gate_visits SET community = (
    SELECT b.community FROM users u JOIN households h ON h.id = u.household_id
    JOIN buildings b ON b.id = h.building_id WHERE u.id = gate_visits.user_id AND b.number = gate_visits.building)
WHERE building IS NOT NULL;
