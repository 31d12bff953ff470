import { createRoute, z } from '@hono/zod-openapi';
import { errors } from '../../lib/errors.ts';
import { catalogCache } from '../../lib/catalog-cache.ts';
import { cachedResponses, ConditionalHeadersSchema } from '../../lib/openapi.ts';

export const CategorySchema = z
  .object({
    name: z.string().openapi({ example: 'Furniture' }),
    product_count: z.number().int().positive().openapi({ example: 24 }),
  })
  .openapi('Category');

export const listCategories = createRoute({
  method: 'get',
  path: '/categories/',
  operationId: 'listCategories',
  tags: ['Products'],
  summary: 'Categories with their product counts',
  security: [],
  description: 'Every category that has at least one product, alphabetical. Not paginated.',
  middleware: [catalogCache('collection')] as const,
  request: { headers: ConditionalHeadersSchema },
  responses: {
    ...cachedResponses(z.array(CategorySchema), 'All categories.'),
    ...errors(),
  },
});
