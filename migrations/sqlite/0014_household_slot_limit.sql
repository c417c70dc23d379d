-- One open order per household per slot unless staff raise it (slots.household_limit): a
-- script with free accounts cannot book a slot's every place for one household. The checkout
-- reads a household's orders in a slot by the resident and by their fellow members, through
-- orders_user (a few orders a person).
ALTER TABLE slots ADD COLUMN household_limit INTEGER NOT NULL DEFAULT 1 CHECK (household_limit >= 1);
