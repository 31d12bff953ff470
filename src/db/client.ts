import { drizzle } from 'drizzle-orm/d1';
import type { D1 } from '../lib/d1-session.ts';

/**
 * Built once per request. No `{ schema }`: the app uses the query builder, not drizzle's
 * relational `db.query` API, and passing the schema rebuilds its relation map on every
 * call (about 13 µs each, a quarter of the app's own work on a simple request).
 */
export function createDb(d1: D1) {
  // drizzle's D1 driver calls only prepare() and batch(), which a Sessions API session has too.
  return drizzle(d1 as D1Database);
}

export type Database = ReturnType<typeof createDb>;
