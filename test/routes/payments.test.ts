import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { PaymentSchema } from '../../src/routes/payments/payments.schemas.ts';
import { call, expectProblem } from '../support/api.ts';
import { interceptD1 } from '../support/d1.ts';
import { createProduct } from '../support/products.ts';
import { countRows, placeOrder, settledPayment } from '../support/shop.ts';
import { authMatrix, createUser, type TestUser } from '../support/users.ts';

let customer: TestUser;
let other: TestUser;
let admin: TestUser;

beforeAll(async () => {
  ({ customer, other, admin } = await authMatrix());
});

async function newOrder(user: TestUser, price = '12.34', quantity = 2) {
  const product = await createProduct(admin, { price, stock: 50 });
  return placeOrder(user, [[product.id, quantity]]);
}

const orderStatus = async (user: TestUser, id: number) => (await call('GET', `/orders/${id}/`, { token: user.access })).body.status as string;

describe('POST /payments/', () => {
  it('answers 202 pending for the order total, never echoes the card, and the queue marks it succeeded and the order paid', async () => {
    const user = await createUser();
    const order = await newOrder(user, '12.34', 2);
    const res = await call('POST', '/payments/', { token: user.access, body: { order_id: order.id, card_number: '4242 4242 4242 4242' } });
    expect(res.status, res.text).toBe(202);
    const payment = PaymentSchema.parse(res.body);
    expect(payment).toEqual({
      id: expect.any(Number),
      order_id: order.id,
      status: 'pending',
      amount: '24.68',
      currency: 'USD',
      failure_reason: null,
      card_last4: '4242',
      created_at: expect.stringMatching(/Z$/),
      updated_at: payment.created_at,
    });
    expect(res.text).not.toMatch(/4242424242424242|4242 4242 4242 4242/);
    const row = await env.DB.prepare('SELECT * FROM payments WHERE id = ?').bind(payment.id).first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain('4242424242424242');
    expect(row?.['amount_cents']).toBe(2468);
    const settled = await settledPayment(user, payment.id);
    expect(settled).toMatchObject({ status: 'succeeded', failure_reason: null, amount: '24.68' });
    expect(await orderStatus(user, order.id)).toBe('paid');
  });

  it('succeeds without a card number', async () => {
    const user = await createUser();
    const order = await newOrder(user);
    const res = await call('POST', '/payments', { token: user.access, body: { order_id: order.id } });
    expect(res.status).toBe(202);
    expect(res.body.card_last4).toBeNull();
    expect((await settledPayment(user, res.body.id)).status).toBe('succeeded');
  });

  it('takes the amount from the order, never from the client', async () => {
    const user = await createUser();
    const order = await newOrder(user, '5.00', 1);
    const res = await call('POST', '/payments/', { token: user.access, body: { order_id: order.id, amount: '0.01' } });
    expect(res.status).toBe(202);
    expect(res.body.amount).toBe('5.00');
  });

  it('declines card 4000000000000002 (card_declined); the order stays pending and a new attempt can succeed', async () => {
    const user = await createUser();
    const order = await newOrder(user);
    const declined = await call('POST', '/payments/', { token: user.access, body: { order_id: order.id, card_number: '4000000000000002' } });
    expect(declined.status).toBe(202);
    expect(await settledPayment(user, declined.body.id)).toMatchObject({ status: 'failed', failure_reason: 'card_declined', card_last4: '0002' });
    expect(await orderStatus(user, order.id)).toBe('pending');
    const retry = await call('POST', '/payments/', { token: user.access, body: { order_id: order.id, card_number: '4242424242424242' } });
    expect(retry.status).toBe(202);
    expect(retry.body.id).not.toBe(declined.body.id);
    expect((await settledPayment(user, retry.body.id)).status).toBe('succeeded');
    expect(await orderStatus(user, order.id)).toBe('paid');
  });

  it('allows at most one pending or succeeded payment per order (409), even when attempts race', async () => {
    const user = await createUser();
    const order = await newOrder(user);
    const results = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/payments/', { token: user.access, body: { order_id: order.id } })));
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 202)) expectProblem(r, 409, 'conflict');
    const paid = results.find((r) => r.status === 202)!;
    await settledPayment(user, paid.body.id);
    expectProblem(await call('POST', '/payments/', { token: user.access, body: { order_id: order.id } }), 409, 'conflict');
    expect(await countRows('payments', "order_id = ? AND status = 'succeeded'", order.id)).toBe(1);
  });

  it('is 409 for a cancelled order, and an order with a payment in flight cannot be cancelled', async () => {
    const user = await createUser();
    const cancelled = await newOrder(user);
    await call('POST', `/orders/${cancelled.id}/cancel/`, { token: user.access });
    expectProblem(await call('POST', '/payments/', { token: user.access, body: { order_id: cancelled.id } }), 409, 'conflict');

    const inFlight = await newOrder(user);
    const now = new Date().toISOString();
    // A pending payment the processor has not decided yet (inserted directly: no message races this test).
    await env.DB.prepare(
      "INSERT INTO payments (ref, order_id, user_id, status, amount_cents, currency, enqueued_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', 100, 'USD', ?, ?, ?)",
    )
      .bind(crypto.randomUUID(), inFlight.id, user.id, now, now, now)
      .run();
    const res = await call('POST', `/orders/${inFlight.id}/cancel/`, { token: user.access });
    expectProblem(res, 409, 'conflict');
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(await orderStatus(user, inFlight.id)).toBe('pending');
  });

  it.each([['4242424242424241'], ['1234'], ['4242-4242-4242-424x'], ['']])('rejects card number %j with 400 naming body.card_number', async (card_number) => {
    const user = await createUser();
    const order = await newOrder(user);
    const res = await call('POST', '/payments/', { token: user.access, body: { order_id: order.id, card_number } });
    expectProblem(res, 400, 'validation_failed', ['body.card_number']);
    expect(res.text).not.toContain(card_number || 'never');
    expect(await countRows('payments', 'order_id = ?', order.id)).toBe(0);
  });

  it('rejects a missing or malformed order_id with 400', async () => {
    expectProblem(await call('POST', '/payments/', { token: customer.access, body: {} }), 400, 'validation_failed', ['body.order_id']);
    expectProblem(await call('POST', '/payments/', { token: customer.access, body: { order_id: 'one' } }), 400, 'validation_failed', ['body.order_id']);
  });

  it("auth matrix: 401 anonymous, 404 another customer's order, 403 an admin paying someone else's", async () => {
    const order = await newOrder(customer);
    expectProblem(await call('POST', '/payments/', { body: { order_id: order.id } }), 401, 'unauthorized');
    expectProblem(await call('POST', '/payments/', { token: other.access, body: { order_id: order.id } }), 404, 'not_found', ['body.order_id']);
    expectProblem(await call('POST', '/payments/', { token: admin.access, body: { order_id: order.id } }), 403, 'forbidden');
    expectProblem(await call('POST', '/payments/', { token: customer.access, body: { order_id: 99_999_999 } }), 404, 'not_found');
    expect(await countRows('payments', 'order_id = ?', order.id)).toBe(0);
  });
});

describe('Idempotency-Key on POST /payments/', () => {
  it('replays the first payment for the same key and body; 422 for another body; one payment', async () => {
    const user = await createUser();
    const order = await newOrder(user);
    const key = crypto.randomUUID();
    const body = { order_id: order.id, card_number: '4242424242424242' };
    const first = await call('POST', '/payments/', { token: user.access, headers: { 'Idempotency-Key': key }, body });
    expect(first.status).toBe(202);
    // Same JSON, keys in another order and other spacing: the same request.
    const retry = await call('POST', '/payments/', {
      token: user.access,
      headers: { 'Idempotency-Key': key, 'Content-Type': 'application/json' },
      rawBody: `{ "card_number": "4242424242424242",  "order_id": ${order.id} }`,
    });
    expect(retry.status).toBe(202);
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expectProblem(
      await call('POST', '/payments/', { token: user.access, headers: { 'Idempotency-Key': key }, body: { order_id: order.id, card_number: '4000000000000002' } }),
      422,
      'unprocessable',
    );
    expect(await countRows('payments', 'order_id = ?', order.id)).toBe(1);
  });

  it('gives exactly one payment when the same key arrives several times at once', async () => {
    const user = await createUser();
    const order = await newOrder(user);
    const key = crypto.randomUUID();
    const results = await Promise.all(
      Array.from({ length: 4 }, () => call('POST', '/payments/', { token: user.access, headers: { 'Idempotency-Key': key }, body: { order_id: order.id } })),
    );
    const accepted = results.filter((r) => r.status === 202);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    for (const r of accepted) expect(r.body.id).toBe(accepted[0]?.body.id);
    for (const r of results.filter((r) => r.status !== 202)) expect(r.status).toBe(409);
    expect(await countRows('payments', 'order_id = ?', order.id)).toBe(1);
  });

  it('makes no payment when its key was taken over and freed before the batch (a stalled request)', async () => {
    const user = await createUser();
    const order = await newOrder(user);
    const key = crypto.randomUUID();
    let freed = false;
    const restore = interceptD1({
      batch: async (statements, batch) => {
        if (!freed) {
          freed = true;
          await env.DB.prepare('DELETE FROM idempotency_keys WHERE user_id = ? AND key = ?').bind(user.id, key).run();
        }
        return batch(statements);
      },
    });
    let res;
    try {
      res = await call('POST', '/payments/', { token: user.access, headers: { 'Idempotency-Key': key }, body: { order_id: order.id } });
    } finally {
      restore();
    }
    expectProblem(res, 409, 'conflict');
    expect(res.body.detail).toMatch(/took over this Idempotency-Key/);
    expect(await countRows('payments', 'order_id = ?', order.id)).toBe(0);
  });
});

describe('GET /payments/ and /payments/{id}/', () => {
  it('shows a payment to its payer and admins; 404 to another customer; 401 anonymous', async () => {
    const order = await newOrder(customer);
    const created = await call('POST', '/payments/', { token: customer.access, body: { order_id: order.id } });
    const id = created.body.id as number;
    expect((await call('GET', `/payments/${id}/`, { token: customer.access })).status).toBe(200);
    expect((await call('GET', `/payments/${id}`, { token: admin.access })).body.order_id).toBe(order.id);
    expectProblem(await call('GET', `/payments/${id}/`, { token: other.access }), 404, 'not_found');
    expectProblem(await call('GET', `/payments/${id}/`), 401, 'unauthorized');
    expectProblem(await call('GET', '/payments/0/', { token: customer.access }), 400, 'validation_failed', ['path.id']);
  });

  it("lists your own payments newest first; admins see everyone's; order_id filters", async () => {
    const user = await createUser();
    const o1 = await newOrder(user);
    const o2 = await newOrder(user);
    const p1 = await call('POST', '/payments/', { token: user.access, body: { order_id: o1.id } });
    const p2 = await call('POST', '/payments/', { token: user.access, body: { order_id: o2.id } });
    const mine = await call('GET', '/payments/', { token: user.access });
    expect(mine.body.results.map((p: { id: number }) => p.id)).toEqual([p2.body.id, p1.body.id]);
    expect((await call('GET', '/payments/', { token: other.access })).body.results.map((p: { id: number }) => p.id)).not.toContain(p1.body.id);
    const filtered = await call('GET', `/payments/?order_id=${o1.id}`, { token: admin.access });
    expect(filtered.body.results.map((p: { id: number }) => p.id)).toEqual([p1.body.id]);
    expectProblem(await call('GET', '/payments/'), 401, 'unauthorized');
  });
});
