import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, type ApiResponse } from './support/api.ts';
import { createProduct } from './support/products.ts';
import { createUser, login, type TestUser, uniqueAddress, uniqueName } from './support/users.ts';

/**
 * A burst of mixed traffic against one worker: 300 requests, 20 at a time, from customers
 * registering, logging in, filling carts, checking out, paying and cancelling while an admin
 * edits the products and anonymous clients read. Afterwards every invariant must hold.
 */
const REQUESTS = 300;
const CONCURRENCY = 20;
const START_STOCK = 25;

/** mulberry32: a seeded generator, so a failing burst can be replayed exactly. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function pool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await (tasks[i] as () => Promise<T>)();
      }
    }),
  );
  return results;
}

let admin: TestUser;
let customers: TestUser[];

beforeAll(async () => {
  admin = await createUser('admin');
  customers = await Promise.all(Array.from({ length: 8 }, () => createUser()));
});

describe('a burst of mixed traffic', () => {
  // 300 requests, registrations and logins among them (each hashes a password): about 3 s alone
  // on a 2-core machine, over 5 s while other test files run beside it. The timeout bounds a
  // burst that hangs; it checks no speed.
  it('keeps every accepted write, doubles nothing, and conserves stock', async () => {
    const seed = Date.now() % 100_000;
    const random = seeded(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const category = uniqueName('Burst');
    const products = await Promise.all(Array.from({ length: 4 }, (_, i) => createProduct(admin, { category, stock: START_STOCK, price: `${i + 1}.25` })));
    const productIds = products.map((p) => p.id);

    const accepted = { adds: new Map<number, number>(), orders: [] as number[], payments: [] as number[], registered: [] as string[] };
    const newNames = Array.from({ length: 10 }, () => uniqueName('burst'));
    const orderIdsOf = new Map<number, number[]>();
    const statuses: number[] = [];
    const record = <T>(res: ApiResponse<T>): ApiResponse<T> => {
      statuses.push(res.status);
      return res;
    };

    const kinds = ['add', 'add', 'add', 'checkout', 'pay', 'cancel', 'register', 'login', 'edit', 'read', 'read', 'cart'] as const;
    const tasks = Array.from({ length: REQUESTS }, () => {
      const kind = pick(kinds);
      const user = pick(customers);
      const productId = pick(productIds);
      const quantity = 1 + Math.floor(random() * 3);
      const name = pick(newNames);
      const useKey = random() < 0.5;
      const key = `burst-${Math.floor(random() * 40)}`;
      return async () => {
        switch (kind) {
          case 'add': {
            const res = record(await call('POST', '/cart/', { token: user.access, body: { product_id: productId, quantity } }));
            if (res.status === 201) accepted.adds.set(user.id, (accepted.adds.get(user.id) ?? 0) + quantity);
            return;
          }
          case 'checkout': {
            const res = record(await call('POST', '/orders/', { token: user.access, ...(useKey ? { headers: { 'Idempotency-Key': key } } : {}) }));
            if (res.status === 201 && res.headers.get('Idempotent-Replayed') !== 'true') {
              accepted.orders.push(res.body.id);
              orderIdsOf.set(user.id, [...(orderIdsOf.get(user.id) ?? []), res.body.id]);
            }
            return;
          }
          case 'pay': {
            const orderId = pick(orderIdsOf.get(user.id) ?? [0]);
            if (orderId === 0) return;
            const res = record(await call('POST', '/payments/', { token: user.access, body: { order_id: orderId } }));
            if (res.status === 202) accepted.payments.push(res.body.id);
            return;
          }
          case 'cancel': {
            const orderId = pick(orderIdsOf.get(user.id) ?? [0]);
            if (orderId === 0) return;
            record(await call('POST', `/orders/${orderId}/cancel/`, { token: user.access }));
            return;
          }
          case 'register': {
            const res = record(
              await call('POST', '/auth/register/', {
                body: { username: name, email: `${name}@example.com`, password: 'burst password 1' },
                headers: { 'CF-Connecting-IP': uniqueAddress() },
              }),
            );
            if (res.status === 201) accepted.registered.push(name);
            return;
          }
          case 'login':
            record(await login(user.username, user.password));
            return;
          case 'edit':
            record(await call('PATCH', `/products/${productId}/`, { token: admin.access, body: { price: `${quantity}.99`, name: `Burst item ${quantity}` } }));
            return;
          case 'read':
            record(await call('GET', pick([`/products/${productId}/`, `/products/?category=${category}`, '/products/search/?q=burst', '/categories/'])));
            return;
          case 'cart':
            record(await call('GET', '/cart/', { token: user.access }));
            return;
        }
      };
    });
    await pool(tasks, CONCURRENCY);

    const context = `seed ${seed}`;
    expect(statuses.filter((s) => s >= 500), context).toEqual([]);
    expect(statuses.length, context).toBeGreaterThan(REQUESTS / 2);
    // The burst did real work: carts filled and orders placed (else the checks below are vacuous).
    expect(accepted.adds.size, context).toBeGreaterThan(0);
    expect(accepted.orders.length, context).toBeGreaterThan(0);

    // Each name registered at most once, and every 201 is a real row.
    expect(new Set(accepted.registered).size, context).toBe(accepted.registered.length);
    for (const name of accepted.registered) {
      const row = await env.DB.prepare('SELECT count(*) AS n FROM users WHERE username = ? COLLATE NOCASE').bind(name).first<{ n: number }>();
      expect(row?.n, context).toBe(1);
    }

    // Every accepted unit is either in an order or still in its cart: no add lost, no order doubled.
    const userIds = customers.map((c) => c.id);
    const marks = userIds.map(() => '?').join(', ');
    const ordered = await env.DB.prepare(
      `SELECT o.user_id, sum(i.quantity) AS units, count(DISTINCT o.id) AS orders FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.user_id IN (${marks}) GROUP BY o.user_id`,
    )
      .bind(...userIds)
      .all<{ user_id: number; units: number; orders: number }>();
    const orderedBy = new Map(ordered.results.map((r) => [r.user_id, r]));
    for (const user of customers) {
      const cart = await call('GET', '/cart/', { token: user.access });
      const inCart = (cart.body.items as { quantity: number }[]).reduce((n, l) => n + l.quantity, 0);
      expect((orderedBy.get(user.id)?.units ?? 0) + inCart, `${context}, user ${user.id}`).toBe(accepted.adds.get(user.id) ?? 0);
      expect(orderedBy.get(user.id)?.orders ?? 0, `${context}, user ${user.id}`).toBe(orderIdsOf.get(user.id)?.length ?? 0);
    }

    // At most one live payment per order, and each accepted payment exists once.
    const live = await env.DB.prepare(
      `SELECT order_id, count(*) AS n FROM payments WHERE status IN ('pending', 'succeeded') AND user_id IN (${marks}) GROUP BY order_id HAVING n > 1`,
    )
      .bind(...userIds)
      .all();
    expect(live.results, context).toEqual([]);
    expect(new Set(accepted.payments).size, context).toBe(accepted.payments.length);

    // Stock plus the units in live orders is the starting stock, and never negative.
    for (const id of productIds) {
      const row = await env.DB.prepare(
        `SELECT p.stock, coalesce((SELECT sum(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id
           WHERE i.product_id = p.id AND o.status IN ('pending', 'paid')), 0) AS held FROM products p WHERE p.id = ?`,
      )
        .bind(id)
        .first<{ stock: number; held: number }>();
      expect(row!.stock, context).toBeGreaterThanOrEqual(0);
      expect(row!.stock + row!.held, `${context}, product ${id}`).toBe(START_STOCK);
    }
  }, 30_000);
});
