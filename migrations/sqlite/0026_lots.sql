-- Lots (批次): each delivery a stall takes in, with the certificate that must come with it
-- (承诺达标合格证: product, quantity as printed, origin, issue time, issuer, contact, and the QR
-- text of an electronic one) and the rapid tests done on it (农残快检). A lot adds its quantity
-- to the product's stock ('added' in the ledger, with the lot); `remaining` is what of it is not
-- packed yet: packing draws each order line from the product's lots, oldest first
-- (order_line_lots). A held lot (a failed test, a recall) is off sale: what of it was still for
-- sale leaves the stock ('held' in the ledger). Kept at least six months: never deleted.
CREATE TABLE lots (
    id              INTEGER PRIMARY KEY,
    vendor_id       INTEGER NOT NULL REFERENCES vendors(id),
    product_id      INTEGER NOT NULL REFERENCES products(id),
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    remaining       INTEGER NOT NULL CHECK (remaining >= 0),
    cert_product    TEXT NOT NULL,
    cert_quantity   TEXT NOT NULL,
    cert_origin     TEXT NOT NULL,
    cert_issued_at  TEXT NOT NULL,
    cert_issuer     TEXT NOT NULL,
    cert_contact    TEXT NOT NULL,
    cert_qr         TEXT,
    received_by     INTEGER REFERENCES users(id),
    received_at     TEXT NOT NULL,
    held_at         TEXT,
    held_by         INTEGER REFERENCES users(id),
    hold_reason     TEXT
);
CREATE INDEX lots_product ON lots (product_id, id);
CREATE INDEX lots_received ON lots (received_at);

CREATE TABLE lot_tests (
    id          INTEGER PRIMARY KEY,
    lot_id      INTEGER NOT NULL REFERENCES lots(id),
    method      TEXT NOT NULL,
    passed      INTEGER NOT NULL CHECK (passed IN (0, 1)),
    result      TEXT NOT NULL,
    tested_by   TEXT NOT NULL,
    tested_at   TEXT NOT NULL,
    recorded_by INTEGER REFERENCES users(id)
);
CREATE INDEX lot_tests_lot ON lot_tests (lot_id, id);
CREATE INDEX lot_tests_at ON lot_tests (tested_at);

-- Which lots an order line was packed from.
CREATE TABLE order_line_lots (
    order_id    INTEGER NOT NULL REFERENCES orders(id),
    product_id  INTEGER NOT NULL,
    lot_id      INTEGER NOT NULL REFERENCES lots(id),
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id, lot_id)
);
CREATE INDEX order_line_lots_lot ON order_line_lots (lot_id);

-- The ledger learns of lots and of holds (SQLite cannot change a CHECK: the table is rebuilt).
CREATE TABLE stock_changes_next (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products(id),
    change      INTEGER NOT NULL,
    reason      TEXT NOT NULL CHECK (reason IN ('opening', 'added', 'counted', 'held')),
    changed_by  INTEGER REFERENCES users(id),
    changed_at  TEXT NOT NULL,
    lot_id      INTEGER REFERENCES lots(id)
);
INSERT INTO stock_changes_next (id, product_id, change, reason, changed_by, changed_at)
SELECT id, product_id, change, reason, changed_by, changed_at FROM stock_changes;
DROP TABLE stock_changes;
ALTER TABLE stock_changes_next RENAME TO stock_changes;
CREATE INDEX stock_changes_product ON stock_changes (product_id, id);
