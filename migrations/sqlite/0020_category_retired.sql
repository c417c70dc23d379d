-- A category staff retire leaves the catalogue's list and takes no new goods (its name stays taken).
ALTER TABLE categories ADD COLUMN retired INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1));
