import type { DescriptionJob, DescriptionStatus } from '../../db/schema.ts';
import type { AppRouteHandler } from '../../env.ts';
import { ApiError } from '../../lib/errors.ts';
import { invalidateCatalog } from '../../lib/catalog-cache.ts';
import { bookmarkOf } from '../../lib/d1-session.ts';
import { errorMessage, logLine } from '../../lib/log.ts';
import type { DescriptionMessage } from '../../queues/descriptions.ts';
import { GenerateDescriptionSchema } from './descriptions.schemas.ts';
import type { generateProductDescription } from './descriptions.routes.ts';
import { productNotFound } from './products.service.ts';

export const generateProductDescriptionHandler: AppRouteHandler<typeof generateProductDescription> = async (c) => {
  const { id } = c.req.valid('param');
  // The body is optional, and without one the validator does not run at all: parse here so the
  // defaults (neutral tone, stored features, 120 words) apply either way.
  const body = GenerateDescriptionSchema.parse(c.req.valid('json') ?? {});
  const d1 = c.var.d1;
  const before = await d1.prepare('SELECT description_status FROM products WHERE id = ?').bind(id).first<{ description_status: DescriptionStatus }>();
  if (!before) throw productNotFound();

  const now = new Date().toISOString();
  const job: DescriptionJob = { id: crypto.randomUUID(), features: body.features, tone: body.tone, maxWords: body.max_words, queuedAt: now };
  // One guarded statement claims the product for this job: of two concurrent requests one
  // queues, the other finds it queued and answers the same 202 without a second message.
  const claimed = await d1
    .prepare(
      "UPDATE products SET description_status = 'queued', description_job = ?, description_error = NULL, updated_at = ? WHERE id = ? AND description_status <> 'queued' RETURNING id",
    )
    .bind(JSON.stringify(job), now, id)
    .first<{ id: number }>();
  if (claimed) {
    try {
      await c.env.DESCRIPTIONS_QUEUE.send({ product_id: id, job_id: job.id } satisfies DescriptionMessage);
    } catch (error) {
      // Without a message the job would sit `queued` for ever: undo the claim and say so.
      await d1
        .prepare("UPDATE products SET description_status = ?, description_job = NULL WHERE id = ? AND json_extract(description_job, '$.id') = ?")
        .bind(before.description_status, id, job.id)
        .run();
      logLine(c.env, 'error', 'description job not queued', { product_id: id, message: errorMessage(error) });
      throw new ApiError('unavailable', 'The description queue is unavailable; nothing was queued. Try again shortly.', { headers: { 'Retry-After': '5' } });
    }
  } else {
    const still = await d1.prepare('SELECT id FROM products WHERE id = ?').bind(id).first();
    if (!still) throw productNotFound();
  }
  if (claimed) await invalidateCatalog(c.env, [id], bookmarkOf(d1));
  return c.json({ product_id: id, description_status: 'queued' as const }, 202);
};
