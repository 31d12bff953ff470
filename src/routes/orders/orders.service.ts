import type { D1 } from '../../lib/d1-session.ts';
import { and, count, desc, eq, inArray, type SQL } from 'drizzle-orm';
import { createDb, type Database } from '../../db/client.ts';
import { type OrderItemRow, type OrderRow, type OrderStatus, orderItems, orders } from '../../db/schema.ts';
import type { CartLine } from '../../durable/cart.types.ts';
import type { Bindings } from '../../env.ts';
import type { AccessClaims } from '../../lib/tokens.ts';
import { ApiError } from '../../lib/errors.ts';
import { completion, type IdempotencyClaim } from '../../lib/idempotency.ts';
import { errorMessage, logLine } from '../../lib/log.ts';
import { decided, policyOf } from '../../lib/rate-limit.ts';
import { type PageParams, pageWindow } from '../../lib/pagination.ts';
import { guardedStatus, transitionConflict } from '../../lib/transitions.ts';
import { cartOf, type CatalogEntry, catalogEntries, settleHold, unwrap } from '../cart/cart.service.ts';
import { type Order, toOrder } from './orders.schemas.ts';

export const orderNotFound = () => new ApiError('not_found', 'No such order.');

interface ShortLine {
  product_id: number;
  name: string;
  requested: number;
  available: number;
}

function insufficientStock(lines: ShortLine[]): ApiError {
  return new ApiError('conflict', `${lines.length} line${lines.length === 1 ? '' : 's'} of your cart cannot be covered by the stock; nothing was ordered.`, {
    extensions: { lines },
  });
}

function shortLines(lines: CartLine[], catalog: Map<number, CatalogEntry>): ShortLine[] {
  return lines.flatMap((l) => {
    const available = catalog.get(l.productId)?.stock ?? 0;
    return l.quantity > available ? [{ product_id: l.productId, name: catalog.get(l.productId)?.name ?? l.name, requested: l.quantity, available }] : [];
  });
}

/** Orders with their lines, in two queries however many orders there are. */
async function withItems(db: Database, rows: OrderRow[]): Promise<Order[]> {
  if (rows.length === 0) return [];
  const items = await db
    .select()
    .from(orderItems)
    .where(inArray(orderItems.orderId, rows.map((r) => r.id)))
    .orderBy(orderItems.id);
  const byOrder = new Map<number, OrderItemRow[]>();
  for (const item of items) byOrder.set(item.orderId, [...(byOrder.get(item.orderId) ?? []), item]);
  return rows.map((r) => toOrder(r, byOrder.get(r.id) ?? []));
}

/** The one order `where` picks, with its items; undefined when there is none. */
async function oneOrder(db: Database, where: SQL): Promise<Order | undefined> {
  const [row] = await db.select().from(orders).where(where);
  return row ? (await withItems(db, [row]))[0] : undefined;
}

/** The order a checkout committed, by its ref (the cart's hold token). */
async function orderByRef(d1: D1, ref: string): Promise<Order> {
  const order = await oneOrder(createDb(d1), eq(orders.ref, ref));
  if (!order) throw new Error(`no order with ref ${ref}`);
  return order;
}

/** The name and unit price a checkout expects to charge for each product. */
type Prices = Map<number, Pick<CatalogEntry, 'name' | 'priceCents'>>;

/**
 * The prices the cart holds: D1's at each line's last add or change, or at the last cart read
 * that showed a newer one: what the shopper was shown. Undefined when a line has none (kept
 * before the cart stored prices).
 */
function pricesInCart(lines: CartLine[]): Prices | undefined {
  const prices: Prices = new Map();
  for (const l of lines) {
    if (l.priceCents === null) return undefined;
    prices.set(l.productId, { name: l.name, priceCents: l.priceCents });
  }
  return prices;
}

/** The catalog's prices now, in one read; 409 naming every line the stock cannot cover (a deleted product has none). */
async function currentPrices(d1: D1, lines: CartLine[]): Promise<Prices> {
  const catalog = await catalogEntries(d1, lines.map((l) => l.productId));
  const short = shortLines(lines, catalog);
  if (short.length > 0) throw insufficientStock(short);
  return catalog;
}

/** Why the database refused a checkout's batch: each refusal rolls the whole batch back. */
type Refusal = 'stock' | 'changed' | 'key' | 'void';

function refusalOf(error: unknown): Refusal | undefined {
  const message = errorMessage(error);
  if (/CHECK constraint failed: products_stock_check|stock >= 0/i.test(message)) return 'stock';
  if (/NOT NULL constraint failed: order_items/i.test(message)) return 'changed';
  if (/CHECK constraint failed: idempotency_keys/i.test(message)) return 'key';
  if (/checkout_void/.test(message)) return 'void';
  return undefined;
}

/**
 * One D1 batch, a single transaction: the order, its lines, the stock decrements and the
 * idempotency record. The database has the last word: `CHECK (stock >= 0)` fails the batch
 * when the stock does not cover a line (another order took it first), and each line's name and
 * price come from a sub-select that is NULL (failing NOT NULL) unless the product still has
 * the name and price `prices` expects, so a product deleted or repriced fails it too.
 */
async function commitOrder(env: Bindings, d1: D1, user: AccessClaims, claim: IdempotencyClaim | undefined, lines: CartLine[], prices: Prices, ref: string) {
  const now = new Date().toISOString();
  const items = lines.map((l) => {
    const product = prices.get(l.productId) as Pick<CatalogEntry, 'name' | 'priceCents'>;
    return { productId: l.productId, name: product.name, unitPriceCents: product.priceCents, quantity: l.quantity, lineTotalCents: product.priceCents * l.quantity };
  });
  const totalCents = items.reduce((sum, i) => sum + i.lineTotalCents, 0);
  const order: Order = toOrder(
    { id: 0, ref, userId: user.userId, status: 'pending', totalCents, currency: env.CURRENCY, cancelRef: null, createdAt: now, updatedAt: now },
    items.map((i, n) => ({ id: n, orderId: 0, ...i })),
  );
  const statements = [
    d1
      .prepare("INSERT INTO orders (ref, user_id, status, total_cents, currency, created_at, updated_at) VALUES (?, ?, 'pending', ?, ?, ?, ?) RETURNING id")
      .bind(ref, user.userId, totalCents, env.CURRENCY, now, now),
    ...items.map((i) =>
      d1
        .prepare(
          `INSERT INTO order_items (order_id, product_id, name, unit_price_cents, quantity, line_total_cents)
           VALUES ((SELECT id FROM orders WHERE ref = ?1), ?2,
                   (SELECT name FROM products WHERE id = ?2 AND price_cents = ?3 AND name = ?5),
                   (SELECT price_cents FROM products WHERE id = ?2 AND price_cents = ?3 AND name = ?5),
                   ?4, ?3 * ?4)`,
        )
        .bind(ref, i.productId, i.unitPriceCents, i.quantity, i.name),
    ),
    ...items.map((i) => d1.prepare('UPDATE products SET stock = stock - ?, updated_at = ? WHERE id = ?').bind(i.quantity, now, i.productId)),
    ...completion(d1, claim, 201, order, { table: 'orders', ref }),
  ];
  try {
    const results = await d1.batch(statements);
    const id = (results[0]?.results[0] as { id?: number } | undefined)?.id;
    if (id === undefined) throw new Error('the order insert returned no id');
    return { ok: true as const, order: { ...order, id } };
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal === undefined) throw error;
    return { ok: false as const, refusal };
  }
}

/**
 * Checkout: the whole cart becomes one order, or nothing changes.
 *
 * 1. The cart object counts the attempt against the user's checkout rate limit (429 past it;
 *    `limited` gets the RateLimit headers either way), hands over its lines and holds the cart,
 *    so a second checkout (a double click) or a change cannot slip in between; the hold is
 *    released on every path.
 * 2. The order is committed in one D1 batch (`commitOrder`) at the prices the cart holds, which
 *    came from D1 at the shopper's last add, change or look at the cart. The batch checks them
 *    and the stock in its own transaction, so the common checkout reaches D1 once: no read
 *    before it.
 * 3. When the batch finds a price or name changed since (or the product gone), checkout reads
 *    the catalog once and commits again at today's prices: the order always charges what D1
 *    says at the moment it is written. Short lines are refused (409) before that second try, and
 *    whenever the stock refused the batch. A cart line kept without a price is read up front.
 * 4. Only then is the cart emptied. The order's ref is the hold's token: if the checkout dies
 *    between its commit and this step, or cannot tell whether its batch committed, the hold is
 *    settled through D1 (`settleHold`), which empties the cart if the order exists and otherwise
 *    voids the token, so the batch can no longer commit. A cart is never ordered twice.
 */
export async function checkout(
  env: Bindings,
  d1: D1,
  user: AccessClaims,
  claim: IdempotencyClaim | undefined,
  limited: (headers: Record<string, string>) => void,
): Promise<Order> {
  const cart = cartOf(env, user.userId);
  let { limit, taken } = await cart.beginCheckout(policyOf(env, 'checkout'));
  if (!taken.ok && taken.error === 'checkout_unsettled') {
    // An earlier checkout's hold ran out with its outcome unknown: settle it, then begin again.
    await settleHold(d1, cart, taken.token);
    ({ limit, taken } = await cart.beginCheckout(policyOf(env, 'checkout')));
  }
  // The headers go on every answer from here on; a refused attempt ends here with 429.
  limited(decided('checkout', limit));
  const { token, lines } = unwrap(taken);
  let committed = false;
  // A batch threw: its hold was settled through D1, or is left to run out and be settled later.
  // Either way it must not be released as it was.
  let unknown = false;
  /** Commits; if the batch throws, D1 may have committed it: settle the hold, and answer an order it finds. */
  const commit = async (prices: Prices) => {
    try {
      return await commitOrder(env, d1, user, claim, lines, prices, token);
    } catch (error) {
      unknown = true;
      const ordered = await settleHold(d1, cart, token).catch((failure: unknown) => {
        logLine(env, 'error', 'checkout outcome unknown; its hold will be settled later', { message: errorMessage(failure) });
        return false;
      });
      if (!ordered) throw error;
      logLine(env, 'warn', 'checkout batch committed though its call failed; answering its order', { message: errorMessage(error) });
      return { ok: true as const, order: await orderByRef(d1, token) };
    }
  };
  try {
    if (lines.length === 0) {
      throw new ApiError('bad_request', 'Your cart is empty: add products before checking out.', { errors: [{ path: 'cart', message: 'The cart has no lines.' }] });
    }
    const held = pricesInCart(lines);
    let attempt = await commit(held ?? (await currentPrices(d1, lines)));
    if (!attempt.ok && attempt.refusal === 'changed' && held) {
      // The cart's prices are out of date: price from the catalog as it is now, once.
      attempt = await commit(await currentPrices(d1, lines));
    }
    if (!attempt.ok) {
      switch (attempt.refusal) {
        case 'stock':
          // Another order took the stock first, or the cart's lines exceed it: `currentPrices`
          // answers 409 naming the lines short now; if none is short any more, say so.
          await currentPrices(d1, lines);
          throw new ApiError('conflict', 'The stock changed during checkout; nothing was ordered. Try again.');
        case 'changed':
          throw new ApiError('conflict', 'A product in your cart changed or left the catalog during checkout; nothing was ordered. Review your cart and try again.');
        case 'key':
          throw new ApiError('conflict', 'Another request took over this Idempotency-Key; nothing was ordered by this one.', { headers: { 'Retry-After': '1' } });
        case 'void':
          throw new ApiError('conflict', 'This checkout outlasted its hold on the cart and was cancelled; nothing was ordered. Try again.', { headers: { 'Retry-After': '1' } });
      }
    }
    committed = true;
    try {
      await cart.finishCheckout(token);
    } catch (error) {
      // The order stands; the cart keeps its lines (and frees itself in 30 s). Say so in the log.
      logLine(env, 'error', 'order placed but cart not emptied', { order_id: attempt.order.id, message: errorMessage(error) });
    }
    return attempt.order;
  } finally {
    if (!committed && !unknown) await cart.abortCheckout(token);
  }
}

/** The order if the viewer may see it: its owner or an admin. Anyone else gets 404, as for a missing one. */
export async function visibleOrder(db: Database, id: number, viewer: AccessClaims): Promise<Order> {
  const order = await oneOrder(db, and(eq(orders.id, id), viewer.role === 'admin' ? undefined : eq(orders.userId, viewer.userId)) as SQL);
  if (!order) throw orderNotFound();
  return order;
}

export async function listOrders(db: Database, viewer: AccessClaims, filters: { user_id?: number | undefined; status?: OrderStatus | undefined }, page: PageParams) {
  const owner = viewer.role === 'admin' ? filters.user_id : viewer.userId;
  const where: SQL | undefined = and(
    owner !== undefined ? eq(orders.userId, owner) : undefined,
    // A customer's user_id filter can only narrow their own orders (to nothing, if it is another id).
    viewer.role !== 'admin' && filters.user_id !== undefined && filters.user_id !== viewer.userId ? eq(orders.id, -1) : undefined,
    filters.status !== undefined ? eq(orders.status, filters.status) : undefined,
  );
  const { limit, offset } = pageWindow(page);
  const [[total], rows] = await db.batch([
    db.select({ n: count() }).from(orders).where(where),
    db.select().from(orders).where(where).orderBy(desc(orders.id)).limit(limit).offset(offset),
  ]);
  return { count: total?.n ?? 0, results: await withItems(db, rows) };
}

/**
 * Cancels a pending order and puts its stock back, in one batch. The status change is guarded
 * (`... AND status = 'pending'`) and stamps a fresh `cancel_ref`; the restock only runs for the
 * order carrying that stamp. Of two racing cancels one stamps and restocks, the other changes
 * nothing: stock comes back exactly once. An order with a payment in flight cannot be cancelled
 * (the payment would otherwise succeed for a cancelled order).
 */
export async function cancelOrder(d1: D1, db: Database, id: number, viewer: AccessClaims): Promise<Order> {
  const current = await visibleOrder(db, id, viewer);
  if (current.status !== 'pending') throw transitionConflict('orders', current.status, 'cancelled');
  const now = new Date().toISOString();
  const cancelRef = crypto.randomUUID();
  const [changed] = await d1.batch([
    guardedStatus(d1, 'orders', id, 'pending', 'cancelled', now, {
      set: { sql: 'cancel_ref = ?', params: [cancelRef] },
      where: { sql: "NOT EXISTS (SELECT 1 FROM payments WHERE order_id = ? AND status = 'pending')", params: [id] },
    }),
    d1
      .prepare(
        `UPDATE products SET stock = stock + oi.quantity, updated_at = ?1
         FROM (SELECT product_id, sum(quantity) AS quantity FROM order_items WHERE order_id = ?2 GROUP BY product_id) AS oi
         WHERE products.id = oi.product_id AND EXISTS (SELECT 1 FROM orders WHERE id = ?2 AND cancel_ref = ?3)`,
      )
      .bind(now, id, cancelRef),
  ]);
  if ((changed?.meta.changes ?? 0) === 0) {
    const after = await visibleOrder(db, id, viewer);
    if (after.status !== 'pending') throw transitionConflict('orders', after.status, 'cancelled');
    throw new ApiError('conflict', 'A payment for this order is being processed; try again when it has finished.', { headers: { 'Retry-After': '2' } });
  }
  return visibleOrder(db, id, viewer);
}
