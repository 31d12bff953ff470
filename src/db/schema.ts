import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Timestamps are ISO 8601 UTC strings: they sort as text and need no conversion at the edge. */
const now = sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

export const ROLES = ['admin', 'customer'] as const;
export type Role = (typeof ROLES)[number];

export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    username: text('username').notNull(),
    /** Stored lower-cased: addresses compare case-insensitively. */
    email: text('email').notNull(),
    /** `pbkdf2_sha256$<iterations>$<salt>$<hash>`, see src/lib/password.ts. */
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ROLES }).notNull().default('customer'),
    createdAt: text('created_at').notNull().default(now),
    updatedAt: text('updated_at').notNull().default(now),
  },
  (t) => [
    // "Alice" and "alice" are one account: case-insensitive uniqueness stops look-alike sign-ups.
    uniqueIndex('users_username_nocase').on(sql`${t.username} COLLATE NOCASE`),
    uniqueIndex('users_email_unique').on(t.email),
    check('users_role_check', sql`${t.role} IN ('admin', 'customer')`),
  ],
);

/**
 * Refresh tokens are opaque random strings; only their SHA-256 is stored. Every rotation
 * marks the presented token used and issues a successor in the same family, so a reused
 * token reveals theft and revokes the whole family (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP §4.14).
 */
export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tokenHash: text('token_hash').notNull(),
    familyId: text('family_id').notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: text('created_at').notNull().default(now),
    expiresAt: text('expires_at').notNull(),
    usedAt: text('used_at'),
    /** Hash of the successor issued when this token was spent; it makes the claim-and-replace batch race-free. */
    replacedBy: text('replaced_by'),
    revokedAt: text('revoked_at'),
  },
  (t) => [
    uniqueIndex('refresh_tokens_hash_unique').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
    index('refresh_tokens_user_idx').on(t.userId),
  ],
);

export type UserRow = typeof users.$inferSelect;

export const DESCRIPTION_STATUSES = ['none', 'queued', 'ready', 'failed'] as const;
export type DescriptionStatus = (typeof DESCRIPTION_STATUSES)[number];
export const DESCRIPTION_SOURCES = ['manual', 'gemini', 'fallback'] as const;
export type DescriptionSource = (typeof DESCRIPTION_SOURCES)[number];
export const DESCRIPTION_TONES = ['neutral', 'playful', 'luxury', 'technical'] as const;
export type DescriptionTone = (typeof DESCRIPTION_TONES)[number];

export interface DescriptionJob {
  id: string;
  /** Features for this run only, instead of the product's own. */
  features?: string[] | undefined;
  tone: DescriptionTone;
  maxWords: number;
  queuedAt: string;
}

/**
 * The catalog. Prices are integer cents; `CHECK (stock >= 0)` is what keeps stock from going
 * negative under concurrent checkouts (a batch that would break it fails whole).
 * Full-text search lives in the `products_fts` FTS5 table (migration 0002), kept in sync by triggers.
 */
export const products = sqliteTable(
  'products',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    category: text('category').notNull(),
    priceCents: integer('price_cents').notNull(),
    description: text('description').notNull().default(''),
    stock: integer('stock').notNull().default(0),
    /** JSON array of strings: the input for AI descriptions, and searchable. */
    features: text('features', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
    descriptionStatus: text('description_status', { enum: DESCRIPTION_STATUSES }).notNull().default('none'),
    descriptionSource: text('description_source', { enum: DESCRIPTION_SOURCES }),
    /** The model that wrote the description (`gemini-2.5-flash`, or `offline-fallback`); null when written by hand. */
    descriptionModel: text('description_model'),
    descriptionGeneratedAt: text('description_generated_at'),
    /** Why the last generation failed (short, safe to show); null otherwise. */
    descriptionError: text('description_error'),
    /**
     * The generation job in flight (JSON: id, inputs, queued_at), while `queued`. A queue message
     * names its job: a message for any other job (a duplicate, or one superseded) changes nothing.
     */
    descriptionJob: text('description_job', { mode: 'json' }).$type<DescriptionJob>(),
    createdAt: text('created_at').notNull().default(now),
    updatedAt: text('updated_at').notNull().default(now),
  },
  (t) => [
    check('products_price_check', sql`${t.priceCents} >= 0`),
    check('products_stock_check', sql`${t.stock} >= 0`),
    check('products_description_status_check', sql`${t.descriptionStatus} IN ('none', 'queued', 'ready', 'failed')`),
    check('products_description_source_check', sql`${t.descriptionSource} IS NULL OR ${t.descriptionSource} IN ('manual', 'gemini', 'fallback')`),
    index('products_category_idx').on(sql`${t.category} COLLATE NOCASE`),
    index('products_price_idx').on(t.priceCents),
    index('products_name_idx').on(sql`${t.name} COLLATE NOCASE`),
    index('products_created_idx').on(t.createdAt),
    // The reconciler looks for jobs stuck in `queued` every minute: a partial index keeps that
    // from scanning the catalog.
    index('products_description_queued_idx').on(t.descriptionStatus).where(sql`description_status = 'queued'`),
  ],
);

export type ProductRow = typeof products.$inferSelect;

export const ORDER_STATUSES = ['pending', 'paid', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * Orders. `ref` is a random id chosen before the checkout batch runs, so the later statements
 * of that batch (lines, idempotency record) can name the order before its integer id exists.
 */
export const orders = sqliteTable(
  'orders',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ref: text('ref').notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    status: text('status', { enum: ORDER_STATUSES }).notNull().default('pending'),
    totalCents: integer('total_cents').notNull(),
    currency: text('currency').notNull(),
    /** Set by the one cancel that wins; restocking is keyed on it, so stock comes back once. */
    cancelRef: text('cancel_ref'),
    createdAt: text('created_at').notNull().default(now),
    updatedAt: text('updated_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('orders_ref_unique').on(t.ref),
    index('orders_user_idx').on(t.userId, t.id),
    check('orders_status_check', sql`${t.status} IN ('pending', 'paid', 'cancelled')`),
    check('orders_total_check', sql`${t.totalCents} >= 0`),
  ],
);

/**
 * Order lines keep their own copy of name and unit price: a later price change or a deleted
 * product leaves past orders as they were. `product_id` is therefore not a foreign key.
 * NOT NULL on name and price is a guard: checkout fills them from a sub-select that yields NULL
 * when the product vanished or its price moved since it was priced, which fails the whole batch.
 */
export const orderItems = sqliteTable(
  'order_items',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    productId: integer('product_id').notNull(),
    name: text('name').notNull(),
    unitPriceCents: integer('unit_price_cents').notNull(),
    quantity: integer('quantity').notNull(),
    lineTotalCents: integer('line_total_cents').notNull(),
  },
  (t) => [
    index('order_items_order_idx').on(t.orderId),
    check('order_items_quantity_check', sql`${t.quantity} BETWEEN 1 AND 99`),
    check('order_items_total_check', sql`${t.lineTotalCents} = ${t.unitPriceCents} * ${t.quantity} AND ${t.unitPriceCents} >= 0`),
  ],
);

export const PAYMENT_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/**
 * Payments. The card number is never stored: only its last four digits and a keyed
 * fingerprint (HMAC), which is all the mock processor needs to recognise its test cards.
 * The partial unique index allows at most one `pending` or `succeeded` payment per order,
 * whatever races: a second attempt fails the insert; a new one may follow a `failed` one.
 */
export const payments = sqliteTable(
  'payments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ref: text('ref').notNull(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    status: text('status', { enum: PAYMENT_STATUSES }).notNull().default('pending'),
    amountCents: integer('amount_cents').notNull(),
    currency: text('currency').notNull(),
    cardLast4: text('card_last4'),
    cardFingerprint: text('card_fingerprint'),
    failureReason: text('failure_reason'),
    /** When a message for it was last sent to the queue; the reconciler re-sends stale ones. */
    enqueuedAt: text('enqueued_at'),
    createdAt: text('created_at').notNull().default(now),
    updatedAt: text('updated_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('payments_ref_unique').on(t.ref),
    uniqueIndex('payments_one_live_per_order').on(t.orderId).where(sql`status IN ('pending', 'succeeded')`),
    index('payments_user_idx').on(t.userId, t.id),
    index('payments_pending_idx').on(t.status, t.enqueuedAt),
    check('payments_status_check', sql`${t.status} IN ('pending', 'succeeded', 'failed')`),
    check('payments_amount_check', sql`${t.amountCents} >= 0`),
  ],
);

export type OrderRow = typeof orders.$inferSelect;
export type OrderItemRow = typeof orderItems.$inferSelect;
export type PaymentRow = typeof payments.$inferSelect;

/**
 * Idempotency keys (the IETF httpapi Idempotency-Key draft; Stripe's semantics). One row per
 * (user, key): the request's hash, then the response it produced. `response_status` is NULL
 * while the first request runs; `locked_at` lets a retry take over a key whose request died.
 */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    lockedAt: text('locked_at').notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    createdAt: text('created_at').notNull().default(now),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.key] }),
    index('idempotency_keys_created_idx').on(t.createdAt),
    // The completing statement writes -1 when the key is no longer held by its request (a retry
    // took it over): this CHECK then fails that request's whole batch, so it creates nothing.
    check('idempotency_keys_status_check', sql`${t.responseStatus} IS NULL OR ${t.responseStatus} BETWEEN 100 AND 599`),
  ],
);

/**
 * The catalog's change feed: one row per write to a product, appended by triggers on `products`
 * (migration 0005), so every write path is in it, the API's, the queue consumers' and a
 * `wrangler d1 execute` alike. Every isolate reads the rows after the last it saw once per
 * `CATALOG_CACHE_ISOLATE_MS` and forgets what they name (src/lib/catalog-cache.ts): a write is
 * seen everywhere within about a second plus replica lag. The reconciler deletes rows older than
 * a day.
 */
export const catalogChanges = sqliteTable(
  'catalog_changes',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    productId: integer('product_id').notNull(),
    /** Milliseconds since the epoch, as D1 saw the write. */
    changedAt: integer('changed_at').notNull(),
  },
  (t) => [index('catalog_changes_changed_idx').on(t.changedAt)],
);

/**
 * Checkout holds settled as void: the cart object's hold token of a checkout that had not
 * committed when its hold was settled (it died, or stalled past the hold). A trigger makes an
 * order with that ref abort its batch, so a checkout that commits late cannot order the cart a
 * second time. Deleted by the reconciler after a day.
 */
export const checkoutVoids = sqliteTable(
  'checkout_voids',
  {
    token: text('token').primaryKey(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('checkout_voids_created_idx').on(t.createdAt)],
);
