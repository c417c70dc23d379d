-- Each market's staff read their own market's audit: an entry is of the market of the person
-- who made the change (their home's building's market, else their account's), market 1 when
-- nobody did (the command line).
ALTER TABLE audit_log ADD COLUMN market_id INTEGER NOT NULL DEFAULT 1;
UPDATE audit_log SET market_id = COALESCE((
    SELECT COALESCE((SELECT b.market_id FROM households h JOIN buildings b ON b.id = h.building_id
                      WHERE h.id = u.household_id), u.market_id)
    FROM users u WHERE u.id = audit_log.actor_id), 1);
CREATE INDEX audit_log_market ON audit_log (market_id, id);
CREATE INDEX audit_log_market_subject ON audit_log (market_id, subject, id);
