import { env } from 'cloudflare:workers';
import { beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { RATE_LIMITS } from '../src/lib/rate-limit.ts';
import { call, expectProblem } from './support/api.ts';
import { createProduct } from './support/products.ts';
import { addToCart } from './support/shop.ts';
import { createUser, login, type TestUser, uniqueAddress, uniqueName } from './support/users.ts';

let admin: TestUser;

beforeAll(async () => {
  admin = await createUser('admin');
});

// The production limits: the suite runs with RATE_LIMIT_MULTIPLIER=1000, read per request.
beforeEach(() => {
  const multiplier = env.RATE_LIMIT_MULTIPLIER;
  env.RATE_LIMIT_MULTIPLIER = '1';
  onTestFinished(() => {
    env.RATE_LIMIT_MULTIPLIER = multiplier;
  });
});

function expectHeaders(res: { headers: Headers }, name: string, limit: number, window: number, remaining: number) {
  expect(res.headers.get('RateLimit-Policy')).toBe(`"${name}";q=${limit};w=${window}`);
  const match = new RegExp(`^"${name}";r=(\\d+);t=(\\d+)$`).exec(res.headers.get('RateLimit') ?? '');
  expect(match, res.headers.get('RateLimit') ?? 'no RateLimit header').not.toBeNull();
  expect(Number(match![1])).toBe(remaining);
  expect(Number(match![2])).toBeGreaterThan(0);
  expect(Number(match![2])).toBeLessThanOrEqual(window);
}

describe('rate limits', () => {
  it('register: 5 per minute per client address, then 429 with Retry-After; another address is unaffected', async () => {
    const address = uniqueAddress();
    const register = (addr: string) => {
      const username = uniqueName('rl');
      return call('POST', '/auth/register/', { body: { username, email: `${username}@example.com`, password: 'long enough pw' }, headers: { 'CF-Connecting-IP': addr } });
    };
    const { limit, windowSeconds } = RATE_LIMITS.register;
    for (let i = 0; i < limit; i++) {
      const res = await register(address);
      expect(res.status).toBe(201);
      expectHeaders(res, 'register', limit, windowSeconds, limit - 1 - i);
    }
    const refused = await register(address);
    expectProblem(refused, 429, 'rate_limited');
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    expectHeaders(refused, 'register', limit, windowSeconds, 0);
    expect((await register(uniqueAddress())).status).toBe(201);
  });

  it('checkout: 10 per minute per user; the limit is per user, and a refused checkout orders nothing', async () => {
    const [user, other] = await Promise.all([createUser(), createUser()]);
    const product = await createProduct(admin, { stock: 100 });
    const { limit } = RATE_LIMITS.checkout;
    for (let i = 0; i < limit; i++) {
      // Empty-cart 400s count too: the limit is on attempts.
      const res = await call('POST', '/orders/', { token: user.access });
      expect(res.status).toBe(400);
      expectHeaders(res, 'checkout', limit, 60, limit - 1 - i);
    }
    await addToCart(user, product.id, 1);
    const refused = await call('POST', '/orders/', { token: user.access });
    expectProblem(refused, 429, 'rate_limited');
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect((await call('GET', '/orders/', { token: user.access })).body.count).toBe(0);
    await addToCart(other, product.id, 1);
    const allowed = await call('POST', '/orders/', { token: other.access });
    expect(allowed.status).toBe(201);
    expectHeaders(allowed, 'checkout', limit, 60, limit - 1);
  });

  it('checkout and payments: a replay of an Idempotency-Key is not counted', async () => {
    const user = await createUser();
    const product = await createProduct(admin, { stock: 10 });
    await addToCart(user, product.id, 1);
    const first = await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': 'rl-checkout' } });
    expect(first.status).toBe(201);
    expectHeaders(first, 'checkout', RATE_LIMITS.checkout.limit, 60, RATE_LIMITS.checkout.limit - 1);
    for (let i = 0; i < 3; i++) {
      const replay = await call('POST', '/orders/', { token: user.access, headers: { 'Idempotency-Key': 'rl-checkout' } });
      expect(replay.headers.get('Idempotent-Replayed')).toBe('true');
      expect(replay.body.id).toBe(first.body.id);
    }
    // The next attempt is the second one counted.
    expectHeaders(await call('POST', '/orders/', { token: user.access }), 'checkout', RATE_LIMITS.checkout.limit, 60, RATE_LIMITS.checkout.limit - 2);

    const pay = (key: string) => call('POST', '/payments/', { token: user.access, headers: { 'Idempotency-Key': key }, body: { order_id: first.body.id } });
    const paid = await pay('rl-payment');
    expect(paid.status).toBe(202);
    expectHeaders(paid, 'payment', RATE_LIMITS.payment.limit, 60, RATE_LIMITS.payment.limit - 1);
    for (let i = 0; i < 3; i++) expect((await pay('rl-payment')).headers.get('Idempotent-Replayed')).toBe('true');
    const next = await call('POST', '/payments/', { token: user.access, body: { order_id: 99_999_999 } });
    expect(next.status).toBe(404);
    expectHeaders(next, 'payment', RATE_LIMITS.payment.limit, 60, RATE_LIMITS.payment.limit - 2);
  });

  it('payments: 10 attempts per minute per user', async () => {
    const user = await createUser();
    const { limit } = RATE_LIMITS.payment;
    for (let i = 0; i < limit; i++) {
      const res = await call('POST', '/payments/', { token: user.access, body: { order_id: 99_999_999 } });
      expect(res.status).toBe(404);
    }
    const refused = await call('POST', '/payments/', { token: user.access, body: { order_id: 99_999_999 } });
    expectProblem(refused, 429, 'rate_limited');
    expectHeaders(refused, 'payment', limit, 60, 0);
  });

  it('generate-description: 30 per minute per admin', async () => {
    const product = await createProduct(admin);
    const { limit } = RATE_LIMITS.generateDescription;
    // Concurrent is fine: the limiter object serialises them.
    const results = await Promise.all(Array.from({ length: limit + 3 }, () => call('POST', `/products/${product.id}/generate-description/`, { token: admin.access })));
    expect(results.filter((r) => r.status === 202)).toHaveLength(limit);
    for (const r of results.filter((r) => r.status !== 202)) expectProblem(r, 429, 'rate_limited');
  });

  it('login: the failure budget of the account in the headers, then 429', async () => {
    const user = await createUser();
    const address = uniqueAddress();
    const ok = await login(user.username, user.password, address);
    expect(ok.status).toBe(200);
    expectHeaders(ok, 'login', 5, 900, 5);
    for (let i = 0; i < 5; i++) {
      const res = await login(user.username, 'wrong password!', address);
      expect(res.status).toBe(401);
      expectHeaders(res, 'login', 5, 900, 4 - i);
    }
    const locked = await login(user.username, user.password, address);
    expectProblem(locked, 429, 'rate_limited');
    expectHeaders(locked, 'login', 5, 900, 0);
  });
});
