// Write workloads: cart adds and checkouts, by distinct users, so every checkout is a real one
// (a cart with a line in it, an order written, stock taken). Each run makes its own products
// ("Bench stock" with plenty of stock) and deletes them afterwards; the orders stay, as orders
// do. The shoppers are the same every run (`bench_shopper_1` and on, registered by the first
// run): each has a cart object, whose storage stays on disk, so new shoppers every run would
// grow `.wrangler/state` by their carts each time.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request as AutocannonRequest } from 'autocannon';
import { LOAD_GENERATOR, type LoadOptions, type Measurement, measureRequests, measureWithWrkScript, type WrkScript } from './load.ts';

const BENCH_PRODUCTS = 20;
const JSON_HEADERS = { 'content-type': 'application/json' };

export interface WriteFixture {
  productIds: number[];
  /** Access tokens, one per shopper (valid 15 minutes: ample for a run). */
  tokens: string[];
  cleanup(): Promise<void>;
}

async function api<T>(url: string, method: string, path: string, body?: unknown, token?: string, accept: number[] = []): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...JSON_HEADERS, ...(token ? { authorization: `Bearer ${token}` } : {}) },
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

export async function prepareWrites(url: string, admin: { username: string; password: string }, shoppers: number): Promise<WriteFixture> {
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

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

/**
 * `cart-add`: each request adds one unit of a random bench product to a random shopper's cart
 * (a cart is one Durable Object, so this measures the object plus one D1 read).
 * `checkout`: each connection is one shopper who adds a line and checks out, over and over;
 * req/s counts checkouts (half the requests), latency is over both requests.
 */
export async function measureWrites(url: string, fixture: WriteFixture, load: LoadOptions): Promise<Measurement[]> {
  if (LOAD_GENERATOR === 'wrk') return measureWritesWithWrk(url, fixture, load);
  let next = 0;
  const bearer = (token: string) => ({ ...JSON_HEADERS, authorization: `Bearer ${token}` });
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
  await inBatches(fixture.tokens, 10, (token) => api(url, 'DELETE', '/cart/', undefined, token));

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
    return { script: 'writes.lua', env: { WRK_TOKENS: tokens, WRK_PRODUCTS: products, WRK_MODE: mode }, threads: load.connections };
  };
  const adds = await measureWithWrkScript(url, { name: 'cart-add', sample: `POST /cart/, ${load.connections} shoppers, one per connection` }, load, script('cart-add'));
  // Checkouts start from empty carts, once the adds still in flight when wrk stopped have landed.
  await sleep(1000);
  await inBatches(fixture.tokens, 10, (token) => api(url, 'DELETE', '/cart/', undefined, token));
  const checkouts = await measureWithWrkScript(
    url,
    { name: 'checkout', sample: 'POST /cart/ then POST /orders/, one shopper per connection' },
    load,
    script('checkout'),
    2,
  );
  return [adds, checkouts];
}
