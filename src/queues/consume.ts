import type { z } from 'zod';
import type { Bindings } from '../env.ts';
import { errorMessage, logLine } from '../lib/log.ts';

/** What a consumer decided for one message. */
export type Outcome = { ack: true } | { retry: true; delaySeconds: number };

export const ACK: Outcome = { ack: true };
export const retryIn = (delaySeconds: number): Outcome => ({ retry: true, delaySeconds });

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * attempt 1 waits up to `base`, each further attempt doubles the ceiling, capped at `max`.
 * Jitter spreads a burst of failures so the retries do not arrive together.
 */
export function backoffSeconds(attempts: number, base = 2, max = 60, random: () => number = Math.random): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempts - 1));
  return Math.max(1, Math.round(ceiling * random()));
}

/**
 * Runs `handle` on each message of a batch on its own and acks or retries that message alone,
 * so one bad message never makes the others run again (a batch-level retry would redo them all).
 * A body that does not match `schema` can never succeed: it is logged and acked, not retried.
 * An exception is a transient fault (D1 unreachable, say): the message is retried with backoff.
 */
export async function consumeEach<S extends z.ZodType>(
  batch: MessageBatch<unknown>,
  env: Bindings,
  schema: S,
  handle: (body: z.output<S>, message: Message<unknown>) => Promise<Outcome>,
): Promise<void> {
  for (const message of batch.messages) {
    const parsed = schema.safeParse(message.body);
    if (!parsed.success) {
      logLine(env, 'error', 'queue message rejected', { queue: batch.queue, message_id: message.id, issues: parsed.error.issues.length });
      message.ack();
      continue;
    }
    try {
      const outcome = await handle(parsed.data, message);
      if ('ack' in outcome) message.ack();
      else message.retry({ delaySeconds: outcome.delaySeconds });
    } catch (error) {
      const delaySeconds = backoffSeconds(message.attempts);
      logLine(env, 'warn', 'queue message failed; retrying', {
        queue: batch.queue,
        message_id: message.id,
        attempts: message.attempts,
        delay_seconds: delaySeconds,
        name: error instanceof Error ? error.name : 'unknown',
        message: errorMessage(error),
      });
      message.retry({ delaySeconds });
    }
  }
}
