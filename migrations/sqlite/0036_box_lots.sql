-- A 菜盒子's contents are drawn from their own products' lots when the box is packed: a draw
-- names the order line it was packed for (`line_product_id`: the box, or the product itself)
-- beside the product whose lot it came from, so a recall reaches every household whose box held
-- the lot, and the stall that packed the box is told. Draws from before were each their own
-- line's. (Nothing refers to this table: it is made again with the wider key.)
CREATE TABLE order_line_lots_next (
    order_id        INTEGER NOT NULL REFERENCES orders(id),
    line_product_id INTEGER NOT NULL,
    product_id      INTEGER NOT NULL,
    lot_id          INTEGER NOT NULL REFERENCES lots(id),
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, line_product_id, product_id, lot_id)
);
INSERT INTO order_line_lots_next (order_id, line_product_id, product_id, lot_id, quantity)
    SELECT order_id, product_id, product_id, lot_id, quantity FROM order_line_lots;
DROP TABLE order_line_lots;
ALTER TABLE order_line_lots_next RENAME TO order_line_lots;
CREATE INDEX order_line_lots_lot ON order_line_lots (lot_id);
