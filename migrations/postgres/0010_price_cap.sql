-- Stable prices (稳物价): the emergency cap staff switch on (one row), and each product's ceiling
-- while it is on.
CREATE TABLE price_cap (
    id                     BIGINT PRIMARY KEY CHECK (id = 1),
    enabled                BOOLEAN NOT NULL,
    max_daily_rise_percent BIGINT NOT NULL CHECK (max_daily_rise_percent BETWEEN 0 AND 100),
    updated_by             BIGINT REFERENCES users(id),
    updated_at             TIMESTAMPTZ NOT NULL
);
ALTER TABLE products ADD COLUMN price_ceiling_fen BIGINT CHECK (price_ceiling_fen > 0);
