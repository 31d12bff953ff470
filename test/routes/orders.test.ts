import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CartDurableObject } from '../../src/durable/cart.ts';
import { cartOf } from '../../src/routes/cart/cart.service.ts';
import { OrderSchema } from '../../src/routes/orders/orders.schemas.ts';
import { reconcile } from '../../src/queues/reconcile.ts';
import { call, expectProblem } from '../support/api.ts';
import { interceptD1 } from '../support/d1.ts';
import { createProduct } from '../support/products.ts';
import { addToCart, countRows, placeOrder, stockOf } from '../support/shop.ts';
import { authMatrix, createUser, type TestUser } from '../support/users.ts';

let customer: TestUser;
let other: TestUser;
let admin: TestUser;

beforeAll(async () => {
  ({ customer, other, admin } = await authMatrix());
});

/**
 * Runs `before` just before the worker's next D1 batch (`times` batches: every one with
 * Infinity): another buyer or an admin acting between what the checkout expects and its write.
 */
async function withInterleavedWrite<T>(before: () => Promise<unknown>, run: () => Promise<T>, times = 1): Promise<T> {
  let pending = times;
  const restore = interceptD1({
    batch: async (statements, batch) => {
      if (pending > 0) {
        pending -= 1;
        await before();
      }
      return batch(statements);
    },
  });
  try {
    return await run();
  } finally {
    restore();
  }
}

/** Checks out, counting the worker's catalog reads (the price query) and its D1 batches. */
async function checkoutWatched(user: TestUser) {
  const reads: string[] = [];
  let batches = 0;
  const restore = interceptD1({
    prepare: (query, prepare) => {
      if (/^SELECT id, name, price_cents, stock FROM products/i.test(query)) reads.push(query);
      return prepare(query);
    },
    batch: (statements, batch) => {
      batches += 1;
      return batch(statements);
    },
  });
  try {
    return { res: await call('POST', '/orders/', { token: user.access }), reads, batches };
  } finally {
    restore();
  }
}

describe('POST /orders/ (checkout)', () => {
  it('turns the cart into a pending order: catalog prices, exact cents, stock taken, cart emptied', async () => {
    const user = await createUser();
    const dime = await createProduct(admin, { price: '0.10', stock: 10 });
    const lamp = await createProduct(admin, { price: '19.99', stock: 4 });
    await addToCart(user, dime.id, 3);
    await addToCart(user, lamp.id, 2);
    const res = await call('POST', '/orders/', { token: user.access });
    expect(res.status, res.text).toBe(201);
    const order = OrderSchema.parse(res.body);
    expect(order).toEqual({
      id: expect.any(Number),
      user_id: user.id,
      status: 'pending',
      items: [
        { product_id: dime.id, name: dime.name, unit_price: '0.10', quantity: 3, line_total: '0.30' },
        { product_id: lamp.id, name: lamp.name, unit_price: '19.99', quantity: 2, line_total: '39.98' },
      ],
      total: '40.28',
      currency: 'USD',
      created_at: expect.stringMatching(/Z$/),
      updated_at: order.created_at,
    });
    expect(await stockOf(dime.id)).toBe(7);
    expect(await stockOf(lamp.id)).toBe(2);
    const row = await env.DB.prepare('SELECT total_cents FROM orders WHERE id = ?').bind(order.id).first<{ total_cents: number }>();
    expect(row?.total_cents).toBe(4028);
    expect((await call('GET', '/cart/', { token: user.access })).body.items).toEqual([]);
    // The order reads back the same.
    expect((await call('GET', `/orders/${order.id}/`, { token: user.access })).body).toEqual(order);
  });

  it('keeps the price and name of the moment of purchase', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { name: 'Old Name', price: '5.00' });
    const order = await placeOrder(user, [[product.id, 1]]);
    await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { name: 'New Name', price: '9.00' } });
    await call('DELETE', `/products/${product.id}/`, { token: admin.access });
    const res = await call('GET', `/orders/${order.id}/`, { token: user.access });
    expect(res.body.items).toEqual([{ product_id: product.id, name: 'Old Name', unit_price: '5.00', quantity: 1, line_total: '5.00' }]);
  });

  it('is 400 for an empty cart and creates nothing', async () => {
    const user = await createUser();
    const before = await countRows('orders', 'user_id = ?', user.id);
    expectProblem(await call('POST', '/orders/', { token: user.access }), 400, 'bad_request', ['cart']);
    expect(await countRows('orders', 'user_id = ?', user.id)).toBe(before);
  });

  it('is 409 naming every short line with the quantity asked and available, and changes nothing', async () => {
    const user = await createUser();
    const plenty = await createProduct(admin, { stock: 50 });
    const scarce = await createProduct(admin, { stock: 5 });
    const gone = await createProduct(admin, { stock: 5 });
    await addToCart(user, plenty.id, 2);
    await addToCart(user, scarce.id, 4);
    await addToCart(user, gone.id, 1);
    await call('PATCH', `/products/${scarce.id}/`, { token: admin.access, body: { stock: 1 } });
    await call('PATCH', `/products/${gone.id}/`, { token: admin.access, body: { stock: 0 } });
    const res = await call('POST', '/orders/', { token: user.access });
    const problem = expectProblem(res, 409, 'conflict') as unknown as { lines: unknown[] };
    expect(problem.lines).toEqual([
      { product_id: scarce.id, name: scarce.name, requested: 4, available: 1 },
      { product_id: gone.id, name: gone.name, requested: 1, available: 0 },
    ]);
    expect([await stockOf(plenty.id), await stockOf(scarce.id), await stockOf(gone.id)]).toEqual([50, 1, 0]);
    expect(await countRows('orders', 'user_id = ?', user.id)).toBe(0);
    expect((await call('GET', '/cart/', { token: user.access })).body.items).toHaveLength(3);
  });

  it('lets exactly 3 of 12 concurrent buyers have the last 3 units; stock ends at 0, never below', async () => {
    const product = await createProduct(admin, { stock: 3, price: '7.00' });
    const buyers = await Promise.all(Array.from({ length: 12 }, () => createUser()));
    for (const buyer of buyers) await addToCart(buyer, product.id, 1);
    const results = await Promise.all(buyers.map((b) => call('POST', '/orders/', { token: b.access })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 409)).toHaveLength(9);
    expect(await stockOf(product.id)).toBe(0);
    const sold = await env.DB.prepare('SELECT coalesce(sum(quantity), 0) AS n FROM order_items WHERE product_id = ?').bind(product.id).first<{ n: number }>();
    expect(sold?.n).toBe(3);
    // The losers keep their carts.
    const losers = buyers.filter((_, i) => results[i]?.status === 409);
    for (const loser of losers) expect((await call('GET', '/cart/', { token: loser.access })).body.items).toHaveLength(1);
  });

  it('is 409 naming the line when its stock is taken (CHECK stock >= 0) or its product deleted (NOT NULL) before the batch, and writes nothing', async () => {
    for (const { change, requested, available, cartLines } of [
      { change: (id: number) => env.DB.prepare('UPDATE products SET stock = 1 WHERE id = ?').bind(id).run(), requested: 2, available: 1, cartLines: 2 },
      // The cart's next read drops the deleted product's line.
      { change: (id: number) => env.DB.prepare('DELETE FROM products WHERE id = ?').bind(id).run(), requested: 2, available: 0, cartLines: 1 },
    ]) {
      const user = await createUser();
      const product = await createProduct(admin, { stock: 2 });
      const spare = await createProduct(admin, { stock: 9 });
      await addToCart(user, spare.id, 1);
      await addToCart(user, product.id, 2);
      const res = await withInterleavedWrite(
        () => change(product.id),
        () => call('POST', '/orders/', { token: user.access }),
      );
      const problem = expectProblem(res, 409, 'conflict') as unknown as { lines: unknown[] };
      expect(problem.lines).toEqual([{ product_id: product.id, name: product.name, requested, available }]);
      expect(await stockOf(spare.id)).toBe(9);
      expect(await countRows('orders', 'user_id = ?', user.id)).toBe(0);
      expect(await countRows('order_items', 'product_id = ?', spare.id)).toBe(0);
      expect((await call('GET', '/cart/', { token: user.access })).body.items).toHaveLength(cartLines);
    }
  });

  it('writes the order in one D1 batch with no read before it, at the prices the cart was shown', async () => {
    const user = await createUser();
    const a = await createProduct(admin, { price: '3.25', stock: 9 });
    const b = await createProduct(admin, { price: '0.99', stock: 9 });
    await addToCart(user, a.id, 2);
    await addToCart(user, b.id, 3);
    const { res, reads, batches } = await checkoutWatched(user);
    expect(res.status, res.text).toBe(201);
    expect(res.body.total).toBe('9.47');
    expect(reads).toEqual([]);
    expect(batches).toBe(1);
  });

  it('charges the catalog price at checkout when it changed after the add: one read, then the batch again', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { name: 'Before', price: '5.00', stock: 9 });
    await addToCart(user, product.id, 2);
    await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { name: 'After', price: '6.10' } });
    const { res, reads, batches } = await checkoutWatched(user);
    expect(res.status, res.text).toBe(201);
    expect(res.body.items).toEqual([{ product_id: product.id, name: 'After', unit_price: '6.10', quantity: 2, line_total: '12.20' }]);
    expect(res.body.total).toBe('12.20');
    expect(reads).toHaveLength(1);
    expect(batches).toBe(2);
    const row = await env.DB.prepare('SELECT total_cents FROM orders WHERE id = ?').bind(res.body.id).first<{ total_cents: number }>();
    expect(row?.total_cents).toBe(1220);
    expect(await stockOf(product.id)).toBe(7);
  });

  it('keeps the names and prices a cart read showed: after a reprice and a GET /cart/, checkout commits in one batch', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { name: 'Before', price: '5.00', stock: 9 });
    const other = await createProduct(admin, { price: '1.00', stock: 9 });
    await addToCart(user, product.id, 2);
    await addToCart(user, other.id, 1);
    await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { name: 'After', price: '6.10' } });
    const kept = () => runInDurableObject(cartOf(env, user.id), (cart: CartDurableObject) => cart.lines().map((l) => [l.name, l.priceCents]));
    expect(await kept()).toEqual([['Before', 500], [other.name, 100]]);

    const shown = await call('GET', '/cart/', { token: user.access });
    expect(shown.status, shown.text).toBe(200);
    expect(shown.body.items.map((i: { name: string; unit_price: string }) => [i.name, i.unit_price])).toEqual([['After', '6.10'], [other.name, '1.00']]);
    expect(await kept()).toEqual([['After', 610], [other.name, 100]]);

    const { res, reads, batches } = await checkoutWatched(user);
    expect(res.status, res.text).toBe(201);
    expect(res.body.total).toBe('13.20');
    expect(reads).toEqual([]);
    expect(batches).toBe(1);
  });

  it('leaves a cart that a checkout holds as that checkout took it, while a read shows the new price', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { price: '5.00', stock: 9 });
    await addToCart(user, product.id, 1);
    const { taken } = await cartOf(env, user.id).beginCheckout({ limit: 1000, windowSeconds: 60 });
    if (!taken.ok) throw new Error(`no hold: ${taken.error}`);
    await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { price: '7.00' } });

    const shown = await call('GET', '/cart/', { token: user.access });
    expect(shown.status, shown.text).toBe(200);
    expect(shown.body.items[0].unit_price).toBe('7.00');
    const kept = await runInDurableObject(cartOf(env, user.id), (cart: CartDurableObject) => cart.lines().map((l) => l.priceCents));
    expect(kept).toEqual([500]);
    await cartOf(env, user.id).abortCheckout(taken.value.token);
  });

  it('prices a line kept without a price (a cart from before lines stored one) with a read up front', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { price: '4.40', stock: 9 });
    await addToCart(user, product.id, 1);
    await runInDurableObject(cartOf(env, user.id), (_cart: CartDurableObject, state) => state.storage.sql.exec('UPDATE lines SET price_cents = NULL'));
    const { res, reads, batches } = await checkoutWatched(user);
    expect(res.status, res.text).toBe(201);
    expect(res.body.total).toBe('4.40');
    expect(reads).toHaveLength(1);
    expect(batches).toBe(1);
  });

  it('refuses a product repriced again before the second batch (NOT NULL guard): 409, nothing written', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 4 });
    const spare = await createProduct(admin, { stock: 4 });
    await addToCart(user, spare.id, 1);
    await addToCart(user, product.id, 1);
    const reprice = () => env.DB.prepare('UPDATE products SET price_cents = price_cents + 1 WHERE id = ?').bind(product.id).run();
    const res = await withInterleavedWrite(reprice, () => call('POST', '/orders/', { token: user.access }), Infinity);
    expectProblem(res, 409, 'conflict');
    expect(await stockOf(spare.id)).toBe(4);
    expect(await stockOf(product.id)).toBe(4);
    expect(await countRows('orders', 'user_id = ?', user.id)).toBe(0);
    expect((await call('GET', '/cart/', { token: user.access })).body.items).toHaveLength(2);
  });

  it('makes one order of one cart however many checkouts race (the cart is held)', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 20 });
    await addToCart(user, product.id, 2);
    const results = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/orders/', { token: user.access })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) {
      expect([400, 409]).toContain(r.status);
      if (r.status === 409) expect(Number(r.headers.get('Retry-After'))).toBeGreaterThan(0);
    }
    expect(await countRows('orders', 'user_id = ?', user.id)).toBe(1);
    expect(await stockOf(product.id)).toBe(18);
  });

  it('holds the cart against changes while a checkout runs', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 20 });
    await addToCart(user, product.id, 1);
    let during: Awaited<ReturnType<typeof call>> | undefined;
    const res = await withInterleavedWrite(
      async () => {
        during = await call('POST', '/cart/', { token: user.access, body: { product_id: product.id, quantity: 1 } });
      },
      () => call('POST', '/orders/', { token: user.access }),
    );
    expect(res.status).toBe(201);
    expect(res.body.items[0].quantity).toBe(1);
    expectProblem(during!, 409, 'conflict');
    expect(Number(during!.headers.get('Retry-After'))).toBeGreaterThan(0);
    // Released after the order: the cart takes changes again.
    await addToCart(user, product.id, 1);
  });

  it('is 401 anonymous', async () => {
    expectProblem(await call('POST', '/orders/'), 401, 'unauthorized');
  });
});

describe('a checkout that dies, stalls or loses its answer', () => {
  const policy = { name: 'checkout', limit: 1000, windowSeconds: 60 };
  /** A checkout that took the cart's hold and then went silent (its worker died, or it stalls): its token. */
  async function silentCheckout(user: TestUser): Promise<string> {
    const { taken } = await cartOf(env, user.id).beginCheckout(policy);
    if (!taken.ok) throw new Error(`no hold: ${taken.error}`);
    return taken.value.token;
  }
  /** The hold runs out (30 s in real time). */
  const runOut = (user: TestUser) =>
    runInDurableObject(cartOf(env, user.id), (cart: CartDurableObject, state) => {
      const lock = state.storage.kv.get<{ token: string; until: number }>('checkout')!;
      state.storage.kv.put('checkout', { ...lock, until: Date.now() - 1 });
      (cart as unknown as { lock: unknown }).lock = undefined;
    });
  /** What the silent checkout's batch wrote, had it committed: an order whose ref is its token. */
  const orderOf = (user: TestUser, token: string) =>
    env.DB.prepare("INSERT INTO orders (ref, user_id, status, total_cents, currency, created_at, updated_at) VALUES (?, ?, 'pending', 0, 'USD', ?, ?)")
      .bind(token, user.id, new Date().toISOString(), new Date().toISOString())
      .run();

  it('empties the cart of a checkout that committed and died before emptying it: the cart is not ordered twice', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 10 });
    await addToCart(user, product.id, 2);
    const token = await silentCheckout(user);
    await orderOf(user, token);
    // Held meanwhile: a second checkout waits.
    expectProblem(await call('POST', '/orders/', { token: user.access }), 409, 'conflict');
    await runOut(user);
    // The hold is settled through D1: the order exists, so the lines were ordered.
    const cart = await call('GET', '/cart/', { token: user.access });
    expect(cart.status, cart.text).toBe(200);
    expect(cart.body.items).toEqual([]);
    expectProblem(await call('POST', '/orders/', { token: user.access }), 400, 'bad_request');
    expect(await countRows('orders', 'user_id = ?', user.id)).toBe(1);
  });

  it('voids the hold of a checkout that had not committed when it ran out: its late commit is refused, and the cart is ordered once', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 10 });
    await addToCart(user, product.id, 2);
    const stalled = await silentCheckout(user);
    await runOut(user);
    const res = await call('POST', '/orders/', { token: user.access });
    expect(res.status, res.text).toBe(201);
    // The stalled checkout's batch arrives now: the trigger refuses its order, whole.
    await expect(orderOf(user, stalled)).rejects.toThrow(/checkout_void/);
    expect(await countRows('orders', 'user_id = ?', user.id)).toBe(1);
    expect(await stockOf(product.id)).toBe(8);
    expect((await call('GET', '/cart/', { token: user.access })).body.items).toEqual([]);
  });

  it('answers the order of a checkout whose batch committed but whose call failed: the cart is empty at once, a retry replays', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 10 });
    await addToCart(user, product.id, 3);
    const key = crypto.randomUUID();
    let lost = false;
    const restore = interceptD1({
      batch: async (statements, batch) => {
        const results = await batch(statements);
        if (!lost) {
          lost = true;
          throw new Error('Network connection lost.');
        }
        return results;
      },
    });
    let res;
    try {
      res = await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': key } });
    } finally {
      restore();
    }
    // D1 says the order exists (its ref is the hold's token): that order is the answer.
    expect(res.status, res.text).toBe(201);
    const order = OrderSchema.parse(res.body);
    expect(order.items.map((i) => [i.product_id, i.quantity])).toEqual([[product.id, 3]]);
    expect(await countRows('orders', 'user_id = ?', user.id)).toBe(1);
    expect(await stockOf(product.id)).toBe(7);
    // No 30 s wait: the failed checkout settled its own hold, and found its order.
    expect((await call('GET', '/cart/', { token: user.access })).body.items).toEqual([]);
    const retry = await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': key } });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
    expect(retry.body.id).toBe(res.body.id);
    expect(await countRows('orders', 'user_id = ?', user.id)).toBe(1);
  });

  it('forgets void tokens after a day (the reconciler)', async () => {
    const [old, fresh] = [crypto.randomUUID(), crypto.randomUUID()];
    const insert = env.DB.prepare('INSERT INTO checkout_voids (token, created_at) VALUES (?, ?)');
    await env.DB.batch([insert.bind(old, new Date(Date.now() - 86_460_000).toISOString()), insert.bind(fresh, new Date().toISOString())]);
    await reconcile(env);
    const left = await env.DB.prepare('SELECT token FROM checkout_voids WHERE token IN (?, ?)').bind(old, fresh).all<{ token: string }>();
    expect(left.results.map((r) => r.token)).toEqual([fresh]);
  });
});

describe('Idempotency-Key on POST /orders/', () => {
  it('replays the first result for a retry with the same key, and creates one order', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 10 });
    await addToCart(user, product.id, 2);
    const key = crypto.randomUUID();
    const first = await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': key } });
    expect(first.status).toBe(201);
    expect(first.headers.get('Idempotent-Replayed')).toBeNull();
    const retry = await call('POST', '/orders', { token: user.access, headers: { 'Idempotency-Key': key } });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
    expect(retry.headers.get('X-Request-Id')).toBeTruthy();
    expect(retry.body).toEqual(first.body);
    expect(await countRows('orders', 'user_id = ?', user.id)).toBe(1);
    expect(await stockOf(product.id)).toBe(8);
  });

  // A request that stalls past the in-flight timeout loses its key to a retry; the retry may then
  // free it (a 4xx). Either way the stalled request's batch must not create an order unrecorded.
  it.each([
    ['taken over by another request', (user: number, key: string) => env.DB.prepare("UPDATE idempotency_keys SET locked_at = '2000-01-01T00:00:00.000Z' WHERE user_id = ? AND key = ?").bind(user, key).run()],
    ['taken over, then freed', (user: number, key: string) => env.DB.prepare('DELETE FROM idempotency_keys WHERE user_id = ? AND key = ?').bind(user, key).run()],
  ])('refuses the order when its key was %s before the batch: nothing ordered, the cart kept', async (_case, lose) => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 10 });
    await addToCart(user, product.id, 2);
    const key = crypto.randomUUID();
    const res = await withInterleavedWrite(() => lose(user.id, key), () => call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': key } }));
    expectProblem(res, 409, 'conflict');
    expect(res.body.detail).toMatch(/took over this Idempotency-Key/);
    expect(await countRows('orders', 'user_id = ?', user.id)).toBe(0);
    expect(await stockOf(product.id)).toBe(10);
    expect((await call('GET', '/cart/', { token: user.access })).body.item_count).toBe(2);
  });

  it('gives exactly one order when the same key arrives twice at once', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 10 });
    await addToCart(user, product.id, 1);
    const key = crypto.randomUUID();
    const results = await Promise.all([1, 2, 3].map(() => call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': key } })));
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const r of created) expect(r.body.id).toBe(created[0]?.body.id);
    for (const r of results.filter((r) => r.status !== 201)) {
      expectProblem(r, 409, 'conflict');
      expect(Number(r.headers.get('Retry-After'))).toBeGreaterThan(0);
    }
    expect(await countRows('orders', 'user_id = ?', user.id)).toBe(1);
    expect(await stockOf(product.id)).toBe(9);
  });

  it('is 422 for the same key with another body', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 10 });
    await addToCart(user, product.id, 1);
    const key = crypto.randomUUID();
    expect((await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': key } })).status).toBe(201);
    expectProblem(await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': key }, body: { note: 'different' } }), 422, 'unprocessable', [
      'header.Idempotency-Key',
    ]);
    expect(await countRows('orders', 'user_id = ?', user.id)).toBe(1);
  });

  it('frees the key when the request fails, so a fixed retry with it succeeds', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 10 });
    const key = crypto.randomUUID();
    expectProblem(await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': key } }), 400, 'bad_request');
    expect(await countRows('idempotency_keys', 'user_id = ? AND key = ?', user.id, key)).toBe(0);
    await addToCart(user, product.id, 1);
    expect((await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': key } })).status).toBe(201);
  });

  it('scopes keys per user', async () => {
    const [a, b] = await Promise.all([createUser(), createUser()]);
    const product = await createProduct(admin, { stock: 10 });
    await addToCart(a, product.id, 1);
    await addToCart(b, product.id, 2);
    const key = crypto.randomUUID();
    const ra = await call('POST', '/orders/', { token: a.access, headers: { 'Idempotency-Key': key } });
    const rb = await call('POST', '/orders/', { token: b.access, headers: { 'Idempotency-Key': key } });
    expect([ra.status, rb.status]).toEqual([201, 201]);
    expect(rb.body.id).not.toBe(ra.body.id);
    expect(rb.body.user_id).toBe(b.id);
  });

  it('rejects a malformed key with 400 naming header.Idempotency-Key', async () => {
    const user = await createUser();
    expectProblem(await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': 'has spaces in it' } }), 400, 'validation_failed', [
      'header.Idempotency-Key',
    ]);
    expectProblem(await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': 'k'.repeat(256) } }), 400, 'validation_failed', [
      'header.Idempotency-Key',
    ]);
  });

  it('takes over a key whose first request died mid-way (no response recorded after 60 s)', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 10 });
    await addToCart(user, product.id, 1);
    const key = crypto.randomUUID();
    // A claim left by a request that crashed two minutes ago, for this very request.
    const first = await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': key } });
    const stored = await env.DB.prepare('SELECT request_hash FROM idempotency_keys WHERE user_id = ? AND key = ?').bind(user.id, key).first<{ request_hash: string }>();
    const crashedKey = `${key}-crashed`;
    const old = new Date(Date.now() - 120_000).toISOString();
    await env.DB.prepare('INSERT INTO idempotency_keys (user_id, key, request_hash, locked_at, created_at) VALUES (?, ?, ?, ?, ?)')
      .bind(user.id, crashedKey, stored?.request_hash, old, old)
      .run();
    await addToCart(user, product.id, 1);
    const retry = await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': crashedKey } });
    expect(retry.status, retry.text).toBe(201);
    expect(retry.body.id).not.toBe(first.body.id);
    // While that claim was fresh, it answered 409.
    const freshKey = `${key}-fresh`;
    const now = new Date().toISOString();
    await env.DB.prepare('INSERT INTO idempotency_keys (user_id, key, request_hash, locked_at, created_at) VALUES (?, ?, ?, ?, ?)')
      .bind(user.id, freshKey, stored?.request_hash, now, now)
      .run();
    const busy = await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': freshKey } });
    expectProblem(busy, 409, 'conflict');
    expect(Number(busy.headers.get('Retry-After'))).toBeGreaterThan(0);
  });
});

describe('GET /orders/ and /orders/{id}/', () => {
  it('lists your own orders newest first; admins see all and filter by user_id', async () => {
    const [a, b] = await Promise.all([createUser(), createUser()]);
    const product = await createProduct(admin, { stock: 50 });
    const a1 = await placeOrder(a, [[product.id, 1]]);
    const a2 = await placeOrder(a, [[product.id, 2]]);
    const b1 = await placeOrder(b, [[product.id, 3]]);
    const mine = await call('GET', '/orders/', { token: a.access });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ count: 2, next: null, previous: null });
    expect(mine.body.results.map((o: { id: number }) => o.id)).toEqual([a2.id, a1.id]);
    expect(mine.body.results[0].items).toHaveLength(1);
    // A customer's user_id filter cannot reach another user's orders.
    expect((await call('GET', `/orders/?user_id=${b.id}`, { token: a.access })).body.count).toBe(0);
    const filtered = await call('GET', `/orders/?user_id=${b.id}`, { token: admin.access });
    expect(filtered.body.results.map((o: { id: number }) => o.id)).toEqual([b1.id]);
    const all = await call('GET', '/orders/?page_size=100', { token: admin.access });
    expect(all.body.count).toBeGreaterThanOrEqual(3);
    const page = await call('GET', '/orders/?page_size=1&page=2', { token: a.access });
    expect(page.body.results.map((o: { id: number }) => o.id)).toEqual([a1.id]);
    expect(page.body.previous).toMatch(/page_size=1/);
    expectProblem(await call('GET', '/orders/?status=shipped', { token: a.access }), 400, 'validation_failed', ['query.status']);
    expectProblem(await call('GET', '/orders/'), 401, 'unauthorized');
  });

  it('shows an order to its owner and admins; 404 to another customer; 401 anonymous', async () => {
    const product = await createProduct(admin, { stock: 5 });
    const order = await placeOrder(customer, [[product.id, 1]]);
    expect((await call('GET', `/orders/${order.id}/`, { token: customer.access })).body).toEqual(order);
    expect((await call('GET', `/orders/${order.id}`, { token: admin.access })).body).toEqual(order);
    expectProblem(await call('GET', `/orders/${order.id}/`, { token: other.access }), 404, 'not_found');
    expectProblem(await call('GET', `/orders/${order.id}/`), 401, 'unauthorized');
    expectProblem(await call('GET', '/orders/99999999/', { token: admin.access }), 404, 'not_found');
    expectProblem(await call('GET', '/orders/x1/', { token: customer.access }), 400, 'validation_failed', ['path.id']);
  });
});

describe('POST /orders/{id}/cancel/', () => {
  it('cancels a pending order and puts the stock back; a second cancel is 409', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 10 });
    const order = await placeOrder(user, [[product.id, 4]]);
    expect(await stockOf(product.id)).toBe(6);
    const res = await call('POST', `/orders/${order.id}/cancel/`, { token: user.access });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: order.id, status: 'cancelled', total: order.total });
    expect(await stockOf(product.id)).toBe(10);
    expectProblem(await call('POST', `/orders/${order.id}/cancel`, { token: user.access }), 409, 'conflict');
    expect(await stockOf(product.id)).toBe(10);
  });

  it('returns the stock exactly once when cancels race', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 10 });
    const order = await placeOrder(user, [[product.id, 3]]);
    const results = await Promise.all(Array.from({ length: 6 }, () => call('POST', `/orders/${order.id}/cancel/`, { token: user.access })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(5);
    expect(await stockOf(product.id)).toBe(10);
  });

  it('is for the owner or an admin: 404 for another customer, 401 anonymous', async () => {
    const product = await createProduct(admin, { stock: 10 });
    const order = await placeOrder(customer, [[product.id, 1]]);
    expectProblem(await call('POST', `/orders/${order.id}/cancel/`), 401, 'unauthorized');
    expectProblem(await call('POST', `/orders/${order.id}/cancel/`, { token: other.access }), 404, 'not_found');
    const res = await call('POST', `/orders/${order.id}/cancel/`, { token: admin.access });
    expect(res.body.status).toBe('cancelled');
    expect(await stockOf(product.id)).toBe(10);
  });

  it('leaves a deleted product alone and restocks the rest', async () => {
    const user = await createUser();
    const kept = await createProduct(admin, { stock: 5 });
    const doomed = await createProduct(admin, { stock: 5 });
    const order = await placeOrder(user, [[kept.id, 2], [doomed.id, 1]]);
    await call('DELETE', `/products/${doomed.id}/`, { token: admin.access });
    expect((await call('POST', `/orders/${order.id}/cancel/`, { token: user.access })).status).toBe(200);
    expect(await stockOf(kept.id)).toBe(5);
    expect(await stockOf(doomed.id)).toBeNull();
  });
});
