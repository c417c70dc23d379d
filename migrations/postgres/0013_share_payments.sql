-- Group-buy shares paid ahead with WeChat Pay. Each prepay is for the share's total at the time
-- (`FXG{group-buy}H{household}N{n}`); the one whose money paid the share is `counts`. When the
-- group-buy goes ahead it becomes the order's payment; when it fails, it is refunded.
CREATE TABLE share_payments (
    out_trade_no   TEXT PRIMARY KEY,
    group_buy_id   BIGINT NOT NULL REFERENCES group_buys(id),
    household_id   BIGINT NOT NULL REFERENCES households(id),
    user_id        BIGINT NOT NULL REFERENCES users(id),
    amount_fen     BIGINT NOT NULL CHECK (amount_fen > 0),
    payer_openid   TEXT NOT NULL,
    prepay_id      TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    transaction_id TEXT UNIQUE,
    paid_at        TIMESTAMPTZ,
    counts         BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX share_payments_share ON share_payments (group_buy_id, household_id);

-- A refund may now be of a share that never became an order: no order then, and the payment it
-- returns is a share's (so no reference to `payments`); `user_id` is who is told it came back.
ALTER TABLE refunds ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE refunds DROP CONSTRAINT refunds_out_trade_no_fkey;
ALTER TABLE refunds ADD COLUMN user_id BIGINT REFERENCES users(id);
ALTER TABLE refunds ADD COLUMN group_buy_id BIGINT REFERENCES group_buys(id);
