import { z } from 'zod';
import type { Bindings } from '../env.ts';
import { cardFingerprint } from '../lib/cards.ts';
import { logLine } from '../lib/log.ts';
import { guardedStatus } from '../lib/transitions.ts';
import { ACK, consumeEach, type Outcome } from './consume.ts';

/**
 * The mock payment processor. It plays the part a real processor's webhook would: it decides
 * a pending payment and, on success, marks the order paid. Card `4000000000000002` is declined
 * (Stripe's test card for `card_declined`); any other valid card, or none, succeeds.
 *
 * Delivery is at least once, so every step is a guarded transition: a message delivered again,
 * or one the reconciler re-sent, finds the payment no longer `pending` and changes nothing.
 */
export const DECLINED_TEST_CARD = '4000000000000002';

export const PaymentMessageSchema = z.object({ payment_id: z.number().int().positive() });
export type PaymentMessage = z.infer<typeof PaymentMessageSchema>;

export type FailureReason = 'card_declined' | 'order_not_payable' | 'processing_failed' | 'processing_timeout';

interface PendingPayment {
  id: number;
  order_id: number;
  status: string;
  card_fingerprint: string | null;
}

/** Marks a pending payment failed; a no-op for one already decided. Returns whether it changed. */
export async function failPayment(d1: D1Database, id: number, reason: FailureReason, now = new Date().toISOString()): Promise<boolean> {
  const result = await guardedStatus(d1, 'payments', id, 'pending', 'failed', now, { set: { sql: 'failure_reason = ?', params: [reason] } }).run();
  return result.meta.changes > 0;
}

export async function processPayment(env: Bindings, id: number): Promise<Outcome> {
  const d1 = env.DB;
  const payment = await d1
    .prepare('SELECT id, order_id, status, card_fingerprint FROM payments WHERE id = ?')
    .bind(id)
    .first<PendingPayment>();
  // Unknown or already decided: a duplicate delivery. Nothing to do.
  if (!payment || payment.status !== 'pending') return ACK;

  const now = new Date().toISOString();
  const declined = payment.card_fingerprint !== null && payment.card_fingerprint === (await cardFingerprint(DECLINED_TEST_CARD, env.JWT_SECRET));
  if (declined) {
    await failPayment(d1, id, 'card_declined', now);
    logLine(env, 'info', 'payment declined', { payment_id: id, order_id: payment.order_id });
    return ACK;
  }

  // One transaction: the payment succeeds only while its order is still pending, and the order
  // becomes paid only by the payment that just succeeded. Neither half can happen alone.
  const [succeeded] = await d1.batch([
    guardedStatus(d1, 'payments', id, 'pending', 'succeeded', now, {
      where: { sql: "EXISTS (SELECT 1 FROM orders WHERE id = ? AND status = 'pending')", params: [payment.order_id] },
    }),
    guardedStatus(d1, 'orders', payment.order_id, 'pending', 'paid', now, {
      where: { sql: "EXISTS (SELECT 1 FROM payments WHERE id = ? AND status = 'succeeded')", params: [id] },
    }),
  ]);
  if ((succeeded?.meta.changes ?? 0) > 0) {
    logLine(env, 'info', 'payment succeeded', { payment_id: id, order_id: payment.order_id });
    return ACK;
  }
  // Still pending but its order is not: the order was cancelled or paid some other way.
  if (await failPayment(d1, id, 'order_not_payable', now)) {
    logLine(env, 'warn', 'payment failed: order not payable', { payment_id: id, order_id: payment.order_id });
  }
  return ACK;
}

/** Consumer of the payments queue. */
export async function consumePayments(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  await consumeEach(batch, env, PaymentMessageSchema, (body) => processPayment(env, body.payment_id));
}

/**
 * Consumer of the payments dead-letter queue: a message lands there after every retry failed.
 * The payment ends `failed` with a reason, so the customer can try again; never stuck.
 */
export async function consumePaymentFailures(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  await consumeEach(batch, env, PaymentMessageSchema, async (body) => {
    if (await failPayment(env.DB, body.payment_id, 'processing_failed')) {
      logLine(env, 'error', 'payment failed after every retry', { payment_id: body.payment_id });
    }
    return ACK;
  });
}
