-- A category staff retire leaves the catalogue's list and takes no new goods (its name stays taken).
ALTER TABLE categories ADD COLUMN retired BOOLEAN NOT NULL DEFAULT FALSE;
