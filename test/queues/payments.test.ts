import { createExecutionContext, createScheduledController } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index.ts';
import { QUEUE_NAMES } from '../../src/queues/index.ts';
import { processPayment } from '../../src/queues/payments.ts';
import { reconcile } from '../../src/queues/reconcile.ts';
import { call } from '../support/api.ts';
import { createProduct } from '../support/products.ts';
import { deliverBatch } from '../support/queues.ts';
import { placeOrder, settledPayment } from '../support/shop.ts';
import { createUser, type TestUser } from '../support/users.ts';

let admin: TestUser;

beforeAll(async () => {
  admin = await createUser('admin');
});

/** A pending payment whose message was never sent: as after a failed send or a crash. */
async function strandedPayment(user: TestUser, enqueuedSecondsAgo: number, createdSecondsAgo = enqueuedSecondsAgo) {
  const product = await createProduct(admin, { price: '3.00', stock: 20 });
  const order = await placeOrder(user, [[product.id, 1]]);
  const at = (s: number) => new Date(Date.now() - s * 1000).toISOString();
  const row = await env.DB.prepare(
    "INSERT INTO payments (ref, order_id, user_id, status, amount_cents, currency, enqueued_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', 300, 'USD', ?, ?, ?) RETURNING id",
  )
    .bind(crypto.randomUUID(), order.id, user.id, at(enqueuedSecondsAgo), at(createdSecondsAgo), at(createdSecondsAgo))
    .first<{ id: number }>();
  return { order, paymentId: row!.id };
}

const deliver = (queue: string, bodies: unknown[]) => deliverBatch(queue, bodies.map((body) => ({ body })));

const paymentRow = (id: number) => env.DB.prepare('SELECT status, failure_reason, updated_at FROM payments WHERE id = ?').bind(id).first();
const orderRow = (id: number) => env.DB.prepare('SELECT status, updated_at FROM orders WHERE id = ?').bind(id).first();

describe('payments queue consumer', () => {
  it('changes nothing when a message is delivered twice', async () => {
    const user = await createUser();
    const { order, paymentId } = await strandedPayment(user, 0);
    const first = await deliver(QUEUE_NAMES.payments, [{ payment_id: paymentId }]);
    expect(first.result.explicitAcks).toHaveLength(1);
    const [payment, paid] = [await paymentRow(paymentId), await orderRow(order.id)];
    expect(payment).toMatchObject({ status: 'succeeded' });
    expect(paid).toMatchObject({ status: 'paid' });
    await new Promise((r) => setTimeout(r, 5));
    const second = await deliver(QUEUE_NAMES.payments, [{ payment_id: paymentId }, { payment_id: paymentId }]);
    expect(second.result.explicitAcks).toHaveLength(2);
    expect(second.result.retryMessages).toEqual([]);
    expect(await paymentRow(paymentId)).toEqual(payment);
    expect(await orderRow(order.id)).toEqual(paid);
  });

  it('acks each message on its own: a malformed body does not hold back or redo the others', async () => {
    const user = await createUser();
    const { paymentId } = await strandedPayment(user, 0);
    const { batch, result } = await deliver(QUEUE_NAMES.payments, [{ payment_id: 'nope' }, { payment_id: paymentId }, null]);
    expect(result.ackAll).toBe(false);
    expect(result.retryBatch.retry).toBe(false);
    expect([...result.explicitAcks].sort()).toEqual(batch.messages.map((m) => m.id).sort());
    expect(await paymentRow(paymentId)).toMatchObject({ status: 'succeeded' });
  });

  it('retries only the message whose work failed, with a backoff delay', async () => {
    const user = await createUser();
    const { paymentId } = await strandedPayment(user, 0);
    const broken = {
      ...env,
      DB: {
        prepare: () => {
          throw new Error('D1 unavailable');
        },
      } as unknown as D1Database,
    };
    const { result, retries } = await deliverBatch(QUEUE_NAMES.payments, [{ id: 'fails', attempts: 3, body: { payment_id: paymentId } }], broken);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(['fails']);
    // Attempt 3: full jitter under a ceiling of 2 * 2^2 = 8 seconds.
    expect(retries.get('fails')?.delaySeconds).toBeGreaterThanOrEqual(1);
    expect(retries.get('fails')?.delaySeconds).toBeLessThanOrEqual(8);
    expect(await paymentRow(paymentId)).toMatchObject({ status: 'pending' });
  });

  it('fails a payment whose order was cancelled meanwhile (order_not_payable), leaving the order cancelled', async () => {
    const user = await createUser();
    const { order, paymentId } = await strandedPayment(user, 0);
    await env.DB.prepare("UPDATE orders SET status = 'cancelled' WHERE id = ?").bind(order.id).run();
    expect(await processPayment(env, paymentId)).toEqual({ ack: true });
    expect(await paymentRow(paymentId)).toMatchObject({ status: 'failed', failure_reason: 'order_not_payable' });
    expect(await orderRow(order.id)).toMatchObject({ status: 'cancelled' });
  });

  it('fails a payment whose message reached the dead-letter queue (processing_failed), never leaving it pending', async () => {
    const user = await createUser();
    const { order, paymentId } = await strandedPayment(user, 0);
    const { result } = await deliver(QUEUE_NAMES.paymentsDeadLetter, [{ payment_id: paymentId }]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await paymentRow(paymentId)).toMatchObject({ status: 'failed', failure_reason: 'processing_failed' });
    expect(await orderRow(order.id)).toMatchObject({ status: 'pending' });
  });
});

describe('reconciler (Cron Trigger)', () => {
  it('re-sends a payment stranded in pending, and the queue then decides it', async () => {
    const user = await createUser();
    const { order, paymentId } = await strandedPayment(user, 300);
    const report = await reconcile(env);
    expect(report.resent).toContain(paymentId);
    const row = await env.DB.prepare('SELECT enqueued_at FROM payments WHERE id = ?').bind(paymentId).first<{ enqueued_at: string }>();
    expect(Date.now() - Date.parse(row!.enqueued_at)).toBeLessThan(10_000);
    // The real queue delivers the re-sent message to the consumer.
    expect((await settledPayment(user, paymentId)).status).toBe('succeeded');
    expect((await call('GET', `/orders/${order.id}/`, { token: user.access })).body.status).toBe('paid');
    // Decided: a later run leaves it alone.
    expect((await reconcile(env)).resent).not.toContain(paymentId);
  });

  it('leaves a recently sent payment alone, and fails one pending past the timeout', async () => {
    const user = await createUser();
    const recent = await strandedPayment(user, 5);
    const ancient = await strandedPayment(user, 120, 20 * 60);
    const report = await reconcile(env);
    expect(report.resent).not.toContain(recent.paymentId);
    expect(report.timedOut).toContain(ancient.paymentId);
    expect(report.resent).not.toContain(ancient.paymentId);
    expect(await paymentRow(ancient.paymentId)).toMatchObject({ status: 'failed', failure_reason: 'processing_timeout' });
  });

  it('purges idempotency keys older than 24 hours and keeps younger ones', async () => {
    const user = await createUser();
    const insert = (key: string, hoursAgo: number) => {
      const at = new Date(Date.now() - hoursAgo * 3_600_000).toISOString();
      return env.DB.prepare(
        'INSERT INTO idempotency_keys (user_id, key, request_hash, locked_at, response_status, response_body, created_at) VALUES (?, ?, ?, ?, 201, ?, ?)',
      )
        .bind(user.id, key, 'h', at, '{}', at)
        .run();
    };
    await insert('old', 25);
    await insert('young', 23);
    await reconcile(env);
    const keys = await env.DB.prepare('SELECT key FROM idempotency_keys WHERE user_id = ? ORDER BY key').bind(user.id).all<{ key: string }>();
    expect(keys.results.map((k) => k.key)).toEqual(['young']);
  });

  it('runs from the scheduled handler', async () => {
    const user = await createUser();
    const { paymentId } = await strandedPayment(user, 300);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '* * * * *', scheduledTime: Date.now() }), env, ctx);
    const row = await env.DB.prepare('SELECT enqueued_at FROM payments WHERE id = ?').bind(paymentId).first<{ enqueued_at: string }>();
    expect(Date.now() - Date.parse(row!.enqueued_at)).toBeLessThan(10_000);
  });
});
