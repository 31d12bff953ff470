import type { App } from '../../env.ts';
import { addRoute } from '../../lib/openapi.ts';
import * as h from './payments.handlers.ts';
import * as r from './payments.routes.ts';

export function registerPaymentRoutes(app: App): void {
  addRoute(app, r.createPayment, h.createPaymentHandler);
  addRoute(app, r.listPayments, h.listPaymentsHandler);
  addRoute(app, r.getPayment, h.getPaymentHandler);
}
