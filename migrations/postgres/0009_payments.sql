-- WeChat Pay: one payment per order (its out_trade_no), the prepay WeChat made for it, and the
-- transaction that paid it; refunds owed and made, each with its own out_refund_no so that a
-- retry never refunds twice.
CREATE TABLE payments (
    out_trade_no   TEXT PRIMARY KEY,
    order_id       BIGINT NOT NULL UNIQUE REFERENCES orders(id),
    amount_fen     BIGINT NOT NULL CHECK (amount_fen > 0),
    payer_openid   TEXT NOT NULL,
    prepay_id      TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    transaction_id TEXT UNIQUE,
    paid_at        TIMESTAMPTZ
);

CREATE TABLE refunds (
    out_refund_no TEXT PRIMARY KEY,
    order_id      BIGINT NOT NULL REFERENCES orders(id),
    out_trade_no  TEXT NOT NULL REFERENCES payments(out_trade_no),
    amount_fen    BIGINT NOT NULL CHECK (amount_fen > 0),
    -- late_payment, second_payment, shortage, group_buy_failed, cancelled
    reason        TEXT NOT NULL,
    -- due (recorded, not yet asked), requested (WeChat accepted), succeeded, failed
    status        TEXT NOT NULL CHECK (status IN ('due', 'requested', 'succeeded', 'failed')),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX refunds_order ON refunds (order_id);
CREATE INDEX refunds_status ON refunds (status, created_at);
