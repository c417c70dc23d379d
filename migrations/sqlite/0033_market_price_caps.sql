-- Each market switches its own emergency price cap (稳物价): a market's cap holds its stalls'
-- prices, and its price board and price record are of its stalls. The one cap there was is
-- the first market's.
CREATE TABLE market_price_caps (
    market_id              INTEGER PRIMARY KEY REFERENCES markets(id),
    enabled                INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    max_daily_rise_percent INTEGER NOT NULL CHECK (max_daily_rise_percent BETWEEN 0 AND 100),
    updated_by             INTEGER REFERENCES users(id),
    updated_at             TEXT NOT NULL
);
INSERT INTO market_price_caps (market_id, enabled, max_daily_rise_percent, updated_by, updated_at)
    SELECT 1, enabled, max_daily_rise_percent, updated_by, updated_at FROM price_cap WHERE id = 1;
DROP TABLE price_cap;
