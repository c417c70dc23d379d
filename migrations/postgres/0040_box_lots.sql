-- A 菜盒子's contents are drawn from their own products' lots when the box is packed: a draw
-- names the order line it was packed for (`line_product_id`: the box, or the product itself)
-- beside the product whose lot it came from, so a recall reaches every household whose box held
-- the lot, and the stall that packed the box is told. Draws from before were each their own
-- line's.
ALTER TABLE order_line_lots ADD COLUMN line_product_id BIGINT;
UPDATE order_line_lots SET line_product_id = product_id;
ALTER TABLE order_line_lots ALTER COLUMN line_product_id SET NOT NULL;
ALTER TABLE order_line_lots DROP CONSTRAINT order_line_lots_pkey;
ALTER TABLE order_line_lots ADD PRIMARY KEY (order_id, line_product_id, product_id, lot_id);
