import { drizzle } from 'drizzle-orm/d1';

/**
 * Built once per request. No `{ schema }`: the app uses the query builder, not drizzle's
 * relational `db.query` API, and passing the schema rebuilds its relation map on every
 * call (about 13 µs each, a quarter of the app's own work on a simple request).
 */
export function createDb(d1: D1Database) {
  return drizzle(d1);
}

export type Database = ReturnType<typeof createDb>;
