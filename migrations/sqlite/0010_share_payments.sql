-- Group-buy shares paid ahead with WeChat Pay. Each prepay is for the share's total at the time
-- (`FXG{group-buy}H{household}N{n}`); the one whose money paid the share is `counts`. When the
-- group-buy goes ahead it becomes the order's payment; when it fails, it is refunded.
CREATE TABLE share_payments (
    out_trade_no   TEXT PRIMARY KEY,
    group_buy_id   INTEGER NOT NULL REFERENCES group_buys(id),
    household_id   INTEGER NOT NULL REFERENCES households(id),
    user_id        INTEGER NOT NULL REFERENCES users(id),
    amount_fen     INTEGER NOT NULL CHECK (amount_fen > 0),
    payer_openid   TEXT NOT NULL,
    prepay_id      TEXT,
    created_at     TEXT NOT NULL,
    transaction_id TEXT UNIQUE,
    paid_at        TEXT,
    counts         INTEGER NOT NULL DEFAULT 0 CHECK (counts IN (0, 1))
);
CREATE INDEX share_payments_share ON share_payments (group_buy_id, household_id);

-- A refund may now be of a share that never became an order: no order then, and the payment it
-- returns is a share's (so no reference to `payments`); `user_id` is who is told it came back.
CREATE TABLE refunds_new (
    out_refund_no TEXT PRIMARY KEY,
    order_id      INTEGER REFERENCES orders(id),
    out_trade_no  TEXT NOT NULL,
    amount_fen    INTEGER NOT NULL CHECK (amount_fen > 0),
    -- late_payment, second_payment, shortage, group_buy_failed, cancelled
    reason        TEXT NOT NULL,
    -- due (recorded, not yet asked), requested (WeChat accepted), succeeded, failed
    status        TEXT NOT NULL CHECK (status IN ('due', 'requested', 'succeeded', 'failed')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    user_id       INTEGER REFERENCES users(id),
    group_buy_id  INTEGER REFERENCES group_buys(id)
);
INSERT INTO refunds_new (out_refund_no, order_id, out_trade_no, amount_fen, reason, status, created_at, updated_at)
    SELECT out_refund_no, order_id, out_trade_no, amount_fen, reason, status, created_at, updated_at FROM refunds;
DROP TABLE refunds;
ALTER TABLE refunds_new RENAME TO refunds;
CREATE INDEX refunds_order ON refunds (order_id);
CREATE INDEX refunds_status ON refunds (status, created_at);
