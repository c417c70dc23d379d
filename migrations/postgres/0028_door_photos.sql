-- A photo at the door: as SQLite's 0025.
ALTER TABLE orders ADD COLUMN door_photo TEXT;
