-- The catalog change feed (src/db/schema.ts: catalogChanges). Table by drizzle-kit, triggers by hand.
CREATE TABLE `catalog_changes` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`product_id` integer NOT NULL,
	`changed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `catalog_changes_changed_idx` ON `catalog_changes` (`changed_at`);--> statement-breakpoint
-- The feed is written by triggers, so no write path can leave it out (added by hand: drizzle-kit
-- does not model triggers). Any column counts: stock at checkout, a description, a price.
CREATE TRIGGER `catalog_changes_insert` AFTER INSERT ON `products` BEGIN
	INSERT INTO catalog_changes (product_id, changed_at) VALUES (new.id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
--> statement-breakpoint
CREATE TRIGGER `catalog_changes_update` AFTER UPDATE ON `products` BEGIN
	INSERT INTO catalog_changes (product_id, changed_at) VALUES (new.id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
--> statement-breakpoint
CREATE TRIGGER `catalog_changes_delete` AFTER DELETE ON `products` BEGIN
	INSERT INTO catalog_changes (product_id, changed_at) VALUES (old.id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;
