import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import worker from '../../src/index.ts';

export interface TestMessage {
  body: unknown;
  attempts?: number;
  id?: string;
}

/**
 * Hands a batch to the worker's own `queue` handler, as the Queues runtime would, and reports
 * what it did with each message. getQueueResult() drops `delaySeconds`, so the options each
 * message's retry() received are recorded here, by message id.
 */
export async function deliverBatch(queue: string, messages: TestMessage[], bindings: typeof env = env) {
  const batch = createMessageBatch(
    queue,
    messages.map((m, i) => ({ id: m.id ?? `msg-${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })),
  );
  const retries = new Map<string, QueueRetryOptions | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      retries.set(message.id, options);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, bindings, ctx);
  return { batch, result: await getQueueResult(batch, ctx), retries };
}
