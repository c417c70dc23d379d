-- The market's gate (扫码入场): each gate has a code its poster carries; a resident scanning it
-- with the phone they order with leaves a visit, with their phone and door as they were then,
-- for an epidemic investigation. Visits are forgotten with the contact trace (FXS_KEEP_CONTACT_DAYS).
CREATE TABLE gates (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    code       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    rotated_at TEXT
);

CREATE TABLE gate_visits (
    id         INTEGER PRIMARY KEY,
    gate_id    INTEGER NOT NULL REFERENCES gates(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    phone      TEXT,
    building   TEXT,
    unit       TEXT,
    room       TEXT,
    entered_at TEXT NOT NULL
);
CREATE INDEX gate_visits_at ON gate_visits (entered_at);
CREATE INDEX gate_visits_user ON gate_visits (user_id, entered_at);
