import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { CartSchema } from '../../src/routes/cart/cart.schemas.ts';
import { readProduct } from '../../src/routes/cart/product-reads.ts';
import { call, expectProblem } from '../support/api.ts';
import { interceptD1 } from '../support/d1.ts';
import { createProduct } from '../support/products.ts';
import { addToCart } from '../support/shop.ts';
import { authMatrix, createUser, type TestUser } from '../support/users.ts';
import { deferred, until } from '../support/wait.ts';

let customer: TestUser;
let other: TestUser;
let admin: TestUser;

beforeAll(async () => {
  ({ customer, other, admin } = await authMatrix());
});

describe('GET /cart/', () => {
  it('starts empty, with and without the trailing slash', async () => {
    const user = await createUser();
    for (const path of ['/cart/', '/cart']) {
      const res = await call('GET', path, { token: user.access });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ items: [], item_count: 0, subtotal: '0.00', currency: 'USD', removed: [] });
    }
  });

  it('prices every line from the catalog now, in exact cents', async () => {
    const user = await createUser();
    const cheap = await createProduct(admin, { price: '0.10', stock: 50 });
    const chair = await createProduct(admin, { price: '149.99', stock: 5 });
    await addToCart(user, cheap.id, 3);
    await addToCart(user, chair.id, 2);
    // A price change shows at the next read: the cart is priced from the catalog, not from the
    // price its object kept at the add (which only lets checkout skip a read while it holds).
    await call('PATCH', `/products/${chair.id}/`, { token: admin.access, body: { price: '120.00' } });
    const res = await call('GET', '/cart/', { token: user.access });
    const cart = CartSchema.parse(res.body);
    expect(cart.items.map((l) => [l.product_id, l.unit_price, l.quantity, l.line_total])).toEqual([
      [cheap.id, '0.10', 3, '0.30'],
      [chair.id, '120.00', 2, '240.00'],
    ]);
    expect(cart.item_count).toBe(5);
    expect(cart.subtotal).toBe('240.30');
  });

  it('prices the whole cart in one D1 query, whatever its size', async () => {
    const user = await createUser();
    const products = await Promise.all(Array.from({ length: 6 }, () => createProduct(admin, { stock: 9 })));
    for (const p of products) await addToCart(user, p.id, 1);
    const ids = new Set(products.map((p) => p.id));
    const prepared: { query: string; params: unknown[] }[] = [];
    // Records the statements the worker prepares while it answers, with what each binds; restored
    // right after. Only those about this cart's products count: a queue consumer or another
    // test's background work may query the catalog in the same window.
    const restore = interceptD1({
      prepare: (query, prepare) => {
        const seen = { query, params: [] as unknown[] };
        prepared.push(seen);
        const statement = prepare(query);
        const bind = statement.bind.bind(statement);
        statement.bind = (...values: unknown[]) => {
          seen.params = values;
          return bind(...values);
        };
        return statement;
      },
    });
    try {
      const res = await call('GET', '/cart/', { token: user.access });
      expect(res.body.items).toHaveLength(6);
    } finally {
      restore();
    }
    const ours = prepared.filter((s) => /FROM products/i.test(s.query) && s.params.some((v) => ids.has(v as number)));
    expect(ours.map((s) => s.query), JSON.stringify(prepared)).toHaveLength(1);
    expect(ours[0]?.query).toMatch(/WHERE id IN \(\?, \?, \?, \?, \?, \?\)/);
    expect(new Set(ours[0]?.params)).toEqual(ids);
  });

  it('drops a deleted product, says so once, and keeps the rest', async () => {
    const user = await createUser();
    const kept = await createProduct(admin, { price: '2.00' });
    const doomed = await createProduct(admin, { name: 'Discontinued Lamp' });
    await addToCart(user, kept.id, 1);
    await addToCart(user, doomed.id, 2);
    expect((await call('DELETE', `/products/${doomed.id}/`, { token: admin.access })).status).toBe(204);
    const first = await call('GET', '/cart/', { token: user.access });
    expect(first.body.items.map((l: { product_id: number }) => l.product_id)).toEqual([kept.id]);
    expect(first.body.removed).toEqual([{ product_id: doomed.id, name: 'Discontinued Lamp' }]);
    expect(first.body.subtotal).toBe('2.00');
    const second = await call('GET', '/cart/', { token: user.access });
    expect(second.body.removed).toEqual([]);
    expect(second.body.items).toHaveLength(1);
  });

  it('flags a line that now exceeds the stock instead of hiding it', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 5 });
    await addToCart(user, product.id, 4);
    await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { stock: 1 } });
    const res = await call('GET', '/cart/', { token: user.access });
    expect(res.body.items[0]).toMatchObject({ product_id: product.id, quantity: 4, available: 1, insufficient_stock: true });
  });

  it('needs a user: 401 with a Bearer challenge', async () => {
    const res = await call('GET', '/cart/');
    expectProblem(res, 401, 'unauthorized');
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
  });
});

describe('POST /cart/', () => {
  it('adds a line (201) and adds to it on the next add', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { price: '3.33', stock: 20 });
    const first = await call('POST', '/cart/', { token: user.access, body: { product_id: product.id, quantity: 2 } });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      id: expect.any(Number),
      product_id: product.id,
      name: product.name,
      unit_price: '3.33',
      quantity: 2,
      line_total: '6.66',
      available: 20,
      insufficient_stock: false,
    });
    const second = await call('POST', '/cart', { token: user.access, body: { product_id: product.id, quantity: 3 } });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ id: first.body.id, quantity: 5, line_total: '16.65' });
    const cart = await call('GET', '/cart/', { token: user.access });
    expect(cart.body.items).toHaveLength(1);
  });

  it('loses nothing when twenty adds arrive at once (the object serialises them)', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 100 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => call('POST', '/cart/', { token: user.access, body: { product_id: product.id, quantity: 1 } })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(results.map((r) => r.body.quantity).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const cart = await call('GET', '/cart/', { token: user.access });
    expect(cart.body.items).toEqual([expect.objectContaining({ product_id: product.id, quantity: 20 })]);
  });

  it('is 404 for an unknown product, naming body.product_id', async () => {
    const user = await createUser();
    expectProblem(await call('POST', '/cart/', { token: user.access, body: { product_id: 99_999_999, quantity: 1 } }), 404, 'not_found', ['body.product_id']);
  });

  it('is 409 beyond the stock, counting what is already in the cart, and changes nothing', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 3 });
    expectProblem(await call('POST', '/cart/', { token: user.access, body: { product_id: product.id, quantity: 4 } }), 409, 'conflict', ['body.quantity']);
    await addToCart(user, product.id, 2);
    const res = await call('POST', '/cart/', { token: user.access, body: { product_id: product.id, quantity: 2 } });
    const problem = expectProblem(res, 409, 'conflict', ['body.quantity']);
    expect(problem).toMatchObject({ requested: 4, available: 3 });
    const cart = await call('GET', '/cart/', { token: user.access });
    expect(cart.body.items[0].quantity).toBe(2);
  });

  it('keeps a line at 99 units at most', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 500 });
    await addToCart(user, product.id, 99);
    expectProblem(await call('POST', '/cart/', { token: user.access, body: { product_id: product.id, quantity: 1 } }), 409, 'conflict', ['body.quantity']);
  });

  it.each([
    [{ product_id: 1, quantity: 0 }, ['body.quantity']],
    [{ product_id: 1, quantity: 100 }, ['body.quantity']],
    [{ product_id: 1, quantity: 1.5 }, ['body.quantity']],
    [{ product_id: -1, quantity: 1 }, ['body.product_id']],
    [{ product_id: '1', quantity: '1' }, ['body.product_id', 'body.quantity']],
    [{}, ['body.product_id', 'body.quantity']],
  ])('rejects %j with 400 naming %j', async (body, fields) => {
    const user = await createUser();
    expectProblem(await call('POST', '/cart/', { token: user.access, body }), 400, 'validation_failed', fields);
  });

  it('is 401 anonymous and 415 for a non-JSON body', async () => {
    expectProblem(await call('POST', '/cart/', { body: { product_id: 1, quantity: 1 } }), 401, 'unauthorized');
    expectProblem(await call('POST', '/cart/', { token: customer.access, rawBody: 'product_id=1', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
  });
});

describe("a cart add's product read", () => {
  /**
   * Watches the worker's product reads (`WHERE id IN (...)`) that name one of `ids`; with `hold`,
   * the first such read lands (it has its rows) but answers only once `hold` settles: a read
   * still in flight while other requests arrive.
   */
  function watchProductReads(ids: Set<number>, hold?: Promise<void>) {
    const reads: number[][] = [];
    const restore = interceptD1({
      prepare: (query, prepare) => {
        const statement = prepare(query);
        if (!/FROM products WHERE id IN/.test(query)) return statement;
        const bind = statement.bind.bind(statement);
        statement.bind = (...values: unknown[]) => {
          const bound = bind(...values);
          if (!values.some((v) => ids.has(v as number))) return bound;
          const all = bound.all.bind(bound);
          bound.all = (async () => {
            const rows = await all();
            reads.push(values as number[]);
            if (hold && reads.length === 1) await hold;
            return rows;
          }) as typeof bound.all;
          return bound;
        };
        return statement;
      },
    });
    return { reads, restore };
  }

  it('is shared by the adds that arrive while one is in flight: fewer queries, each line priced right', async () => {
    const products = await Promise.all(['1.25', '20.00', '333.33'].map((price) => createProduct(admin, { price, stock: 100 })));
    const users = await Promise.all(Array.from({ length: 8 }, () => createUser()));
    const watch = watchProductReads(new Set(products.map((p) => p.id)));
    const adds = users.flatMap((user, i) => [products[i % 3]!, products[(i + 1) % 3]!].map((product) => ({ user, product })));
    let results: Awaited<ReturnType<typeof call>>[];
    try {
      results = await Promise.all(adds.map(({ user, product }) => call('POST', '/cart/', { token: user.access, body: { product_id: product.id, quantity: 2 } })));
    } finally {
      watch.restore();
    }
    expect(results.map((r) => r.status)).toEqual(Array(16).fill(201));
    results.forEach((res, i) => {
      const { product } = adds[i]!;
      expect(res.body).toMatchObject({ product_id: product.id, name: product.name, unit_price: product.price, quantity: 2 });
      expect(res.headers.get('X-D1-Bookmark')).toMatch(/\S+/);
    });
    // Every add read its product, in fewer queries than adds: some read several products at once.
    expect(watch.reads.flat().filter((id) => products.some((p) => p.id === id)).length).toBeGreaterThanOrEqual(3);
    expect(watch.reads.length, JSON.stringify(watch.reads)).toBeLessThan(16);
    expect(Math.max(...watch.reads.map((ids) => ids.length))).toBeGreaterThan(1);
    for (const user of users) {
      const cart = await call('GET', '/cart/', { token: user.access });
      expect(cart.body.items).toHaveLength(2);
      expect(cart.body.item_count).toBe(4);
    }
  });

  it('goes out a turn after the first read of an idle isolate, with the reads that arrived in that turn: one query', async () => {
    const products = await Promise.all(['1.00', '2.50', '7.25'].map((price) => createProduct(admin, { price, stock: 5 })));
    const watch = watchProductReads(new Set(products.map((p) => p.id)));
    let read: Awaited<ReturnType<typeof readProduct>>[];
    try {
      read = await Promise.all([...products.map((p) => readProduct(env, p.id)), readProduct(env, 99_999_997)]);
    } finally {
      watch.restore();
    }
    expect(read.map((r) => r.product?.priceCents)).toEqual([100, 250, 725, undefined]);
    expect(new Set(read.map((r) => r.bookmark)).size).toBe(1);
    expect(read[0]!.bookmark).toMatch(/\S+/);
    // Sent at once, the first read would have gone alone and the others in a second query.
    expect(watch.reads).toEqual([[...products.map((p) => p.id), 99_999_997]]);
  });

  it('never answers an add from a read that went out before it arrived: a price changed meanwhile shows', async () => {
    const product = await createProduct(admin, { price: '10.00', stock: 100 });
    const [early, late] = [await createUser(), await createUser()];
    const held = deferred<void>();
    const watch = watchProductReads(new Set([product.id]), held.promise);
    try {
      const first = call('POST', '/cart/', { token: early.access, body: { product_id: product.id, quantity: 1 } });
      // The first add's read has its rows (the old price) and is held in flight.
      await until(() => watch.reads.length === 1);
      const repriced = await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { price: '12.50' } });
      expect(repriced.status).toBe(200);
      const second = call('POST', '/cart/', { token: late.access, body: { product_id: product.id, quantity: 1 } });
      // The second add waits for the flight (it joined the next batch) rather than reading alone.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(watch.reads).toHaveLength(1);
      held.resolve();
      const [a, b] = await Promise.all([first, second]);
      expect(a.status).toBe(201);
      expect(a.body.unit_price).toBe('10.00');
      expect(b.status).toBe(201);
      expect(b.body.unit_price).toBe('12.50');
      expect(watch.reads).toHaveLength(2);
    } finally {
      held.resolve();
      watch.restore();
    }
    // The 404 of an unknown product comes from a shared read too.
    expectProblem(await call('POST', '/cart/', { token: late.access, body: { product_id: 99_999_998, quantity: 1 } }), 404, 'not_found', ['body.product_id']);
  });
});

describe('PATCH and DELETE /cart/{item_id}/', () => {
  it('sets a quantity, within the stock', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { price: '1.25', stock: 6 });
    const line = await addToCart(user, product.id, 1);
    const res = await call('PATCH', `/cart/${line.id}/`, { token: user.access, body: { quantity: 6 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: line.id, quantity: 6, line_total: '7.50' });
    expectProblem(await call('PATCH', `/cart/${line.id}`, { token: user.access, body: { quantity: 7 } }), 409, 'conflict', ['body.quantity']);
    expectProblem(await call('PATCH', `/cart/${line.id}/`, { token: user.access, body: { quantity: 0 } }), 400, 'validation_failed', ['body.quantity']);
  });

  it("answers 404 for another customer's line and leaves it alone", async () => {
    const product = await createProduct(admin);
    const line = await addToCart(customer, product.id, 2);
    expectProblem(await call('PATCH', `/cart/${line.id}/`, { token: other.access, body: { quantity: 1 } }), 404, 'not_found');
    expectProblem(await call('DELETE', `/cart/${line.id}/`, { token: other.access }), 404, 'not_found');
    // An admin has a cart of their own too: another user's line is not in it.
    expectProblem(await call('DELETE', `/cart/${line.id}/`, { token: admin.access }), 404, 'not_found');
    const cart = await call('GET', '/cart/', { token: customer.access });
    expect(cart.body.items).toContainEqual(expect.objectContaining({ id: line.id, quantity: 2 }));
    expect((await call('DELETE', `/cart/${line.id}/`, { token: customer.access })).status).toBe(204);
    expectProblem(await call('DELETE', `/cart/${line.id}/`, { token: customer.access }), 404, 'not_found');
  });

  it('is 404 once the product left the catalog, and drops the line', async () => {
    const user = await createUser();
    const product = await createProduct(admin);
    const line = await addToCart(user, product.id, 1);
    await call('DELETE', `/products/${product.id}/`, { token: admin.access });
    expectProblem(await call('PATCH', `/cart/${line.id}/`, { token: user.access, body: { quantity: 2 } }), 404, 'not_found');
    expect((await call('GET', '/cart/', { token: user.access })).body.items).toEqual([]);
  });

  it('rejects a malformed item id with 400 naming path.item_id', async () => {
    const user = await createUser();
    expectProblem(await call('DELETE', '/cart/abc/', { token: user.access }), 400, 'validation_failed', ['path.item_id']);
  });

  it('DELETE /cart/ empties the cart (204), and is 401 anonymous', async () => {
    const user = await createUser();
    const product = await createProduct(admin);
    await addToCart(user, product.id, 2);
    expectProblem(await call('DELETE', '/cart/'), 401, 'unauthorized');
    expect((await call('DELETE', '/cart/', { token: user.access })).status).toBe(204);
    expect((await call('GET', '/cart', { token: user.access })).body).toMatchObject({ items: [], item_count: 0, subtotal: '0.00' });
  });
});
