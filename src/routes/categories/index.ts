import type { App } from '../../env.ts';
import { addRoute } from '../../lib/openapi.ts';
import { listCategoriesHandler } from './categories.handlers.ts';
import { listCategories } from './categories.routes.ts';

export function registerCategoryRoutes(app: App): void {
  addRoute(app, listCategories, listCategoriesHandler);
}
