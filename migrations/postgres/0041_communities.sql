-- An address carries its community: as SQLite's 0037. A building's number is unique within its
-- community and market; orders record their building's community; a building's batch is keyed
-- by (slot, community, building). The checkout's load again (as 0035's), now reading every
-- building with a number a job names, with its community, and each home's community; its
-- writes again (as 0034's) with each order's community.
ALTER TABLE buildings DROP CONSTRAINT buildings_community_number_key;
ALTER TABLE buildings ADD CONSTRAINT buildings_market_community_number_key UNIQUE (market_id, community, number);

ALTER TABLE orders ADD COLUMN community TEXT;
UPDATE orders o SET community = (
    SELECT b.community FROM buildings b JOIN slots s ON s.market_id = b.market_id
    WHERE s.id = o.slot_id AND b.number = o.building ORDER BY b.id LIMIT 1)
WHERE o.building IS NOT NULL;

ALTER TABLE batches ADD COLUMN community TEXT NOT NULL DEFAULT '';
UPDATE batches bt SET community = COALESCE((
    SELECT b.community FROM buildings b JOIN slots s ON s.market_id = b.market_id
    WHERE s.id = bt.slot_id AND b.number = bt.building ORDER BY b.id LIMIT 1), '')
WHERE bt.group_buy_id IS NULL AND bt.pickup_point_id IS NULL;
ALTER TABLE gate_visits ADD COLUMN community TEXT;
UPDATE gate_visits gv SET community = (
    SELECT b.community FROM users u JOIN households h ON h.id = u.household_id
    JOIN buildings b ON b.id = h.building_id WHERE u.id = gv.user_id AND b.number = gv.building)
WHERE gv.building IS NOT NULL;

DROP INDEX batches_open;
CREATE UNIQUE INDEX batches_open
    ON batches (slot_id, community, building, COALESCE(group_buy_id, 0), COALESCE(pickup_point_id, 0))
    WHERE status = 'open';

CREATE OR REPLACE FUNCTION fxs_checkout_load(p_jobs JSONB)
RETURNS TEXT LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
    p_u BIGINT[];
    p_k TEXT[];
    p_b TEXT[];
    p_un TEXT[];
    p_r TEXT[];
    p_s BIGINT[];
    p_p BIGINT[];
    v_points JSONB;
    v_point_booked JSONB;
    v_fresh BIGINT[];
    v_fresh_keys TEXT[];
    v_rest JSONB;
    v_slots JSONB;
    v_products JSONB;
    v_booked JSONB;
    v_households BIGINT[];
    v_people BIGINT[];
    v_pids BIGINT[];
BEGIN
    SELECT array_agg((j->>'u')::BIGINT ORDER BY n), array_agg(j->>'k' ORDER BY n), array_agg(j->>'b' ORDER BY n),
           array_agg(j->>'un' ORDER BY n), array_agg(j->>'r' ORDER BY n), array_agg((j->>'s')::BIGINT ORDER BY n),
           array_agg((j->>'p')::BIGINT ORDER BY n)
        INTO p_u, p_k, p_b, p_un, p_r, p_s, p_p
        FROM jsonb_array_elements(p_jobs) WITH ORDINALITY AS t(j, n);

    WITH claimed AS (
        INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
            SELECT DISTINCT ON (j.u, j.k) j.u, j.k, j.h, now()
            FROM (SELECT (x->>'u')::BIGINT AS u, x->>'k' AS k, x->>'h' AS h, n
                  FROM jsonb_array_elements(p_jobs) WITH ORDINALITY AS t(x, n)) j
            ORDER BY j.u, j.k, j.n
            ON CONFLICT (user_id, key) DO NOTHING
            RETURNING user_id, key)
    SELECT COALESCE(array_agg(c.user_id), '{}'), COALESCE(array_agg(c.key), '{}')
        INTO v_fresh, v_fresh_keys FROM claimed c;

    -- Everything but the hot rows first; the slots and products are locked last, so that another
    -- process's batch waits for them as short a time as possible.
    v_rest := jsonb_build_object(
        'keys', (SELECT COALESCE(jsonb_agg(jsonb_build_object('u', ik.user_id, 'k', ik.key,
                     'request_hash', ik.request_hash, 'answer', ik.answer)), '[]')
                 FROM (SELECT DISTINCT j.u, j.k FROM unnest(p_u, p_k) AS j(u, k)) j
                 JOIN idempotency_keys ik ON ik.user_id = j.u AND ik.key = j.k
                 WHERE NOT EXISTS (SELECT 1 FROM unnest(v_fresh, v_fresh_keys) AS f(u, k)
                                   WHERE f.u = j.u AND f.k = j.k)),
        'carts', (SELECT COALESCE(jsonb_agg(jsonb_build_object('u', c.user_id, 'lines', c.lines)), '[]') FROM (
                     SELECT ci.user_id, jsonb_agg(jsonb_build_array(ci.product_id, ci.quantity) ORDER BY ci.product_id) AS lines
                     FROM cart_items ci WHERE ci.user_id = ANY (p_u)
                     GROUP BY ci.user_id) c),
        'homes', (SELECT COALESCE(jsonb_agg(jsonb_build_object('u', u.id, 'building', b.number, 'community', b.community, 'market_id', b.market_id, 'unit', h.unit,
                      'room', h.room, 'household_id', h.id, 'flags', jsonb_build_object('quarantined', h.quarantined,
                      'hardship', h.hardship, 'elderly', h.elderly))), '[]')
                  FROM users u JOIN households h ON h.id = u.household_id JOIN buildings b ON b.id = h.building_id
                  WHERE u.id = ANY (p_u)),
        'buildings', (SELECT COALESCE(jsonb_agg(jsonb_build_object('number', b.number, 'id', b.id,
                          'market_id', b.market_id, 'community', b.community) ORDER BY b.id), '[]')
                      FROM buildings b WHERE b.number = ANY (p_b)),
        'households', (SELECT COALESCE(jsonb_agg(jsonb_build_object('building_id', h.building_id, 'unit', h.unit,
                           'room', h.room, 'id', h.id, 'flags', jsonb_build_object('quarantined', h.quarantined,
                           'hardship', h.hardship, 'elderly', h.elderly),
                           'has_members', EXISTS (SELECT 1 FROM users m WHERE m.household_id = h.id),
                           'registered', (SELECT COALESCE(jsonb_agg(ru.id), '[]') FROM household_register hr
                                          JOIN users ru ON ru.phone = hr.phone
                                          WHERE hr.household_id = h.id AND ru.id = ANY (p_u)))), '[]')
                       FROM (SELECT DISTINCT a.b, a.un, a.r FROM unnest(p_b, p_un, p_r) AS a(b, un, r)
                             WHERE a.b IS NOT NULL) a
                       JOIN buildings bb ON bb.number = a.b
                       JOIN households h ON h.building_id = bb.id AND h.unit = a.un AND h.room = a.r),
        'order_ids', (SELECT COALESCE(jsonb_agg(nextval(pg_get_serial_sequence('orders', 'id'))), '[]')
                      FROM generate_series(1, cardinality(v_fresh))));

    SELECT COALESCE(jsonb_agg(to_jsonb(s) ORDER BY s.id), '[]') INTO v_slots FROM (
        SELECT sl.id, sl.kind, sl.starts_at, sl.ends_at, sl.cutoff_at, sl.capacity, sl.booked, sl.priority_capacity,
               sl.priority_booked, sl.priority_release_at, sl.closed, sl.household_limit, sl.market_id
        FROM slots sl WHERE sl.id = ANY (p_s)
        ORDER BY sl.id FOR NO KEY UPDATE) s;

    -- The products the jobs buy, named first (the carts, and standing orders' own lines), then
    -- locked by id alone: a locking query whose condition is a subquery is re-checked against
    -- a row another process just changed and may lose that row (PostgreSQL's EvalPlanQual), and
    -- a product missing from the snapshot is refused as sold out.
    SELECT COALESCE(array_agg(DISTINCT x.pid), '{}') INTO v_pids FROM (
        SELECT ci.product_id AS pid FROM cart_items ci WHERE ci.user_id = ANY (v_fresh)
        UNION ALL
        SELECT (l->>0)::BIGINT FROM jsonb_array_elements(p_jobs) AS j(x),
               jsonb_array_elements(CASE WHEN jsonb_typeof(x->'l') = 'array' THEN x->'l' ELSE '[]' END) AS t(l)) x;

    SELECT COALESCE(jsonb_agg(to_jsonb(p) ORDER BY p.id), '[]') INTO v_products FROM (
        SELECT pr.id, pr.vendor_id, v.name AS vendor_name, pr.name, pr.unit, pr.price_fen, pr.stock,
               pr.per_order_limit, pr.active, pr.category_id AS category, pr.is_box, pr.description, pr.category_sort,
               NOT v.is_open AS stall_closed, v.closed_on AS stall_closed_on, v.market_id
        FROM products pr JOIN vendors v ON v.id = pr.vendor_id
        WHERE pr.id = ANY (v_pids)
        ORDER BY pr.id FOR NO KEY UPDATE OF pr) p;

    -- Read after the slots are locked: another process's batch for the same slot has committed
    -- its orders by now. A job's household: the resident, and the members of their household
    -- (or, with no home yet, of the household at the address they give). Their orders are found
    -- by person (a few each), never by reading a slot's every order: `+ 0` keeps the planner
    -- off the slot's index whatever its statistics say.
    SELECT COALESCE(array_agg(DISTINCT h), '{}') INTO v_households FROM (
        SELECT COALESCE(uu.household_id, ah.id) AS h
        FROM unnest(p_u, p_b, p_un, p_r) AS j(u, b, un, r)
        JOIN users uu ON uu.id = j.u
        LEFT JOIN buildings ab ON uu.household_id IS NULL AND ab.number = j.b
        LEFT JOIN households ah ON ah.building_id = ab.id AND ah.unit = j.un AND ah.room = j.r) x
        WHERE h IS NOT NULL;
    SELECT COALESCE(array_agg(DISTINCT person), '{}') INTO v_people FROM (
        SELECT unnest(p_u) AS person
        UNION ALL
        SELECT m.id FROM users m WHERE m.household_id = ANY (v_households)) x;
    SELECT COALESCE(jsonb_agg(jsonb_build_object('slot_id', o.slot_id, 'user_id', o.user_id,
               'household_id', u.household_id) ORDER BY o.id), '[]')
        INTO v_booked
        FROM orders o JOIN users u ON u.id = o.user_id
        WHERE o.user_id = ANY (v_people) AND o.slot_id + 0 = ANY (p_s)
          AND o.group_buy_id IS NULL AND o.status NOT IN ('cancelled', 'expired', 'delivered');

    -- The pickup points the jobs name, and how many orders each already has in the job's slot:
    -- counted after the slot is locked, so no checkout for that slot can add one meanwhile.
    SELECT COALESCE(jsonb_agg(jsonb_build_object('id', pp.id, 'name', pp.name, 'address', pp.address,
               'opens', pp.opens, 'closes', pp.closes, 'capacity', pp.capacity, 'active', pp.active,
               'market_id', pp.market_id)), '[]')
        INTO v_points FROM pickup_points pp WHERE pp.id = ANY (p_p);
    SELECT COALESCE(jsonb_agg(jsonb_build_object('point', x.p, 'slot', x.s, 'n',
               (SELECT count(*) FROM orders o WHERE o.pickup_point_id = x.p AND o.slot_id = x.s
                AND o.status NOT IN ('cancelled', 'expired')))), '[]')
        INTO v_point_booked
        FROM (SELECT DISTINCT t.p, t.s FROM unnest(p_p, p_s) AS t(p, s) WHERE t.p IS NOT NULL) x;

    RETURN (v_rest || jsonb_build_object('slots', v_slots, 'products', v_products, 'booked', v_booked,
                                         'points', v_points, 'point_booked', v_point_booked))::TEXT;
END
$$;

-- The checkout's writes again (as 0034's), now with each order's community.
CREATE OR REPLACE FUNCTION fxs_checkout_apply(p JSONB) RETURNS VOID LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
    UPDATE slots sl SET booked = t.booked, priority_booked = t.priority_booked
        FROM jsonb_to_recordset(p->'slots') AS t(slot_id BIGINT, booked BIGINT, priority_booked BIGINT)
        WHERE sl.id = t.slot_id;
    UPDATE products pr SET stock = t.stock
        FROM jsonb_to_recordset(p->'stock') AS t(id BIGINT, stock BIGINT)
        WHERE pr.id = t.id;
    IF jsonb_array_length(p->'homes') > 0 THEN
        INSERT INTO households (building_id, unit, room)
            SELECT DISTINCT t.building_id, t.unit, t.room
            FROM jsonb_to_recordset(p->'homes') AS t(building_id BIGINT, unit TEXT, room TEXT, household_id BIGINT)
            WHERE t.household_id IS NULL ORDER BY 1, 2, 3
            ON CONFLICT (building_id, unit, room) DO NOTHING;
        PERFORM 1 FROM users u WHERE u.id IN (SELECT (x->>'user_id')::BIGINT FROM jsonb_array_elements(p->'homes') x)
            ORDER BY u.id FOR NO KEY UPDATE;
        -- Only a resident who still has no home: one set meanwhile (PUT /me/household) stays. A
        -- member's home is set; anyone else's address waits for a member or staff.
        UPDATE users u SET household_id = CASE WHEN t.member THEN h.id END,
                           pending_household_id = CASE WHEN t.member THEN NULL ELSE h.id END,
                           pending_since = CASE WHEN t.member THEN NULL
                                                WHEN u.pending_household_id = h.id THEN u.pending_since
                                                ELSE now() END
            FROM jsonb_to_recordset(p->'homes') AS t(user_id BIGINT, building_id BIGINT, unit TEXT, room TEXT,
                                                      member BOOLEAN)
            JOIN households h ON h.building_id = t.building_id AND h.unit = t.unit AND h.room = t.room
            WHERE u.id = t.user_id AND u.household_id IS NULL;
    END IF;
    INSERT INTO orders (id, user_id, slot_id, status, payment, total_fen, building, unit, room, note, handoff_code,
                        priority_booking, created_at, expires_at, pickup_point_id, community, updated_at)
        SELECT t.*, t.created_at FROM jsonb_to_recordset(p->'orders') AS t(id BIGINT, user_id BIGINT, slot_id BIGINT,
            status TEXT, payment TEXT, total_fen BIGINT, building TEXT, unit TEXT, room TEXT, note TEXT,
            handoff_code TEXT, priority_booking BOOLEAN, created_at TIMESTAMPTZ, expires_at TIMESTAMPTZ,
            pickup_point_id BIGINT, community TEXT);
    INSERT INTO order_lines (order_id, product_id, vendor_id, name, unit, quantity, price_fen)
        SELECT * FROM jsonb_to_recordset(p->'lines') AS t(order_id BIGINT, product_id BIGINT, vendor_id BIGINT,
            name TEXT, unit TEXT, quantity BIGINT, price_fen BIGINT);
    INSERT INTO order_parts (order_id, vendor_id, status, subtotal_fen, updated_at)
        SELECT * FROM jsonb_to_recordset(p->'parts') AS t(order_id BIGINT, vendor_id BIGINT, status TEXT,
            subtotal_fen BIGINT, updated_at TIMESTAMPTZ);
    INSERT INTO order_events (order_id, status, at, by_user)
        SELECT * FROM jsonb_to_recordset(p->'events') AS t(order_id BIGINT, status TEXT, at TIMESTAMPTZ, by_user BIGINT);
    -- A line the resident changed meanwhile stays in the cart.
    DELETE FROM cart_items ci USING jsonb_to_recordset(p->'cart') AS t(user_id BIGINT, product_id BIGINT, quantity BIGINT)
        WHERE ci.user_id = t.user_id AND ci.product_id = t.product_id AND ci.quantity = t.quantity;
    UPDATE idempotency_keys ik SET answer = t.answer
        FROM jsonb_to_recordset(p->'keys') AS t(user_id BIGINT, key TEXT, answer TEXT)
        WHERE ik.user_id = t.user_id AND ik.key = t.key;
END
$$;
