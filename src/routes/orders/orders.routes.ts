import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireUser } from '../../lib/auth.ts';
import { errorResponses, errors } from '../../lib/errors.ts';
import { idempotency } from '../../lib/idempotency.ts';
import { IdempotencyHeadersSchema, idempotentResponseHeaders, jsonResponse, rateLimitResponseHeaders } from '../../lib/openapi.ts';
import { IdParamsSchema } from '../../lib/params.ts';
import { InsufficientStockProblemSchema, OrderListQuerySchema, OrderPageSchema, OrderSchema } from './orders.schemas.ts';

export const createOrder = createRoute({
  method: 'post',
  path: '/orders/',
  operationId: 'createOrder',
  tags: ['Orders'],
  summary: 'Check out your cart',
  description:
    'Turns the whole cart into a `pending` order in one transaction: prices come from the catalog, stock is taken, then the ' +
    'cart is emptied. A line the stock cannot cover fails the whole checkout with 409 listing every short line; nothing ' +
    'changes. An empty cart is 400. No request body. Send an `Idempotency-Key` to retry safely: the same key returns the ' +
    'first result (`Idempotent-Replayed: true`) and never creates a second order; while the first request runs, 409 with `Retry-After`. ' +
    'At most 10 checkouts per minute per user (429 with `Retry-After`); a replay of an Idempotency-Key is not counted.',
  security: bearerSecurity,
  // The checkout rate limit is counted by the cart object, in the call that takes the cart (orders.service.ts).
  middleware: [requireUser, idempotency] as const,
  request: { headers: IdempotencyHeadersSchema },
  responses: {
    201: { ...jsonResponse(OrderSchema, 'The new order.'), headers: { ...idempotentResponseHeaders, ...rateLimitResponseHeaders } },
    ...errors(400, 401, 409, 422, 429),
    409: {
      description: 'Stock cannot cover the cart (`lines` lists each short line), the cart is held by another checkout, or the Idempotency-Key is in use (`Retry-After`).',
      headers: errorResponses[409].headers,
      content: { 'application/problem+json': { schema: InsufficientStockProblemSchema.partial({ lines: true }) } },
    },
  },
});

export const listOrders = createRoute({
  method: 'get',
  path: '/orders/',
  operationId: 'listOrders',
  tags: ['Orders'],
  summary: 'Order history, newest first',
  description: 'Your own orders. Admins see everyone\'s, and can filter by `user_id`.',
  security: bearerSecurity,
  middleware: [requireUser] as const,
  request: { query: OrderListQuerySchema },
  responses: { 200: jsonResponse(OrderPageSchema, 'A page of orders.'), ...errors(400, 401, 404) },
});

export const getOrder = createRoute({
  method: 'get',
  path: '/orders/{id}/',
  operationId: 'getOrder',
  tags: ['Orders'],
  summary: 'One order',
  description: "Its owner or an admin. Another user's order is 404.",
  security: bearerSecurity,
  middleware: [requireUser] as const,
  request: { params: IdParamsSchema },
  responses: { 200: jsonResponse(OrderSchema, 'The order.'), ...errors(400, 401, 404) },
});

export const cancelOrder = createRoute({
  method: 'post',
  path: '/orders/{id}/cancel/',
  operationId: 'cancelOrder',
  tags: ['Orders'],
  summary: 'Cancel a pending order',
  description:
    'Only a `pending` order, by its owner or an admin; its stock goes back (once, however many cancels race). A paid or ' +
    'cancelled order is 409, and so is an order whose payment is being processed (retry after it is decided).',
  security: bearerSecurity,
  middleware: [requireUser] as const,
  request: { params: IdParamsSchema },
  responses: { 200: jsonResponse(OrderSchema, 'The cancelled order.'), ...errors(400, 401, 404, 409) },
});
