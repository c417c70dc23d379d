-- A checkout's first answer is kept as what the market decided (the order placed, or the
-- refusal with its code and words), not as an HTTP status and body: the server renders it.
-- `answer` is JSON: {"placed": <order>} or {"refused": {"code": ..., "message": ...}}; NULL
-- while the key's first checkout runs. Answers already kept are carried over, so a resident's
-- retry across the upgrade still gets its first answer.
ALTER TABLE idempotency_keys ADD COLUMN answer TEXT;
UPDATE idempotency_keys SET answer = CASE
    WHEN response_status = 201 THEN json_object('placed', json(response_body))
    WHEN response_status IS NOT NULL THEN json_object('refused', json(response_body) -> '$.error')
END;
ALTER TABLE idempotency_keys DROP COLUMN response_status;
ALTER TABLE idempotency_keys DROP COLUMN response_body;
