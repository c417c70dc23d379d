-- A real market's first day: staff set up the area it serves (a building may be closed: a
-- quarantined compound whose deliveries go to its gate), and every change staff or a stall make
-- to the market's set-up is recorded: who, when, what it was before and after (JSON).
ALTER TABLE buildings ADD COLUMN closed BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    BIGINT REFERENCES users(id),
    subject     TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    action      TEXT NOT NULL,
    before      TEXT,
    after       TEXT
);
CREATE INDEX audit_log_subject ON audit_log (subject, subject_id, id);
