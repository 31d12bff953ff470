CREATE TABLE `products` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`category` text NOT NULL,
	`price_cents` integer NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`stock` integer DEFAULT 0 NOT NULL,
	`features` text DEFAULT '[]' NOT NULL,
	`description_status` text DEFAULT 'none' NOT NULL,
	`description_source` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	CONSTRAINT "products_price_check" CHECK("products"."price_cents" >= 0),
	CONSTRAINT "products_stock_check" CHECK("products"."stock" >= 0),
	CONSTRAINT "products_description_status_check" CHECK("products"."description_status" IN ('none', 'queued', 'ready', 'failed')),
	CONSTRAINT "products_description_source_check" CHECK("products"."description_source" IS NULL OR "products"."description_source" IN ('manual', 'gemini', 'fallback'))
);
--> statement-breakpoint
CREATE INDEX `products_category_idx` ON `products` ("category" COLLATE NOCASE);--> statement-breakpoint
CREATE INDEX `products_price_idx` ON `products` (`price_cents`);--> statement-breakpoint
CREATE INDEX `products_name_idx` ON `products` ("name" COLLATE NOCASE);--> statement-breakpoint
CREATE INDEX `products_created_idx` ON `products` (`created_at`);