import type { App } from '../../env.ts';
import { addRoute } from '../../lib/openapi.ts';
import { generateProductDescriptionHandler } from './descriptions.handlers.ts';
import { generateProductDescription } from './descriptions.routes.ts';
import * as h from './products.handlers.ts';
import * as r from './products.routes.ts';

export function registerProductRoutes(app: App): void {
  addRoute(app, r.listProducts, h.listProductsHandler);
  addRoute(app, r.createProduct, h.createProductHandler);
  // Before `/products/{id}/`, which would otherwise claim "search" and answer 400.
  addRoute(app, r.searchProducts, h.searchProductsHandler);
  addRoute(app, r.getProduct, h.getProductHandler);
  addRoute(app, r.replaceProduct, h.replaceProductHandler);
  addRoute(app, r.updateProduct, h.updateProductHandler);
  addRoute(app, r.deleteProduct, h.deleteProductHandler);
  addRoute(app, generateProductDescription, generateProductDescriptionHandler);
}
