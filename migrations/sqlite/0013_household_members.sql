-- A household is its members'. A resident whose home is on record (users.household_id) is a
-- member of that household; a resident who asked for an address where they are not (yet) a
-- member waits in users.pending_household_id, since pending_since, until a member or staff
-- approve: goods may be delivered to that door meanwhile, nothing else of the household is
-- theirs. Who becomes a member at once is the server's rule (backend/src/domain/households.rs).
ALTER TABLE users ADD COLUMN pending_household_id INTEGER REFERENCES households(id);
ALTER TABLE users ADD COLUMN pending_since TEXT;
CREATE INDEX users_household ON users (household_id);
CREATE INDEX users_pending_household ON users (pending_household_id);

-- The register: phones staff (or a member, inviting) recorded as living in a household. A
-- resident logging in with one of them becomes a member at once.
CREATE TABLE household_register (
    household_id INTEGER NOT NULL REFERENCES households(id),
    phone        TEXT NOT NULL,
    added_by     INTEGER REFERENCES users(id),
    added_at     TEXT NOT NULL,
    PRIMARY KEY (household_id, phone)
);
CREATE INDEX household_register_phone ON household_register (phone);
