import type { AppRouteHandler } from '../../env.ts';
import { listCategories as queryCategories } from '../products/products.service.ts';
import type { listCategories } from './categories.routes.ts';

export const listCategoriesHandler: AppRouteHandler<typeof listCategories> = async (c) => {
  return c.json(await queryCategories(c.var.db), 200);
};
