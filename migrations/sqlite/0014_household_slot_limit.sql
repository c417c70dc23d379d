-- One open order per household per slot unless staff raise it (slots.household_limit): a
-- script with free accounts cannot book a slot's every place for one household. The checkout
-- reads a household's orders in a slot by the resident and by their fellow members.
ALTER TABLE slots ADD COLUMN household_limit INTEGER NOT NULL DEFAULT 1 CHECK (household_limit >= 1);
CREATE INDEX orders_user_slot ON orders (user_id, slot_id);
