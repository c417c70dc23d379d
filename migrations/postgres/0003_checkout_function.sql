-- The whole checkout as one function: one round trip from the server, so the hot rows (a
-- popular slot, a scarce product) are locked for the function's run and its commit only, not
-- for twenty network round trips (perf-facts.md: about twice the throughput on hot rows).
-- The statements are the same as the SQLite engine's and the sqlx path's (backend/src/store/shopping.rs);
-- refusal answers come from the server as templates, so their text has one source.

CREATE FUNCTION fxs_time(t TIMESTAMPTZ) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t IS NULL THEN NULL
                ELSE to_char(t AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00' END
$$;

-- The order as the API shows it (shared::api::Order), for the 201 and its idempotent replays.
CREATE FUNCTION fxs_order_json(p_order BIGINT) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', o.id, 'status', o.status, 'total_fen', o.total_fen, 'slot_id', o.slot_id, 'slot_kind', s.kind,
        'slot_starts_at', fxs_time(s.starts_at), 'slot_ends_at', fxs_time(s.ends_at), 'payment', o.payment,
        'address', CASE WHEN o.building IS NULL OR o.unit IS NULL OR o.room IS NULL THEN NULL
                        ELSE json_build_object('building', o.building, 'unit', o.unit, 'room', o.room) END,
        'note', o.note, 'created_at', fxs_time(o.created_at), 'expires_at', fxs_time(o.expires_at),
        'handoff_code', o.handoff_code,
        'items', (SELECT COALESCE(json_agg(json_build_object('product_id', l.product_id, 'vendor_id', l.vendor_id,
                        'name', l.name, 'unit', l.unit, 'quantity', l.quantity, 'price_fen', l.price_fen,
                        'line_total_fen', l.quantity * l.price_fen) ORDER BY l.vendor_id, l.product_id), '[]'::json)
                  FROM order_lines l WHERE l.order_id = o.id),
        'parts', (SELECT COALESCE(json_agg(json_build_object('vendor_id', p.vendor_id, 'vendor_name', v.name,
                        'status', p.status, 'subtotal_fen', p.subtotal_fen) ORDER BY p.vendor_id), '[]'::json)
                  FROM order_parts p JOIN vendors v ON v.id = p.vendor_id WHERE p.order_id = o.id),
        'timeline', (SELECT COALESCE(json_agg(json_build_object('status', e.status, 'at', fxs_time(e.at)) ORDER BY e.id), '[]'::json)
                     FROM order_events e WHERE e.order_id = o.id)
    )::text
    FROM orders o JOIN slots s ON s.id = o.slot_id WHERE o.id = p_order
$$;

-- Returns (outcome, status, body): outcome is 'answer' (body is the reply: the new order, a
-- refusal, or the first answer to this key), 'mismatch' or 'in_use'.
CREATE FUNCTION fxs_checkout(
    p_user BIGINT, p_key TEXT, p_hash TEXT, p_slot BIGINT, p_priority BOOLEAN, p_payment TEXT, p_status TEXT,
    p_building TEXT, p_unit TEXT, p_room TEXT, p_note TEXT, p_handoff TEXT, p_now TIMESTAMPTZ,
    p_expires TIMESTAMPTZ, p_refusals JSONB
) RETURNS TABLE (outcome TEXT, status INT, body TEXT) LANGUAGE plpgsql AS $$
DECLARE
    v_hash TEXT; v_status BIGINT; v_body TEXT;
    v_kind TEXT; v_closed BOOLEAN; v_cutoff TIMESTAMPTZ;
    v_line RECORD; v_vendor BIGINT; v_name TEXT; v_unit TEXT; v_price BIGINT; v_limit BIGINT;
    v_order BIGINT; v_total BIGINT := 0; v_lines INT := 0;
    v_code TEXT; v_detail_name TEXT := ''; v_detail_limit TEXT := '';
BEGIN
    INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES (p_user, p_key, p_hash, p_now)
        ON CONFLICT (user_id, key) DO NOTHING;
    IF NOT FOUND THEN
        SELECT k.request_hash, k.response_status, k.response_body INTO v_hash, v_status, v_body
            FROM idempotency_keys k WHERE k.user_id = p_user AND k.key = p_key;
        IF v_hash <> p_hash THEN RETURN QUERY SELECT 'mismatch'::text, 0, NULL::text; RETURN; END IF;
        IF v_status IS NULL THEN RETURN QUERY SELECT 'in_use'::text, 0, NULL::text; RETURN; END IF;
        RETURN QUERY SELECT 'answer'::text, v_status::int, v_body; RETURN;
    END IF;

    BEGIN -- a refusal undoes this block only; the key keeps its answer
        SELECT count(*) INTO v_lines FROM cart_items c WHERE c.user_id = p_user;
        IF v_lines = 0 THEN RAISE EXCEPTION USING ERRCODE = 'FX001', MESSAGE = 'cart_empty'; END IF;

        UPDATE slots SET booked = booked + 1, priority_booked = priority_booked + CASE WHEN p_priority THEN 1 ELSE 0 END
            WHERE id = p_slot AND NOT closed AND cutoff_at > p_now
              AND booked + CASE WHEN p_priority THEN 0
                                WHEN priority_release_at IS NOT NULL AND priority_release_at > p_now
                                     AND priority_capacity > priority_booked THEN priority_capacity - priority_booked
                                ELSE 0 END < capacity
            RETURNING kind INTO v_kind;
        IF v_kind IS NULL THEN
            SELECT closed, cutoff_at INTO v_closed, v_cutoff FROM slots WHERE id = p_slot;
            IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = 'FX001', MESSAGE = 'no_such_slot'; END IF;
            IF v_closed OR v_cutoff <= p_now THEN RAISE EXCEPTION USING ERRCODE = 'FX001', MESSAGE = 'slot_closed'; END IF;
            RAISE EXCEPTION USING ERRCODE = 'FX001', MESSAGE = 'slot_full';
        END IF;
        IF v_kind = 'delivery' AND p_building IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'FX001', MESSAGE = 'address_needed';
        END IF;
        IF v_kind <> 'delivery' THEN p_building := NULL; p_unit := NULL; p_room := NULL; END IF;

        INSERT INTO orders (user_id, slot_id, status, payment, total_fen, building, unit, room, note, handoff_code,
                            priority_booking, created_at, expires_at, updated_at)
            VALUES (p_user, p_slot, p_status, p_payment, 0, p_building, p_unit, p_room, p_note, p_handoff,
                    p_priority, p_now, CASE WHEN p_status = 'pending_payment' THEN p_expires END, p_now)
            RETURNING id INTO v_order;

        FOR v_line IN SELECT c.product_id, c.quantity FROM cart_items c WHERE c.user_id = p_user ORDER BY c.product_id LOOP
            UPDATE products SET stock = stock - v_line.quantity
                WHERE id = v_line.product_id AND active AND stock >= v_line.quantity
                RETURNING vendor_id, name, unit, price_fen, per_order_limit INTO v_vendor, v_name, v_unit, v_price, v_limit;
            IF NOT FOUND THEN
                SELECT p.name INTO v_detail_name FROM products p WHERE p.id = v_line.product_id;
                RAISE EXCEPTION USING ERRCODE = 'FX001', MESSAGE = 'out_of_stock', DETAIL = COALESCE(v_detail_name, '');
            END IF;
            IF v_limit IS NOT NULL AND v_line.quantity > v_limit THEN
                RAISE EXCEPTION USING ERRCODE = 'FX001', MESSAGE = 'over_limit', DETAIL = v_name, HINT = v_limit::text;
            END IF;
            INSERT INTO order_lines (order_id, product_id, vendor_id, name, unit, quantity, price_fen)
                VALUES (v_order, v_line.product_id, v_vendor, v_name, v_unit, v_line.quantity, v_price);
            DELETE FROM cart_items WHERE user_id = p_user AND product_id = v_line.product_id AND quantity = v_line.quantity;
            v_total := v_total + v_line.quantity * v_price;
        END LOOP;

        UPDATE orders SET total_fen = v_total WHERE id = v_order;
        INSERT INTO order_parts (order_id, vendor_id, status, subtotal_fen, updated_at)
            SELECT v_order, l.vendor_id, 'pending', sum(l.quantity * l.price_fen), p_now
            FROM order_lines l WHERE l.order_id = v_order GROUP BY l.vendor_id;
        INSERT INTO order_events (order_id, status, at, by_user) VALUES (v_order, p_status, p_now, p_user);
        v_status := 201;
        v_body := fxs_order_json(v_order);
    EXCEPTION WHEN SQLSTATE 'FX001' THEN
        GET STACKED DIAGNOSTICS v_code = MESSAGE_TEXT, v_detail_name = PG_EXCEPTION_DETAIL, v_detail_limit = PG_EXCEPTION_HINT;
        v_status := (p_refusals -> v_code ->> 'status')::bigint;
        v_body := replace(replace(p_refusals -> v_code ->> 'body',
                    '%NAME%', trim(both '"' from to_json(COALESCE(v_detail_name, ''))::text)),
                    '%LIMIT%', COALESCE(v_detail_limit, ''));
    END;

    UPDATE idempotency_keys SET response_status = v_status, response_body = v_body WHERE user_id = p_user AND key = p_key;
    RETURN QUERY SELECT 'answer'::text, v_status::int, v_body;
END
$$;
