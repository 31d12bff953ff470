import type { App } from '../../env.ts';
import { addRoute } from '../../lib/openapi.ts';
import * as h from './cart.handlers.ts';
import * as r from './cart.routes.ts';

export function registerCartRoutes(app: App): void {
  addRoute(app, r.getCart, h.getCartHandler);
  addRoute(app, r.addCartItem, h.addCartItemHandler);
  addRoute(app, r.clearCart, h.clearCartHandler);
  addRoute(app, r.updateCartItem, h.updateCartItemHandler);
  addRoute(app, r.deleteCartItem, h.deleteCartItemHandler);
}
