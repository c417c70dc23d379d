-- Every change to a product's stock made from outside the market's own rules: the product made
-- with its first stock or a day's goods come in ('added'), a stall or staff counting it anew
-- ('counted': the change from the count before; the audit has both counts). Orders and
-- group-buys take and give back stock by the rules and write nothing here, so the ledger's sum
-- is what the market was given to sell, and `fuxiansheng check` proves
--     stock + taken by orders that hold it + set aside by open group-buys = the ledger's sum.
CREATE TABLE stock_changes (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products(id),
    change      INTEGER NOT NULL,
    reason      TEXT NOT NULL CHECK (reason IN ('opening', 'added', 'counted')),
    changed_by  INTEGER REFERENCES users(id),
    changed_at  TEXT NOT NULL
);
CREATE INDEX stock_changes_product ON stock_changes (product_id, id);

-- A market older than the ledger opens it with what it holds now: its stock, what its live
-- orders took and what its open group-buys set aside.
INSERT INTO stock_changes (product_id, change, reason, changed_at)
SELECT p.id,
       p.stock
         + COALESCE((SELECT SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id
                     WHERE l.product_id = p.id AND o.status NOT IN ('cancelled', 'expired')), 0)
         + COALESCE((SELECT SUM(i.max_quantity) FROM group_buy_items i JOIN group_buys g ON g.id = i.group_buy_id
                     WHERE i.product_id = p.id AND g.status = 'open'), 0),
       'opening', strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
FROM products p;
