import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { call } from './support/api.ts';
import { createProduct } from './support/products.ts';
import { addToCart } from './support/shop.ts';
import { createUser, login, type TestUser } from './support/users.ts';

let admin: TestUser;

beforeAll(async () => {
  admin = await createUser('admin');
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('response headers', () => {
  it('marks every authenticated response, and every token response, private and no-store', async () => {
    const user = await createUser();
    const product = await createProduct(admin);
    await addToCart(user, product.id, 1);
    const responses = [
      await call('GET', '/cart/', { token: user.access }),
      await call('GET', '/users/me/', { token: user.access }),
      await call('POST', '/orders/', { token: user.access }),
      await call('GET', '/orders/99999999/', { token: user.access }),
      await call('GET', `/products/${product.id}/`, { token: user.access }),
      await call('GET', '/cart/', { token: 'not-a-token' }),
      await login(user.username, user.password),
      await call('POST', '/auth/refresh/', { body: { refresh: user.refresh } }),
    ];
    for (const res of responses) expect(res.headers.get('Cache-Control'), res.text.slice(0, 80)).toBe('private, no-store');
  });

  it('leaves anonymous catalog reads cacheable (no private/no-store)', async () => {
    const res = await call('GET', '/products/');
    expect(res.headers.get('Cache-Control') ?? '').not.toMatch(/private|no-store/);
  });

  it('sends nosniff on every response, errors included', async () => {
    for (const res of [await call('GET', '/health'), await call('GET', '/nowhere'), await call('POST', '/cart/', { body: {} })]) {
      expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    }
  });

  it('never combines a wildcard origin with credentials', async () => {
    const res = await call('OPTIONS', '/cart/', {
      headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(res.headers.get('Access-Control-Allow-Credentials')).toBeNull();
  });
});

describe('logs', () => {
  it('never contain passwords, tokens, card numbers or secrets', async () => {
    const lines: string[] = [];
    // Every level, for this test only (the suite runs at `error`); the worker reads it per request.
    const level = env.LOG_LEVEL;
    env.LOG_LEVEL = 'debug';
    onTestFinished(() => {
      env.LOG_LEVEL = level;
    });
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(' '));
      });
    }
    const password = 'Sekret-Passw0rd-For-Log-Test';
    const user = await createUser('customer', { password });
    const product = await createProduct(admin, { stock: 5 });
    await addToCart(user, product.id, 1);
    const order = await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': 'log-test-key' } });
    const card = '4000000000000002';
    await call('POST', '/payments/', { token: user.access, body: { order_id: order.body.id, card_number: card } });
    await call('POST', '/payments/', { token: user.access, body: { order_id: order.body.id, card_number: '4242424242424241' } });
    await login(user.username, 'wrong password entirely');
    const refreshed = await call('POST', '/auth/refresh/', { body: { refresh: user.refresh } });
    await call('GET', '/users/me/', { token: `${user.access}x` });
    await call('POST', '/auth/logout/', { body: { refresh: refreshed.body.refresh } });

    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThan(5);
    // The request log does see these requests...
    expect(text).toMatch(/"path":"\/payments\/"/);
    // ...but none of what they carried.
    for (const secret of [password, 'wrong password entirely', user.access, user.refresh, refreshed.body.access, refreshed.body.refresh, card, '4242424242424241', 'test-only-jwt-secret']) {
      expect(text).not.toContain(secret);
    }
  });
});
