import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireAdmin, requireUser } from '../../lib/auth.ts';
import { errors } from '../../lib/errors.ts';
import { jsonResponse, rateLimitResponseHeaders } from '../../lib/openapi.ts';
import { rateLimit } from '../../lib/rate-limit.ts';
import { IdParamsSchema } from '../../lib/params.ts';
import { GenerateDescriptionAcceptedSchema, GenerateDescriptionSchema } from './descriptions.schemas.ts';

export const generateProductDescription = createRoute({
  method: 'post',
  path: '/products/{id}/generate-description/',
  operationId: 'generateProductDescription',
  tags: ['Products'],
  summary: 'Generate a description with AI (admin)',
  description:
    'Queues a job and answers 202 at once; poll the product. A queue consumer asks Gemini (`GEMINI_MODEL`, default ' +
    '`gemini-2.5-flash`) for a description from the name, category, features and tone, then sets `description_status: ready`, ' +
    '`description_source: gemini`, `description_model` and `description_generated_at`. Without a configured `GEMINI_API_KEY` ' +
    'an offline generator writes it (`description_source: fallback`). If generation fails after its retries (about a minute), ' +
    'the product reads `description_status: failed` with `description_error`, and keeps its previous description. A product ' +
    'already `queued` answers 202 again without starting a second job. The body is optional. At most 30 requests per minute per admin (429).',
  security: bearerSecurity,
  middleware: [requireUser, requireAdmin, rateLimit('generateDescription')] as const,
  request: {
    params: IdParamsSchema,
    body: { content: { 'application/json': { schema: GenerateDescriptionSchema } }, required: false },
  },
  responses: {
    202: { ...jsonResponse(GenerateDescriptionAcceptedSchema, 'Queued (or already queued).'), headers: rateLimitResponseHeaders },
    ...errors(400, 401, 403, 404, 413, 415, 429, 503),
  },
});
