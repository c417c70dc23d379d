-- The donation pool (爱心捐助): gifts of money or 菜盒子 in, allocations out to quarantined and
-- hardship households' orders, every move in the ledger with the balance after it. The pool's
-- balance is always the sum of what is left of the gifts received; it can never go below zero.
CREATE TABLE donations (
    id             INTEGER PRIMARY KEY,
    -- A resident who gave through WeChat Pay, or none for a gift staff recorded.
    user_id        INTEGER REFERENCES users(id),
    -- An organisation's name (staff-recorded gifts); never shown to households.
    donor_name     TEXT,
    -- 菜盒子 given (0: a gift of money), of this box product, at its price then.
    boxes          INTEGER NOT NULL DEFAULT 0 CHECK (boxes >= 0),
    product_id     INTEGER REFERENCES products(id),
    amount_fen     INTEGER NOT NULL CHECK (amount_fen > 0),
    -- Not yet spent on households: the pool is the sum of these over received gifts.
    remaining_fen  INTEGER NOT NULL CHECK (remaining_fen >= 0 AND remaining_fen <= amount_fen),
    status         TEXT NOT NULL CHECK (status IN ('pending_payment', 'received')),
    out_trade_no   TEXT UNIQUE,
    payer_openid   TEXT,
    prepay_id      TEXT,
    transaction_id TEXT UNIQUE,
    recorded_by    INTEGER REFERENCES users(id),
    note           TEXT,
    created_at     TEXT NOT NULL,
    received_at    TEXT
);
CREATE INDEX donations_user ON donations (user_id, id);
CREATE INDEX donations_left ON donations (status, id) WHERE remaining_fen > 0;

CREATE TABLE donation_pool (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    balance_fen INTEGER NOT NULL CHECK (balance_fen >= 0)
);
INSERT INTO donation_pool (id, balance_fen) VALUES (1, 0);

-- An order paid by the pool: the household pays nothing.
CREATE TABLE pool_allocations (
    order_id     INTEGER PRIMARY KEY REFERENCES orders(id),
    household_id INTEGER NOT NULL REFERENCES households(id),
    amount_fen   INTEGER NOT NULL CHECK (amount_fen > 0),
    by_user      INTEGER NOT NULL REFERENCES users(id),
    created_at   TEXT NOT NULL
);

-- Which gifts paid which order (oldest gifts first), and how much of each: what a donor's gift
-- became. Money that comes back (a cancel, a shortage) goes back to the same gifts.
CREATE TABLE gift_uses (
    donation_id INTEGER NOT NULL REFERENCES donations(id),
    order_id    INTEGER NOT NULL REFERENCES orders(id),
    amount_fen  INTEGER NOT NULL CHECK (amount_fen >= 0),
    PRIMARY KEY (donation_id, order_id)
);
CREATE INDEX gift_uses_order ON gift_uses (order_id);

-- Money owed back to the pool by a pool-paid order (cancelled, or a stall's shortage), written
-- in the same transaction as its cause and settled into the pool by the job, once each.
CREATE TABLE pool_returns (
    return_no  TEXT PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders(id),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    settled_at TEXT
);
CREATE INDEX pool_returns_open ON pool_returns (created_at) WHERE settled_at IS NULL;

CREATE TABLE pool_ledger (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('gift', 'allocation', 'return')),
    -- In (+) or out (-).
    amount_fen  INTEGER NOT NULL,
    balance_fen INTEGER NOT NULL CHECK (balance_fen >= 0),
    donation_id INTEGER REFERENCES donations(id),
    order_id    INTEGER REFERENCES orders(id),
    by_user     INTEGER REFERENCES users(id)
);
CREATE INDEX pool_ledger_at ON pool_ledger (at, id);
