import { createMiddleware } from 'hono/factory';
import type { AppEnv, Bindings } from '../env.ts';
import { BOOKMARK_HEADER } from './bookmark.ts';
import { bookmarkOf, type D1, useSession } from './d1-session.ts';
import { errorMessage, logLine, logs } from './log.ts';
import type { CacheSource } from './openapi.ts';

/**
 * A read-through cache for the public catalog reads (product detail, lists, search,
 * categories): an LRU in the isolate's memory, bounded in bytes, in front of the Cache API of
 * the Cloudflare location, in front of D1. A copy read from D1 goes to the location's cache on
 * its second request in the isolate, not its first (`admit`): a copy read once is not written.
 *
 * Consistency:
 * - a catalog write (product create/update/delete, stock taken at checkout or returned at
 *   cancel, a generated description) calls `invalidateCatalog`: in the writer's isolate the
 *   change is visible at once (its LRU entries go, its generation moves on, and a copy filled
 *   before the write is refused even if the location's cache still returns it), and in the
 *   writer's location the Cache API entries go (detail) or become unreachable (collections:
 *   their keys carry a generation that the write replaces). With read replication on, the
 *   writer's isolate reads from the write's bookmark on, and refuses a location copy whose read
 *   had not reached it;
 * - every other isolate, in any location, reads the catalog's change feed (`catalog_changes`,
 *   written by triggers on every product write) and its location's generation once per
 *   `CATALOG_CACHE_ISOLATE_MS` (1 s). The feed names each product written: its copies go, and
 *   a location-cache copy filled before that change is refused (copies carry the feed seq they
 *   are at least as new as: the read that fills one starts from the session that read the
 *   feed). Collections carry both generations in their keys. So a write shows everywhere within
 *   about a second plus replica lag, and between writes an isolate serves from memory with one
 *   small D1 read a second;
 * - `CATALOG_CACHE_TTL_SECONDS` (300 s) is the backstop: no copy, in any tier, is served later
 *   than that after it was read from D1, even while the feed cannot be read;
 * - a request that carries `X-D1-Bookmark` (a client asking to read its own writes) skips the
 *   cache and reads a D1 replica at least as new as the bookmark.
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
  /** The least time between the starts of two rounds that background writes send (`invalidateCatalog`). */
  roundMs: number;
}

function whole(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

export function cacheSettings(env: Bindings): CacheSettings {
  return {
    ttlSeconds: whole(env.CATALOG_CACHE_TTL_SECONDS, 300),
    isolateMs: whole(env.CATALOG_CACHE_ISOLATE_MS, 1000),
    maxBytes: whole(env.CATALOG_CACHE_MAX_BYTES, 16 * 1024 * 1024),
    roundMs: whole(env.CATALOG_CACHE_ROUND_MS, 100),
  };
}

interface Entry {
  body: string;
  etag: string;
  /** Past this moment (ms) this isolate no longer serves it: `ttlSeconds` after it was read from D1. */
  freshUntil: number;
  /** The generation it was filled under (detail entries; a collection's key carries its own). */
  generation: string;
  /** What it costs the LRU (`entryBytes`). */
  bytes: number;
  /**
   * Set on a copy read from D1 here that is not in the location's cache yet: when it was read
   * and the feed seq it is at least as new as. Its next request in this isolate puts it there
   * (`admit`), and clears this.
   */
  unshared?: { filledAt: number; seq: number; bookmark: string | null } | undefined;
}

/** Least recently used first out, bounded by what its entries cost (their `bytes`). */
export class ByteLru {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  /** The entry, if it is still fresh and (when `generation` is given) of that generation. */
  get(key: string, now: number, generation?: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.freshUntil <= now || (generation !== undefined && entry.generation !== generation)) {
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

/** What an entry costs the LRU: its body, key and tag, and the objects around them (about 200 bytes). */
function entryBytes(key: string, body: string, etag: string): number {
  return body.length + key.length + etag.length + 200;
}

/**
 * The reads in flight in this isolate, by cache key: a request for a key that another request
 * is already reading (from the location's cache or D1) waits for that read and answers its copy,
 * so a burst for one page (a cold start, or a popular product just after a write) costs one read,
 * not one per request. Only a copy the reader keeps is shared.
 */
const filling = new Map<string, { read: Promise<Filled | undefined>; since: number }>();
/**
 * A read whose request was canceled never leaves `filling` by itself (its `finally` never runs);
 * one still there this long after it began is dropped when another read begins. Reads begin in
 * time order, so the oldest are first in the map.
 */
const FILLING_STALE_MS = 10_000;
/**
 * Requests whose cache key is longer than this are answered by the app and kept nowhere: a
 * catalog URL is far shorter, and every structure here is bounded by its count of keys.
 */
const MAX_KEY_CHARS = 1024;
/** Requests now waiting for another request's read (`filling`). */
let waitingForShare = 0;

/**
 * How long a request waits for a read, a generation check or an invalidation round that another
 * request started. Sharing a read or a check is an optimisation: past this, or if that request
 * failed, the waiter does the work itself. A round waits this long for the round before it.
 */
const SHARED_WAIT_MS = 1000;

/**
 * Awaits a promise another request made (a read in `filling`, a generation check), for at most
 * `ms`; undefined when it failed or took longer. workerd settles such a promise only inside the
 * request that made it, so if that request ends first (canceled, or failed outside its handler)
 * the promise never settles, and a waiter with nothing else pending would itself be canceled as
 * hung: 500s that spread to every later request for the key (seen priming 100,000 products).
 * The timer is the waiter's own pending event.
 *
 * A promise shared this way is made and settled by one request, the one that does the work (a
 * read, a check, a query, an invalidation round), never made by one request and settled by
 * another. workerd runs the reactions to a promise settled from another request later, in the
 * request that made it, and its source notes that once that request has ended they run at once
 * in the settling request instead. Promises made by one request and settled by another (a cart
 * product batch's, made by the read that opened it and settled by the member that sent it; an
 * invalidation round's, made by its first writer and settled by the one that sent it) raised
 * "Cannot perform I/O on behalf of a different request (I/O type: RefcountedFulfiller)" under
 * bursts that stalled the event loop (password hashing), sometimes with a request that never
 * answered: in 6 of 45 runs of `test/burst.test.ts` at three times its size, and in none of 30
 * once each promise was made by the request that settles it.
 */
export async function awaitOtherRequest<T>(promise: Promise<T>, ms = SHARED_WAIT_MS): Promise<{ value: T } | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ value }), () => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}
/**
 * Admission to the location's cache, on the second request: a copy read from D1 is put there
 * when this isolate is asked for it again (a hit on its copy in memory, a request that shared
 * its read, or a second miss once the copy has left memory), not when it is first read. Most
 * of a large catalog's detail pages are read once in a while (a long tail), and a put for each
 * is a write that no one reads: it costs the worker the copy's Response and the location's
 * cache its room, and pushes out copies that are read. The keys read from D1 once and not put
 * yet, oldest first, at most `MAX_SEEN_ONCE`.
 */
const seenOnce = new Set<string>();
const MAX_SEEN_ONCE = 10_000;

/** A copy a reader kept, and the feed seq it is at least as new as. */
interface Filled {
  entry: Entry;
  seq: number;
}
let generation: { value: string; checkedUntil: number } | undefined;
/**
 * When this isolate last invalidated each detail key (ms), and the write's D1 bookmark if it had
 * one. A copy read from D1 before that moment is refused, even when the location's cache still
 * returns it: its delete may not have landed yet (checkout hands it to waitUntil), or a slower
 * reader may have put an older copy back. So is a copy read after it from a replica that had not
 * reached the write (another isolate's, with read replication on): its bookmark is older. Kept
 * for one TTL, after which no such copy is served anyway.
 */
const invalidatedAt = new Map<string, { at: number; bookmark: string | null }>();

/** A copy read from D1 at `filledAt`, by a session that reached `filledBookmark` (null: unknown). */
function refused(key: string, filledAt: number, filledBookmark: string | null, settings: CacheSettings, now: number): boolean {
  const write = invalidatedAt.get(key);
  if (write === undefined) return false;
  if (write.at + settings.ttlSeconds * 1000 < now) {
    invalidatedAt.delete(key);
    return false;
  }
  if (filledAt <= write.at) return true;
  return write.bookmark !== null && (filledBookmark === null || filledBookmark < write.bookmark);
}

/**
 * This isolate's place in the catalog's change feed (the `catalog_changes` table, written by
 * triggers on every product write, wherever it comes from). Read once per `isolateMs` with the
 * generation; it is what bounds staleness across locations, so the TTL can be a long backstop.
 */
interface FeedPosition {
  /** The last change applied here. */
  seq: number;
  /** The bookmark of the session that read it: a read that fills the cache starts there, so a copy is never older than `seq`. */
  bookmark: string | null;
}
let feed: FeedPosition | undefined;
/**
 * The bookmark of the newest catalog write made in this isolate (`invalidateCatalog`). With read
 * replication on, a replica may not have it yet: reads that fill the cache, and polls of the
 * feed, start no earlier than it, so the writer's isolate never caches what its write replaced.
 */
let writtenAt: string | null = null;

/** The newer of two D1 bookmarks: they sort as strings from oldest to newest (D1's glossary). */
function newer(a: string | null | undefined, b: string | null | undefined): string | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return a > b ? a : b;
}

/** Where a read that fills the cache, or a poll of the feed, starts: never before the last poll or a write made here. */
function readsFrom(): string | null {
  return newer(feed?.bookmark, writtenAt);
}
/** Rows read per poll. An isolate further behind than that starts over (forgets everything). */
const FEED_PAGE = 500;
/** Per detail key, the feed seq of the last change seen: a location copy filled before it is refused. */
const changedSeq = new Map<string, number>();
/** Location copies filled before this feed seq are refused, whatever they hold (set when starting over). */
let refuseBelowSeq = 0;

/** On a location cache entry: the feed seq its body is at least as new as. */
const FEED_SEQ_HEADER = 'X-Feed-Seq';

type FeedSession = D1 & { getBookmark?: () => string | null };

/** Starts (or starts over) at the head of the feed, marking the products changed within one TTL. */
async function joinFeed(d1: FeedSession, settings: CacheSettings, now: number): Promise<FeedPosition> {
  const [head, recent] = await d1.batch<{ seq: number; product_id: number }>([
    d1.prepare('SELECT coalesce(max(seq), 0) AS seq, 0 AS product_id FROM catalog_changes'),
    d1
      .prepare('SELECT max(seq) AS seq, product_id FROM catalog_changes WHERE changed_at >= ? GROUP BY product_id LIMIT ?')
      .bind(now - settings.ttlSeconds * 1000, FEED_PAGE + 1),
  ]);
  const seq = head?.results[0]?.seq ?? 0;
  const rows = recent?.results ?? [];
  // Copies filled before a change this isolate never saw may sit in the location's cache.
  if (rows.length > FEED_PAGE) refuseBelowSeq = seq;
  else for (const row of rows) changedSeq.set(detailKey(row.product_id), row.seq);
  return { seq, bookmark: newer(feed?.bookmark, d1.getBookmark?.()) };
}

/** Applies the changes after this isolate's place in the feed; the seq it is at afterwards. */
async function pollFeed(d1: FeedSession, settings: CacheSettings, now: number): Promise<number> {
  if (feed === undefined) {
    feed = await joinFeed(d1, settings, now);
    return feed.seq;
  }
  const { results } = await d1
    .prepare('SELECT seq, product_id FROM catalog_changes WHERE seq > ? ORDER BY seq LIMIT ?')
    .bind(feed.seq, FEED_PAGE + 1)
    .all<{ seq: number; product_id: number }>();
  if (results.length > FEED_PAGE) {
    lru.clear();
    changedSeq.clear();
    feed = await joinFeed(d1, settings, now);
    return feed.seq;
  }
  for (const { seq, product_id: id } of results) {
    lru.delete(detailKey(id));
    changedSeq.delete(detailKey(id));
    changedSeq.set(detailKey(id), seq);
  }
  // Kept in seq order: the oldest go first once beyond what one TTL of writes can need.
  for (const [key, seq] of changedSeq) {
    if (changedSeq.size <= MAX_CHANGED_KEYS) break;
    changedSeq.delete(key);
    refuseBelowSeq = Math.max(refuseBelowSeq, seq);
  }
  // Never backwards: a check that overlapped this one may have moved the feed on meanwhile.
  feed = { seq: Math.max(feed.seq, results.at(-1)?.seq ?? 0), bookmark: newer(feed.bookmark, d1.getBookmark?.()) };
  return feed.seq;
}
const MAX_CHANGED_KEYS = 20_000;

/**
 * The generation collections are keyed by: this location's (moved by a write here, seen by the
 * other isolates here within `isolateMs`) and the change feed's (moved by a write anywhere).
 * If D1 cannot be read, the isolate keeps its place in the feed and tries again next time.
 */
function currentGeneration(env: Bindings, settings: CacheSettings, now: number): Promise<string> | string {
  if (generation && generation.checkedUntil > now) return generation.value;
  // One check at a time: the requests that arrive while it runs wait for it, not start their own.
  const running = checking;
  if (running) return joinCheck(running, env, settings, now);
  const own = checkGeneration(env, settings, now).finally(() => {
    if (checking === own) checking = undefined;
  });
  checking = own;
  return own;
}
let checking: Promise<string> | undefined;

/** Waits for another request's check; if it failed or never settles, this request checks. */
async function joinCheck(running: Promise<string>, env: Bindings, settings: CacheSettings, now: number): Promise<string> {
  const outcome = await awaitOtherRequest(running);
  if (outcome) return outcome.value;
  if (checking === running) checking = undefined;
  return currentGeneration(env, settings, now);
}

async function checkGeneration(env: Bindings, settings: CacheSettings, now: number): Promise<string> {
  const writes = localWrites;
  const started = ++checksStarted;
  // Its own session, from this isolate's newest bookmark: a session that started on a replica
  // older than the last poll would move the feed's bookmark back, and copies filled from it
  // would claim a place in the feed that their replica had not reached.
  const d1: FeedSession = env.DB.withSession(readsFrom() ?? 'first-unconstrained');
  const [stored, seq] = await Promise.all([
    // If the location's cache cannot be read, the isolate keeps the location's part it has.
    caches.default.match(GENERATION_KEY).then(
      async (found) => (found ? await found.text() : '0'),
      (error: unknown) => {
        logLine(env, 'warn', "location's catalog generation unreadable", { message: errorMessage(error) });
        return generation ? locationPart(generation.value) : '0';
      },
    ),
    pollFeed(d1, settings, now).catch((error: unknown) => {
      logLine(env, 'warn', 'catalog change feed unreadable', { message: errorMessage(error) });
      return feed?.seq ?? 0;
    }),
  ]);
  const value = `${stored}.${seq}`;
  // A write in this isolate while the check ran set a newer generation than the one read, or a
  // check that started later (this one took over a second) has already set what it read.
  if ((writes !== localWrites || started < checksApplied) && generation) return generation.value;
  checksApplied = started;
  generation = { value, checkedUntil: now + settings.isolateMs };
  return value;
}
/** Catalog writes made in this isolate: a generation check that overlaps one does not undo it. */
let localWrites = 0;
/** Generation checks started, and the latest one whose result was kept. */
let checksStarted = 0;
let checksApplied = 0;

/**
 * The location's part of a generation. A detail copy in this isolate belongs to it: a write
 * elsewhere reaches the isolate through the feed, which names the products to drop, so only a
 * write in this location (seen by its generation before the feed shows it) drops every detail.
 */
function locationPart(value: string): string {
  return value.slice(0, value.lastIndexOf('.'));
}

/** False when a location copy may predate a change this isolate knows of. */
function currentForFeed(key: string, copySeq: number): boolean {
  return copySeq >= refuseBelowSeq && copySeq >= (changedSeq.get(key) ?? 0);
}

/** On a location cache entry: when its body was read from D1 (ms since the epoch). */
const FILLED_AT_HEADER = 'X-Filled-At';
/** On a location cache entry: the D1 bookmark its read reached, when known. */
const FILLED_BOOKMARK_HEADER = 'X-Filled-Bookmark';

const detailKey = (id: number) => `${CACHE_ORIGIN}/detail/${id}`;

/** A promise and the function that settles it (ES2024's `Promise.withResolvers`; the project targets ES2023). */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T | Promise<T>) => void } {
  let resolve: (value: T | Promise<T>) => void = () => undefined;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** The cache key of a request: detail by id; collections by generation, host, path and sorted query. */
function keyOf(kind: CachedKind, url: URL, id: number | undefined, current: string): string {
  if (kind === 'detail' && id !== undefined) return detailKey(id);
  const params = [...url.searchParams].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = new URLSearchParams(params).toString();
  // The host is part of the key: page links in the body are absolute.
  return `${CACHE_ORIGIN}/g/${current}/${url.host}${url.pathname}${query ? `?${query}` : ''}`;
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

function answer(entry: Pick<Entry, 'body' | 'etag'>, ifNoneMatch: string | undefined, source: CacheSource): Response {
  const headers = { ETag: entry.etag, 'Cache-Control': CLIENT_CACHE_CONTROL, 'X-Cache': source };
  if (matches(ifNoneMatch, entry.etag)) return new Response(null, { status: 304, headers });
  return new Response(entry.body, { status: 200, headers: { ...headers, 'Content-Type': 'application/json' } });
}

/** The location's copy of a body read from D1 at `filledAt` (reaching `bookmark`), at least as new as feed seq `seq`. */
function locationCopy(body: string, etag: string, filled: NonNullable<Entry['unshared']>, ttlMs: number, now: number): Response {
  const remaining = Math.max(1, Math.floor((filled.filledAt + ttlMs - now) / 1000));
  return new Response(body, {
    headers: {
      'Content-Type': 'application/json',
      ETag: etag,
      [FILLED_AT_HEADER]: String(filled.filledAt),
      [FEED_SEQ_HEADER]: String(filled.seq),
      ...(filled.bookmark !== null && { [FILLED_BOOKMARK_HEADER]: filled.bookmark }),
      'Cache-Control': `public, max-age=${remaining}`,
    },
  });
}

/**
 * A second request for a copy this isolate read from D1 and holds: the copy goes to the
 * location's cache now (once), unless a write this isolate has learnt of since makes it suspect.
 */
function admit(key: string, entry: Entry, settings: CacheSettings, waitUntil: (promise: Promise<unknown>) => void): void {
  const pending = entry.unshared;
  if (pending === undefined) return;
  entry.unshared = undefined;
  seenOnce.delete(key);
  const now = Date.now();
  if (refused(key, pending.filledAt, pending.bookmark, settings, now) || !currentForFeed(key, pending.seq)) return;
  waitUntil(caches.default.put(key, locationCopy(entry.body, entry.etag, pending, settings.ttlSeconds * 1000, now)));
}

export type CachedKind = 'detail' | 'collection';

/** Route middleware for a public catalog read. */
export function catalogCache(kind: CachedKind) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.header('Authorization') !== undefined || c.req.header(BOOKMARK_HEADER) !== undefined) return next();
    const settings = cacheSettings(c.env);
    if (settings.ttlSeconds === 0) return next();
    const now = Date.now();
    const url = new URL(c.req.url);
    const id = kind === 'detail' ? Number(/\/products\/([1-9][0-9]{0,14})\/?$/.exec(url.pathname)?.[1] ?? Number.NaN) : undefined;
    if (kind === 'detail' && !Number.isSafeInteger(id)) return next();
    const current = await currentGeneration(c.env, settings, now);
    const key = keyOf(kind, url, id, current);
    if (key.length > MAX_KEY_CHARS) return next();
    const ifNoneMatch = c.req.header('If-None-Match');
    const ttlMs = settings.ttlSeconds * 1000;

    const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise);
    const held = lru.get(key, now, kind === 'detail' ? locationPart(current) : undefined);
    if (held) {
      admit(key, held, settings, waitUntil);
      return answer(held, ifNoneMatch, 'hit-isolate');
    }
    const pending = filling.get(key)?.read;
    if (pending) {
      // Another request in this isolate is reading this copy now: share its read, unless a write
      // here moved the generation since that read began (a detail's key does not carry it), or
      // the feed has since named a change the copy may predate.
      waitingForShare++;
      const outcome = await awaitOtherRequest(pending);
      waitingForShare--;
      // Its reader failed or is stuck: nobody else waits on that read either.
      if (outcome === undefined && filling.get(key)?.read === pending) filling.delete(key);
      const shared = outcome?.value;
      if (shared && shared.entry.generation === locationPart(current) && currentForFeed(key, shared.seq)) {
        admit(key, shared.entry, settings, waitUntil);
        return answer(shared.entry, ifNoneMatch, 'hit-isolate');
      }
      // Nothing to share (not a 200, a write landed meanwhile, or an older copy): read for ourselves.
    }
    const { promise: filled, resolve: settle } = deferred<Filled | undefined>();
    if (!filling.has(key)) {
      for (const [oldest, { since }] of filling) {
        if (since > now - FILLING_STALE_MS) break;
        filling.delete(oldest);
      }
      filling.set(key, { read: filled, since: now });
    }
    try {
      // A location's cache that fails is a miss: the read goes on to D1.
      const shared = await caches.default.match(key).catch((error: unknown) => {
        logLine(c.env, 'warn', "location's catalog cache unreadable", { message: errorMessage(error) });
        return undefined;
      });
      const sharedFilledAt = Number(shared?.headers.get(FILLED_AT_HEADER));
      const sharedSeq = Number(shared?.headers.get(FEED_SEQ_HEADER));
      const sharedBookmark = shared?.headers.get(FILLED_BOOKMARK_HEADER) ?? null;
      if (
        shared &&
        Number.isSafeInteger(sharedFilledAt) &&
        // The location's cache should have dropped it by then (its max-age), but is not trusted to.
        sharedFilledAt + ttlMs > now &&
        Number.isSafeInteger(sharedSeq) &&
        !refused(key, sharedFilledAt, sharedBookmark, settings, now) &&
        currentForFeed(key, sharedSeq)
      ) {
        const body = await shared.text();
        const etag = shared.headers.get('ETag') ?? '';
        const entry = { body, etag, freshUntil: sharedFilledAt + ttlMs, generation: locationPart(current), bytes: entryBytes(key, body, etag) };
        // Kept only if nothing this isolate learnt meanwhile (a write here, a poll of the feed) makes it suspect.
        if (!refused(key, sharedFilledAt, sharedBookmark, settings, Date.now()) && currentForFeed(key, sharedSeq)) {
          lru.set(key, entry, settings.maxBytes);
          settle({ entry, seq: sharedSeq });
        }
        return answer(entry, ifNoneMatch, 'hit-location');
      }

      // The read starts no earlier than this isolate's place in the feed, or than a write made
      // here: the copy is at least that new, whichever replica the request's own session would
      // have started on.
      const fillSeq = feed?.seq ?? 0;
      const from = readsFrom();
      if (from) useSession(c, from);
      await next();
      if (c.res.status !== 200) return;
      // Read, not cloned: a clone tees the stream and leaves one branch unread, and this
      // Response is replaced just below anyway (Hono's setter carries over only its headers).
      const body = await c.res.text();
      const etag = await strongEtag(body);
      c.res = answer({ body, etag }, ifNoneMatch, 'miss');
      // A write that landed while this read ran, here or (as the feed told a poll meanwhile)
      // elsewhere, makes the copy suspect: answer it, keep it nowhere.
      const reached = bookmarkOf(c.var.d1);
      if (refused(key, now, reached, settings, Date.now()) || !currentForFeed(key, fillSeq)) return;
      const entry: Entry = { body, etag, freshUntil: now + ttlMs, generation: locationPart(current), bytes: entryBytes(key, body, etag), unshared: { filledAt: now, seq: fillSeq, bookmark: reached } };
      lru.set(key, entry, settings.maxBytes);
      settle({ entry, seq: fillSeq });
      // Read from D1 here before, and not put since (its copy left memory first): a second
      // request, so the location's cache gets it now. Otherwise it waits for one.
      if (seenOnce.has(key)) {
        admit(key, entry, settings, waitUntil);
      } else {
        seenOnce.add(key);
        for (const oldest of seenOnce) {
          if (seenOnce.size <= MAX_SEEN_ONCE) break;
          seenOnce.delete(oldest);
        }
      }
    } finally {
      settle(undefined);
      if (filling.get(key)?.read === filled) filling.delete(key);
    }
  });
}

/**
 * The answer to a public catalog read that this isolate holds, built without running the app.
 *
 * A cached read that goes through the app spends most of its time on the app's middleware (the
 * request id, security headers, CORS), each setting headers one by one on a Response, and on
 * Hono replacing one Response with another; the lookup itself is a Map get. For a request the
 * app would answer from this isolate's memory anyway, this builds the one Response directly.
 *
 * It never decides anything the app would decide differently:
 * - it answers only what `catalogCache` would answer with `hit-isolate` (same key, same
 *   generation, same freshness), for a GET on exactly the cached routes, without
 *   Authorization, X-D1-Bookmark or X-Request-Id, and only while no generation check is due;
 * - the headers the app's middleware adds are not listed here: they are learned from the app's
 *   own `hit-isolate` answers (`learnHeaders`), per Origin (CORS depends on it), and only the
 *   answer's own headers (ETag, Cache-Control, X-Cache, Content-Type, X-Request-Id) are set here;
 * - when the app would log the read (LOG_LEVEL=debug), the app answers it.
 * Anything else returns undefined, and the app handles the request as usual.
 */
export function answerFromIsolate(request: Request, env: Bindings, ctx: ExecutionContext): Response | undefined {
  if (request.method !== 'GET') return undefined;
  const headers = request.headers;
  if (headers.has('Authorization') || headers.has(BOOKMARK_HEADER) || headers.has(REQUEST_ID_HEADER)) return undefined;
  const template = templates.get(headers.get('Origin') ?? '');
  const now = Date.now();
  if (template === undefined || generation === undefined || generation.checkedUntil <= now) return undefined;
  const url = new URL(request.url);
  const route = CACHED_ROUTES.exec(url.pathname);
  if (route === null) return undefined;
  const settings = cacheSettings(env);
  if (settings.ttlSeconds === 0 || logs(env, 'debug')) return undefined;
  const id = route[1] === undefined ? undefined : Number(route[1]);
  const kind: CachedKind = id === undefined ? 'collection' : 'detail';
  const key = keyOf(kind, url, id, generation.value);
  const entry = lru.get(key, now, kind === 'detail' ? locationPart(generation.value) : undefined);
  if (entry === undefined) return undefined;
  fastAnswers++;
  admit(key, entry, settings, (promise) => ctx.waitUntil(promise));
  // A record, not a list of pairs: workerd converts a record of 20 headers about as fast as one
  // header, and a list of 20 pairs at a third of the speed (measured: 12,400 and 7,900 answers/s).
  const own = { ...template, [REQUEST_ID_HEADER]: crypto.randomUUID(), ETag: entry.etag, 'Cache-Control': CLIENT_CACHE_CONTROL, 'X-Cache': 'hit-isolate' };
  if (matches(headers.get('If-None-Match') ?? undefined, entry.etag)) return new Response(null, { status: 304, headers: own });
  return new Response(entry.body, { status: 200, headers: { ...own, 'Content-Type': 'application/json' } });
}

const REQUEST_ID_HEADER = 'X-Request-Id';
/** Exactly the paths of the cached routes (the router's `strict: false`: with or without the slash). */
const CACHED_ROUTES = /^\/(?:products\/?|products\/search\/?|categories\/?|products\/([1-9][0-9]{0,14})\/?)$/;
/** Headers of one answer, not of every answer: never part of a learned set. */
const OWN_HEADERS = new Set(['x-request-id', 'etag', 'cache-control', 'x-cache', 'content-type', 'content-length', BOOKMARK_HEADER.toLowerCase()]);
/** Origins with a learned header set, at most: a client that varies its Origin cannot grow this. */
const MAX_TEMPLATES = 32;
/** The headers the app's middleware put on a `hit-isolate` answer, by the request's Origin ('' for none). */
const templates = new Map<string, Record<string, string>>();
let fastAnswers = 0;

/** Called with every answer of the app: a `hit-isolate` answer teaches `answerFromIsolate` its headers. */
export function learnHeaders(request: Request, response: Response): void {
  if (response.headers.get('X-Cache') !== 'hit-isolate' || request.method !== 'GET' || request.headers.has('Authorization')) return;
  const origin = request.headers.get('Origin') ?? '';
  if (templates.has(origin) || templates.size >= MAX_TEMPLATES) return;
  templates.set(origin, Object.fromEntries([...response.headers].filter(([name]) => !OWN_HEADERS.has(name))));
}

/** For tests and diagnostics: how many reads `answerFromIsolate` answered. */
export function fastAnswerCount(): number {
  return fastAnswers;
}

/**
 * Forgets what a catalog write affects: the detail of each product named, and every collection
 * (lists, search pages and categories may all show it). In this isolate at once, before this
 * returns; in this location's cache by the time the returned promise settles (which never
 * rejects: if the location's cache fails, the change feed carries the write). Catalog edits
 * await it. Checkout and cancel hand it to `waitUntil` instead (`background`), so a purchase
 * does not wait on the location's cache: the buyer's isolate already shows the new stock, and
 * money never comes from the cache anyway. `written` is the bookmark of the writer's D1 session
 * after its write, when it has one: with read replication on, this isolate's reads start no
 * earlier than that.
 */
export function invalidateCatalog(env: Bindings, productIds: number[], written?: string | null, options: { background?: boolean } = {}): Promise<void> {
  const settings = cacheSettings(env);
  writtenAt = newer(writtenAt, written);
  const now = Date.now();
  for (const id of productIds) {
    lru.delete(detailKey(id));
    // Re-inserted, so the map stays in time order and the oldest go first.
    invalidatedAt.delete(detailKey(id));
    invalidatedAt.set(detailKey(id), { at: now, bookmark: written ?? null });
  }
  for (const [key, { at }] of invalidatedAt) {
    if (at + settings.ttlSeconds * 1000 >= now) break;
    invalidatedAt.delete(key);
  }
  localWrites++;
  const next = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
  generation = { value: `${next}.${feed?.seq ?? 0}`, checkedUntil: Date.now() + settings.isolateMs };
  return publish(env, productIds, next, options.background === true);
}

/**
 * One write of invalidations to the location's cache: the details to delete, then the
 * generation to put. A round begins once the one before it has been sent; writes that arrive
 * meanwhile join it, so under a stream of checkouts each round deletes every detail named since
 * the last one and puts the newest generation once, instead of a delete and a put per checkout.
 *
 * A round that only background writes (checkout, cancel) are in waits, besides, until
 * `CATALOG_CACHE_ROUND_MS` after the last round began: under a stream of checkouts, rounds go out
 * at most that often, each with every detail bought since and one generation. Locally the Cache
 * API runs on workerd's one thread, and rounds as fast as the last one ended (about every 30 ms,
 * three products each) were the biggest part of a checkout's work beside its storage. An edit
 * sends its round (background writes in it too) as soon as the one before it is out. Another
 * isolate sees a change within `CATALOG_CACHE_ISOLATE_MS` through the change feed in any case;
 * the rounds only make it sooner in this location.
 *
 * Every writer of a round waits for the round before it, the first to wake sends it, and the
 * others wait for it to go out; each with a timer of its own, so no writer depends on another
 * being alive (a client that hangs up cancels its request, whose timers never fire). When only
 * the request that opened a round could send it, a round whose opener was canceled before it
 * began never went out, and every later catalog write in the isolate joined it: in the test pool
 * the next write waited for ever, and under `npm start` edits beside hung-up ones answered 500
 * (`npm run chaos`, last phase).
 */
interface Round {
  seq: number;
  ids: Set<number>;
  generation: string;
  /** The round sent before it (a round opens only once the last one has begun), until this one begins. */
  previous: Round | undefined;
  /**
   * Set when the round begins: settles once it has been sent or has failed, and never rejects.
   * Made by the request that sends the round, so it settles in the request that made it (`begin`).
   */
  sent?: Promise<void> | undefined;
}

/** The round not yet begun, which a new write joins; the round opened last. */
let nextRound: Round | undefined;
let lastOpened: Round | undefined;
let rounds = 0;
let latestBegun = 0;
/** When the last round began (ms). */
let lastBegunAt = 0;
/** How often a background writer waiting for the interval looks whether its round has begun. */
const ROUND_POLL_MS = 25;

function publish(env: Bindings, productIds: number[], generation: string, background: boolean): Promise<void> {
  const round = nextRound ?? openRound();
  for (const id of productIds) round.ids.add(id);
  round.generation = generation;
  return send(env, round, background);
}

function openRound(): Round {
  const round: Round = { seq: ++rounds, ids: new Set(), generation: '', previous: lastOpened };
  nextRound = round;
  lastOpened = round;
  return round;
}

/** One writer of a round: sends it once the round before it has been sent, unless another writer has. */
async function send(env: Bindings, round: Round, background: boolean): Promise<void> {
  // Bounded: a round whose request was canceled mid-way may never end, or no later round would run.
  if (round.previous?.sent) await awaitOtherRequest(round.previous.sent);
  // A background write waits out the interval, and stops early once another writer begins the
  // round. On timers of its own: a promise that another request settles may never reach this one
  // (awaitOtherRequest), and a wait on one had workerd cancel checkouts' waitUntil as hung.
  const { roundMs } = cacheSettings(env);
  const left = () => lastBegunAt + roundMs - Date.now();
  while (background && round.sent === undefined && left() > 0) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(left(), ROUND_POLL_MS)));
  }
  if (round.sent === undefined) return begin(env, round);
  if ((await awaitOtherRequest(round.sent)) === undefined) {
    // Sent from another request and not done yet: this writer goes on, and says so. Its isolate
    // shows the write already, and the other isolates learn of it from the change feed.
    logLine(env, 'warn', 'catalog invalidation round not sent in time', { products: [...round.ids] });
  }
}

/**
 * Sends the round from this request; it takes no more writes. A round that fails is logged, and
 * its writers still answer: their writes are in D1, their isolate shows them, and the location's
 * other isolates drop the copies they replace at their next poll of the change feed (within
 * `CATALOG_CACHE_ISOLATE_MS`), as isolates in other locations do. An error after the write
 * succeeded would tell a client to retry what was done: a second product, a second job.
 */
function begin(env: Bindings, round: Round): Promise<void> {
  lastBegunAt = Date.now();
  round.previous = undefined;
  if (nextRound === round) nextRound = undefined;
  latestBegun = Math.max(latestBegun, round.seq);
  const writes = (async () => {
    // The deletes land before the new generation: an isolate that sees the generation move and
    // goes back to the location's cache for a detail never finds the copy this write replaced.
    await Promise.all([...round.ids].map((id) => caches.default.delete(detailKey(id))));
    // A round that ran late, past a newer one, must not put back an older generation.
    if (round.seq < latestBegun) return;
    await caches.default.put(GENERATION_KEY, new Response(round.generation, { headers: { 'Cache-Control': 'public, max-age=86400' } }));
  })().catch((error: unknown) => {
    logLine(env, 'error', 'catalog invalidation round failed', { products: [...round.ids], message: errorMessage(error) });
  });
  round.sent = writes;
  return writes;
}

/** For tests and diagnostics: how many requests are waiting for another request's read now. */
export function sharedReadWaiters(): number {
  return waitingForShare;
}

/** For tests and diagnostics. */
export function isolateCacheStats() {
  return lru.size;
}
