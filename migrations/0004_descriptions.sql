ALTER TABLE `products` ADD `description_model` text;--> statement-breakpoint
ALTER TABLE `products` ADD `description_generated_at` text;--> statement-breakpoint
ALTER TABLE `products` ADD `description_error` text;--> statement-breakpoint
ALTER TABLE `products` ADD `description_job` text;--> statement-breakpoint
CREATE INDEX `products_description_queued_idx` ON `products` (`description_status`) WHERE description_status = 'queued';