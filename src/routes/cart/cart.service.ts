import type { D1 } from '../../lib/d1-session.ts';
import type { CartDurableObject } from '../../durable/cart.ts';
import type { CartError, CartLine, CartResult } from '../../durable/cart.types.ts';
import type { Bindings } from '../../env.ts';
import { ApiError } from '../../lib/errors.ts';
import { formatCents } from '../../lib/money.ts';
import type { CartBody, CartLineBody } from './cart.schemas.ts';

/**
 * The cart object of one user. Typed here rather than through `Env`, whose generated types
 * name the class by an extensionless import that the Node scripts' resolver cannot follow.
 */
export function cartOf(env: Bindings, userId: number): DurableObjectStub<CartDurableObject> {
  return env.CART.getByName(`user:${userId}`) as DurableObjectStub<CartDurableObject>;
}

export interface CatalogEntry {
  id: number;
  name: string;
  priceCents: number;
  stock: number;
}

/**
 * Current name, price and stock of the given products, in one query (`WHERE id IN (...)`),
 * never one per line. A cart has at most 50 lines, well inside D1's 100 bound parameters.
 */
export async function catalogEntries(d1: D1, productIds: number[]): Promise<Map<number, CatalogEntry>> {
  const entries = new Map<number, CatalogEntry>();
  if (productIds.length === 0) return entries;
  const { results } = await d1
    .prepare(`SELECT id, name, price_cents, stock FROM products WHERE id IN (${productIds.map(() => '?').join(', ')})`)
    .bind(...productIds)
    .all<{ id: number; name: string; price_cents: number; stock: number }>();
  for (const r of results) entries.set(r.id, { id: r.id, name: r.name, priceCents: r.price_cents, stock: r.stock });
  return entries;
}

export function pricedLine(line: CartLine, product: CatalogEntry): CartLineBody {
  return {
    id: line.id,
    product_id: line.productId,
    name: product.name,
    unit_price: formatCents(product.priceCents),
    quantity: line.quantity,
    line_total: formatCents(product.priceCents * line.quantity),
    available: product.stock,
    insufficient_stock: line.quantity > product.stock,
  };
}

export interface PricedLine {
  line: CartLine;
  product: CatalogEntry;
}

export function cartBody(priced: PricedLine[], currency: string, removed: CartLine[]): CartBody {
  return {
    items: priced.map(({ line, product }) => pricedLine(line, product)),
    item_count: priced.reduce((n, { line }) => n + line.quantity, 0),
    // Summed in integer cents; formatted once.
    subtotal: formatCents(priced.reduce((sum, { line, product }) => sum + product.priceCents * line.quantity, 0)),
    currency,
    removed: removed.map((l) => ({ product_id: l.productId, name: l.name })),
  };
}

/** Maps the cart object's refusals onto problems. */
export function cartProblem(result: CartError): ApiError {
  switch (result.error) {
    case 'line_not_found':
      return new ApiError('not_found', 'No such line in your cart.');
    case 'quantity_limit':
      return new ApiError('conflict', `A cart line holds at most 99 units; this would make ${result.quantity}.`, {
        errors: [{ path: 'body.quantity', message: 'The line would exceed 99 units.' }],
      });
    case 'insufficient_stock':
      return new ApiError('conflict', `Only ${result.available} in stock; the line would need ${result.quantity}.`, {
        errors: [{ path: 'body.quantity', message: `At most ${result.available} available.` }],
        extensions: { requested: result.quantity, available: result.available },
      });
    case 'too_many_lines':
      return new ApiError('conflict', 'A cart holds at most 50 different products.');
    case 'checkout_in_progress':
      return new ApiError('conflict', 'A checkout of this cart is in progress.', { headers: { 'Retry-After': String(result.retryAfterSeconds) } });
    case 'checkout_unsettled':
      return new ApiError('conflict', 'A checkout of this cart is being settled.', { headers: { 'Retry-After': '1' } });
  }
}

type CartStub = ReturnType<typeof cartOf>;

/**
 * Settles a checkout hold that ran out (its checkout died, or stalled past it), in one D1 batch:
 * it finds the order that checkout committed (the order's ref is the hold's token), and the
 * cart empties; or it records the token as void, so that checkout can no longer commit (a
 * trigger aborts its batch), and the cart is released as it was. The batch is one transaction,
 * so a late commit lands either before it (an order) or after it (refused). True when the
 * order exists.
 */
export async function settleHold(d1: D1, cart: CartStub, token: string): Promise<boolean> {
  const [, found] = await d1.batch<{ ordered: number }>([
    d1
      .prepare('INSERT OR IGNORE INTO checkout_voids (token, created_at) SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM orders WHERE ref = ?1)')
      .bind(token, new Date().toISOString()),
    d1.prepare('SELECT EXISTS (SELECT 1 FROM orders WHERE ref = ?) AS ordered').bind(token),
  ]);
  const ordered = found?.results[0]?.ordered === 1;
  await cart.settleCheckout(token, ordered);
  return ordered;
}

/** Runs a cart operation; if a hold that ran out stands in its way, settles it and runs it again. */
export async function settled<T>(d1: D1, cart: CartStub, operation: () => Promise<CartResult<T>>): Promise<CartResult<T>> {
  const first = await operation();
  if (first.ok || first.error !== 'checkout_unsettled') return first;
  await settleHold(d1, cart, first.token);
  return operation();
}

export function unwrap<T>(result: CartResult<T>): T {
  if (!result.ok) throw cartProblem(result);
  return result.value;
}
