import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

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
  ],
);

export type ProductRow = typeof products.$inferSelect;
