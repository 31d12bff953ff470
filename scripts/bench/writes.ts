// Write workloads: cart adds and checkouts, by distinct users, so every checkout is a real one
// (a cart with a line in it, an order written, stock taken). Each run makes its own products
// ("Bench stock" with plenty of stock) and deletes them afterwards; the orders stay, as orders
// do. The shoppers are the same every run (`bench_shopper_1` and on, registered by the first
// run): each has a cart object, whose storage stays on disk, so new shoppers every run would
// grow `.wrangler/state` by their carts each time.
//
// A checkout needs a cart with a line in it, so the `checkout` workload is a cycle (an add, then a
// checkout) and charges each checkout an add. `checkout (filled carts)` measures checkouts alone:
// rounds of carts filled first, not timed, then checked out, each by its own shopper
// (`measureRounds`). The floor worker runs the same rounds on its storage steps alone.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request as AutocannonRequest } from 'autocannon';
import { readDevVars } from '../lib.ts';
import { LOAD_GENERATOR, type LoadOptions, type Measurement, measureRequests, measureWithWrkScript, type WrkScript } from './load.ts';

const BENCH_PRODUCTS = 20;
/** Shoppers of the cart-add and checkout cycle workloads (one per connection under wrk). */
const SHOPPERS = 50;
/**
 * Carts a round of the checkout-alone workload fills, then checks out: one per shopper, each
 * checked out once a round. Enough that the last requests of a round, when fewer than all the
 * connections are busy, are a small part of it.
 */
export const ROUND_CARTS = 256;
const JSON_HEADERS = { 'content-type': 'application/json' };
const bearer = (token: string) => ({ ...JSON_HEADERS, authorization: `Bearer ${token}` });

export interface WriteFixture {
  productIds: number[];
  /** Access tokens, one per shopper (valid 15 minutes: ample for a run): the cycle workloads use the first ones. */
  tokens: string[];
  cleanup(): Promise<void>;
}

async function api<T>(url: string, method: string, path: string, body?: unknown, token?: string, accept: number[] = []): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: token ? bearer(token) : JSON_HEADERS,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok && !accept.includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (res.status === 204 || !res.ok ? undefined : await res.json()) as T;
}

async function login(url: string, username: string, password: string): Promise<string> {
  return (await api<{ access: string }>(url, 'POST', '/auth/login/', { username, password })).access;
}

/** Runs `task` over `items`, `width` at a time (registration hashes a password: CPU-bound). */
async function inBatches<T, R>(items: T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(task))));
  return out;
}

/** The local admin (.dev.vars, as `npm run dev` seeded it), who makes and deletes the bench products. */
export function benchAdmin(): { username: string; password: string } {
  const vars = readDevVars();
  return { username: vars['ADMIN_USERNAME'] || 'admin', password: vars['ADMIN_PASSWORD'] || 'admin-password-change-me' };
}

export async function prepareWrites(url: string, admin: { username: string; password: string }, connections: number): Promise<WriteFixture> {
  const shoppers = Math.max(SHOPPERS, ROUND_CARTS, connections);
  const adminToken = await login(url, admin.username, admin.password);
  const productIds = await inBatches(Array.from({ length: BENCH_PRODUCTS }, (_, i) => i), 5, async (i) => {
    const product = await api<{ id: number }>(
      url,
      'POST',
      '/products/',
      { name: `Bench stock ${i + 1}`, category: 'Bench', price: `${1 + i}.99`, stock: 1_000_000 },
      adminToken,
    );
    return product.id;
  });
  const password = 'bench-shopper-password';
  const tokens = await inBatches(Array.from({ length: shoppers }, (_, i) => `bench_shopper_${i + 1}`), 4, async (username) => {
    // 409: registered by an earlier run.
    await api(url, 'POST', '/auth/register/', { username, email: `${username}@bench.example`, password }, undefined, [409]);
    const token = await login(url, username, password);
    // An earlier run that stopped half-way may have left lines in the cart.
    await api(url, 'DELETE', '/cart/', undefined, token);
    return token;
  });
  return {
    productIds,
    tokens,
    cleanup: async () => {
      const token = await login(url, admin.username, admin.password);
      await inBatches(productIds, 5, (id) => api(url, 'DELETE', `/products/${id}/`, undefined, token));
    },
  };
}

/** Empties these shoppers' carts. */
async function emptyCarts(url: string, tokens: string[]): Promise<void> {
  await inBatches(tokens, 10, (token) => api(url, 'DELETE', '/cart/', undefined, token));
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

/**
 * `cart-add`: each request adds one unit of a random bench product to a random shopper's cart
 * (a cart is one Durable Object, so this measures the object plus one D1 read).
 * `checkout`: each connection is one shopper who adds a line and checks out, over and over;
 * req/s counts checkouts (half the requests), latency is over both requests.
 * `checkout (filled carts)`: checkouts alone, in rounds (`measureCheckoutsAlone`).
 */
export async function measureWrites(url: string, fixture: WriteFixture, load: LoadOptions): Promise<Measurement[]> {
  const cycles = await (LOAD_GENERATOR === 'wrk' ? measureWritesWithWrk(url, fixture, load) : measureWritesWithAutocannon(url, { ...fixture, tokens: fixture.tokens.slice(0, SHOPPERS) }, load));
  // Requests in flight when the cycles stopped land first: a cart still held refuses its fill (409).
  await sleep(1000);
  return [...cycles, await measureCheckoutsAlone(url, fixture, load)];
}

async function measureWritesWithAutocannon(url: string, fixture: WriteFixture, load: LoadOptions): Promise<Measurement[]> {
  let next = 0;
  const addOne = () => JSON.stringify({ product_id: pick(fixture.productIds), quantity: 1 });
  const cartAdd: AutocannonRequest[] = [
    {
      method: 'POST',
      setupRequest: (request) => {
        const token = fixture.tokens[next++ % fixture.tokens.length] as string;
        return { ...request, path: '/cart/', headers: bearer(token), body: addOne() };
      },
    },
  ];
  const adds = await measureRequests(url, { name: 'cart-add', sample: `POST /cart/, ${fixture.tokens.length} shoppers` }, load, cartAdd);
  // Checkouts start from empty carts.
  await emptyCarts(url, fixture.tokens);

  const shopperOf = (context: Record<string, unknown>) => (context['token'] ??= fixture.tokens[next++ % fixture.tokens.length]) as string;
  const cycle: AutocannonRequest[] = [
    { method: 'POST', setupRequest: (request, context) => ({ ...request, path: '/cart/', headers: bearer(shopperOf(context)), body: addOne() }) },
    { method: 'POST', setupRequest: (request, context) => ({ ...request, path: '/orders/', headers: bearer(shopperOf(context)) }) },
  ];
  const checkouts = await measureRequests(url, { name: 'checkout', sample: 'POST /cart/ then POST /orders/, one shopper per connection' }, load, cycle, 2);
  return [adds, checkouts];
}

/** The same two workloads under wrk: a thread per connection, each thread one shopper (writes.lua). */
async function measureWritesWithWrk(url: string, fixture: WriteFixture, load: LoadOptions): Promise<Measurement[]> {
  const script = (mode: 'cart-add' | 'checkout') => (dir: string): WrkScript => {
    const tokens = join(dir, 'tokens');
    const products = join(dir, 'products');
    writeFileSync(tokens, `${fixture.tokens.join('\n')}\n`);
    writeFileSync(products, `${fixture.productIds.join('\n')}\n`);
    // Cart adds start each run from empty carts: writes.lua counts each line's units from there.
    const beforeRun = () => emptyCarts(url, fixture.tokens.slice(0, load.connections));
    return { script: 'writes.lua', env: { WRK_TOKENS: tokens, WRK_PRODUCTS: products, WRK_MODE: mode }, threads: load.connections, ...(mode === 'cart-add' ? { beforeRun } : {}) };
  };
  const adds = await measureWithWrkScript(url, { name: 'cart-add', sample: `POST /cart/, ${load.connections} shoppers, one per connection` }, load, script('cart-add'));
  // Checkouts start from empty carts, once the adds still in flight when wrk stopped have landed.
  await sleep(1000);
  await emptyCarts(url, fixture.tokens);
  const checkouts = await measureWithWrkScript(
    url,
    { name: 'checkout', sample: 'POST /cart/ then POST /orders/, one shopper per connection' },
    load,
    script('checkout'),
    2,
  );
  return [adds, checkouts];
}

/** One request of a round: its path and what it sends. */
interface RoundRequest {
  path: string;
  init: RequestInit;
}

/**
 * An operation that needs something made first (a checkout, a filled cart), measured alone, in
 * rounds: `fill(i)` for each of `carts` items, not timed, then `operation(i)` for each, timed, by
 * `load.connections` workers that take the next item as they finish one (a closed loop: the
 * latencies are what they saw, with no coordinated-omission correction). A first round warms up
 * (when `load.warmup` is not 0); rounds go on until `load.duration` seconds of operations are
 * measured. req/s is operations over the time the timed parts took.
 */
export async function measureRounds(
  url: string,
  target: Pick<Measurement, 'target' | 'sample'>,
  load: LoadOptions,
  carts: number,
  fill: (i: number) => RoundRequest,
  operation: (i: number) => RoundRequest,
): Promise<Measurement> {
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  const send = async ({ path, init }: RoundRequest): Promise<void> => {
    try {
      const res = await fetch(`${url}${path}`, init);
      await res.arrayBuffer();
      statusCodes[res.status] = (statusCodes[res.status] ?? 0) + 1;
    } catch {
      errors += 1;
    }
  };
  const inParallel = async (task: (i: number) => Promise<void>): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: load.connections }, async () => {
        while (next < carts) await task(next++);
      }),
    );
  };
  const latencies: number[] = [];
  let measuredMs = 0;
  for (let round = 0; measuredMs < load.duration * 1000; round += 1) {
    await inParallel((i) => send(fill(i)));
    const timed = round > 0 || load.warmup === 0;
    const started = performance.now();
    await inParallel(async (i) => {
      const sent = performance.now();
      await send(operation(i));
      if (timed) latencies.push(performance.now() - sent);
    });
    if (timed) measuredMs += performance.now() - started;
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? 0) * 10) / 10;
  const non2xx = Object.entries(statusCodes).reduce((n, [code, count]) => (code.startsWith('2') ? n : n + count), 0);
  return {
    target: target.target,
    sample: target.sample,
    requests: latencies.length,
    requestsPerSec: latencies.length / (measuredMs / 1000),
    latencyMs: {
      mean: Math.round((latencies.reduce((sum, ms) => sum + ms, 0) / latencies.length) * 10) / 10,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      p999: at(0.999),
      max: at(1),
    },
    non2xx,
    errors,
    timeouts: 0,
    statusCodes,
  };
}

/** Checkouts alone: each round fills every shopper's cart with one line, then checks each out once. */
function measureCheckoutsAlone(url: string, fixture: WriteFixture, load: LoadOptions): Promise<Measurement> {
  const tokens = fixture.tokens.slice(0, ROUND_CARTS);
  const post = (path: string, token: string, body?: unknown): RoundRequest => ({
    path,
    init: { method: 'POST', headers: bearer(token), ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
  });
  return measureRounds(
    url,
    { target: 'checkout (filled carts)', sample: `POST /orders/ of ${tokens.length} carts filled before each round (not timed), each by its own shopper` },
    load,
    tokens.length,
    (i) => post('/cart/', tokens[i] as string, { product_id: pick(fixture.productIds), quantity: 1 }),
    (i) => post('/orders/', tokens[i] as string),
  );
}

/** The floor's checkouts alone, in the same rounds: `/d1-do?cart=N` fills cart N, `/checkout-only?cart=N` checks it out. */
export function measureFloorCheckoutsAlone(url: string, load: LoadOptions): Promise<Measurement> {
  const get = (path: string): RoundRequest => ({ path, init: {} });
  return measureRounds(
    url,
    {
      target: 'floor: checkout storage steps (filled carts)',
      sample: `/checkout-only?cart=N of ${ROUND_CARTS} carts filled before each round by /d1-do?cart=N (not timed): the hold, one D1 batch, the release`,
    },
    load,
    ROUND_CARTS,
    (i) => get(`/d1-do?cart=${i}`),
    (i) => get(`/checkout-only?cart=${i}`),
  );
}
