-- Where a product comes from (产地), as a stall or staff enter it.
ALTER TABLE products ADD COLUMN origin TEXT NOT NULL DEFAULT '';
