import { z } from 'zod';
import { DESCRIPTION_TONES, type DescriptionJob } from '../db/schema.ts';
import type { Bindings } from '../env.ts';
import { invalidateCatalog } from '../lib/catalog-cache.ts';
import { type DescriptionInput, fallbackDescription, toPlainText } from '../lib/description-text.ts';
import { GeminiError, type GeminiSettings, generateDescription } from '../lib/gemini.ts';
import { logLine } from '../lib/log.ts';
import { ACK, backoffSeconds, consumeEach, type Outcome, retryIn } from './consume.ts';

/**
 * AI product descriptions, one queue message per job. The message names its job (`job_id`); the
 * product row holds the job while it is `queued`. Every write is guarded by that job id, so a
 * message delivered twice, a job superseded by a newer one or by a hand-written description,
 * and a product deleted meanwhile all end in an ack that changes nothing.
 */
export const DescriptionMessageSchema = z.object({ product_id: z.number().int().positive(), job_id: z.string().min(1) });

/** The job as stored on the product; checked, so a malformed one fails instead of looping. */
const StoredJobSchema = z.object({
  id: z.string(),
  features: z.array(z.string()).optional(),
  tone: z.enum(DESCRIPTION_TONES),
  maxWords: z.number().int().positive(),
  queuedAt: z.string(),
}) satisfies z.ZodType<DescriptionJob>;
export type DescriptionMessage = z.infer<typeof DescriptionMessageSchema>;

export const FALLBACK_MODEL = 'offline-fallback';
const DEFAULT_MODEL = 'gemini-2.5-flash';

function wholeNumber(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

export interface DescriptionSettings {
  /** A job's retries end this long after it was queued (then it fails). */
  retryWindowSeconds: number;
  /** Null without GEMINI_API_KEY: the offline generator writes the description. */
  gemini: GeminiSettings | null;
}

export function descriptionSettings(env: Bindings): DescriptionSettings {
  return {
    retryWindowSeconds: wholeNumber(env.DESCRIPTION_RETRY_WINDOW_SECONDS, 60),
    gemini: env.GEMINI_API_KEY
      ? {
          apiKey: env.GEMINI_API_KEY,
          model: env.GEMINI_MODEL || DEFAULT_MODEL,
          baseUrl: env.GEMINI_BASE_URL || undefined,
          timeoutMs: wholeNumber(env.GEMINI_TIMEOUT_MS, 15_000),
          thinkingBudget: wholeNumber(env.GEMINI_THINKING_BUDGET, 0),
        }
      : null,
  };
}

interface JobRow {
  name: string;
  category: string;
  features: string;
  description_status: string;
  description_job: string | null;
}

/** `WHERE id = ? AND status = 'queued' AND job = this one`: only the job's own message may finish it. */
const OWN_JOB = "id = ? AND description_status = 'queued' AND json_extract(description_job, '$.id') = ?";

async function finish(d1: D1Database, productId: number, jobId: string, text: string, source: 'gemini' | 'fallback', model: string): Promise<boolean> {
  const now = new Date().toISOString();
  const result = await d1
    .prepare(
      `UPDATE products SET description = ?, description_status = 'ready', description_source = ?, description_model = ?,
         description_generated_at = ?, description_error = NULL, description_job = NULL, updated_at = ?
       WHERE ${OWN_JOB}`,
    )
    .bind(text, source, model, now, now, productId, jobId)
    .run();
  return result.meta.changes > 0;
}

/** A finished or failed job changed the product: catalog reads in this location must show it. */
async function changed(env: Bindings, productId: number, wrote: boolean): Promise<void> {
  if (wrote) await invalidateCatalog(env, [productId]);
}

/** Ends the job `failed` with a short reason; the previous description stays as it was. */
export async function failJob(d1: D1Database, productId: number, jobId: string, reason: string): Promise<boolean> {
  const result = await d1
    .prepare(`UPDATE products SET description_status = 'failed', description_error = ?, description_job = NULL, updated_at = ? WHERE ${OWN_JOB}`)
    .bind(reason.slice(0, 200), new Date().toISOString(), productId, jobId)
    .run();
  return result.meta.changes > 0;
}

export async function processDescription(env: Bindings, message: DescriptionMessage, attempts: number, settings = descriptionSettings(env)): Promise<Outcome> {
  const { product_id: productId, job_id: jobId } = message;
  const row = await env.DB.prepare('SELECT name, category, features, description_status, description_job FROM products WHERE id = ?')
    .bind(productId)
    .first<JobRow>();
  if (!row) {
    logLine(env, 'info', 'description job skipped: product deleted', { product_id: productId, job_id: jobId });
    return ACK;
  }
  const stored = row.description_job === null ? null : (JSON.parse(row.description_job) as { id?: unknown });
  // A duplicate delivery of a finished job, or a job superseded since: nothing to do.
  if (row.description_status !== 'queued' || stored?.id !== jobId) return ACK;
  const parsedJob = StoredJobSchema.safeParse(stored);
  if (!parsedJob.success) {
    await changed(env, productId, await failJob(env.DB, productId, jobId, 'The generation job was malformed; try again.'));
    return ACK;
  }
  const job = parsedJob.data;

  const input: DescriptionInput = {
    name: row.name,
    category: row.category,
    features: job.features ?? (JSON.parse(row.features) as string[]),
    tone: job.tone,
    maxWords: job.maxWords,
  };
  if (!settings.gemini) {
    await changed(env, productId, await finish(env.DB, productId, jobId, fallbackDescription(input), 'fallback', FALLBACK_MODEL));
    logLine(env, 'info', 'description written by the offline generator', { product_id: productId, job_id: jobId });
    return ACK;
  }

  try {
    const text = toPlainText(await generateDescription(settings.gemini, input), input.maxWords);
    if (text === '') throw new GeminiError({ retry: false, reason: 'Gemini returned no description.' });
    await changed(env, productId, await finish(env.DB, productId, jobId, text, 'gemini', settings.gemini.model));
    logLine(env, 'info', 'description written by gemini', { product_id: productId, job_id: jobId, model: settings.gemini.model, attempts });
    return ACK;
  } catch (error) {
    if (!(error instanceof GeminiError)) throw error;
    const { failure } = error;
    if (failure.retry) {
      // Gemini's own RetryInfo delay when it sends one (429), else exponential backoff.
      const delaySeconds = failure.delaySeconds ?? backoffSeconds(attempts);
      const deadline = Date.parse(job.queuedAt) + settings.retryWindowSeconds * 1000;
      if (Date.now() + delaySeconds * 1000 <= deadline) {
        logLine(env, 'warn', 'description job will retry', { product_id: productId, job_id: jobId, attempts, delay_seconds: delaySeconds, reason: failure.reason });
        return retryIn(delaySeconds);
      }
    }
    const reason = failure.retry ? `${failure.reason} Gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}.` : failure.reason;
    await changed(env, productId, await failJob(env.DB, productId, jobId, reason));
    logLine(env, 'warn', 'description job failed', { product_id: productId, job_id: jobId, attempts, reason });
    return ACK;
  }
}

export async function consumeDescriptions(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  const settings = descriptionSettings(env);
  await consumeEach(batch, env, DescriptionMessageSchema, (body, message) => processDescription(env, body, message.attempts, settings));
}

/** Dead-letter consumer: a job whose message exhausted its retries ends `failed`, old text kept. */
export async function consumeDescriptionFailures(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  await consumeEach(batch, env, DescriptionMessageSchema, async (body) => {
    await changed(env, body.product_id, await failJob(env.DB, body.product_id, body.job_id, 'The description could not be generated; try again later.'));
    return ACK;
  });
}
