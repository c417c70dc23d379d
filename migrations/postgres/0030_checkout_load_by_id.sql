-- The checkout's load again (as 0026's), its products locked by id alone. 0026 chose them with
-- `pr.id IN (carts UNION ALL standing orders' lines) FOR NO KEY UPDATE`: with two server
-- processes, a product row another batch had just updated was re-checked against that subquery
-- and dropped from the snapshot, and its buyers were refused as sold out while stock remained
-- (the rush: 2,387 of 2,700 possible orders, 313 units left; one process, or SQLite, 2,700).
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
           array_agg(j->>'un' ORDER BY n), array_agg(j->>'r' ORDER BY n), array_agg((j->>'s')::BIGINT ORDER BY n)
        INTO p_u, p_k, p_b, p_un, p_r, p_s
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
        'homes', (SELECT COALESCE(jsonb_agg(jsonb_build_object('u', u.id, 'building', b.number, 'unit', h.unit,
                      'room', h.room, 'household_id', h.id, 'flags', jsonb_build_object('quarantined', h.quarantined,
                      'hardship', h.hardship, 'elderly', h.elderly))), '[]')
                  FROM users u JOIN households h ON h.id = u.household_id JOIN buildings b ON b.id = h.building_id
                  WHERE u.id = ANY (p_u)),
        'buildings', (SELECT COALESCE(jsonb_agg(jsonb_build_object('number', b.number, 'id', b.id)), '[]') FROM (
                          SELECT DISTINCT ON (bb.number) bb.number, bb.id FROM buildings bb
                          WHERE bb.number = ANY (p_b) ORDER BY bb.number, bb.id) b),
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
               sl.priority_booked, sl.priority_release_at, sl.closed, sl.household_limit
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
               NOT v.is_open AS stall_closed, v.closed_on AS stall_closed_on
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

    RETURN (v_rest || jsonb_build_object('slots', v_slots, 'products', v_products, 'booked', v_booked))::TEXT;
END
$$;
