-- Checkout holds settled as void (src/db/schema.ts: checkoutVoids). Table by drizzle-kit, trigger by hand.
CREATE TABLE `checkout_voids` (
	`token` text PRIMARY KEY NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `checkout_voids_created_idx` ON `checkout_voids` (`created_at`);--> statement-breakpoint
-- An order whose ref is a voided hold token aborts its batch: the order, its lines, the stock
-- and the key's record all roll back (added by hand: drizzle-kit does not model triggers).
CREATE TRIGGER `orders_checkout_void` BEFORE INSERT ON `orders`
WHEN EXISTS (SELECT 1 FROM checkout_voids WHERE token = new.ref) BEGIN
	SELECT RAISE(ABORT, 'checkout_void');
END;
