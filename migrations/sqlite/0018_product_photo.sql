-- A product's photo: the name its pictures are stored under (a content hash; see photos.rs).
ALTER TABLE products ADD COLUMN photo TEXT;
