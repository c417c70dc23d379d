-- An optional photo of an order left at the door (nobody home), taken by its volunteer: the
-- name of the picture in the private door-photo folder (`FXS_DOOR_PHOTO_DIR`), shown only to the
-- household, the volunteer and staff, and forgotten with the contact trace.
ALTER TABLE orders ADD COLUMN door_photo TEXT;
