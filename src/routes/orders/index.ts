import type { App } from '../../env.ts';
import { addRoute } from '../../lib/openapi.ts';
import * as h from './orders.handlers.ts';
import * as r from './orders.routes.ts';

export function registerOrderRoutes(app: App): void {
  addRoute(app, r.createOrder, h.createOrderHandler);
  addRoute(app, r.listOrders, h.listOrdersHandler);
  addRoute(app, r.getOrder, h.getOrderHandler);
  addRoute(app, r.cancelOrder, h.cancelOrderHandler);
}
