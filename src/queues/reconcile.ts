import type { Bindings } from '../env.ts';
import { invalidateCatalog } from '../lib/catalog-cache.ts';
import { logLine } from '../lib/log.ts';
import { failPayment, type PaymentMessage } from './payments.ts';

/**
 * The reconciler, run by the Cron Trigger every minute. A payment row is committed in D1 before
 * its message is sent, so a failed send or a crash in between leaves a `pending` payment that
 * no message will ever decide. This finds them and sends them again; a payment still pending
 * long after that is failed with a reason, so none stays pending for ever. It also purges
 * idempotency keys older than their 24-hour life, and catalog change-feed rows older than a day.
 */
export const RECONCILE_DEFAULTS = {
  /** A pending payment whose last send is older than this is sent again. */
  resendAfterSeconds: 60,
  /** A payment still pending this long after it was created is failed (`processing_timeout`). */
  failAfterSeconds: 15 * 60,
  /** A description job still `queued` this long after it was queued lost its message: fail it. */
  descriptionStuckSeconds: 10 * 60,
  /** Idempotency keys live this long. */
  idempotencyKeySeconds: 24 * 60 * 60,
  /**
   * Catalog change-feed rows live this long: far longer than any cache copy (its TTL), so an
   * isolate never needs a row that is gone.
   */
  catalogChangeSeconds: 24 * 60 * 60,
  /** Void checkout tokens live this long: a voided checkout could commit only within D1's query limit after. */
  checkoutVoidSeconds: 24 * 60 * 60,
  /** Payments handled per run (one `sendBatch` takes at most 100 messages). */
  batchSize: 100,
};

export interface ReconcileReport {
  resent: number[];
  timedOut: number[];
  purgedKeys: number;
  purgedChanges: number;
  /** Products whose description job was lost (its message never came back). */
  descriptionsFailed: number[];
}

const secondsBefore = (now: Date, seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();

/** The defaults, with `RECONCILE_RESEND_AFTER_SECONDS` and `RECONCILE_FAIL_AFTER_SECONDS` from the environment when set. */
export function reconcileOptions(env: Bindings): typeof RECONCILE_DEFAULTS {
  const seconds = (value: string | undefined, fallback: number) => {
    const n = Number(value);
    return value !== undefined && Number.isSafeInteger(n) && n > 0 ? n : fallback;
  };
  return {
    ...RECONCILE_DEFAULTS,
    resendAfterSeconds: seconds(env.RECONCILE_RESEND_AFTER_SECONDS, RECONCILE_DEFAULTS.resendAfterSeconds),
    failAfterSeconds: seconds(env.RECONCILE_FAIL_AFTER_SECONDS, RECONCILE_DEFAULTS.failAfterSeconds),
  };
}

export async function reconcile(env: Bindings, now = new Date(), options = reconcileOptions(env)): Promise<ReconcileReport> {
  const d1 = env.DB;
  const report: ReconcileReport = { resent: [], timedOut: [], purgedKeys: 0, purgedChanges: 0, descriptionsFailed: [] };

  const expired = await d1
    .prepare("SELECT id FROM payments WHERE status = 'pending' AND created_at < ? ORDER BY id LIMIT ?")
    .bind(secondsBefore(now, options.failAfterSeconds), options.batchSize)
    .all<{ id: number }>();
  for (const { id } of expired.results) {
    if (await failPayment(d1, id, 'processing_timeout', now.toISOString())) report.timedOut.push(id);
  }

  const stale = await d1
    .prepare("SELECT id FROM payments WHERE status = 'pending' AND (enqueued_at IS NULL OR enqueued_at < ?) ORDER BY id LIMIT ?")
    .bind(secondsBefore(now, options.resendAfterSeconds), options.batchSize)
    .all<{ id: number }>();
  const ids = stale.results.map((r) => r.id);
  if (ids.length > 0) {
    await env.PAYMENTS_QUEUE.sendBatch(ids.map((id) => ({ body: { payment_id: id } satisfies PaymentMessage })));
    // Marked only after the send went out: if it throws, the next run tries again.
    await d1
      .prepare(`UPDATE payments SET enqueued_at = ? WHERE id IN (${ids.map(() => '?').join(', ')}) AND status = 'pending'`)
      .bind(now.toISOString(), ...ids)
      .run();
    report.resent = ids;
  }

  const purged = await d1
    .prepare('DELETE FROM idempotency_keys WHERE created_at < ?')
    .bind(secondsBefore(now, options.idempotencyKeySeconds))
    .run();
  report.purgedKeys = purged.meta.changes;
  const changes = await d1
    .prepare('DELETE FROM catalog_changes WHERE changed_at < ?')
    .bind(now.getTime() - options.catalogChangeSeconds * 1000)
    .run();
  report.purgedChanges = changes.meta.changes;
  await d1.prepare('DELETE FROM checkout_voids WHERE created_at < ?').bind(secondsBefore(now, options.checkoutVoidSeconds)).run();

  // A description job's messages fail it themselves (its retry window, then the dead-letter
  // queue); one still queued long after is one whose messages were all lost.
  const lost = await d1
    .prepare(
      `UPDATE products SET description_status = 'failed', description_error = 'The generation job was lost; try again.', description_job = NULL, updated_at = ?
       WHERE description_status = 'queued' AND json_extract(description_job, '$.queuedAt') < ? RETURNING id`,
    )
    .bind(now.toISOString(), secondsBefore(now, options.descriptionStuckSeconds))
    .all<{ id: number }>();
  report.descriptionsFailed = lost.results.map((r) => r.id);
  if (report.descriptionsFailed.length > 0) await invalidateCatalog(env, report.descriptionsFailed);

  if (report.resent.length + report.timedOut.length + report.purgedKeys + report.purgedChanges + report.descriptionsFailed.length > 0) {
    logLine(env, 'info', 'reconciled', {
      resent: report.resent.length,
      timed_out: report.timedOut.length,
      purged_keys: report.purgedKeys,
      purged_changes: report.purgedChanges,
      descriptions_failed: report.descriptionsFailed.length,
    });
  }
  return report;
}
