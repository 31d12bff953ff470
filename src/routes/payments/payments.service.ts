import type { D1 } from '../../lib/d1-session.ts';
import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { payments } from '../../db/schema.ts';
import type { Bindings } from '../../env.ts';
import { cardFingerprint } from '../../lib/cards.ts';
import { ApiError } from '../../lib/errors.ts';
import { formatCents } from '../../lib/money.ts';
import { completion, type IdempotencyClaim } from '../../lib/idempotency.ts';
import { errorMessage, logLine } from '../../lib/log.ts';
import { type PageParams, pageWindow } from '../../lib/pagination.ts';
import type { AccessClaims } from '../../lib/tokens.ts';
import type { PaymentMessage } from '../../queues/payments.ts';
import { type Payment, toPayment } from './payments.schemas.ts';

const paymentNotFound = () => new ApiError('not_found', 'No such payment.');
const orderNotFound = () => new ApiError('not_found', 'No such order.', { errors: [{ path: 'body.order_id', message: 'Not one of your orders.' }] });
const alreadyPaying = () => new ApiError('conflict', 'This order is already paid or a payment for it is being processed.');

interface PayableOrder {
  id: number;
  user_id: number;
  status: string;
  total_cents: number;
}

/**
 * Starts a payment: commits a `pending` payment for the order's total (the amount never comes
 * from the client), then sends it to the payments queue, whose consumer decides it. The row is
 * committed first, so a send that fails, or a crash before it, leaves a pending payment the
 * reconciler finds and re-sends: the payment can be late, never lost.
 */
export async function startPayment(
  env: Bindings,
  d1: D1,
  viewer: AccessClaims,
  input: { order_id: number; card_number?: string | undefined },
  claim: IdempotencyClaim | undefined,
): Promise<Payment> {
  const order = await d1.prepare('SELECT id, user_id, status, total_cents FROM orders WHERE id = ?').bind(input.order_id).first<PayableOrder>();
  if (!order || (order.user_id !== viewer.userId && viewer.role !== 'admin')) throw orderNotFound();
  if (order.user_id !== viewer.userId) throw new ApiError('forbidden', "Only the order's owner can pay for it.");
  if (order.status !== 'pending') throw new ApiError('conflict', `This order is ${order.status}; only a pending order can be paid.`, { extensions: { order_status: order.status } });

  const ref = crypto.randomUUID();
  const now = new Date().toISOString();
  const card = input.card_number;
  const fingerprint = card === undefined ? null : await cardFingerprint(card, env.JWT_SECRET);
  const last4 = card === undefined ? null : card.slice(-4);
  // The response, shaped now for the idempotency record; the batch fills in the id. An order's
  // total never changes after checkout, so this amount is the one the insert copies.
  const body: Payment = {
    id: 0,
    order_id: order.id,
    status: 'pending',
    amount: formatCents(order.total_cents),
    currency: env.CURRENCY,
    failure_reason: null,
    card_last4: last4,
    created_at: now,
    updated_at: now,
  };

  let inserted: Record<string, unknown> | undefined;
  try {
    const [result] = await d1.batch<Record<string, unknown>>([
      // Inserts only while the order is pending; the partial unique index refuses a second
      // pending or succeeded payment for the order, whoever races.
      d1
        .prepare(
          `INSERT INTO payments (ref, order_id, user_id, status, amount_cents, currency, card_last4, card_fingerprint, enqueued_at, created_at, updated_at)
           SELECT ?1, id, user_id, 'pending', total_cents, currency, ?2, ?3, ?4, ?4, ?4 FROM orders WHERE id = ?5 AND status = 'pending'
           RETURNING *`,
        )
        .bind(ref, last4, fingerprint, now, order.id),
      ...completion(d1, claim, 202, body, { table: 'payments', ref }),
    ]);
    inserted = result?.results[0];
  } catch (error) {
    const message = errorMessage(error);
    if (/UNIQUE constraint failed: payments\.order_id/i.test(message)) throw alreadyPaying();
    if (/CHECK constraint failed: idempotency_keys/i.test(message)) {
      throw new ApiError('conflict', 'Another request took over this Idempotency-Key; no payment was made by this one.', { headers: { 'Retry-After': '1' } });
    }
    throw error;
  }
  if (!inserted) throw new ApiError('conflict', 'This order is no longer pending; only a pending order can be paid.');

  const id = Number(inserted['id']);
  try {
    await env.PAYMENTS_QUEUE.send({ payment_id: id } satisfies PaymentMessage);
  } catch (error) {
    logLine(env, 'warn', 'payment queue send failed; the reconciler will re-send it', {
      payment_id: id,
      message: errorMessage(error),
    });
  }
  return { ...body, id };
}

/** The payment if the viewer may see it: the payer or an admin; anyone else gets 404. */
export async function visiblePayment(db: Database, id: number, viewer: AccessClaims): Promise<Payment> {
  const [row] = await db.select().from(payments).where(eq(payments.id, id));
  if (!row || (viewer.role !== 'admin' && row.userId !== viewer.userId)) throw paymentNotFound();
  return toPayment(row);
}

export async function listPayments(db: Database, viewer: AccessClaims, filters: { order_id?: number | undefined }, page: PageParams) {
  const where: SQL | undefined = and(
    viewer.role === 'admin' ? undefined : eq(payments.userId, viewer.userId),
    filters.order_id !== undefined ? eq(payments.orderId, filters.order_id) : undefined,
  );
  const { limit, offset } = pageWindow(page);
  const [[total], rows] = await db.batch([
    db.select({ n: count() }).from(payments).where(where),
    db.select().from(payments).where(where).orderBy(desc(payments.id)).limit(limit).offset(offset),
  ]);
  return { count: total?.n ?? 0, results: rows.map(toPayment) };
}
