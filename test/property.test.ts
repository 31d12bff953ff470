import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import committed from '../openapi.json';
import { call } from './support/api.ts';
import { createProduct } from './support/products.ts';
import { addToCart, placeOrder } from './support/shop.ts';
import { authMatrix, type TestUser } from './support/users.ts';

/**
 * Random input on every route, as every kind of caller: random JSON bodies, bodies with the
 * right field names and wrong values, huge and negative numbers, unicode, random query strings,
 * random path ids and wrong content types. Whatever arrives: never a 5xx; every 4xx is a
 * problem document (validation failures name their fields); and a refused request changes
 * nothing: the row counts and the catalog are the same before and after, and so is the cart.
 */
interface Operation {
  method: string;
  path: string;
  fields: string[];
  params: string[];
}

const operations: Operation[] = Object.entries(committed.paths as unknown as Record<string, Record<string, Record<string, unknown>>>).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => {
    const body = (op['requestBody'] as { content?: Record<string, { schema?: { $ref?: string; properties?: Record<string, unknown> } }> } | undefined)?.content?.['application/json']?.schema;
    const ref = body?.$ref?.split('/').pop();
    const schemas = (committed.components as unknown as { schemas: Record<string, { properties?: Record<string, unknown> }> }).schemas;
    const properties = (ref ? schemas[ref]?.properties : body?.properties) ?? {};
    const params = ((op['parameters'] as { name: string; in: string }[] | undefined) ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    return { method: method.toUpperCase(), path, fields: Object.keys(properties), params };
  }),
);

let users: { anonymous: undefined; customer: TestUser; admin: TestUser };
let ids: number[];

beforeAll(async () => {
  const { customer, admin } = await authMatrix();
  users = { anonymous: undefined, customer, admin };
  const product = await createProduct(admin, { stock: 50 });
  const order = await placeOrder(customer, [[product.id, 1]]);
  const line = await addToCart(customer, product.id, 2);
  ids = [product.id, order.id, line.id, customer.id, admin.id];
});

/** What a refused request must leave alone. Statuses are left out: the queue consumers change them in the background. */
async function snapshot() {
  const counts = await env.DB.prepare(
    `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM order_items) AS items,
            (SELECT count(*) FROM payments) AS payments, (SELECT count(*) FROM idempotency_keys WHERE response_status IS NOT NULL) AS keys,
            (SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL AND used_at IS NULL) AS live_tokens,
            (SELECT count(*) FROM products) AS products,
            (SELECT group_concat(id || ':' || name || ':' || category || ':' || price_cents || ':' || stock || ':' || features, '|') FROM products) AS catalog,
            (SELECT group_concat(id || ':' || role, '|') FROM users) AS roles`,
  ).first();
  // The lines only: `removed` is a one-time notice, and this read itself may be the one that
  // drops a line whose product an earlier request deleted.
  const cart = await call('GET', '/cart/', { token: users.customer.access });
  return { counts, cart: cart.body.items };
}

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('', ' ', '0', '-1', '1e309', '9'.repeat(30), '💳', 'null', '<script>'));
const wild = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  text,
  fc.integer(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e300, -1, 0, 0.001, 1.999, 99, 100),
);

const request = fc.record({
  op: fc.constantFrom(...operations),
  caller: fc.constantFrom('anonymous', 'customer', 'admin') as fc.Arbitrary<'anonymous' | 'customer' | 'admin'>,
  id: fc.oneof(fc.constantFrom(...[1, 2, 3].map(String)), fc.integer({ min: -3, max: 2_000_000 }).map(String), text),
  idPick: fc.nat(),
  query: fc.dictionary(fc.oneof(fc.constantFrom('page', 'page_size', 'q', 'category', 'ordering', 'user_id', 'order_id', 'status'), fc.string({ maxLength: 8 })), text, { maxKeys: 3 }),
  body: fc.oneof(wild, fc.dictionary(fc.string({ maxLength: 10 }), wild, { maxKeys: 4 })),
  fieldValues: fc.array(wild, { minLength: 8, maxLength: 8 }),
  shape: fc.constantFrom('json', 'fields', 'raw', 'form', 'none'),
  raw: fc.oneof(text, fc.constant('{"product_id":'), fc.constant('[1,2')),
});

describe('random input on every route', () => {
  it('walks the operations this test draws from', () => {
    expect(operations.length).toBe(30);
  });

  it('never answers 5xx, answers every 4xx as a problem, and a refused request changes nothing (property)', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const id = r.idPick % 3 === 0 ? String(ids[r.idPick % ids.length]) : r.id;
        const path = r.op.path.replace(/\{[^}]+\}/g, encodeURIComponent(id));
        const search = new URLSearchParams(r.query).toString();
        const url = `${path}${search ? `?${search}` : ''}`;
        // Bodies with the operation's own field names and wrong values reach the validators' depths.
        const fields = Object.fromEntries(r.op.fields.map((f, i) => [f, r.fieldValues[i % r.fieldValues.length]]));
        const options =
          r.shape === 'json'
            ? { body: r.body }
            : r.shape === 'fields'
              ? { body: fields }
              : r.shape === 'raw'
                ? { rawBody: r.raw, headers: { 'Content-Type': 'application/json' } }
                : r.shape === 'form'
                  ? { rawBody: 'a=1&b=%F0%9F%92%B3', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }
                  : {};
        // Logout and refresh with the callers' own tokens would spend them: random bodies never are.
        const token = users[r.caller]?.access;
        const before = await snapshot();
        const res = await call(r.op.method, url, { ...(token ? { token } : {}), ...(r.op.method === 'GET' ? {} : options) });
        const context = `${r.caller} ${r.op.method} ${url} ${r.shape} -> ${res.status} ${res.text.slice(0, 200)}`;
        expect(res.status, context).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers.get('Content-Type'), context).toMatch(/^application\/problem\+json/);
          expect(res.body, context).toMatchObject({ status: res.status, type: expect.stringMatching(/^urn:edgeshop:problem:/) });
          if (res.body.type === 'urn:edgeshop:problem:validation-failed') {
            expect(res.body.errors.length, context).toBeGreaterThan(0);
            for (const e of res.body.errors) expect(e.path, context).toMatch(/^(body|query|path|header)(\.|$)/);
          }
          expect(await snapshot(), context).toEqual(before);
        }
      }),
      { numRuns: 400 },
    );
    // 400 runs, each a request plus two snapshots of the tables: seconds by design, more on a
    // loaded machine. The default 5 s would fail it for slowness, not for a wrong answer.
  }, 60_000);
});
