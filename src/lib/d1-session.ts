import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { createDb } from '../db/client.ts';
import type { AppEnv } from '../env.ts';
import { BOOKMARK_HEADER } from './bookmark.ts';
import { validationError } from './errors.ts';

/**
 * What the app asks of D1: a database or one of its Sessions API sessions. Both prepare
 * statements and run batches (one transaction each).
 */
export type D1 = Pick<D1Database, 'prepare' | 'batch'>;

// Bookmarks are opaque to clients; D1 makes them from hex groups joined by dashes. The check
// keeps garbage (and anything that is not a header-safe token) away from the database.
const BOOKMARK = /^[0-9A-Za-z-]{1,256}$/;

/**
 * One D1 session per request, through the Sessions API (read replication):
 * - a request that sends `X-D1-Bookmark` reads from a replica at least as new as that
 *   bookmark, so a client that sends back the bookmark of its write reads that write, wherever
 *   its next request lands;
 * - otherwise a read (GET, HEAD) may start on any replica (`first-unconstrained`: the nearest,
 *   the fastest), and a write starts on the primary (`first-primary`), so its checks read the
 *   latest rows;
 * - the response carries the session's bookmark after the request's last query.
 * Within one session D1 keeps reads in order (each sees what the earlier ones saw, and the
 * session's own writes). Without replication turned on, every session uses the primary.
 */
export function d1Session() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const bookmark = c.req.header(BOOKMARK_HEADER);
    if (bookmark !== undefined && !BOOKMARK.test(bookmark)) {
      throw validationError([{ path: `header.${BOOKMARK_HEADER}`, message: 'A bookmark from an earlier X-D1-Bookmark response header.' }]);
    }
    const read = c.req.method === 'GET' || c.req.method === 'HEAD';
    useSession(c, bookmark ?? (read ? 'first-unconstrained' : 'first-primary'));
    await next();
    // The session the request ended on: the catalog cache may have moved a read to one that
    // starts at its place in the change feed.
    const reached = bookmarkOf(c.get('d1'));
    if (reached) c.res.headers.set(BOOKMARK_HEADER, reached);
  });
}

/** Puts the request on a D1 session starting at `constraint` (a bookmark, or where to start): `c.var.d1` and drizzle's `c.var.db`. */
export function useSession(c: Context<AppEnv>, constraint: string): void {
  const session = c.env.DB.withSession(constraint);
  c.set('d1', session);
  c.set('db', createDb(session));
}

/** The bookmark a session has reached: null before its first query, and on the plain binding. */
export function bookmarkOf(d1: D1): string | null {
  return (d1 as Partial<D1DatabaseSession>).getBookmark?.() ?? null;
}
