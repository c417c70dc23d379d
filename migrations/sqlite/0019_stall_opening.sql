-- A stall's opening: closed (停业) until staff open it again, or resting (休市) on one day (YYYY-MM-DD, Shanghai).
ALTER TABLE vendors ADD COLUMN is_open INTEGER NOT NULL DEFAULT 1 CHECK (is_open IN (0, 1));
ALTER TABLE vendors ADD COLUMN closed_on TEXT;
