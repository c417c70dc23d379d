-- Each stall's part of an order gets an id of its own, the one vendors act on
-- (`/vendor/orders/{part_id}`): the row's rowid, set by a trigger so the inserts stay as they are.
ALTER TABLE order_parts ADD COLUMN id INTEGER;
UPDATE order_parts SET id = rowid;
CREATE UNIQUE INDEX order_parts_id ON order_parts (id);
CREATE TRIGGER order_parts_id AFTER INSERT ON order_parts WHEN NEW.id IS NULL
BEGIN
    UPDATE order_parts SET id = NEW.rowid WHERE rowid = NEW.rowid;
END;
CREATE INDEX order_parts_vendor_order ON order_parts (vendor_id, order_id);

-- What a stall could not supply of a line, confirmed with the part; the resident pays for the rest.
ALTER TABLE order_lines ADD COLUMN short_quantity INTEGER NOT NULL DEFAULT 0 CHECK (short_quantity >= 0);
