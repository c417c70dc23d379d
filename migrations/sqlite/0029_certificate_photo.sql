-- A photo of a lot's paper certificate (承诺达标合格证), in the public photo folder by its
-- content's name (kept as the lot is: never deleted).
ALTER TABLE lots ADD COLUMN cert_photo TEXT;
