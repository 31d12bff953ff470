import type { Context } from 'hono';
import type { AppEnv, AppRouteHandler } from '../../env.ts';
import { useSession } from '../../lib/d1-session.ts';
import { ApiError } from '../../lib/errors.ts';
import type { addCartItem, clearCart, deleteCartItem, getCart, updateCartItem } from './cart.routes.ts';
import { cartBody, cartOf, catalogEntries, pricedLine, settled, unwrap } from './cart.service.ts';
import { readProduct } from './product-reads.ts';

const productGone = () => new ApiError('not_found', 'No such product.');

/** One product now, read with the isolate's other cart reads; the request goes on from that read's bookmark. */
async function currentProduct(c: Context<AppEnv>, productId: number) {
  const { product, bookmark } = await readProduct(c.env, productId);
  if (bookmark) useSession(c, bookmark);
  return product;
}

export const getCartHandler: AppRouteHandler<typeof getCart> = async (c) => {
  const cart = cartOf(c.env, c.var.user.userId);
  const lines = unwrap(await settled(c.var.d1, cart, () => cart.view()));
  const catalog = await catalogEntries(c.var.d1, lines.map((l) => l.productId));
  const missing = lines.filter((l) => !catalog.has(l.productId)).map((l) => l.productId);
  const removed = missing.length > 0 ? await cart.dropProducts(missing) : [];
  const priced = lines.flatMap((line) => {
    const product = catalog.get(line.productId);
    return product ? [{ line, product }] : [];
  });
  // Lines whose kept name or price the catalog has changed since: keep what this answer shows.
  const changed = priced.filter(({ line, product }) => line.priceCents !== product.priceCents || line.name !== product.name);
  if (changed.length > 0) await cart.keepShown(changed.map(({ product }) => ({ productId: product.id, name: product.name, priceCents: product.priceCents })));
  return c.json(cartBody(priced, c.env.CURRENCY, removed), 200);
};

export const addCartItemHandler: AppRouteHandler<typeof addCartItem> = async (c) => {
  const { product_id, quantity } = c.req.valid('json');
  const product = await currentProduct(c, product_id);
  if (!product) throw new ApiError('not_found', 'No such product.', { errors: [{ path: 'body.product_id', message: 'Not in the catalog.' }] });
  const cart = cartOf(c.env, c.var.user.userId);
  const line = unwrap(await settled(c.var.d1, cart, () => cart.add({ productId: product.id, name: product.name, priceCents: product.priceCents, quantity, stock: product.stock })));
  return c.json(pricedLine(line, product), 201);
};

export const updateCartItemHandler: AppRouteHandler<typeof updateCartItem> = async (c) => {
  const { item_id } = c.req.valid('param');
  const { quantity } = c.req.valid('json');
  const cart = cartOf(c.env, c.var.user.userId);
  const existing = await cart.line(item_id);
  if (!existing) throw new ApiError('not_found', 'No such line in your cart.');
  const product = await currentProduct(c, existing.productId);
  if (!product) {
    await cart.dropProducts([existing.productId]);
    throw productGone();
  }
  const line = unwrap(await settled(c.var.d1, cart, () => cart.setQuantity({ itemId: item_id, quantity, name: product.name, priceCents: product.priceCents, stock: product.stock })));
  return c.json(pricedLine(line, product), 200);
};

export const deleteCartItemHandler: AppRouteHandler<typeof deleteCartItem> = async (c) => {
  const cart = cartOf(c.env, c.var.user.userId);
  unwrap(await settled(c.var.d1, cart, () => cart.remove(c.req.valid('param').item_id)));
  return c.body(null, 204);
};

export const clearCartHandler: AppRouteHandler<typeof clearCart> = async (c) => {
  const cart = cartOf(c.env, c.var.user.userId);
  unwrap(await settled(c.var.d1, cart, () => cart.clear()));
  return c.body(null, 204);
};
