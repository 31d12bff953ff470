import type { AppRouteHandler } from '../../env.ts';
import { toPage } from '../../lib/pagination.ts';
import type { createPayment, getPayment, listPayments } from './payments.routes.ts';
import * as service from './payments.service.ts';

export const createPaymentHandler: AppRouteHandler<typeof createPayment> = async (c) => {
  const payment = await service.startPayment(c.env, c.var.d1, c.var.user, c.req.valid('json'), c.var.idempotency);
  return c.json(payment, 202);
};

export const listPaymentsHandler: AppRouteHandler<typeof listPayments> = async (c) => {
  const { page, page_size, ...filters } = c.req.valid('query');
  const { count, results } = await service.listPayments(c.var.db, c.var.user, filters, { page, page_size });
  return c.json(toPage(c, { page, page_size }, count, results), 200);
};

export const getPaymentHandler: AppRouteHandler<typeof getPayment> = async (c) => {
  return c.json(await service.visiblePayment(c.var.db, c.req.valid('param').id, c.var.user), 200);
};
