import { createMiddleware } from 'hono/factory';
import type { AppEnv, Bindings } from '../env.ts';

/**
 * A read-through cache for the public catalog reads (product detail, lists, search,
 * categories): an LRU in the isolate's memory, bounded in bytes, in front of the Cache API of
 * the Cloudflare location, in front of D1.
 *
 * Consistency:
 * - a catalog write (product create/update/delete, stock taken at checkout or returned at
 *   cancel, a generated description) calls `invalidateCatalog`: in the writer's isolate the
 *   change is visible at once (its LRU entries go, its generation moves on), and in the
 *   writer's location the Cache API entries go (detail) or become unreachable (collections:
 *   their keys carry a generation that the write replaces);
 * - another isolate of that location trusts its own copies for `CATALOG_CACHE_ISOLATE_MS`
 *   (1 s) at most, then asks the location's cache again;
 * - other locations see the write within `CATALOG_CACHE_TTL_SECONDS` (30 s), the Cache API
 *   entries' lifetime.
 * Money is never served from here to a buyer: carts and checkout price from D1.
 * A request with an Authorization header neither reads nor fills the cache.
 *
 * The LRU and the generation live in module scope on purpose: an isolate-wide memory is what
 * this cache is. They hold only public catalog responses.
 */
const CACHE_ORIGIN = 'https://catalog-cache.edgeshop.internal';
const GENERATION_KEY = `${CACHE_ORIGIN}/__generation`;

export interface CacheSettings {
  ttlSeconds: number;
  isolateMs: number;
  maxBytes: number;
}

function whole(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

export function cacheSettings(env: Bindings): CacheSettings {
  return {
    ttlSeconds: whole(env.CATALOG_CACHE_TTL_SECONDS, 30),
    isolateMs: whole(env.CATALOG_CACHE_ISOLATE_MS, 1000),
    maxBytes: whole(env.CATALOG_CACHE_MAX_BYTES, 8 * 1024 * 1024),
  };
}

interface Entry {
  body: string;
  etag: string;
  /** Until when this isolate serves it without asking the location's cache. */
  freshUntil: number;
  bytes: number;
}

/** Least recently used first out, bounded by the bytes of the bodies it holds. */
export class ByteLru {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  get(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.freshUntil <= now) {
      this.bytes -= entry.bytes;
      return undefined;
    }
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: Entry, maxBytes: number): void {
    this.delete(key);
    if (entry.bytes > maxBytes / 4) return;
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.bytes;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}

const lru = new ByteLru();
let generation: { value: string; checkedUntil: number } | undefined;

async function currentGeneration(settings: CacheSettings, now: number): Promise<string> {
  if (generation && generation.checkedUntil > now) return generation.value;
  const stored = await caches.default.match(GENERATION_KEY);
  const value = stored ? await stored.text() : '0';
  generation = { value, checkedUntil: now + settings.isolateMs };
  return value;
}

const detailKey = (id: number) => `${CACHE_ORIGIN}/detail/${id}`;

/** The cache key of a request: detail by id; collections by generation, host, path and sorted query. */
async function keyOf(kind: CachedKind, url: URL, id: number | undefined, settings: CacheSettings, now: number): Promise<string> {
  if (kind === 'detail' && id !== undefined) return detailKey(id);
  const params = [...url.searchParams].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = new URLSearchParams(params).toString();
  // The host is part of the key: page links in the body are absolute.
  return `${CACHE_ORIGIN}/g/${await currentGeneration(settings, now)}/${url.host}${url.pathname}${query ? `?${query}` : ''}`;
}

async function strongEtag(body: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body)));
  return `"${btoa(String.fromCharCode(...digest.slice(0, 18)))}"`;
}

/** ETag matching for If-None-Match (RFC 9110 §13.1.2): a list of tags, or `*`. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** Clients revalidate every time (cheaply, with If-None-Match): the edge, not the client, caches. */
const CLIENT_CACHE_CONTROL = 'public, max-age=0, must-revalidate';

function answer(entry: Pick<Entry, 'body' | 'etag'>, ifNoneMatch: string | undefined, source: string): Response {
  const headers = { ETag: entry.etag, 'Cache-Control': CLIENT_CACHE_CONTROL, 'X-Cache': source };
  if (matches(ifNoneMatch, entry.etag)) return new Response(null, { status: 304, headers });
  return new Response(entry.body, { status: 200, headers: { ...headers, 'Content-Type': 'application/json' } });
}

export type CachedKind = 'detail' | 'collection';

/** Route middleware for a public catalog read. */
export function catalogCache(kind: CachedKind) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.header('Authorization') !== undefined) return next();
    const settings = cacheSettings(c.env);
    if (settings.ttlSeconds === 0) return next();
    const now = Date.now();
    const url = new URL(c.req.url);
    const id = kind === 'detail' ? Number(/\/products\/([1-9][0-9]{0,14})\/?$/.exec(url.pathname)?.[1] ?? Number.NaN) : undefined;
    if (kind === 'detail' && !Number.isSafeInteger(id)) return next();
    const key = await keyOf(kind, url, id, settings, now);
    const ifNoneMatch = c.req.header('If-None-Match');

    const held = lru.get(key, now);
    if (held) return answer(held, ifNoneMatch, 'hit-isolate');
    const shared = await caches.default.match(key);
    if (shared) {
      const entry = { body: await shared.text(), etag: shared.headers.get('ETag') ?? '', freshUntil: now + settings.isolateMs, bytes: 0 };
      entry.bytes = entry.body.length;
      lru.set(key, entry, settings.maxBytes);
      return answer(entry, ifNoneMatch, 'hit-location');
    }

    await next();
    if (c.res.status !== 200) return;
    const body = await c.res.clone().text();
    const etag = await strongEtag(body);
    lru.set(key, { body, etag, freshUntil: now + settings.isolateMs, bytes: body.length }, settings.maxBytes);
    const stored = new Response(body, { headers: { 'Content-Type': 'application/json', ETag: etag, 'Cache-Control': `public, max-age=${settings.ttlSeconds}` } });
    c.executionCtx.waitUntil(caches.default.put(key, stored));
    c.res = answer({ body, etag }, ifNoneMatch, 'miss');
  });
}

/**
 * Forgets what a catalog write affects: the detail of each product named, and every collection
 * (lists, search pages and categories may all show it). In this isolate at once, before this
 * returns; in this location's cache by the time the returned promise settles. Catalog edits
 * await it. Checkout and cancel hand it to `waitUntil` instead, so a purchase does not wait on
 * the location's cache: the buyer's isolate already shows the new stock, and money never comes
 * from the cache anyway.
 */
export function invalidateCatalog(env: Bindings, productIds: number[]): Promise<void> {
  const settings = cacheSettings(env);
  for (const id of productIds) lru.delete(detailKey(id));
  const next = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
  generation = { value: next, checkedUntil: Date.now() + settings.isolateMs };
  return Promise.all([
    caches.default.put(GENERATION_KEY, new Response(next, { headers: { 'Cache-Control': 'public, max-age=86400' } })),
    ...productIds.map((id) => caches.default.delete(detailKey(id))),
  ]).then(() => undefined);
}

/** For tests and diagnostics. */
export function isolateCacheStats() {
  return lru.size;
}
