import { createRoute, z } from '@hono/zod-openapi';
import { errors } from '../../lib/errors.ts';
import { jsonResponse } from '../../lib/openapi.ts';

export const health = createRoute({
  method: 'get',
  path: '/health',
  operationId: 'getHealth',
  tags: ['Health'],
  summary: 'Liveness and database check',
  security: [],
  description: 'Answers 200 when the worker runs and D1 answers a query; 503 otherwise.',
  responses: {
    200: jsonResponse(z.object({ status: z.literal('ok') }).openapi('Health'), 'The API and its database are up.'),
    ...errors(503),
  },
});
