import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProductSchema } from '../../../src/routes/products/products.schemas.ts';
import { call, expectProblem } from '../../support/api.ts';
import { createProduct } from '../../support/products.ts';
import { authMatrix, type TestUser, uniqueName } from '../../support/users.ts';

let customer: TestUser;
let admin: TestUser;

beforeAll(async () => {
  ({ customer, admin } = await authMatrix());
});

const valid = () => ({ name: 'Oak Chair', category: uniqueName('Furniture'), price: '149.50', stock: 7, description: 'Solid oak.', features: ['oak', 'contoured seat'] });

describe('POST /products/', () => {
  it('creates a product as admin: 201, Location, exact money and every contract field', async () => {
    const input = valid();
    const res = await call('POST', '/products/', { token: admin.access, body: input });
    expect(res.status, res.text).toBe(201);
    const product = ProductSchema.parse(res.body);
    expect(product).toEqual({
      id: expect.any(Number),
      name: 'Oak Chair',
      category: input.category,
      price: '149.50',
      description: 'Solid oak.',
      stock: 7,
      features: ['oak', 'contoured seat'],
      description_status: 'ready',
      description_source: 'manual',
      description_model: null,
      description_generated_at: null,
      description_error: null,
      created_at: expect.stringMatching(/Z$/),
      updated_at: product.created_at,
    });
    expect(res.headers.get('Location')).toBe(`/products/${product.id}/`);
    const row = await env.DB.prepare('SELECT price_cents FROM products WHERE id = ?').bind(product.id).first<{ price_cents: number }>();
    expect(row?.price_cents).toBe(14950);
  });

  it('defaults description and features to empty with status none', async () => {
    const { description: _d, features: _f, ...input } = valid();
    const res = await call('POST', '/products', { token: admin.access, body: input });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ description: '', features: [], description_status: 'none', description_source: null });
  });

  it.each([
    ['0.10', '0.10'],
    ['0.1', '0.10'],
    [0.1, '0.10'],
    [19.99, '19.99'],
    ['5', '5.00'],
    [0, '0.00'],
    ['1000000.00', '1000000.00'],
  ])('keeps the price %j exact as %s', async (price, expected) => {
    const res = await call('POST', '/products/', { token: admin.access, body: { ...valid(), price } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.price).toBe(expected);
  });

  it.each([['1.999'], [-1], ['-1.00'], ['abc'], ['1e3'], [1e21], ['1000000.01'], [null], [''], ['12.'], [Number.NaN]])(
    'rejects the price %j with 400 naming body.price',
    async (price) => {
      expectProblem(await call('POST', '/products/', { token: admin.access, body: { ...valid(), price } }), 400, 'validation_failed', ['body.price']);
    },
  );

  it('names every invalid field at once', async () => {
    const res = await call('POST', '/products/', {
      token: admin.access,
      body: { name: '', category: 'x'.repeat(101), price: '1.234', stock: -1, features: ['ok', ''] },
    });
    expectProblem(res, 400, 'validation_failed', ['body.name', 'body.category', 'body.price', 'body.stock', 'body.features.1']);
  });

  it('rejects a fractional or missing stock', async () => {
    expectProblem(await call('POST', '/products/', { token: admin.access, body: { ...valid(), stock: 1.5 } }), 400, 'validation_failed', ['body.stock']);
    const { stock: _s, ...noStock } = valid();
    expectProblem(await call('POST', '/products/', { token: admin.access, body: noStock }), 400, 'validation_failed', ['body.stock']);
  });

  it('is admin-only: 401 anonymous, 403 customer, and nothing is written', async () => {
    const input = valid();
    expectProblem(await call('POST', '/products/', { body: input }), 401, 'unauthorized');
    expectProblem(await call('POST', '/products/', { token: customer.access, body: input }), 403, 'forbidden');
    const list = await call('GET', `/products/?category=${encodeURIComponent(input.category)}`);
    expect(list.body.count).toBe(0);
  });
});

describe('GET /products/{id}/', () => {
  it('is public and matches the created product', async () => {
    const created = await createProduct(admin, { price: '3.30' });
    for (const path of [`/products/${created.id}/`, `/products/${created.id}`]) {
      const res = await call('GET', path);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(created);
    }
  });

  it('answers 404 for a missing id and 400 for a malformed one', async () => {
    expectProblem(await call('GET', '/products/99999999/'), 404, 'not_found');
    expectProblem(await call('GET', '/products/abc/'), 400, 'validation_failed', ['path.id']);
    expectProblem(await call('GET', '/products/-4/'), 400, 'validation_failed', ['path.id']);
  });
});

describe('PUT /products/{id}/', () => {
  it('replaces every field; omitted optional fields become empty', async () => {
    const created = await createProduct(admin, { description: 'old', features: ['a'] });
    const res = await call('PUT', `/products/${created.id}/`, { token: admin.access, body: { name: 'New', category: 'Other', price: 2, stock: 0 } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id: created.id, name: 'New', category: 'Other', price: '2.00', stock: 0, description: '', features: [], description_status: 'none', description_source: null });
    expect(res.body.updated_at >= created.updated_at).toBe(true);
    expect(res.body.created_at).toBe(created.created_at);
  });

  it('requires every required field (400 naming them) and writes nothing', async () => {
    const created = await createProduct(admin);
    expectProblem(await call('PUT', `/products/${created.id}/`, { token: admin.access, body: { name: 'Only name' } }), 400, 'validation_failed', [
      'body.category',
      'body.price',
      'body.stock',
    ]);
    expect((await call('GET', `/products/${created.id}/`)).body.name).toBe(created.name);
  });

  it('answers 404 for a missing product, 401/403 for non-admins', async () => {
    const body = { name: 'x', category: 'y', price: 1, stock: 1 };
    expectProblem(await call('PUT', '/products/99999999/', { token: admin.access, body }), 404, 'not_found');
    const created = await createProduct(admin);
    expectProblem(await call('PUT', `/products/${created.id}/`, { body }), 401, 'unauthorized');
    expectProblem(await call('PUT', `/products/${created.id}/`, { token: customer.access, body }), 403, 'forbidden');
  });
});

describe('PATCH /products/{id}/', () => {
  it('changes only the given fields', async () => {
    const created = await createProduct(admin, { price: '10.00', stock: 5, description: 'keep me' });
    const res = await call('PATCH', `/products/${created.id}/`, { token: admin.access, body: { price: '12.34' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...created, price: '12.34', updated_at: expect.any(String) });
  });

  it('marks a hand-written description manual, and clearing it resets the status', async () => {
    const created = await createProduct(admin);
    const written = await call('PATCH', `/products/${created.id}/`, { token: admin.access, body: { description: 'Written by hand.' } });
    expect(written.body).toMatchObject({ description_status: 'ready', description_source: 'manual' });
    const cleared = await call('PATCH', `/products/${created.id}/`, { token: admin.access, body: { description: '' } });
    expect(cleared.body).toMatchObject({ description: '', description_status: 'none', description_source: null });
  });

  it('accepts an empty patch as a no-op and rejects bad values with field paths', async () => {
    const created = await createProduct(admin);
    const res = await call('PATCH', `/products/${created.id}/`, { token: admin.access, body: {} });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created);
    expectProblem(await call('PATCH', `/products/${created.id}/`, { token: admin.access, body: { stock: -3, price: '0.001' } }), 400, 'validation_failed', ['body.stock', 'body.price']);
  });

  it('answers 404, 401 and 403 as documented', async () => {
    expectProblem(await call('PATCH', '/products/99999999/', { token: admin.access, body: { stock: 1 } }), 404, 'not_found');
    const created = await createProduct(admin);
    expectProblem(await call('PATCH', `/products/${created.id}/`, { body: { stock: 1 } }), 401, 'unauthorized');
    expectProblem(await call('PATCH', `/products/${created.id}/`, { token: customer.access, body: { stock: 1 } }), 403, 'forbidden');
    expect((await call('GET', `/products/${created.id}/`)).body.stock).toBe(created.stock);
  });
});

describe('DELETE /products/{id}/', () => {
  it('deletes as admin (204), then the product is gone', async () => {
    const created = await createProduct(admin);
    const res = await call('DELETE', `/products/${created.id}/`, { token: admin.access });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectProblem(await call('GET', `/products/${created.id}/`), 404, 'not_found');
    expectProblem(await call('DELETE', `/products/${created.id}/`, { token: admin.access }), 404, 'not_found');
  });

  it('is admin-only', async () => {
    const created = await createProduct(admin);
    expectProblem(await call('DELETE', `/products/${created.id}/`), 401, 'unauthorized');
    expectProblem(await call('DELETE', `/products/${created.id}/`, { token: customer.access }), 403, 'forbidden');
    expect((await call('GET', `/products/${created.id}/`)).status).toBe(200);
  });
});
