-- Each market keeps its own donation pool (爱心捐助). A gift is given to a market (its giver's,
-- or the market of the staff who recorded it), pays only orders in that market's slots, and
-- the market's ledger is its own, each line with the market's balance after it. The one pool
-- there was is the first market's.
ALTER TABLE donations ADD COLUMN market_id BIGINT NOT NULL DEFAULT 1 REFERENCES markets(id);
ALTER TABLE pool_ledger ADD COLUMN market_id BIGINT NOT NULL DEFAULT 1 REFERENCES markets(id);

CREATE TABLE market_pools (
    market_id   BIGINT PRIMARY KEY REFERENCES markets(id),
    balance_fen BIGINT NOT NULL CHECK (balance_fen >= 0)
);
INSERT INTO market_pools (market_id, balance_fen)
    SELECT m.id, CASE WHEN m.id = 1 THEN COALESCE((SELECT balance_fen FROM donation_pool WHERE id = 1), 0) ELSE 0 END
    FROM markets m;
DROP TABLE donation_pool;

DROP INDEX donations_left;
CREATE INDEX donations_left ON donations (market_id, status, id) WHERE remaining_fen > 0;
CREATE INDEX pool_ledger_market ON pool_ledger (market_id, at, id);
