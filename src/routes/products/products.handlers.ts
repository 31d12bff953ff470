import type { AppRouteHandler } from '../../env.ts';
import { invalidateCatalog } from '../../lib/catalog-cache.ts';
import { bookmarkOf } from '../../lib/d1-session.ts';
import { toPage } from '../../lib/pagination.ts';
import type { createProduct, deleteProduct, getProduct, listProducts, replaceProduct, searchProducts, updateProduct } from './products.routes.ts';
import { toProduct } from './products.schemas.ts';
import * as service from './products.service.ts';

export const listProductsHandler: AppRouteHandler<typeof listProducts> = async (c) => {
  const { page, page_size, ...filters } = c.req.valid('query');
  const { count, rows } = await service.listProducts(c.var.db, filters, { page, page_size });
  return c.json(toPage(c, { page, page_size }, count, rows.map(toProduct)), 200);
};

export const searchProductsHandler: AppRouteHandler<typeof searchProducts> = async (c) => {
  const { page, page_size, q, category } = c.req.valid('query');
  const { count, rows } = await service.searchProducts(c.var.db, q, category, { page, page_size });
  return c.json(toPage(c, { page, page_size }, count, rows.map(toProduct)), 200);
};

export const getProductHandler: AppRouteHandler<typeof getProduct> = async (c) => {
  return c.json(toProduct(await service.getProduct(c.var.db, c.req.valid('param').id)), 200);
};

export const createProductHandler: AppRouteHandler<typeof createProduct> = async (c) => {
  const row = await service.createProduct(c.var.db, c.req.valid('json'));
  await invalidateCatalog(c.env, [row.id], bookmarkOf(c.var.d1));
  c.header('Location', `/products/${row.id}/`);
  return c.json(toProduct(row), 201);
};

export const replaceProductHandler: AppRouteHandler<typeof replaceProduct> = async (c) => {
  const row = await service.replaceProduct(c.var.db, c.req.valid('param').id, c.req.valid('json'));
  await invalidateCatalog(c.env, [row.id], bookmarkOf(c.var.d1));
  return c.json(toProduct(row), 200);
};

export const updateProductHandler: AppRouteHandler<typeof updateProduct> = async (c) => {
  const row = await service.updateProduct(c.var.db, c.req.valid('param').id, c.req.valid('json'));
  await invalidateCatalog(c.env, [row.id], bookmarkOf(c.var.d1));
  return c.json(toProduct(row), 200);
};

export const deleteProductHandler: AppRouteHandler<typeof deleteProduct> = async (c) => {
  const { id } = c.req.valid('param');
  await service.deleteProduct(c.var.db, id);
  await invalidateCatalog(c.env, [id], bookmarkOf(c.var.d1));
  return c.body(null, 204);
};
