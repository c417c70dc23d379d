-- Notices to residents about their orders: shown in the storefront, and sent as WeChat subscribe
-- messages to those who accepted (each acceptance allows one message of its kind).
CREATE TABLE notices (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    order_id   BIGINT REFERENCES orders(id),
    kind       TEXT NOT NULL,
    -- What the notice is about, once: 'order:12:delivered', 'refund:FXS00000012-C'.
    dedupe     TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    -- pending (to send), sent, skipped (no WeChat or no acceptance: in the storefront only), failed
    wechat     TEXT NOT NULL CHECK (wechat IN ('pending', 'sent', 'skipped', 'failed')),
    sent_at    TIMESTAMPTZ
);
CREATE INDEX notices_user ON notices (user_id, id);
CREATE INDEX notices_pending ON notices (wechat, id);

CREATE TABLE notice_subscriptions (
    user_id   BIGINT NOT NULL REFERENCES users(id),
    kind      TEXT NOT NULL,
    remaining BIGINT NOT NULL CHECK (remaining >= 0),
    PRIMARY KEY (user_id, kind)
);

-- How far the order timeline has been read for notices.
CREATE TABLE notice_cursor (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    last_event BIGINT NOT NULL
);
