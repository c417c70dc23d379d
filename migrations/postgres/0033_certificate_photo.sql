-- A photo of a lot's paper certificate: as SQLite's 0029.
ALTER TABLE lots ADD COLUMN cert_photo TEXT;
