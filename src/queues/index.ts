import type { Bindings } from '../env.ts';
import { logLine } from '../lib/log.ts';
import { consumeDescriptionFailures, consumeDescriptions } from './descriptions.ts';
import { consumePaymentFailures, consumePayments } from './payments.ts';

/** Queue names as declared in wrangler.toml; a batch says which queue it came from. */
export const QUEUE_NAMES = {
  payments: 'edgeshop-payments',
  paymentsDeadLetter: 'edgeshop-payments-dlq',
  descriptions: 'edgeshop-descriptions',
  descriptionsDeadLetter: 'edgeshop-descriptions-dlq',
} as const;

type Consumer = (batch: MessageBatch<unknown>, env: Bindings) => Promise<void>;

const CONSUMERS: Partial<Record<string, Consumer>> = {
  [QUEUE_NAMES.payments]: consumePayments,
  [QUEUE_NAMES.paymentsDeadLetter]: consumePaymentFailures,
  [QUEUE_NAMES.descriptions]: consumeDescriptions,
  [QUEUE_NAMES.descriptionsDeadLetter]: consumeDescriptionFailures,
};

/** The worker's `queue` handler: one consumer per queue. */
export async function handleQueue(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  const consumer = CONSUMERS[batch.queue];
  if (!consumer) {
    // A queue bound in wrangler.toml without a consumer here is a deployment mistake: keep the
    // messages (retry) rather than drop them, and say so.
    logLine(env, 'error', 'no consumer for queue', { queue: batch.queue, messages: batch.messages.length });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  await consumer(batch, env);
}
