import { createRoute, z } from '@hono/zod-openapi';
import { errors } from '../../lib/errors.ts';

export const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['Health'],
  summary: 'Liveness and database check',
  description: 'Answers 200 when the worker runs and D1 answers a query; 503 otherwise.',
  responses: {
    200: {
      description: 'The API and its database are up.',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }).openapi('Health') } },
    },
    ...errors(503),
  },
});
