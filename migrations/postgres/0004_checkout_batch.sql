-- Checkouts in batches: each server process hands the checkouts that are waiting to one call of
-- `fxs_checkout_batch`, one transaction and one commit for all of them (group commit), as the
-- SQLite engine does. On two cores a checkout's cost was mostly per transaction and per round
-- trip, and a hot row (a popular slot, a scarce product) was locked until each commit reached
-- disk; now it is locked once per batch (BENCHMARKS.md has the figures).
--
-- Safety across processes: a batch first claims its Idempotency-Keys, in (user, key) order, and
-- reads the carts; then it locks every slot, then every product, it may take, each in id order.
-- A batch waiting for a key holds only smaller keys; one waiting for a row holds all its keys and
-- only smaller rows, and nobody holding a row waits for a key. So two batches never wait on each
-- other in a circle. The same key in two processes' batches at once: the second waits for the
-- first to commit and then replays its answer.
--
-- Speed: per-statement work (executor start-up, trigger queues, planning), not the rows, is what
-- a checkout cost, so the batch runs a fixed number of statements whatever its size. With its
-- rows locked it keeps the slots' bookings and the products' stock in local arrays and decides
-- every checkout in memory; then each kind of row (orders, lines, parts, events, cart lines,
-- slots, products, key answers) is written by one statement for the whole batch, and the new
-- orders' bodies are rendered by one query. (Updating a hot row once per checkout inside one
-- transaction also grows a chain of row versions that every later lookup walks.) Nothing is
-- written for a refused checkout but its key's answer, so no savepoint is needed.
--
-- The rules are the same as the SQLite engine's (backend/src/store/sqlite_checkout.rs) and the
-- same black-box tests run against both: change them together. Refusal answers come from the
-- server as templates, so their text has one source.

DROP FUNCTION fxs_checkout(BIGINT, TEXT, TEXT, BIGINT, BOOLEAN, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT,
                           TIMESTAMPTZ, TIMESTAMPTZ, JSONB);
DROP FUNCTION fxs_order_json(BIGINT);

-- STABLE, not IMMUTABLE (to_char is STABLE): only then is it inlined into the queries that use
-- it instead of being parsed and planned at every call.
CREATE OR REPLACE FUNCTION fxs_time(t TIMESTAMPTZ) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN t IS NULL THEN NULL
                ELSE to_char(t AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00' END
$$;

-- One checkout of a batch: p_jobs is a JSON array of these (without pids, qtys and fresh): index in
-- the batch, user, key, request hash, slot, priority household, payment, initial status, building,
-- unit, room, note, hand-off code, now, payment expiry; then, filled in by the function, the cart
-- (product ids and quantities, in product order) and whether this call claimed the key.
CREATE TYPE fxs_checkout_job AS (
    i INT, u BIGINT, k TEXT, h TEXT, s BIGINT, pr BOOLEAN, pay TEXT, st TEXT, b TEXT, un TEXT, r TEXT, n TEXT,
    c TEXT, now TIMESTAMPTZ, exp TIMESTAMPTZ, pids BIGINT[], qtys BIGINT[], fresh BOOLEAN
);

-- Returns one row per checkout: outcome is 'answer' (body is the reply: the new order, a refusal,
-- or the first answer to this key), 'mismatch' or 'in_use'.
CREATE FUNCTION fxs_checkout_batch(p_jobs JSONB, p_refusals JSONB)
RETURNS TABLE (idx INT, outcome TEXT, status INT, body TEXT) LANGUAGE plpgsql AS $$
DECLARE
    j fxs_checkout_job; r RECORD; n INT; k INT; ks INT; a INT;
    v_jobs fxs_checkout_job[];
    v_order_seq TEXT := pg_get_serial_sequence('orders', 'id');
    -- the batch's slots, locked, with their bookings as this batch leaves them
    sl_id BIGINT[] := '{}'; sl_kind TEXT[] := '{}'; sl_starts TIMESTAMPTZ[] := '{}'; sl_ends TIMESTAMPTZ[] := '{}';
    sl_cutoff TIMESTAMPTZ[] := '{}'; sl_closed BOOLEAN[] := '{}'; sl_capacity BIGINT[] := '{}';
    sl_booked BIGINT[] := '{}'; sl_pcapacity BIGINT[] := '{}'; sl_pbooked BIGINT[] := '{}';
    sl_release TIMESTAMPTZ[] := '{}'; sl_changed BOOLEAN[] := '{}';
    -- the products in the batch's carts, locked, with their stock as this batch leaves it
    pd_id BIGINT[] := '{}'; pd_vendor BIGINT[] := '{}'; pd_vendor_name TEXT[] := '{}'; pd_name TEXT[] := '{}';
    pd_unit TEXT[] := '{}'; pd_price BIGINT[] := '{}'; pd_stock BIGINT[] := '{}'; pd_active BOOLEAN[] := '{}';
    pd_limit BIGINT[] := '{}'; pd_changed BOOLEAN[] := '{}';
    -- the new orders, and their lines (l_pos: the line's product in pd_*)
    o_id BIGINT[] := '{}'; o_user BIGINT[] := '{}'; o_slot BIGINT[] := '{}'; o_status TEXT[] := '{}';
    o_payment TEXT[] := '{}'; o_total BIGINT[] := '{}'; o_building TEXT[] := '{}'; o_unit TEXT[] := '{}';
    o_room TEXT[] := '{}'; o_note TEXT[] := '{}'; o_code TEXT[] := '{}'; o_priority BOOLEAN[] := '{}';
    o_now TIMESTAMPTZ[] := '{}'; o_expires TIMESTAMPTZ[] := '{}';
    l_order BIGINT[] := '{}'; l_user BIGINT[] := '{}'; l_pos INT[] := '{}'; l_qty BIGINT[] := '{}';
    l_now TIMESTAMPTZ[] := '{}';
    -- one answer per checkout; a_order: the new order whose body is the answer; a_store: this
    -- answer is the first for its key and is kept with it
    a_idx INT[] := '{}'; a_user BIGINT[] := '{}'; a_key TEXT[] := '{}'; a_outcome TEXT[] := '{}';
    a_status INT[] := '{}'; a_body TEXT[] := '{}'; a_order BIGINT[] := '{}'; a_store BOOLEAN[] := '{}';
    v_pids BIGINT[]; v_qtys BIGINT[]; v_pos INT[];
    v_prev_user BIGINT; v_prev_key TEXT; v_prev_hash TEXT; v_prev_answer INT; v_ordered_user BIGINT;
    v_hash TEXT; v_status BIGINT; v_body TEXT; v_total BIGINT;
    v_refusal TEXT; v_name TEXT; v_limit TEXT; v_order BIGINT;
BEGIN
    -- First the Idempotency-Keys, claimed in (user, key) order (`fresh` is false for a key that
    -- was already there), and the carts; none of this needs the hot rows.
    WITH claimed AS (
        INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
            SELECT x.u, x.k, x.h, x.now FROM jsonb_populate_recordset(NULL::fxs_checkout_job, p_jobs) x
            ORDER BY x.u, x.k
            ON CONFLICT (user_id, key) DO NOTHING
            RETURNING user_id, key)
    SELECT array_agg(ROW(x.i, x.u, x.k, x.h, x.s, x.pr, x.pay, x.st, x.b, x.un, x.r, x.n, x.c, x.now, x.exp,
                         c.pids, c.qtys, cl.user_id IS NOT NULL)::fxs_checkout_job ORDER BY x.u, x.k, x.i)
        INTO v_jobs
        FROM jsonb_populate_recordset(NULL::fxs_checkout_job, p_jobs) x
        LEFT JOIN claimed cl ON cl.user_id = x.u AND cl.key = x.k
        LEFT JOIN LATERAL (SELECT array_agg(ci.product_id ORDER BY ci.product_id) AS pids,
                                  array_agg(ci.quantity ORDER BY ci.product_id) AS qtys
                           FROM cart_items ci WHERE ci.user_id = x.u) c ON true;

    -- Then the hot rows: every slot, then every product, this batch may take, in id order.
    FOR r IN SELECT sl.* FROM slots sl WHERE sl.id IN (SELECT x.s FROM unnest(v_jobs) x)
             ORDER BY sl.id FOR NO KEY UPDATE LOOP
        sl_id := sl_id || r.id; sl_kind := sl_kind || r.kind; sl_starts := sl_starts || r.starts_at;
        sl_ends := sl_ends || r.ends_at; sl_cutoff := sl_cutoff || r.cutoff_at; sl_closed := sl_closed || r.closed;
        sl_capacity := sl_capacity || r.capacity; sl_booked := sl_booked || r.booked;
        sl_pcapacity := sl_pcapacity || r.priority_capacity; sl_pbooked := sl_pbooked || r.priority_booked;
        sl_release := sl_release || r.priority_release_at; sl_changed := sl_changed || false;
    END LOOP;
    FOR r IN SELECT p.*, v.name AS vendor_name FROM products p JOIN vendors v ON v.id = p.vendor_id
             WHERE p.id IN (SELECT unnest(x.pids) FROM unnest(v_jobs) x WHERE x.fresh)
             ORDER BY p.id FOR NO KEY UPDATE OF p LOOP
        pd_id := pd_id || r.id; pd_vendor := pd_vendor || r.vendor_id; pd_vendor_name := pd_vendor_name || r.vendor_name;
        pd_name := pd_name || r.name; pd_unit := pd_unit || r.unit; pd_price := pd_price || r.price_fen;
        pd_stock := pd_stock || r.stock; pd_active := pd_active || r.active; pd_limit := pd_limit || r.per_order_limit;
        pd_changed := pd_changed || false;
    END LOOP;

    FOREACH j IN ARRAY v_jobs LOOP
        a_idx := a_idx || j.i; a_user := a_user || j.u; a_key := a_key || j.k; a := array_length(a_idx, 1);
        a_store := a_store || false; a_order := a_order || NULL::bigint; a_body := a_body || NULL::text;
        a_outcome := a_outcome || 'answer'::text; a_status := a_status || 0;
        IF j.u = v_prev_user AND j.k = v_prev_key THEN
            -- The same key twice in this batch: the first one's answer.
            IF j.h <> v_prev_hash THEN
                a_outcome[a] := 'mismatch';
            ELSE
                a_status[a] := a_status[v_prev_answer]; a_body[a] := a_body[v_prev_answer];
                a_order[a] := a_order[v_prev_answer];
            END IF;
            CONTINUE;
        END IF;
        IF NOT j.fresh THEN
            SELECT ik.request_hash, ik.response_status, ik.response_body INTO v_hash, v_status, v_body
                FROM idempotency_keys ik WHERE ik.user_id = j.u AND ik.key = j.k;
            IF v_hash <> j.h THEN a_outcome[a] := 'mismatch';
            ELSIF v_status IS NULL THEN a_outcome[a] := 'in_use';
            ELSE a_status[a] := v_status; a_body[a] := v_body;
            END IF;
            CONTINUE;
        END IF;
        v_prev_key := j.k; v_prev_hash := j.h; v_prev_answer := a; a_store[a] := true;
        v_pids := j.pids; v_qtys := j.qtys;
        IF j.u = v_ordered_user THEN
            -- The same resident's second checkout in this batch: the first took the cart.
            v_pids := NULL;
        END IF;
        v_prev_user := j.u;

        -- Decide, in the order the refusals are reported: empty cart, slot, address, then each
        -- line in product order.
        v_refusal := NULL; v_name := ''; v_limit := ''; v_total := 0; v_pos := '{}';
        ks := array_position(sl_id, j.s);
        IF v_pids IS NULL THEN v_refusal := 'cart_empty';
        ELSIF ks IS NULL THEN v_refusal := 'no_such_slot';
        ELSIF sl_closed[ks] OR sl_cutoff[ks] <= j.now THEN v_refusal := 'slot_closed';
        ELSIF (sl_booked[ks] + CASE WHEN j.pr THEN 0
                                    WHEN sl_release[ks] IS NOT NULL AND sl_release[ks] > j.now
                                         AND sl_pcapacity[ks] > sl_pbooked[ks] THEN sl_pcapacity[ks] - sl_pbooked[ks]
                                    ELSE 0 END >= sl_capacity[ks]) THEN v_refusal := 'slot_full';
        ELSIF sl_kind[ks] = 'delivery' AND j.b IS NULL THEN v_refusal := 'address_needed';
        ELSE
            FOR n IN 1 .. array_length(v_pids, 1) LOOP
                k := array_position(pd_id, v_pids[n]);
                IF k IS NULL OR NOT pd_active[k] OR pd_stock[k] < v_qtys[n] THEN
                    v_refusal := 'out_of_stock'; v_name := COALESCE(pd_name[k], ''); EXIT;
                ELSIF pd_limit[k] IS NOT NULL AND v_qtys[n] > pd_limit[k] THEN
                    v_refusal := 'over_limit'; v_name := pd_name[k]; v_limit := pd_limit[k]::text; EXIT;
                END IF;
                v_pos := v_pos || k;
                v_total := v_total + v_qtys[n] * pd_price[k];
            END LOOP;
        END IF;

        IF v_refusal IS NOT NULL THEN
            a_status[a] := (p_refusals -> v_refusal ->> 'status')::int;
            a_body[a] := replace(replace(p_refusals -> v_refusal ->> 'body',
                           '%NAME%', trim(both '"' from to_json(v_name)::text)), '%LIMIT%', v_limit);
            CONTINUE;
        END IF;
        v_order := nextval(v_order_seq);
        v_ordered_user := j.u;
        a_status[a] := 201; a_order[a] := v_order;
        sl_booked[ks] := sl_booked[ks] + 1; sl_changed[ks] := true;
        IF j.pr THEN sl_pbooked[ks] := sl_pbooked[ks] + 1; END IF;
        FOR n IN 1 .. array_length(v_pids, 1) LOOP
            k := v_pos[n];
            pd_stock[k] := pd_stock[k] - v_qtys[n]; pd_changed[k] := true;
            l_order := l_order || v_order; l_user := l_user || j.u; l_pos := l_pos || k; l_qty := l_qty || v_qtys[n];
            l_now := l_now || j.now;
        END LOOP;
        IF sl_kind[ks] <> 'delivery' THEN j.b := NULL; j.un := NULL; j.r := NULL; END IF;
        o_id := o_id || v_order; o_user := o_user || j.u; o_slot := o_slot || j.s; o_status := o_status || j.st;
        o_payment := o_payment || j.pay; o_total := o_total || v_total; o_building := o_building || j.b;
        o_unit := o_unit || j.un; o_room := o_room || j.r; o_note := o_note || j.n; o_code := o_code || j.c;
        o_priority := o_priority || j.pr; o_now := o_now || j.now;
        o_expires := o_expires || CASE WHEN j.st = 'pending_payment' THEN j.exp END;
    END LOOP;

    -- Everything the batch decided, one statement per kind of row.
    IF cardinality(o_id) > 0 THEN
        UPDATE slots sl SET booked = t.booked, priority_booked = t.pbooked
            FROM unnest(sl_id, sl_booked, sl_pbooked, sl_changed) AS t(id, booked, pbooked, changed)
            WHERE sl.id = t.id AND t.changed;
        UPDATE products p SET stock = t.stock
            FROM unnest(pd_id, pd_stock, pd_changed) AS t(id, stock, changed)
            WHERE p.id = t.id AND t.changed;
        INSERT INTO orders (id, user_id, slot_id, status, payment, total_fen, building, unit, room, note, handoff_code,
                            priority_booking, created_at, expires_at, updated_at)
            SELECT t.*, t.created_at FROM unnest(o_id, o_user, o_slot, o_status, o_payment, o_total, o_building, o_unit,
                                                 o_room, o_note, o_code, o_priority, o_now, o_expires)
                AS t(id, user_id, slot_id, status, payment, total_fen, building, unit, room, note, handoff_code,
                     priority_booking, created_at, expires_at);
        INSERT INTO order_lines (order_id, product_id, vendor_id, name, unit, quantity, price_fen)
            SELECT t.order_id, pd_id[t.pos], pd_vendor[t.pos], pd_name[t.pos], pd_unit[t.pos], t.qty, pd_price[t.pos]
            FROM unnest(l_order, l_pos, l_qty) AS t(order_id, pos, qty);
        INSERT INTO order_parts (order_id, vendor_id, status, subtotal_fen, updated_at)
            SELECT t.order_id, pd_vendor[t.pos], 'pending', sum(t.qty * pd_price[t.pos]), min(t.at)
            FROM unnest(l_order, l_pos, l_qty, l_now) AS t(order_id, pos, qty, at)
            GROUP BY t.order_id, pd_vendor[t.pos];
        INSERT INTO order_events (order_id, status, at, by_user)
            SELECT * FROM unnest(o_id, o_status, o_now, o_user);
        -- A line the resident changed meanwhile stays in the cart, as on SQLite.
        DELETE FROM cart_items ci USING unnest(l_user, l_pos, l_qty) AS t(user_id, pos, qty)
            WHERE ci.user_id = t.user_id AND ci.product_id = pd_id[t.pos] AND ci.quantity = t.qty;
    END IF;

    -- The new orders as the API shows them (shared::api::Order), every answer kept with its key
    -- (the first one) and returned.
    RETURN QUERY
    WITH lines AS (
        SELECT t.order_id, pd_id[t.pos] AS product_id, pd_vendor[t.pos] AS vendor_id,
               pd_vendor_name[t.pos] AS vendor_name, pd_name[t.pos] AS name, pd_unit[t.pos] AS unit, t.qty,
               pd_price[t.pos] AS price
        FROM unnest(l_order, l_pos, l_qty) AS t(order_id, pos, qty)
    ), items AS (
        SELECT l.order_id, json_agg(json_build_object('product_id', l.product_id, 'vendor_id', l.vendor_id,
                   'name', l.name, 'unit', l.unit, 'quantity', l.qty, 'price_fen', l.price,
                   'line_total_fen', l.qty * l.price) ORDER BY l.vendor_id, l.product_id) AS items
        FROM lines l GROUP BY l.order_id
    ), parts AS (
        SELECT ps.order_id, json_agg(json_build_object('vendor_id', ps.vendor_id, 'vendor_name', ps.vendor_name,
                   'status', 'pending', 'subtotal_fen', ps.subtotal) ORDER BY ps.vendor_id) AS parts
        FROM (SELECT l.order_id, l.vendor_id, l.vendor_name, sum(l.qty * l.price) AS subtotal
              FROM lines l GROUP BY l.order_id, l.vendor_id, l.vendor_name) ps
        GROUP BY ps.order_id
    ), bodies AS (
        SELECT o.id, json_build_object(
                   'id', o.id, 'status', o.st, 'total_fen', o.total, 'slot_id', o.slot_id,
                   'slot_kind', sl_kind[array_position(sl_id, o.slot_id)],
                   'slot_starts_at', fxs_time(sl_starts[array_position(sl_id, o.slot_id)]),
                   'slot_ends_at', fxs_time(sl_ends[array_position(sl_id, o.slot_id)]),
                   'payment', o.pay,
                   'address', CASE WHEN o.b IS NULL OR o.un IS NULL OR o.r IS NULL THEN NULL
                                   ELSE json_build_object('building', o.b, 'unit', o.un, 'room', o.r) END,
                   'note', o.note, 'created_at', fxs_time(o.at), 'expires_at', fxs_time(o.exp),
                   'handoff_code', o.code, 'items', i.items, 'parts', pa.parts,
                   'timeline', json_build_array(json_build_object('status', o.st, 'at', fxs_time(o.at)))
               )::text AS body
        FROM unnest(o_id, o_slot, o_status, o_payment, o_total, o_building, o_unit, o_room, o_note, o_code, o_now,
                    o_expires) AS o(id, slot_id, st, pay, total, b, un, r, note, code, at, exp)
        JOIN items i ON i.order_id = o.id JOIN parts pa ON pa.order_id = o.id
    ), answers AS (
        SELECT t.idx, t.user_id, t.key, t.outcome, t.status, COALESCE(t.body, b.body) AS body, t.store
        FROM unnest(a_idx, a_user, a_key, a_outcome, a_status, a_body, a_order, a_store)
            AS t(idx, user_id, key, outcome, status, body, order_id, store)
        LEFT JOIN bodies b ON b.id = t.order_id
    ), kept AS (
        UPDATE idempotency_keys ik SET response_status = an.status, response_body = an.body
            FROM answers an WHERE an.store AND ik.user_id = an.user_id AND ik.key = an.key
    )
    SELECT an.idx, an.outcome, an.status, an.body FROM answers an;
END
$$;

