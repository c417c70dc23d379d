-- Stable prices (稳物价): the emergency cap staff switch on (one row), and each product's ceiling
-- while it is on.
CREATE TABLE price_cap (
    id                     INTEGER PRIMARY KEY CHECK (id = 1),
    enabled                INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    max_daily_rise_percent INTEGER NOT NULL CHECK (max_daily_rise_percent BETWEEN 0 AND 100),
    updated_by             INTEGER REFERENCES users(id),
    updated_at             TEXT NOT NULL
);
ALTER TABLE products ADD COLUMN price_ceiling_fen INTEGER CHECK (price_ceiling_fen > 0);
