import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.ts';
import worker from '../src/index.ts';
import { awaitOtherRequest, ByteLru, fastAnswerCount, invalidateCatalog, isolateCacheStats, sharedReadWaiters } from '../src/lib/catalog-cache.ts';
import committed from '../openapi.json';
import { reconcile } from '../src/queues/reconcile.ts';
import { interceptD1 } from './support/d1.ts';
import { deferred, until } from './support/wait.ts';
import { call, expectProblem, ORIGIN } from './support/api.ts';
import { createProduct } from './support/products.ts';
import { placeOrder } from './support/shop.ts';
import { createUser, type TestUser, uniqueName } from './support/users.ts';

let admin: TestUser;

/** The key of a product's detail in the location's cache. */
const locationKey = (id: number) => `https://catalog-cache.edgeshop.internal/detail/${id}`;
/** A product's detail copy in the location's cache, if it holds one. */
const locationCopy = (id: number) => caches.default.match(locationKey(id));

beforeAll(async () => {
  admin = await createUser('admin');
});

describe('catalog read cache', () => {
  it('serves a repeated read from the cache with the same strong ETag, and 304 for If-None-Match', async () => {
    const product = await createProduct(admin);
    const first = await call('GET', `/products/${product.id}/`);
    expect(first.headers.get('X-Cache')).toBe('miss');
    const etag = first.headers.get('ETag');
    expect(etag).toMatch(/^"[A-Za-z0-9+/=]+"$/);
    expect(first.headers.get('Cache-Control')).toBe('public, max-age=0, must-revalidate');
    const second = await call('GET', `/products/${product.id}`);
    expect(second.headers.get('X-Cache')).toBe('hit-isolate');
    expect(second.headers.get('ETag')).toBe(etag);
    expect(second.body).toEqual(first.body);
    const revalidated = await call('GET', `/products/${product.id}/`, { headers: { 'If-None-Match': etag! } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.text).toBe('');
    expect(revalidated.headers.get('ETag')).toBe(etag);
    expect((await call('GET', `/products/${product.id}/`, { headers: { 'If-None-Match': '"other", W/' + etag } })).status).toBe(304);
    expect((await call('GET', `/products/${product.id}/`, { headers: { 'If-None-Match': '"stale"' } })).status).toBe(200);
  });

  it('shows a write to the writer at once: an edit, a stock change at checkout and at cancel', async () => {
    const category = uniqueName('Cached');
    const product = await createProduct(admin, { category, price: '5.00', stock: 10 });
    const list = `/products/?category=${category}`;
    expect((await call('GET', `/products/${product.id}/`)).body.price).toBe('5.00');
    expect((await call('GET', list)).body.results[0].price).toBe('5.00');
    await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { price: '6.50' } });
    expect((await call('GET', `/products/${product.id}/`)).body.price).toBe('6.50');
    expect((await call('GET', list)).body.results[0].price).toBe('6.50');

    const buyer = await createUser();
    const order = await placeOrder(buyer, [[product.id, 3]]);
    expect((await call('GET', `/products/${product.id}/`)).body.stock).toBe(7);
    expect((await call('GET', list)).body.results[0].stock).toBe(7);
    await call('POST', `/orders/${order.id}/cancel/`, { token: buyer.access });
    expect((await call('GET', `/products/${product.id}/`)).body.stock).toBe(10);
    expect((await call('GET', `/products/search/?category=${category}`)).body.results[0].stock).toBe(10);
  });

  it("refuses a location-cache copy read before the writer's own write, even while the location still holds it", async () => {
    const product = await createProduct(admin, { price: '5.00' });
    expect((await call('GET', `/products/${product.id}/`)).body.price).toBe('5.00');
    const filledBefore = Date.now() - 1;
    await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { price: '7.25' } });
    // What a slower reader, or a delete that has not landed yet, would leave in the location's cache.
    const stale = JSON.stringify({ ...product, price: '5.00' });
    await caches.default.put(
      locationKey(product.id),
      new Response(stale, { headers: { ETag: '"stale"', 'X-Filled-At': String(filledBefore), 'Cache-Control': 'public, max-age=30' } }),
    );
    const read = await call('GET', `/products/${product.id}/`);
    expect(read.body.price).toBe('7.25');
    expect(read.headers.get('X-Cache')).toBe('miss');
    expect((await call('GET', `/products/${product.id}/`)).headers.get('X-Cache')).toBe('hit-isolate');
  });

  it('skips the cache for a request that carries a D1 bookmark, and answers with a newer bookmark', async () => {
    const product = await createProduct(admin);
    const edit = await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { stock: 3 } });
    const bookmark = edit.headers.get('X-D1-Bookmark');
    expect(bookmark).toMatch(/\S+/);
    await call('GET', `/products/${product.id}/`);
    const read = await call('GET', `/products/${product.id}/`, { headers: { 'X-D1-Bookmark': bookmark! } });
    expect(read.status).toBe(200);
    expect(read.body.stock).toBe(3);
    expect(read.headers.get('X-Cache')).toBeNull();
    expect(read.headers.get('X-D1-Bookmark')).toMatch(/\S+/);
    expect(read.headers.get('X-D1-Bookmark')! >= bookmark!).toBe(true);
    const garbage = await call('GET', `/products/${product.id}/`, { headers: { 'X-D1-Bookmark': 'not a bookmark;' } });
    expectProblem(garbage, 400, 'validation_failed');
    expect(garbage.body.errors.map((e: { path: string }) => e.path)).toEqual(['header.X-D1-Bookmark']);
  });

  it('answers 404 at once for a deleted product, and drops it from lists and categories', async () => {
    const category = uniqueName('Gone');
    const product = await createProduct(admin, { category });
    expect((await call('GET', `/products/${product.id}/`)).status).toBe(200);
    expect((await call('GET', '/categories/')).body.map((c: { name: string }) => c.name)).toContain(category);
    await call('DELETE', `/products/${product.id}/`, { token: admin.access });
    expectProblem(await call('GET', `/products/${product.id}/`), 404, 'not_found');
    expect((await call('GET', `/products/?category=${category}`)).body.count).toBe(0);
    expect((await call('GET', '/categories/')).body.map((c: { name: string }) => c.name)).not.toContain(category);
  });

  it('shows a new product in a cached list and search at once', async () => {
    const category = uniqueName('Fresh');
    await createProduct(admin, { category, name: 'Walnut Stool' });
    expect((await call('GET', `/products/?category=${category}`)).body.count).toBe(1);
    expect((await call('GET', `/products/search/?q=walnut&category=${category}`)).body.count).toBe(1);
    await createProduct(admin, { category, name: 'Walnut Bench' });
    expect((await call('GET', `/products/?category=${category}`)).body.count).toBe(2);
    expect((await call('GET', `/products/search/?q=walnut&category=${category}`)).body.count).toBe(2);
  });

  it('never caches an authenticated response, nor serves one from the cache', async () => {
    const product = await createProduct(admin);
    const customer = await createUser();
    const authed = await call('GET', `/products/${product.id}/`, { token: customer.access });
    expect(authed.status).toBe(200);
    expect(authed.headers.get('Cache-Control')).toBe('private, no-store');
    expect(authed.headers.get('ETag')).toBeNull();
    expect(authed.headers.get('X-Cache')).toBeNull();
    // It filled nothing: the next anonymous read is a miss.
    expect((await call('GET', `/products/${product.id}/`)).headers.get('X-Cache')).toBe('miss');
    // And a cached entry is not handed to an authenticated request either.
    const again = await call('GET', `/products/${product.id}/`, { token: customer.access });
    expect(again.headers.get('X-Cache')).toBeNull();
    expect(again.headers.get('Cache-Control')).toBe('private, no-store');
  });

  it('keys page links by host: a list cached for one host is not served with another host in its links', async () => {
    const category = uniqueName('Hosted');
    for (let i = 0; i < 3; i++) await createProduct(admin, { category });
    const a = await call('GET', `/products/?category=${category}&page_size=1`);
    expect(a.body.next).toMatch(/^https:\/\/edgeshop\.test\//);
  });

  it('reads a copy once for a burst of requests that miss it together, and shares it', async () => {
    const [product, alone] = [await createProduct(admin), await createProduct(admin)];
    const [category, otherCategory] = [uniqueName('Burst'), uniqueName('Burst')];
    await createProduct(admin, { category });
    await createProduct(admin, { category: otherCategory });
    let reads = 0;
    const restore = interceptD1({
      prepare: (query, prepare) => {
        if (PRODUCTS_QUERY.test(query)) reads++;
        return prepare(query);
      },
    });
    const counted = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
      reads = 0;
      const result = await work();
      return [result, reads];
    };
    try {
      // What one request costs, on a product and a page that no request has read yet.
      const [, oneDetail] = await counted(() => viaApp(`/products/${alone.id}/`));
      const [, onePage] = await counted(() => viaApp(`/products/?category=${otherCategory}`));
      expect(oneDetail).toBeGreaterThan(0);
      expect(onePage).toBeGreaterThan(0);

      for (const [path, one] of [
        [`/products/${product.id}/`, oneDetail],
        [`/products/?category=${category}`, onePage],
      ] as const) {
        const [burst, burstReads] = await counted(() => Promise.all(Array.from({ length: 8 }, () => viaApp(path))));
        expect(burstReads).toBe(one);
        expect(burst.map((r) => r.status)).toEqual(Array(8).fill(200));
        expect(new Set(burst.map((r) => r.body)).size).toBe(1);
        expect(new Set(burst.map((r) => r.headers['etag'])).size).toBe(1);
        expect(burst.map((r) => r.headers['x-cache']).sort()).toEqual([...Array(7).fill('hit-isolate'), 'miss']);
      }
    } finally {
      restore();
    }
  });

  it("never shares a read that began before this isolate's write with a request that came after it", async () => {
    const product = await createProduct(admin, { price: '5.00' });
    const path = `/products/${product.id}/`;
    const { issued, release, restore } = holdFirstProductRead();
    try {
      // Its product read runs now, before the edit, and answers once the gate opens.
      const before = viaApp(path);
      await issued;
      await call('PATCH', path, { token: admin.access, body: { price: '7.25' } });
      // Arrives while that read is still in flight, and waits for it.
      const after = viaApp(path);
      await until(() => sharedReadWaiters() === 1);
      release();
      expect(JSON.parse((await before).body).price).toBe('5.00');
      const edited = await after;
      expect(JSON.parse(edited.body).price).toBe('7.25');
      expect(edited.headers['x-cache']).toBe('miss');
      expect(JSON.parse((await viaApp(path)).body).price).toBe('7.25');
    } finally {
      restore();
    }
  });
});

describe('waiting for another request', () => {
  it('reads for itself when the read it waits for does not come back in time', async () => {
    const product = await createProduct(admin);
    const path = `/products/${product.id}/`;
    const { issued, release, restore } = holdFirstProductRead();
    try {
      // The first read is stuck (as when its request ends without settling the shared read).
      const stuck = viaApp(path);
      await issued;
      const waiter = viaApp(path);
      await until(() => sharedReadWaiters() === 1);
      // It gives up on the stuck read, reads the product itself, and answers.
      const answered = await waiter;
      expect(answered.status).toBe(200);
      expect(answered.headers['x-cache']).toBe('miss');
      expect(JSON.parse(answered.body).id).toBe(product.id);
      expect(sharedReadWaiters()).toBe(0);
      release();
      expect((await stuck).status).toBe(200);
    } finally {
      restore();
    }
  });

  it('gives the value of a promise that settles in time, and undefined for one that fails or never settles', async () => {
    expect(await awaitOtherRequest(Promise.resolve('g1.7'), 50)).toEqual({ value: 'g1.7' });
    expect(await awaitOtherRequest(Promise.reject(new Error('its request ended')), 50)).toBeUndefined();
    expect(await awaitOtherRequest(new Promise<string>(() => undefined), 50)).toBeUndefined();
  });
});

/**
 * Holds the worker's next read of the products table: it runs when asked, but its results reach
 * the worker only on `release()`. `issued` settles once it has been asked for. Every query after
 * it passes untouched; `restore()` ends the interception.
 */
function holdFirstProductRead(): { issued: Promise<void>; release: () => void; restore: () => void } {
  const gate = deferred<void>();
  const issued = deferred<void>();
  let held = false;
  const restore = interceptD1({
    prepare: (query, prepare) => {
      const statement = prepare(query);
      if (held || !PRODUCTS_QUERY.test(query)) return statement;
      held = true;
      return answeredLate(statement, gate.promise, issued.resolve);
    },
  });
  return { issued: issued.promise, release: gate.resolve, restore };
}

/** A query that reads the products table (drizzle quotes table names). */
const PRODUCTS_QUERY = /\bfrom\s+"?products"?(\s|$)/i;

/** The statement, whose results (of the query run when asked) reach the caller only once `gate` opens. */
function answeredLate(statement: D1PreparedStatement, gate: Promise<void>, issued: () => void): D1PreparedStatement {
  return new Proxy(statement, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (property === 'bind') return answeredLate(result as D1PreparedStatement, gate, issued);
        if (!(result instanceof Promise)) return result;
        issued();
        return gate.then(() => result);
      };
    },
  });
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function read(response: Response): Promise<Answer> {
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}

/** The worker's own fetch handler, as a client reaches it, and how many answers skipped the app. */
async function viaWorker(path: string, headers: Record<string, string> = {}, overrides: Record<string, unknown> = {}) {
  const before = fastAnswerCount();
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${ORIGIN}${path}`, { headers }), { ...env, ...overrides }, ctx);
  const answer = await read(response);
  await waitOnExecutionContext(ctx);
  return { ...answer, fast: fastAnswerCount() - before };
}

/** The app itself (its whole middleware stack), never the isolate's shortcut. */
async function viaApp(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const ctx = createExecutionContext();
  const answer = await read(await createApp().fetch(new Request(`${ORIGIN}${path}`, { headers }), env, ctx));
  await waitOnExecutionContext(ctx);
  return answer;
}

/** Everything but the request id, which each answer draws anew. */
function withoutRequestId({ headers, ...rest }: Answer) {
  const { 'x-request-id': id, ...others } = headers;
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  return { ...rest, headers: others };
}

describe('answers from the isolate without running the app', () => {
  it('are the answers the app gives, header for header, for each cached route, Origin and If-None-Match', async () => {
    const category = uniqueName('Shortcut');
    const product = await createProduct(admin, { category, name: `Shortcut lamp ${category}` });
    const paths = [
      `/products/${product.id}/`,
      `/products/${product.id}`,
      `/products/?category=${category}&ordering=price`,
      `/products/search/?q=lamp&category=${category}`,
      '/categories/',
    ];
    for (const path of paths) {
      for (const origin of [{}, { Origin: 'https://shop.example' }] as Record<string, string>[]) {
        await viaWorker(path, origin); // fills the isolate
        const app = await viaApp(path, origin); // the app's own hit-isolate answer
        const fast = await viaWorker(path, origin);
        expect(fast.fast, path).toBe(1);
        expect(app.headers['x-cache'], path).toBe('hit-isolate');
        const { fast: _, ...answer } = fast;
        expect(withoutRequestId(answer), path).toEqual(withoutRequestId(app));
        const etag = app.headers['etag']!;
        const notModified = await viaWorker(path, { ...origin, 'If-None-Match': etag });
        expect(notModified.fast).toBe(1);
        expect(notModified.status).toBe(304);
        const { fast: __, ...unchanged } = notModified;
        expect(withoutRequestId(unchanged)).toEqual(withoutRequestId(await viaApp(path, { ...origin, 'If-None-Match': etag })));
      }
    }
    expect(JSON.parse((await viaWorker(`/products/${product.id}/`)).body)).toMatchObject({ id: product.id, category });
  });

  it('leave to the app every request it could answer differently', async () => {
    const product = await createProduct(admin);
    const path = `/products/${product.id}/`;
    await viaWorker(path);
    expect((await viaWorker(path)).fast).toBe(1);

    const user = await createUser();
    const authorized = await viaWorker(path, { Authorization: `Bearer ${user.access}` });
    expect(authorized.fast, 'authorized').toBe(0);
    expect(authorized.headers['cache-control']).toBe('private, no-store');
    const ownId = await viaWorker(path, { 'X-Request-Id': 'trace-42' });
    expect(ownId.fast, 'ownId').toBe(0);
    expect(ownId.headers['x-request-id']).toBe('trace-42');
    const bookmarked = await viaWorker(path, { 'X-D1-Bookmark': 'not a bookmark' });
    expect(bookmarked.fast, 'bookmarked').toBe(0);
    expect(bookmarked.status).toBe(400);
    // The app logs each read at debug: with LOG_LEVEL=debug the app answers, and logs it.
    expect((await viaWorker(path, {}, { LOG_LEVEL: 'debug' })).fast, 'debug').toBe(0);
    // Not a cached route, though the detail pattern is in it.
    const nested = await viaWorker(`/v2${path}`);
    expect(nested.fast, 'nested').toBe(0);
    expect(nested.status).toBe(404);
    expect((await viaWorker(`/products/0${product.id}/`)).fast, 'leading zero').toBe(0);
  });

  it('stop at once for what a write changes: an edit and a delete in this isolate', async () => {
    const product = await createProduct(admin, { price: '3.00' });
    const path = `/products/${product.id}/`;
    await viaWorker(path);
    expect(JSON.parse((await viaWorker(path)).body).price).toBe('3.00');
    await call('PATCH', path, { token: admin.access, body: { price: '4.00' } });
    const edited = await viaWorker(path);
    expect(edited.fast).toBe(0);
    expect(JSON.parse(edited.body).price).toBe('4.00');
    expect((await viaWorker(path)).fast).toBe(1);
    await call('DELETE', path, { token: admin.access });
    const deleted = await viaWorker(path);
    expect(deleted.fast).toBe(0);
    expect(deleted.status).toBe(404);
  });
});

describe("a location's cache that fails", () => {
  it('is a miss: reads and generation checks go on to D1, and say so in the log', async () => {
    const product = await createProduct(admin, { price: '2.25' });
    // The create's check interval runs out: the next read checks the location's generation.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const cache = caches.default;
    const { match } = cache;
    cache.match = async () => {
      throw new Error('the location cache is unavailable');
    };
    const warnings: string[] = [];
    const logged = vi.spyOn(console, 'warn').mockImplementation((line: unknown) => {
      warnings.push(String(line));
    });
    try {
      const warn = { LOG_LEVEL: 'warn' };
      const read = await viaWorker(`/products/${product.id}/`, {}, warn);
      expect(read.status, read.body).toBe(200);
      expect(read.headers['x-cache']).toBe('miss');
      expect(JSON.parse(read.body).price).toBe('2.25');
      const list = await viaWorker('/products/?page=1', {}, warn);
      expect(list.status, list.body).toBe(200);
    } finally {
      cache.match = match;
      logged.mockRestore();
    }
    const messages = warnings.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toContain("location's catalog generation unreadable");
    expect(messages).toContain("location's catalog cache unreadable");
  });
});

describe("the isolate's memory bound", () => {
  // Unknown query parameters are ignored by the routes but are part of a collection's key.
  const padded = (chars: number, n: number) => `/categories/?pad=${'x'.repeat(chars)}&n=${n}`;

  it('counts the keys too: many short answers under long keys stay within CATALOG_CACHE_MAX_BYTES', async () => {
    const limit = { CATALOG_CACHE_MAX_BYTES: '40000' };
    for (let n = 0; n < 60; n++) expect((await viaWorker(padded(900, n), {}, limit)).status).toBe(200);
    const { entries, bytes } = isolateCacheStats();
    expect(bytes).toBeLessThanOrEqual(40_000);
    // Each key is about 1,000 characters: at most 40 of them fit, whatever the bodies weigh.
    expect(entries).toBeLessThan(40);
    expect(entries).toBeGreaterThan(0);
  });

  it('keeps nothing for a request whose key is longer than any catalog URL', async () => {
    const before = isolateCacheStats().entries;
    for (let i = 0; i < 2; i++) {
      const res = await viaWorker(padded(2000, 0));
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBeUndefined();
    }
    expect(isolateCacheStats().entries).toBe(before);
  });
});

describe("the location's cache admits a copy on its second request", () => {
  /** An isolate that holds nothing in memory: every read goes past it. */
  const noMemory = { CATALOG_CACHE_MAX_BYTES: '1' };

  it('does not write a copy read once; writes it, once, when the isolate is asked for it again', async () => {
    const product = await createProduct(admin, { price: '4.00' });
    const path = `/products/${product.id}/`;
    const started = Date.now();
    const first = await viaApp(path);
    expect(first.headers['x-cache']).toBe('miss');
    expect(await locationCopy(product.id)).toBeUndefined();

    const second = await viaApp(path);
    expect(second.headers['x-cache']).toBe('hit-isolate');
    const copy = await locationCopy(product.id);
    expect(copy).toBeDefined();
    expect(await copy!.text()).toBe(first.body);
    expect(copy!.headers.get('ETag')).toBe(first.headers['etag']);
    // Stamped with the moment of the D1 read, not of the put: its TTL runs from the read.
    const filledAt = Number(copy!.headers.get('X-Filled-At'));
    expect(filledAt).toBeGreaterThanOrEqual(started);
    expect(filledAt).toBeLessThanOrEqual(Date.parse(second.headers['date'] ?? '') || Date.now());
    expect(copy!.headers.get('X-Feed-Seq')).toMatch(/^[0-9]+$/);

    // Once: a third request does not write it again.
    await caches.default.delete(locationKey(product.id));
    expect((await viaApp(path)).headers['x-cache']).toBe('hit-isolate');
    expect(await locationCopy(product.id)).toBeUndefined();
  });

  it('is admitted by an answer that skips the app, too', async () => {
    // An answer from the app teaches the shortcut its headers.
    const taught = await createProduct(admin);
    await viaWorker(`/products/${taught.id}/`);
    expect((await viaWorker(`/products/${taught.id}/`)).headers['x-cache']).toBe('hit-isolate');

    const product = await createProduct(admin);
    const first = await viaWorker(`/products/${product.id}/`);
    expect(first.headers['x-cache']).toBe('miss');
    expect(await locationCopy(product.id)).toBeUndefined();
    const second = await viaWorker(`/products/${product.id}/`);
    expect(second.fast).toBe(1);
    expect(await (await locationCopy(product.id))?.text()).toBe(first.body);
  });

  it('is admitted by a request that shared the first read', async () => {
    const product = await createProduct(admin);
    const path = `/products/${product.id}/`;
    const { issued, release, restore } = holdFirstProductRead();
    try {
      const first = viaApp(path);
      await issued;
      const follower = viaApp(path);
      await until(() => sharedReadWaiters() === 1);
      release();
      expect((await first).headers['x-cache']).toBe('miss');
      expect((await follower).headers['x-cache']).toBe('hit-isolate');
      expect(await (await locationCopy(product.id))?.text()).toBe((await first).body);
    } finally {
      restore();
    }
  });

  it('is written at the second miss when the copy left memory first, and then answers from the location (hit-location)', async () => {
    const product = await createProduct(admin, { price: '3.00' });
    const path = `/products/${product.id}/`;
    const first = await viaWorker(path, {}, noMemory);
    expect(first.headers['x-cache']).toBe('miss');
    expect(await locationCopy(product.id)).toBeUndefined();
    const second = await viaWorker(path, {}, noMemory);
    expect(second.headers['x-cache']).toBe('miss');
    expect(await (await locationCopy(product.id))?.text()).toBe(second.body);
    const third = await viaWorker(path, {}, noMemory);
    expect(third.headers['x-cache']).toBe('hit-location');
    expect(third.body).toBe(second.body);
    expect(third.headers['etag']).toBe(second.headers['etag']);
    expect(JSON.parse(third.body).price).toBe('3.00');
  });

  it('documents X-Cache on every cached read, with each value it answers', async () => {
    const documented = (path: string, status: '200' | '304') =>
      (committed.paths as unknown as Record<string, { get: { responses: Record<string, { headers?: Record<string, { schema: { enum?: string[] } }> }> } }>)[path]?.get
        .responses[status]?.headers?.['X-Cache']?.schema.enum;
    for (const path of ['/products/', '/products/search/', '/products/{id}/', '/categories/']) {
      expect(documented(path, '200')).toEqual(['hit-isolate', 'hit-location', 'miss']);
      expect(documented(path, '304')).toEqual(['hit-isolate', 'hit-location', 'miss']);
    }
    // From memory, then (with an isolate that holds nothing) from the location's cache.
    const [held, passedOn] = [`/products/${(await createProduct(admin)).id}/`, `/products/${(await createProduct(admin)).id}/`];
    const seen = [];
    for (let i = 0; i < 2; i++) seen.push((await viaApp(held)).headers['x-cache']);
    for (let i = 0; i < 3; i++) seen.push((await viaWorker(passedOn, {}, noMemory)).headers['x-cache']);
    expect(seen).toEqual(['miss', 'hit-isolate', 'miss', 'miss', 'hit-location']);
  });

  it('never writes a copy that an edit replaced before its second request; the edited one goes at once', async () => {
    const product = await createProduct(admin, { price: '5.00' });
    const path = `/products/${product.id}/`;
    expect(JSON.parse((await viaApp(path)).body).price).toBe('5.00');
    const edit = await call('PATCH', path, { token: admin.access, body: { price: '6.00' } });
    expect(await locationCopy(product.id)).toBeUndefined();
    // Its second request: a miss (the edit dropped the copy), so the new copy is written now.
    const edited = await viaApp(path);
    expect(edited.headers['x-cache']).toBe('miss');
    expect(JSON.parse(edited.body).price).toBe('6.00');
    const copy = (await locationCopy(product.id))!;
    expect(JSON.parse(await copy.text()).price).toBe('6.00');
    // It says how far its read reached: at least the edit, so the editing isolate accepts it.
    expect(copy.headers.get('X-Filled-Bookmark')! >= edit.headers.get('X-D1-Bookmark')!).toBe(true);
  });
});

describe("a write's invalidation of the location's cache", () => {
  const GENERATION_KEY = 'https://catalog-cache.edgeshop.internal/__generation';
  const hold = (id: number) => caches.default.put(locationKey(id), new Response(`copy ${id}`, { headers: { 'Cache-Control': 'public, max-age=60' } }));

  /**
   * Records the location cache's deletes and generation puts, in order. `gate`, if given, holds
   * the first generation put until it settles (a round under way); `fail` makes that put throw;
   * `holdDelete` holds the delete of one product's detail.
   */
  function watchLocationCache(options: { gate?: Promise<void>; fail?: boolean; holdDelete?: { id: number; until: Promise<void> } } = {}) {
    const cache = caches.default;
    const { put, delete: remove } = cache;
    const log: string[] = [];
    const reached = deferred<void>();
    let first = true;
    cache.delete = async (key: RequestInfo | URL) => {
      const id = String(key).slice(String(key).lastIndexOf('/') + 1);
      log.push(`delete ${id}`);
      if (options.holdDelete && Number(id) === options.holdDelete.id) await options.holdDelete.until;
      return remove.call(cache, key);
    };
    cache.put = async (key: RequestInfo | URL, response: Response) => {
      if (String(key) !== GENERATION_KEY) return put.call(cache, key, response);
      log.push(`put ${await response.clone().text()}`);
      if (first) {
        first = false;
        reached.resolve();
        if (options.gate) await options.gate;
        if (options.fail) throw new Error('the location cache is unavailable');
      }
      return put.call(cache, key, response);
    };
    const restore = () => {
      cache.put = put;
      cache.delete = remove;
    };
    return { log, firstPut: reached.promise, restore };
  }

  it('sends writes that arrive during a round together in the next: their details deleted, then one generation', async () => {
    const [a, b, c] = [await createProduct(admin), await createProduct(admin), await createProduct(admin)];
    for (const p of [a, b, c]) await hold(p.id);
    const gate = deferred<void>();
    const { log, firstPut, restore } = watchLocationCache({ gate: gate.promise });
    try {
      const first = invalidateCatalog(env, [a.id]);
      await firstPut;
      const second = invalidateCatalog(env, [b.id]);
      const third = invalidateCatalog(env, [c.id, b.id]);
      // The later writes wait for the round under way: nothing of theirs has gone out yet.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(log.map((entry) => entry.split(' ')[0] === 'put' ? 'put' : entry)).toEqual([`delete ${a.id}`, 'put']);
      expect(await locationCopy(b.id)).toBeDefined();
      gate.resolve();
      await Promise.all([first, second, third]);
      expect(log.slice(2, 4).sort()).toEqual([`delete ${b.id}`, `delete ${c.id}`].sort());
      expect(log).toHaveLength(5);
      expect(log[4]).toMatch(/^put /);
      // A new generation, and it is the one the location now holds.
      expect(log[4]).not.toBe(log[1]);
      expect(`put ${await (await caches.default.match(GENERATION_KEY))?.text()}`).toBe(log[4]);
      for (const p of [a, b, c]) expect(await locationCopy(p.id)).toBeUndefined();
    } finally {
      gate.resolve();
      restore();
    }
  });

  it('sends background writes (checkout, cancel) at most once per CATALOG_CACHE_ROUND_MS: those that arrive meanwhile share one round', async () => {
    const spaced = { ...env, CATALOG_CACHE_ROUND_MS: '1000' };
    const [a, b, c] = [await createProduct(admin), await createProduct(admin), await createProduct(admin)];
    for (const p of [a, b, c]) await hold(p.id);
    const { log, restore } = watchLocationCache();
    try {
      // An edit's round goes out at once.
      await invalidateCatalog(spaced, [a.id]);
      expect(log).toEqual([`delete ${a.id}`, expect.stringMatching(/^put /)]);
      const second = invalidateCatalog(spaced, [b.id], null, { background: true });
      const third = invalidateCatalog(spaced, [c.id, b.id], null, { background: true });
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Within the interval since that round began, nothing of theirs has gone out.
      expect(log).toHaveLength(2);
      expect(await locationCopy(b.id)).toBeDefined();
      await Promise.all([second, third]);
      // Then one round for both: their details, then one generation.
      expect(log.slice(2, 4).sort()).toEqual([`delete ${b.id}`, `delete ${c.id}`].sort());
      expect(log).toHaveLength(5);
      expect(log[4]).toMatch(/^put /);
      expect(`put ${await (await caches.default.match(GENERATION_KEY))?.text()}`).toBe(log[4]);
      for (const p of [a, b, c]) expect(await locationCopy(p.id)).toBeUndefined();
    } finally {
      restore();
    }
  });

  it('sends an edit at once though background writes wait for the interval: they go in its round', async () => {
    // An interval longer than the test's timeout: a writer that waited it out would fail the test.
    const spaced = { ...env, CATALOG_CACHE_ROUND_MS: '600000' };
    const [x, a, b] = [await createProduct(admin), await createProduct(admin), await createProduct(admin)];
    for (const p of [a, b]) await hold(p.id);
    const { log, restore } = watchLocationCache();
    try {
      await invalidateCatalog(spaced, [x.id]);
      const checkout = invalidateCatalog(spaced, [a.id], null, { background: true });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(log).toHaveLength(2);
      // The edit sends the waiting round, the checkout's detail with its own, and both settle.
      await invalidateCatalog(spaced, [b.id]);
      await checkout;
      expect(log.slice(2, 4).sort()).toEqual([`delete ${a.id}`, `delete ${b.id}`].sort());
      expect(log).toHaveLength(5);
      for (const p of [a, b]) expect(await locationCopy(p.id)).toBeUndefined();
    } finally {
      restore();
    }
  });

  it("sends a checkout's and a cancel's invalidation in the background: the location's copy goes after the answer", async () => {
    const product = await createProduct(admin, { stock: 10 });
    await hold(product.id);
    const buyer = await createUser();
    const order = await placeOrder(buyer, [[product.id, 2]]);
    await until(async () => (await locationCopy(product.id)) === undefined);
    await hold(product.id);
    expect((await call('POST', `/orders/${order.id}/cancel/`, { token: buyer.access })).status).toBe(200);
    await until(async () => (await locationCopy(product.id)) === undefined);
    expect((await call('GET', `/products/${product.id}/`)).body.stock).toBe(10);
  });

  it('answers every one of many concurrent catalog edits, the ones that joined a round included', async () => {
    const products = await Promise.all(Array.from({ length: 6 }, () => createProduct(admin)));
    for (const p of products) await hold(p.id);
    // Each call is a request of its own in workerd: the later ones join a round an earlier one opened.
    const edits = await Promise.all(products.map((p, i) => call('PATCH', `/products/${p.id}/`, { token: admin.access, body: { price: `${i + 2}.50` } })));
    expect(edits.map((r) => r.status)).toEqual(products.map(() => 200));
    // Each edit answered once its round was sent: the location's copies are gone.
    for (const p of products) expect(await locationCopy(p.id)).toBeUndefined();
    for (const [i, p] of products.entries()) expect((await call<{ price: string }>('GET', `/products/${p.id}/`)).body.price).toBe(`${i + 2}.50`);
  });

  it('sends a round whose opening request was canceled before it began: the next writer sends it, details and all', async () => {
    const [x, a, b] = [await createProduct(admin), await createProduct(admin), await createProduct(admin)];
    for (const p of [a, b]) await hold(p.id);
    const gate = deferred<void>();
    const { log, firstPut, restore } = watchLocationCache({ gate: gate.promise });
    try {
      // A round under way, held at its generation put.
      const first = invalidateCatalog(env, [x.id]);
      await firstPut;
      // An edit opens the next round, which waits for that one; then its client goes away.
      const client = new AbortController();
      const edit = exports.default.fetch(
        new Request(`${ORIGIN}/products/${a.id}/`, {
          method: 'PATCH',
          headers: { Authorization: `Bearer ${admin.access}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ price: '7.25' }),
          signal: client.signal,
        }),
      );
      await until(async () => (await env.DB.prepare('SELECT price_cents FROM products WHERE id = ?').bind(a.id).first<{ price_cents: number }>())?.price_cents === 725);
      await new Promise((resolve) => setTimeout(resolve, 20));
      client.abort();
      await edit.catch(() => undefined);
      gate.resolve();
      await first;
      // The next write joins the round the edit opened and sends it: the edit's detail goes too.
      await invalidateCatalog(env, [b.id]);
      expect(log).toContain(`delete ${a.id}`);
      expect(log).toContain(`delete ${b.id}`);
      expect(await locationCopy(a.id)).toBeUndefined();
      expect(await locationCopy(b.id)).toBeUndefined();
    } finally {
      gate.resolve();
      restore();
    }
  });

  it('logs a round that fails and still answers its writers; the next round is still sent', async () => {
    const [a, b] = [await createProduct(admin), await createProduct(admin)];
    for (const p of [a, b]) await hold(p.id);
    const gate = deferred<void>();
    const { log, firstPut, restore } = watchLocationCache({ gate: gate.promise, fail: true });
    const errors: string[] = [];
    const logged = vi.spyOn(console, 'error').mockImplementation((line: unknown) => {
      errors.push(String(line));
    });
    try {
      const failed = invalidateCatalog(env, [a.id]);
      await firstPut;
      const next = invalidateCatalog(env, [b.id]);
      gate.resolve();
      await expect(failed).resolves.toBeUndefined();
      await next;
      expect(log.filter((entry) => entry.startsWith('put'))).toHaveLength(2);
      expect(await locationCopy(b.id)).toBeUndefined();
      expect(errors.map((line) => JSON.parse(line) as { msg: string; products: number[]; message: string })).toEqual([
        expect.objectContaining({ msg: 'catalog invalidation round failed', products: [a.id], message: 'the location cache is unavailable' }),
      ]);
    } finally {
      gate.resolve();
      logged.mockRestore();
      restore();
    }
  });

  it("answers a catalog edit whose location-cache round fails: the edit is in D1 and the writer's next read shows it", async () => {
    const product = await createProduct(admin, { price: '3.00' });
    expect((await call('GET', `/products/${product.id}/`)).body.price).toBe('3.00');
    const { restore } = watchLocationCache({ fail: true });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const edit = await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { price: '4.50' } });
      expect(edit.status, edit.text).toBe(200);
      expect(edit.body.price).toBe('4.50');
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('catalog invalidation round failed'));
    } finally {
      logged.mockRestore();
      restore();
    }
    const row = await env.DB.prepare('SELECT price_cents FROM products WHERE id = ?').bind(product.id).first<{ price_cents: number }>();
    expect(row?.price_cents).toBe(450);
    const read = await call('GET', `/products/${product.id}/`);
    expect(read.body.price).toBe('4.50');
  });

  it('does not wait for ever on a round that never ends, and that round never puts back its older generation', async () => {
    const [a, b] = [await createProduct(admin), await createProduct(admin)];
    const stuck = deferred<void>();
    const { log, restore } = watchLocationCache({ holdDelete: { id: a.id, until: stuck.promise } });
    try {
      const first = invalidateCatalog(env, [a.id]);
      await until(() => log.includes(`delete ${a.id}`));
      // The next round goes out after a bounded wait (SHARED_WAIT_MS), though the first never ended.
      await invalidateCatalog(env, [b.id]);
      expect(log).toEqual([`delete ${a.id}`, `delete ${b.id}`, expect.stringMatching(/^put /)]);
      const newest = log[2];
      // The first round, let go at last, deletes its detail but keeps the newer generation.
      stuck.resolve();
      await first;
      expect(log).toHaveLength(3);
      expect(`put ${await (await caches.default.match(GENERATION_KEY))?.text()}`).toBe(newest);
    } finally {
      stuck.resolve();
      restore();
    }
  });
});

describe('catalog change feed', () => {
  const changesOf = async (id: number) =>
    (await env.DB.prepare('SELECT seq, changed_at FROM catalog_changes WHERE product_id = ? ORDER BY seq').bind(id).all<{ seq: number; changed_at: number }>())
      .results;

  it('records every write to a product, from any path, by triggers', async () => {
    const started = Date.now();
    const product = await createProduct(admin);
    expect(await changesOf(product.id)).toHaveLength(1);
    await env.DB.prepare('UPDATE products SET stock = stock + 1 WHERE id = ?').bind(product.id).run();
    await call('DELETE', `/products/${product.id}/`, { token: admin.access });
    const changes = await changesOf(product.id);
    expect(changes).toHaveLength(3);
    expect(changes[0]!.seq).toBeLessThan(changes[2]!.seq);
    for (const change of changes) expect(change.changed_at).toBeGreaterThanOrEqual(started - 1000);
  });

  it('makes a write this isolate never saw (another location, or wrangler d1 execute) visible at the next poll, past the location cache', async () => {
    const category = uniqueName('Feed');
    const product = await createProduct(admin, { category, price: '8.00' });
    const untouched = await createProduct(admin, { category: uniqueName('Feed') });
    const path = `/products/${product.id}/`;
    const list = `/products/?category=${category}`;
    const everyRequest = { CATALOG_CACHE_ISOLATE_MS: '0' };
    // The create told this isolate, which then waits out its check interval before polling.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await viaWorker(path, {}, everyRequest);
    await viaWorker(list, {}, everyRequest);
    await viaWorker(`/products/${untouched.id}/`, {}, everyRequest);
    expect((await viaWorker(path, {}, everyRequest)).headers['x-cache']).toBe('hit-isolate');

    // Not through the API: nothing in this isolate is told, only the feed records it.
    await env.DB.prepare('UPDATE products SET price_cents = 950 WHERE id = ?').bind(product.id).run();
    const detail = await viaWorker(path, {}, everyRequest);
    expect(JSON.parse(detail.body).price).toBe('9.50');
    // The location's cache still holds the 8.00 copy: it was filled before the change, so refused.
    expect(detail.headers['x-cache']).toBe('miss');
    expect(JSON.parse((await viaWorker(list, {}, everyRequest)).body).results[0].price).toBe('9.50');
    // The feed named one product: the isolate still answers the others from memory.
    expect((await viaWorker(`/products/${untouched.id}/`, {}, everyRequest)).headers['x-cache']).toBe('hit-isolate');
    expect(JSON.parse((await viaWorker(path)).body).price).toBe('9.50');
  });

  // With read replication on, a session may start on a replica that lags the primary. Locally
  // every session reads the primary, so these check where the worker's sessions start.
  it("starts the reads that fill the cache no earlier than the newest write made in the isolate (the writer's session's bookmark)", async () => {
    const [product, other] = [await createProduct(admin, { price: '8.00' }), await createProduct(admin)];
    // The creates' poll interval runs out; the next read polls the feed, and the fills start from that poll.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await call('GET', `/products/${other.id}/`)).status).toBe(200);
    const edit = await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { price: '8.50' } });
    const written = edit.headers.get('X-D1-Bookmark');
    expect(written).toMatch(/\S+/);
    const starts: string[] = [];
    const restore = interceptD1({ session: (constraint) => starts.push(String(constraint)) });
    try {
      // Within the poll interval the edit set: no poll now, only the read that fills the copy.
      const read = await call('GET', `/products/${product.id}/`);
      expect(read.headers.get('x-cache')).toBe('miss');
      expect(read.body.price).toBe('8.50');
    } finally {
      restore();
    }
    // The request's own session, then the fill's, which starts at the write: the last poll's bookmark is older.
    expect(starts).toHaveLength(2);
    expect(starts[0]).toBe('first-unconstrained');
    expect(starts[1]! >= written!, `${starts[1]} >= ${written}`).toBe(true);
  });

  it("refuses, in the writer's isolate, a location copy read after the write from a replica that had not reached it", async () => {
    const created = await call('POST', '/products/', { token: admin.access, body: { name: uniqueName('Lagging'), category: 'Tools', price: '5.00', stock: 3 } });
    const older = created.headers.get('X-D1-Bookmark')!;
    const [lagging, current] = [created.body as { id: number }, await createProduct(admin, { price: '5.00' })];
    const written: Record<number, string> = {};
    for (const p of [lagging, current]) {
      const edit = await call('PATCH', `/products/${p.id}/`, { token: admin.access, body: { price: '6.00' } });
      written[p.id] = edit.headers.get('X-D1-Bookmark')!;
    }
    expect(older < written[lagging.id]!).toBe(true);
    // Another isolate's copies, put after the writes (its round's deletes have landed): one read
    // on a replica still at the create, one on a replica that has the edit.
    const copy = async (id: number, price: string, bookmark: string) => {
      // The product as it reads now (credentials skip the cache), at the copy's price.
      const now = (await call<Record<string, unknown>>('GET', `/products/${id}/`, { token: admin.access })).body;
      await caches.default.put(
        locationKey(id),
        new Response(JSON.stringify({ ...now, price }), {
          headers: { ETag: `"copy-${id}"`, 'X-Filled-At': String(Date.now()), 'X-Feed-Seq': String(Number.MAX_SAFE_INTEGER), 'X-Filled-Bookmark': bookmark, 'Cache-Control': 'public, max-age=60' },
        }),
      );
    };
    await copy(lagging.id, '5.00', older);
    await copy(current.id, '6.00', written[current.id]!);
    const refusedRead = await call('GET', `/products/${lagging.id}/`);
    expect(refusedRead.headers.get('x-cache')).toBe('miss');
    expect(refusedRead.body.price).toBe('6.00');
    const kept = await call('GET', `/products/${current.id}/`);
    expect(kept.headers.get('x-cache')).toBe('hit-location');
    expect(kept.headers.get('etag')).toBe(`"copy-${current.id}"`);
  });

  it('never moves its reads back to an older bookmark when a poll lands on a lagging replica', async () => {
    const [seen, fresh] = [await createProduct(admin), await createProduct(admin)];
    // Two writes this isolate is not told of (another location's, say), each with its bookmark.
    const writeOutside = async () => {
      const session = env.DB.withSession('first-primary');
      await session.prepare('UPDATE products SET stock = stock + 1 WHERE id = ?').bind(seen.id).run();
      return session.getBookmark()!;
    };
    const older = await writeOutside();
    const newer = await writeOutside();
    expect(older < newer).toBe(true);
    // A poll after both, on a current replica: the feed's bookmark reaches `newer`.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await call('GET', `/products/${seen.id}/`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const starts: string[] = [];
    // Every session now reports `older`: the next poll lands on a replica that lags.
    const restore = interceptD1({ session: (constraint) => starts.push(String(constraint)), bookmark: () => older });
    try {
      expect((await call('GET', `/products/${fresh.id}/`)).status).toBe(200);
    } finally {
      restore();
    }
    const fromBookmarks = starts.filter((start) => !start.startsWith('first-'));
    expect(fromBookmarks.length).toBeGreaterThan(0);
    for (const start of fromBookmarks) expect(start >= newer, `${start} >= ${newer}`).toBe(true);
  });

  it('is read once for all the requests that arrive while a check runs', async () => {
    const product = await createProduct(admin);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    let polls = 0;
    const restore = interceptD1({
      prepare: (query, prepare) => {
        if (query.includes('FROM catalog_changes')) polls++;
        return prepare(query);
      },
    });
    try {
      const reads = await Promise.all(Array.from({ length: 10 }, () => viaWorker(`/products/${product.id}/`)));
      expect(reads.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(polls).toBe(1);
    } finally {
      restore();
    }
  });

  it('never shares a read with a request that has since learnt, from the feed, of a change the read may predate', async () => {
    const product = await createProduct(admin, { price: '8.00' });
    const path = `/products/${product.id}/`;
    const everyRequest = { CATALOG_CACHE_ISOLATE_MS: '0' };
    // The create told this isolate, which then waits out its check interval before polling.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { issued, release, restore } = holdFirstProductRead();
    try {
      const before = viaWorker(path, {}, everyRequest);
      await issued;
      // Not through the API: only the feed records it.
      await env.DB.prepare('UPDATE products SET price_cents = 950 WHERE id = ?').bind(product.id).run();
      // Polls the feed, which names the product, then waits for the first read, still in flight.
      const after = viaWorker(path, {}, everyRequest);
      await until(() => sharedReadWaiters() === 1);
      release();
      expect(JSON.parse((await before).body).price).toBe('8.00');
      expect(JSON.parse((await after).body).price).toBe('9.50');
      expect(JSON.parse((await viaWorker(path, {}, everyRequest)).body).price).toBe('9.50');
    } finally {
      restore();
    }
  });

  it('does not keep a read that a poll meanwhile found older than a change', async () => {
    const [product, other] = [await createProduct(admin, { price: '8.00' }), await createProduct(admin)];
    const path = `/products/${product.id}/`;
    const everyRequest = { CATALOG_CACHE_ISOLATE_MS: '0' };
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { issued, release, restore } = holdFirstProductRead();
    try {
      const before = viaWorker(path, {}, everyRequest);
      await issued;
      await env.DB.prepare('UPDATE products SET price_cents = 950 WHERE id = ?').bind(product.id).run();
      // Another read polls the feed, which names the product, while the first read is in flight.
      expect((await viaWorker(`/products/${other.id}/`, {}, everyRequest)).status).toBe(200);
      release();
      expect(JSON.parse((await before).body).price).toBe('8.00');
      // No change since that poll: the next one names nothing, so only the refusal to keep the old copy shows 9.50.
      const next = await viaWorker(path, {}, everyRequest);
      expect(JSON.parse(next.body).price).toBe('9.50');
      expect(next.headers['x-cache']).toBe('miss');
    } finally {
      restore();
    }
  });

  it('keeps answering catalog reads when the feed cannot be read', async () => {
    const product = await createProduct(admin, { price: '2.00' });
    const restore = interceptD1({
      prepare: (query, prepare) => {
        if (query.includes('catalog_changes')) throw new Error('D1 is unreachable');
        return prepare(query);
      },
    });
    try {
      const read = await viaWorker(`/products/${product.id}/`, {}, { CATALOG_CACHE_ISOLATE_MS: '0', LOG_LEVEL: 'silent' });
      expect(read.status).toBe(200);
      expect(JSON.parse(read.body).price).toBe('2.00');
    } finally {
      restore();
    }
  });

  it('is purged by the reconciler once a day old', async () => {
    const product = await createProduct(admin);
    const dayAndMinute = (24 * 60 + 1) * 60 * 1000;
    await env.DB.prepare('INSERT INTO catalog_changes (product_id, changed_at) VALUES (?, ?)').bind(product.id, Date.now() - dayAndMinute).run();
    expect(await changesOf(product.id)).toHaveLength(2);
    const report = await reconcile(env);
    expect(report.purgedChanges).toBeGreaterThanOrEqual(1);
    const left = await changesOf(product.id);
    expect(left).toHaveLength(1);
    expect(left[0]!.changed_at).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('ByteLru', () => {
  it('evicts the least recently used entries beyond its byte bound, and expires entries', () => {
    const lru = new ByteLru();
    const entry = (body: string, freshUntil = 1_000, generation = 'g1') => ({ body, etag: '"x"', freshUntil, generation, bytes: body.length });
    lru.set('a', entry('a'.repeat(20)), 100);
    lru.set('b', entry('b'.repeat(20)), 100);
    expect(lru.get('a', 0)?.body).toHaveLength(20);
    lru.set('c', entry('c'.repeat(20)), 100);
    lru.set('d', entry('d'.repeat(25)), 100);
    // 85 bytes: still within 100. One more 25-byte entry pushes out the least recently used (b).
    lru.set('e', entry('e'.repeat(25)), 100);
    expect(lru.get('b', 0)).toBeUndefined();
    expect(lru.get('a', 0)).toBeDefined();
    expect(lru.size.bytes).toBeLessThanOrEqual(100);
    // Too big for a quarter of the bound: not kept at all.
    lru.set('huge', entry('h'.repeat(30)), 100);
    expect(lru.get('huge', 0)).toBeUndefined();
    // Expired entries are gone.
    lru.set('old', entry('o', 5), 100);
    expect(lru.get('old', 10)).toBeUndefined();
    // An entry of an earlier generation is not served when the caller names the current one.
    lru.set('gen', entry('g'), 100);
    expect(lru.get('gen', 0, 'g1')?.body).toBe('g');
    expect(lru.get('gen', 0, 'g2')).toBeUndefined();
    expect(lru.get('gen', 0)).toBeUndefined();
  });
});
