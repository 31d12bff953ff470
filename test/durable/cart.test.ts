import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { CartDurableObject } from '../../src/durable/cart.ts';
import { cartOf } from '../../src/routes/cart/cart.service.ts';
import { call } from '../support/api.ts';
import { createProduct } from '../support/products.ts';
import { addToCart } from '../support/shop.ts';
import { authMatrix, createUser, type TestUser } from '../support/users.ts';

let admin: TestUser;

beforeAll(async () => {
  ({ admin } = await authMatrix());
});

/** The lines as the cart object stores them. */
const stored = (user: TestUser) => runInDurableObject(cartOf(env, user.id), (cart: CartDurableObject) => cart.lines());

describe('CartDurableObject: the price each line was shown at', () => {
  it('keeps the name and price D1 gave at the last add or change, or that the last read of the cart showed', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { name: 'Kettle', price: '12.34', stock: 9 });
    const line = await addToCart(user, product.id, 1);
    expect(await stored(user)).toEqual([{ id: line.id, productId: product.id, name: 'Kettle', quantity: 1, priceCents: 1234 }]);
    await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { name: 'Steel kettle', price: '15.00' } });
    // The stored line is the add's until something prices the cart again.
    expect((await stored(user))[0]).toMatchObject({ name: 'Kettle', priceCents: 1234 });
    expect((await call('GET', '/cart/', { token: user.access })).body.items[0]).toMatchObject({ name: 'Steel kettle', unit_price: '15.00' });
    expect((await stored(user))[0]).toMatchObject({ name: 'Steel kettle', priceCents: 1500 });
    await call('PATCH', `/products/${product.id}/`, { token: admin.access, body: { price: '16.00' } });
    const res = await call('PATCH', `/cart/${line.id}/`, { token: user.access, body: { quantity: 2 } });
    expect(res.status, res.text).toBe(200);
    expect(await stored(user)).toEqual([{ id: line.id, productId: product.id, name: 'Steel kettle', quantity: 2, priceCents: 1600 }]);
  });

  it('adds the price column to a cart stored before it, keeping its lines (price unknown)', async () => {
    const user = await createUser();
    const lines = await runInDurableObject(cartOf(env, user.id), (_cart: CartDurableObject, state) => {
      state.storage.sql.exec('DROP TABLE lines');
      state.storage.sql.exec(`CREATE TABLE lines (
        id INTEGER PRIMARY KEY AUTOINCREMENT, product_id INTEGER NOT NULL UNIQUE, name TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99))`);
      state.storage.sql.exec("INSERT INTO lines (product_id, name, quantity) VALUES (7, 'Old line', 3)");
      // The object as it starts after a deploy: the constructor finds the old table.
      const upgraded = new CartDurableObject(state, env);
      const before = upgraded.lines();
      const added = upgraded.add({ productId: 8, name: 'New line', priceCents: 250, quantity: 1, stock: 5 });
      return { before, added, after: upgraded.lines() };
    });
    expect(lines.before).toEqual([{ id: 1, productId: 7, name: 'Old line', quantity: 3, priceCents: null }]);
    expect(lines.added).toEqual({ ok: true, value: { id: 2, productId: 8, name: 'New line', quantity: 1, priceCents: 250 } });
    expect(lines.after.map((l) => l.priceCents)).toEqual([null, 250]);
  });
});
