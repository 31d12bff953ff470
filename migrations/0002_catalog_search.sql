-- Full-text search over the catalog (custom migration: drizzle-kit does not model FTS5).
-- External-content FTS5 table: the text lives once, in `products`; the index holds tokens only.
-- unicode61 with remove_diacritics 2 folds case and accents ("cafe" finds "Café");
-- prefix indexes make the 2- and 3-letter prefix queries of type-ahead search cheap.
CREATE VIRTUAL TABLE `products_fts` USING fts5(
	name, category, description, features,
	content='products', content_rowid='id',
	tokenize='unicode61 remove_diacritics 2',
	prefix='2 3'
);
--> statement-breakpoint
-- Kept in sync by triggers, so no write path can forget the index. The update trigger only
-- fires for the indexed columns: stock changes at checkout do not re-index a product.
CREATE TRIGGER `products_fts_insert` AFTER INSERT ON `products` BEGIN
	INSERT INTO products_fts (rowid, name, category, description, features)
	VALUES (new.id, new.name, new.category, new.description, new.features);
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_delete` AFTER DELETE ON `products` BEGIN
	INSERT INTO products_fts (products_fts, rowid, name, category, description, features)
	VALUES ('delete', old.id, old.name, old.category, old.description, old.features);
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_update` AFTER UPDATE OF name, category, description, features ON `products` BEGIN
	INSERT INTO products_fts (products_fts, rowid, name, category, description, features)
	VALUES ('delete', old.id, old.name, old.category, old.description, old.features);
	INSERT INTO products_fts (rowid, name, category, description, features)
	VALUES (new.id, new.name, new.category, new.description, new.features);
END;
