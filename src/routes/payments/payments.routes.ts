import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireUser } from '../../lib/auth.ts';
import { errors } from '../../lib/errors.ts';
import { idempotency } from '../../lib/idempotency.ts';
import { rateLimit } from '../../lib/rate-limit.ts';
import { IdempotencyHeadersSchema, idempotentResponseHeaders, jsonBody, jsonResponse, rateLimitResponseHeaders } from '../../lib/openapi.ts';
import { IdParamsSchema } from '../../lib/params.ts';
import { CreatePaymentSchema, PaymentListQuerySchema, PaymentPageSchema, PaymentSchema } from './payments.schemas.ts';

export const createPayment = createRoute({
  method: 'post',
  path: '/payments/',
  operationId: 'createPayment',
  tags: ['Payments'],
  summary: 'Pay for your order',
  description:
    'Starts a payment for the order\'s total and answers 202 `pending` at once; the payment processor decides it within ' +
    'seconds (poll `GET /payments/{id}/`): `succeeded` marks the order `paid`; `failed` carries a `failure_reason` and ' +
    'you may pay again. Test card `4000000000000002` is declined; any other valid card number, or none, succeeds. ' +
    'At most one `pending` or `succeeded` payment per order (409). Only the order\'s owner may pay. Send an ' +
    '`Idempotency-Key` to retry safely: the same key never creates a second payment. At most 10 payment attempts per minute per user (429); a replay of an Idempotency-Key is not an attempt.',
  security: bearerSecurity,
  // A replay of an Idempotency-Key is answered before the limit counts it, as at checkout.
  middleware: [requireUser, idempotency, rateLimit('payment')] as const,
  request: { headers: IdempotencyHeadersSchema, body: jsonBody(CreatePaymentSchema) },
  responses: {
    202: { ...jsonResponse(PaymentSchema, 'The payment, `pending` until the processor decides.'), headers: { ...idempotentResponseHeaders, ...rateLimitResponseHeaders } },
    ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429),
  },
});

export const listPayments = createRoute({
  method: 'get',
  path: '/payments/',
  operationId: 'listPayments',
  tags: ['Payments'],
  summary: 'Your payments, newest first',
  description: "Your own payments; admins see everyone's.",
  security: bearerSecurity,
  middleware: [requireUser] as const,
  request: { query: PaymentListQuerySchema },
  responses: { 200: jsonResponse(PaymentPageSchema, 'A page of payments.'), ...errors(400, 401, 404) },
});

export const getPayment = createRoute({
  method: 'get',
  path: '/payments/{id}/',
  operationId: 'getPayment',
  tags: ['Payments'],
  summary: 'One payment',
  description: "The payer or an admin. Another user's payment is 404.",
  security: bearerSecurity,
  middleware: [requireUser] as const,
  request: { params: IdParamsSchema },
  responses: { 200: jsonResponse(PaymentSchema, 'The payment.'), ...errors(400, 401, 404) },
});
