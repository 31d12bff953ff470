import type { AppRouteHandler } from '../../env.ts';
import { invalidateCatalog } from '../../lib/catalog-cache.ts';
import { bookmarkOf } from '../../lib/d1-session.ts';
import { toPage } from '../../lib/pagination.ts';
import type { cancelOrder, createOrder, getOrder, listOrders } from './orders.routes.ts';
import * as service from './orders.service.ts';

export const createOrderHandler: AppRouteHandler<typeof createOrder> = async (c) => {
  const order = await service.checkout(c.env, c.var.d1, c.var.user, c.var.idempotency, (headers) => {
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
  });
  // Stock changed: catalog reads must show it (this isolate at once, the location's cache in the background).
  c.executionCtx.waitUntil(invalidateCatalog(c.env, order.items.map((i) => i.product_id), bookmarkOf(c.var.d1), { background: true }));
  return c.json(order, 201);
};

export const listOrdersHandler: AppRouteHandler<typeof listOrders> = async (c) => {
  const { page, page_size, ...filters } = c.req.valid('query');
  const { count, results } = await service.listOrders(c.var.db, c.var.user, filters, { page, page_size });
  return c.json(toPage(c, { page, page_size }, count, results), 200);
};

export const getOrderHandler: AppRouteHandler<typeof getOrder> = async (c) => {
  return c.json(await service.visibleOrder(c.var.db, c.req.valid('param').id, c.var.user), 200);
};

export const cancelOrderHandler: AppRouteHandler<typeof cancelOrder> = async (c) => {
  const order = await service.cancelOrder(c.var.d1, c.var.db, c.req.valid('param').id, c.var.user);
  c.executionCtx.waitUntil(invalidateCatalog(c.env, order.items.map((i) => i.product_id), bookmarkOf(c.var.d1), { background: true }));
  return c.json(order, 200);
};
