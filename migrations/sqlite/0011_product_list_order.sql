-- The product list's order (boxes first, then the category's place, the stall, the id) kept on
-- the product row, so that the first page is read from an index in that order instead of
-- sorting every product on sale (at 10,000 products the sort was most of the page's cost).
-- A category's place never changes; a product is written with its category's.
ALTER TABLE products ADD COLUMN category_sort INTEGER NOT NULL DEFAULT 0;
UPDATE products SET category_sort = (SELECT sort FROM categories c WHERE c.id = products.category_id);
CREATE INDEX products_list ON products (is_box DESC, category_sort, vendor_id, id) WHERE active;
