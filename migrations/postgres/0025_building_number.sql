-- Batches, orders and group-buys name a building by its number: finding it (is it closed, are
-- deliveries to its gate) by number read the whole table once per batch of a slot's list.
CREATE INDEX buildings_number ON buildings (number, id);
