import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireUser } from '../../lib/auth.ts';
import { errors } from '../../lib/errors.ts';
import { jsonBody, jsonResponse } from '../../lib/openapi.ts';
import { AddCartItemSchema, CartItemParamsSchema, CartLineSchema, CartSchema, UpdateCartItemSchema } from './cart.schemas.ts';

const HELD =
  'While a checkout of this cart is running, changes answer 409 with `Retry-After` (at most 30 seconds).';

export const getCart = createRoute({
  method: 'get',
  path: '/cart/',
  operationId: 'getCart',
  tags: ['Cart'],
  summary: 'Your cart, priced now',
  description:
    'Every line is priced from the catalog at this read (one query for the whole cart). A product deleted from the catalog ' +
    'drops out of the cart and is listed once in `removed`. A line asking for more than the stock is kept and flagged ' +
    '`insufficient_stock`.',
  security: bearerSecurity,
  middleware: [requireUser] as const,
  responses: { 200: jsonResponse(CartSchema, 'The cart.'), ...errors(401) },
});

export const addCartItem = createRoute({
  method: 'post',
  path: '/cart/',
  operationId: 'addCartItem',
  tags: ['Cart'],
  summary: 'Add a product to your cart',
  description:
    `Adds to the product's line when there is one. A line holds 1 to 99 units and no more than the stock (409 otherwise). ${HELD}`,
  security: bearerSecurity,
  middleware: [requireUser] as const,
  request: { body: jsonBody(AddCartItemSchema) },
  responses: {
    201: jsonResponse(CartLineSchema, 'The line as it is now.'),
    ...errors(400, 401, 404, 409, 413, 415),
  },
});

export const updateCartItem = createRoute({
  method: 'patch',
  path: '/cart/{item_id}/',
  operationId: 'updateCartItem',
  tags: ['Cart'],
  summary: "Set a line's quantity",
  description: `404 when the line is not in your cart, or its product left the catalog. ${HELD}`,
  security: bearerSecurity,
  middleware: [requireUser] as const,
  request: { params: CartItemParamsSchema, body: jsonBody(UpdateCartItemSchema) },
  responses: {
    200: jsonResponse(CartLineSchema, 'The updated line.'),
    ...errors(400, 401, 404, 409, 413, 415),
  },
});

export const deleteCartItem = createRoute({
  method: 'delete',
  path: '/cart/{item_id}/',
  operationId: 'deleteCartItem',
  tags: ['Cart'],
  summary: 'Remove a line',
  description: HELD,
  security: bearerSecurity,
  middleware: [requireUser] as const,
  request: { params: CartItemParamsSchema },
  responses: { 204: { description: 'Removed.' }, ...errors(400, 401, 404, 409) },
});

export const clearCart = createRoute({
  method: 'delete',
  path: '/cart/',
  operationId: 'clearCart',
  tags: ['Cart'],
  summary: 'Empty your cart',
  description: HELD,
  security: bearerSecurity,
  middleware: [requireUser] as const,
  responses: { 204: { description: 'Emptied.' }, ...errors(401, 409) },
});
