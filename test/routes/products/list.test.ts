import { beforeAll, describe, expect, it } from 'vitest';
import { ProductPageSchema } from '../../../src/routes/products/products.schemas.ts';
import { call, expectProblem } from '../../support/api.ts';
import { createProduct } from '../../support/products.ts';
import { createUser, type TestUser, uniqueName } from '../../support/users.ts';

let admin: TestUser;
let category: string;
const prices = ['5.00', '19.99', '0.10', '100.00', '42.50'];
const names = ['delta lamp', 'Alpha desk', 'echo rug', 'Charlie shelf', 'bravo stool'];

beforeAll(async () => {
  admin = await createUser('admin');
  category = uniqueName('List');
  // Created one by one so created_at follows the array order.
  for (let i = 0; i < prices.length; i++) {
    await createProduct(admin, { category, name: names[i], price: prices[i], stock: i === 2 ? 0 : i + 1 });
  }
});

const list = (query: string) => call('GET', `/products/?category=${encodeURIComponent(category)}&${query}`);

describe('GET /products/ filters', () => {
  it('filters by category, case-insensitively, and validates the page shape', async () => {
    const res = await call('GET', `/products/?category=${encodeURIComponent(category.toUpperCase())}`);
    expect(res.status).toBe(200);
    const page = ProductPageSchema.parse(res.body);
    expect(page.count).toBe(5);
    expect(page.results.every((p) => p.category === category)).toBe(true);
  });

  it('filters by inclusive min_price and max_price', async () => {
    const res = await list('min_price=5&max_price=42.50');
    expect(res.body.results.map((p: { price: string }) => p.price).sort()).toEqual(['19.99', '42.50', '5.00']);
    expect((await list('min_price=100.01')).body.count).toBe(0);
    expect((await list('max_price=0.1')).body.results.map((p: { price: string }) => p.price)).toEqual(['0.10']);
  });

  it('filters in_stock=true and in_stock=false', async () => {
    expect((await list('in_stock=true')).body.count).toBe(4);
    const soldOut = await list('in_stock=false');
    expect(soldOut.body.results.map((p: { name: string }) => p.name)).toEqual(['echo rug']);
  });

  it('rejects bad filter values with the query paths at fault', async () => {
    expectProblem(await list('min_price=abc&in_stock=yes&ordering=stock'), 400, 'validation_failed', ['query.min_price', 'query.in_stock', 'query.ordering']);
    expectProblem(await list('min_price=10&max_price=5'), 400, 'validation_failed', ['query.min_price']);
    expectProblem(await list('max_price=1.001'), 400, 'validation_failed', ['query.max_price']);
  });
});

describe('GET /products/ ordering', () => {
  const order = async (ordering: string, field: 'price' | 'name') =>
    (await list(`ordering=${ordering}`)).body.results.map((p: Record<string, string>) => p[field]);

  it('orders by price numerically, both ways', async () => {
    expect(await order('price', 'price')).toEqual(['0.10', '5.00', '19.99', '42.50', '100.00']);
    expect(await order('-price', 'price')).toEqual(['100.00', '42.50', '19.99', '5.00', '0.10']);
  });

  it('orders by name case-insensitively, both ways', async () => {
    expect(await order('name', 'name')).toEqual(['Alpha desk', 'bravo stool', 'Charlie shelf', 'delta lamp', 'echo rug']);
    expect(await order('-name', 'name')).toEqual(['echo rug', 'delta lamp', 'Charlie shelf', 'bravo stool', 'Alpha desk']);
  });

  it('orders by created_at, newest first by default', async () => {
    expect(await order('created_at', 'name')).toEqual(names);
    expect(await order('-created_at', 'name')).toEqual([...names].reverse());
    expect((await list('')).body.results.map((p: { name: string }) => p.name)).toEqual([...names].reverse());
  });
});

describe('GET /products/ pagination', () => {
  it('walks pages with next/previous links and no overlap', async () => {
    const first = await list('ordering=price&page_size=2');
    expect(first.body).toMatchObject({ count: 5, previous: null });
    expect(first.body.next).toContain('page=2');
    const second = await call('GET', new URL(first.body.next).pathname + new URL(first.body.next).search);
    expect(second.body.results.map((p: { price: string }) => p.price)).toEqual(['19.99', '42.50']);
    expect(new URL(second.body.previous).searchParams.get('page')).toBeNull();
    const last = await list('ordering=price&page_size=2&page=3');
    expect(last.body.results.map((p: { price: string }) => p.price)).toEqual(['100.00']);
    expect(last.body.next).toBeNull();
    expect(new URL(last.body.previous).searchParams.get('page')).toBe('2');
  });

  it('answers 404 for a page past the end, like DRF', async () => {
    const res = await list('page_size=2&page=4');
    expect(expectProblem(res, 404, 'not_found').detail).toMatch(/Invalid page/);
  });

  it('serves page 1 of an empty result, but 404 for page 2', async () => {
    const empty = await call('GET', `/products/?category=${uniqueName('none')}`);
    expect(empty.body).toEqual({ count: 0, next: null, previous: null, results: [] });
    expectProblem(await call('GET', `/products/?category=${uniqueName('none')}&page=2`), 404, 'not_found');
  });

  it('caps page_size at 100', async () => {
    for (let i = 0; i < 3; i++) await createProduct(admin, { category: `${category}-cap` });
    const res = await call('GET', `/products/?page_size=5000`);
    expect(res.status).toBe(200);
    expect(res.body.results.length).toBe(Math.min(100, res.body.count));
    expect(res.body.count).toBeGreaterThanOrEqual(8);
  });

  it('defaults to 20 per page', async () => {
    const res = await call('GET', '/products/');
    expect(res.body.results.length).toBe(Math.min(20, res.body.count));
  });
});

describe('GET /categories/', () => {
  it('lists each category once with its product count, case variants merged', async () => {
    const name = uniqueName('Cat');
    await createProduct(admin, { category: name });
    await createProduct(admin, { category: name.toUpperCase() });
    await createProduct(admin, { category: name });
    const res = await call('GET', '/categories/');
    expect(res.status).toBe(200);
    const mine = res.body.filter((c: { name: string }) => c.name.toLowerCase() === name.toLowerCase());
    expect(mine).toEqual([{ name: expect.any(String), product_count: 3 }]);
    const listed = res.body.find((c: { name: string }) => c.name === category);
    expect(listed).toEqual({ name: category, product_count: 5 });
    const sorted = [...res.body].sort((a: { name: string }, b: { name: string }) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
    expect(res.body.map((c: { name: string }) => c.name.toLowerCase())).toEqual(sorted.map((c: { name: string }) => c.name.toLowerCase()));
  });

  it('drops a category when its last product is deleted', async () => {
    const name = uniqueName('Gone');
    const product = await createProduct(admin, { category: name });
    await call('DELETE', `/products/${product.id}/`, { token: admin.access });
    const res = await call('GET', '/categories');
    expect(res.body.some((c: { name: string }) => c.name === name)).toBe(false);
  });
});
