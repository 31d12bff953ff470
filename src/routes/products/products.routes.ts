import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireAdmin, requireUser } from '../../lib/auth.ts';
import { errors } from '../../lib/errors.ts';
import { catalogCache } from '../../lib/catalog-cache.ts';
import { cachedResponses, ConditionalHeadersSchema, jsonBody, jsonResponse } from '../../lib/openapi.ts';
import { IdParamsSchema } from '../../lib/params.ts';
import {
  ProductListQuerySchema,
  ProductPageSchema,
  ProductPatchSchema,
  ProductSchema,
  ProductSearchQuerySchema,
  ProductWriteSchema,
} from './products.schemas.ts';

export const listProducts = createRoute({
  method: 'get',
  path: '/products/',
  operationId: 'listProducts',
  tags: ['Products'],
  summary: 'List products',
  security: [],
  description: 'Filters combine with AND. `min_price`/`max_price` are inclusive. Default order: newest first.',
  middleware: [catalogCache('collection')] as const,
  request: { query: ProductListQuerySchema, headers: ConditionalHeadersSchema },
  responses: {
    ...cachedResponses(ProductPageSchema, 'A page of products.'),
    ...errors(400, 404),
  },
});

export const searchProducts = createRoute({
  method: 'get',
  path: '/products/search/',
  operationId: 'searchProducts',
  tags: ['Products'],
  summary: 'Full-text search',
  security: [],
  description:
    'Ranked by relevance (a match in the name outranks one in the description). Every word must match; the last word ' +
    'also matches as a prefix (`chai` finds `Chair`). Case- and accent-insensitive. With `category` alone, lists that ' +
    'category by name. Text with no letters or digits finds nothing.',
  middleware: [catalogCache('collection')] as const,
  request: { query: ProductSearchQuerySchema, headers: ConditionalHeadersSchema },
  responses: {
    ...cachedResponses(ProductPageSchema, 'A page of matches, best first.'),
    ...errors(400, 404),
  },
});

export const getProduct = createRoute({
  method: 'get',
  path: '/products/{id}/',
  operationId: 'getProduct',
  tags: ['Products'],
  summary: 'One product',
  security: [],
  middleware: [catalogCache('detail')] as const,
  request: { params: IdParamsSchema, headers: ConditionalHeadersSchema },
  responses: { ...cachedResponses(ProductSchema, 'The product.'), ...errors(400, 404) },
});

export const createProduct = createRoute({
  method: 'post',
  path: '/products/',
  operationId: 'createProduct',
  tags: ['Products'],
  summary: 'Create a product (admin)',
  security: bearerSecurity,
  middleware: [requireUser, requireAdmin] as const,
  request: { body: jsonBody(ProductWriteSchema) },
  responses: {
    201: { ...jsonResponse(ProductSchema, 'The new product. `Location` points at it.'), headers: { Location: { schema: { type: 'string' } } } },
    ...errors(400, 401, 403, 413, 415),
  },
});

export const replaceProduct = createRoute({
  method: 'put',
  path: '/products/{id}/',
  operationId: 'replaceProduct',
  tags: ['Products'],
  summary: 'Replace a product (admin)',
  description: 'Every writable field; omitted `description` and `features` become empty.',
  security: bearerSecurity,
  middleware: [requireUser, requireAdmin] as const,
  request: { params: IdParamsSchema, body: jsonBody(ProductWriteSchema) },
  responses: { 200: jsonResponse(ProductSchema, 'The replaced product.'), ...errors(400, 401, 403, 404, 413, 415) },
});

export const updateProduct = createRoute({
  method: 'patch',
  path: '/products/{id}/',
  operationId: 'updateProduct',
  tags: ['Products'],
  summary: 'Update some fields of a product (admin)',
  security: bearerSecurity,
  middleware: [requireUser, requireAdmin] as const,
  request: { params: IdParamsSchema, body: jsonBody(ProductPatchSchema) },
  responses: { 200: jsonResponse(ProductSchema, 'The updated product.'), ...errors(400, 401, 403, 404, 413, 415) },
});

export const deleteProduct = createRoute({
  method: 'delete',
  path: '/products/{id}/',
  operationId: 'deleteProduct',
  tags: ['Products'],
  summary: 'Delete a product (admin)',
  description: 'Past orders keep their lines: they hold their own copy of name and price.',
  security: bearerSecurity,
  middleware: [requireUser, requireAdmin] as const,
  request: { params: IdParamsSchema },
  responses: { 204: { description: 'Deleted.' }, ...errors(400, 401, 403, 404) },
});
