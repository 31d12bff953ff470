import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import committed from '../openapi.json';
import { call } from './support/api.ts';
import { createUser, type TestUser } from './support/users.ts';

let admin: TestUser;

beforeAll(async () => {
  admin = await createUser('admin');
});

/** Every documented operation, with `{id}` left to fill. */
const operations = Object.entries(committed.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
  Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })),
);

describe('no input causes a 5xx', () => {
  it('documents the operations this test walks', () => {
    expect(operations.length).toBeGreaterThanOrEqual(15);
  });

  it('answers every documented operation with < 500 for arbitrary ids, queries and JSON bodies, as admin (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...operations),
        fc.oneof(fc.integer({ min: -5, max: 5 }).map(String), fc.string({ maxLength: 30 })),
        fc.dictionary(fc.constantFrom('page', 'page_size', 'q', 'category', 'min_price', 'max_price', 'in_stock', 'ordering'), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
        fc.jsonValue({ maxDepth: 3 }),
        async (op, id, query, body) => {
          const path = op.path.replace('{id}', encodeURIComponent(id));
          const search = new URLSearchParams(query).toString();
          // Logout and refresh would spend the admin's own tokens; they take arbitrary bodies all the same.
          const res = await call(op.method, `${path}${search ? `?${search}` : ''}`, {
            token: admin.access,
            ...(op.method === 'GET' || op.method === 'DELETE' ? {} : { body }),
          });
          expect(res.status, `${op.method} ${path}?${search} ${JSON.stringify(body)} -> ${res.text.slice(0, 300)}`).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
  });
});
