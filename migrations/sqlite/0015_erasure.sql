-- Staff erase a resident on request: the person goes (phone, WeChat login, name, home, cart,
-- notices, register entries), their orders stay for the accounts without the door's unit and
-- room or their notes. The user row stays (orders and shares name it) with erased_at set and a
-- WeChat login no one can have ('erased:<id>': the row must keep a phone or a WeChat login).
ALTER TABLE users ADD COLUMN erased_at TEXT;

-- Who erased whom, when: the record staff can read.
CREATE TABLE erasures (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    erased_by  INTEGER NOT NULL REFERENCES users(id),
    erased_at  TEXT NOT NULL,
    orders_kept INTEGER NOT NULL
);
