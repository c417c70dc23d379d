-- People, households, the market's stalls and what they sell.
-- Times are RFC 3339 UTC text written by the server, so they compare as text.

CREATE TABLE buildings (
    id          INTEGER PRIMARY KEY,
    community   TEXT NOT NULL,
    number      TEXT NOT NULL,
    units       INTEGER NOT NULL CHECK (units > 0),
    floors      INTEGER NOT NULL CHECK (floors > 0),
    UNIQUE (community, number)
);

CREATE TABLE households (
    id          INTEGER PRIMARY KEY,
    building_id INTEGER NOT NULL REFERENCES buildings(id),
    unit        TEXT NOT NULL,
    room        TEXT NOT NULL,
    quarantined INTEGER NOT NULL DEFAULT 0 CHECK (quarantined IN (0, 1)),
    hardship    INTEGER NOT NULL DEFAULT 0 CHECK (hardship IN (0, 1)),
    elderly     INTEGER NOT NULL DEFAULT 0 CHECK (elderly IN (0, 1)),
    UNIQUE (building_id, unit, room)
);

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    phone               TEXT UNIQUE,
    wechat_openid       TEXT UNIQUE,
    wechat_session_key  TEXT,
    display_name        TEXT,
    household_id        INTEGER REFERENCES households(id),
    created_at          TEXT NOT NULL,
    CHECK (phone IS NOT NULL OR wechat_openid IS NOT NULL)
);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id),
    role    TEXT NOT NULL CHECK (role IN ('resident', 'volunteer', 'vendor', 'staff')),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sms_codes (
    id          INTEGER PRIMARY KEY,
    phone       TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    client_ip   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sms_codes_phone ON sms_codes (phone, created_at);
CREATE INDEX sms_codes_ip ON sms_codes (client_ip, created_at);

CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    expires_at  TEXT NOT NULL
);

CREATE TABLE categories (
    id          TEXT PRIMARY KEY,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    icon        TEXT NOT NULL,
    sort        INTEGER NOT NULL
);

CREATE TABLE vendors (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    stall_no      TEXT NOT NULL UNIQUE,
    category_id   TEXT NOT NULL REFERENCES categories(id),
    description   TEXT NOT NULL DEFAULT '',
    owner_user_id INTEGER UNIQUE REFERENCES users(id)
);

CREATE TABLE products (
    id              INTEGER PRIMARY KEY,
    vendor_id       INTEGER NOT NULL REFERENCES vendors(id),
    category_id     TEXT NOT NULL REFERENCES categories(id),
    name            TEXT NOT NULL,
    unit            TEXT NOT NULL,
    price_fen       INTEGER NOT NULL CHECK (price_fen >= 0),
    stock           INTEGER NOT NULL CHECK (stock >= 0),
    per_order_limit INTEGER CHECK (per_order_limit IS NULL OR per_order_limit > 0),
    is_box          INTEGER NOT NULL DEFAULT 0 CHECK (is_box IN (0, 1)),
    description     TEXT NOT NULL DEFAULT '',
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at      TEXT NOT NULL,
    UNIQUE (vendor_id, name)
);
CREATE INDEX products_category ON products (category_id);

-- A 菜盒子 is a product whose contents are other products.
CREATE TABLE box_items (
    box_id      INTEGER NOT NULL REFERENCES products(id),
    product_id  INTEGER NOT NULL REFERENCES products(id),
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (box_id, product_id)
);

-- The price-stability record (稳物价): every price a product ever had, and who set it.
CREATE TABLE price_history (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products(id),
    price_fen   INTEGER NOT NULL,
    changed_at  TEXT NOT NULL,
    changed_by  INTEGER REFERENCES users(id)
);
CREATE INDEX price_history_product ON price_history (product_id, changed_at);
