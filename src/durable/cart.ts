import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import { countInWindow, type RateLimitDecision, type RateLimitPolicy } from './sliding-window.ts';
import { type CartError, type CartLine, type CartResult, CHECKOUT_LOCK_MS, MAX_CART_LINES, MAX_LINE_QUANTITY } from './cart.types.ts';

export type { CartError, CartLine, CartResult } from './cart.types.ts';

/**
 * One user's cart. Every change to a cart runs in this one object, one call at a time, so
 * twenty concurrent adds of the same product add up instead of overwriting each other.
 * Storage is the object's SQLite database; `sql.exec` is synchronous and no method awaits, so
 * each method is a transaction of its own (no other call interleaves with it).
 *
 * Prices are not answered from here: the API prices every line from D1 at every read. Each
 * line keeps the name and unit price D1 gave at its last add or change, or at the last read of
 * the cart that showed newer ones (`keepShown`), for two uses: to tell the user which line
 * disappeared when a product leaves the catalog, and as checkout's expectation, which its D1
 * batch checks against the catalog in the same transaction (so checkout needs no read of its
 * own while the prices hold; src/routes/orders/orders.service.ts).
 *
 * Methods return results instead of throwing: an error thrown across RPC loses its class.
 */
const ProductRef = z.object({
  productId: z.number().int().positive(),
  name: z.string(),
  /** Its unit price in cents now, read from D1 by the caller. */
  priceCents: z.number().int().min(0),
  /** Units in stock now, read from D1 by the caller. */
  stock: z.number().int().min(0),
});
const AddInput = ProductRef.extend({ quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY) });
const SetInput = ProductRef.omit({ productId: true }).extend({ itemId: z.number().int().positive(), quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY) });
const Ids = z.array(z.number().int().positive());
const Shown = z.array(ProductRef.omit({ stock: true }));
const Token = z.string().min(1);

interface Lock {
  token: string;
  until: number;
}

const LOCK_KEY = 'checkout';
/** The checkout attempts of the rate limit's window (src/durable/sliding-window.ts). */
const ATTEMPTS_KEY = 'checkout-attempts';

interface LineRow extends Record<string, SqlStorageValue> {
  id: number;
  product_id: number;
  name: string;
  quantity: number;
  price_cents: number | null;
}

const toLine = (r: LineRow): CartLine => ({ id: r.id, productId: r.product_id, name: r.name, quantity: r.quantity, priceCents: r.price_cents });
const COLUMNS = 'id, product_id, name, quantity, price_cents';

export class CartDurableObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Line ids count up within the cart (AUTOINCREMENT never reuses one), so a stale id from a
    // removed line cannot hit a new line.
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS lines (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      product_id INTEGER NOT NULL UNIQUE,
      name TEXT NOT NULL,
      quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND ${MAX_LINE_QUANTITY}),
      price_cents INTEGER
    )`);
    // Carts created before lines kept their price: add the column (NULL until the line changes).
    const priced = ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM pragma_table_info('lines') WHERE name = 'price_cents'").one().n;
    if (priced === 0) ctx.storage.sql.exec('ALTER TABLE lines ADD COLUMN price_cents INTEGER');
  }

  private rows(): CartLine[] {
    return this.ctx.storage.sql.exec<LineRow>(`SELECT ${COLUMNS} FROM lines ORDER BY id`).toArray().map(toLine);
  }

  private find(itemId: number): CartLine | null {
    const row = this.ctx.storage.sql.exec<LineRow>(`SELECT ${COLUMNS} FROM lines WHERE id = ?`, itemId).toArray()[0];
    return row ? toLine(row) : null;
  }

  /**
   * The checkout hold, as stored. Kept in memory too: only this object writes it, so the copy
   * cannot go stale, and every change to the cart asks for it.
   */
  private lock: Lock | null | undefined;

  private currentLock(): Lock | null {
    return (this.lock ??= this.ctx.storage.kv.get<Lock>(LOCK_KEY) ?? null);
  }

  private setLock(lock: Lock | null): void {
    if (lock) this.ctx.storage.kv.put<Lock>(LOCK_KEY, lock);
    else this.ctx.storage.kv.delete(LOCK_KEY);
    this.lock = lock;
  }

  /**
   * A change while a checkout holds the cart would be lost or half-ordered: refuse it. A hold
   * that ran out is not simply free: its checkout may have committed (and died before emptying
   * the cart) or may still commit. The caller settles it through D1 first.
   */
  private locked(): CartError | null {
    const lock = this.currentLock();
    const now = Date.now();
    if (!lock) return null;
    if (lock.until <= now) return { ok: false, error: 'checkout_unsettled', token: lock.token };
    return { ok: false, error: 'checkout_in_progress', retryAfterSeconds: Math.max(1, Math.ceil((lock.until - now) / 1000)) };
  }

  lines(): CartLine[] {
    return this.rows();
  }

  /** The lines to show: as they are during a checkout, but only once a hold that ran out is settled. */
  view(): CartResult<CartLine[]> {
    const busy = this.locked();
    if (busy?.error === 'checkout_unsettled') return busy;
    return { ok: true, value: this.rows() };
  }

  line(itemId: number): CartLine | null {
    return this.find(z.number().int().parse(itemId));
  }

  /** Adds to the product's line (creating it), within 99 per line and the stock the caller saw. */
  add(input: z.input<typeof AddInput>): CartResult<CartLine> {
    const { productId, name, priceCents, quantity, stock } = AddInput.parse(input);
    const busy = this.locked();
    if (busy) return busy;
    // The product's line and the number of lines, in one statement (not the whole cart, twice).
    const { held, lines } = this.ctx.storage.sql
      .exec<{ held: number | null; lines: number }>('SELECT (SELECT quantity FROM lines WHERE product_id = ?) AS held, count(*) AS lines FROM lines', productId)
      .one();
    if (held === null && lines >= MAX_CART_LINES) return { ok: false, error: 'too_many_lines' };
    const total = (held ?? 0) + quantity;
    if (total > MAX_LINE_QUANTITY) return { ok: false, error: 'quantity_limit', quantity: total };
    if (total > stock) return { ok: false, error: 'insufficient_stock', quantity: total, available: stock };
    const row = this.ctx.storage.sql
      .exec<LineRow>(
        `INSERT INTO lines (product_id, name, quantity, price_cents) VALUES (?, ?, ?, ?)
         ON CONFLICT (product_id) DO UPDATE SET quantity = excluded.quantity, name = excluded.name, price_cents = excluded.price_cents
         RETURNING ${COLUMNS}`,
        productId,
        name,
        total,
        priceCents,
      )
      .one();
    return { ok: true, value: toLine(row) };
  }

  /** Sets a line's quantity; `name`, `priceCents` and `stock` are the product's as the caller read them. */
  setQuantity(input: z.input<typeof SetInput>): CartResult<CartLine> {
    const { itemId, quantity, name, priceCents, stock } = SetInput.parse(input);
    const busy = this.locked();
    if (busy) return busy;
    if (!this.find(itemId)) return { ok: false, error: 'line_not_found' };
    if (quantity > stock) return { ok: false, error: 'insufficient_stock', quantity, available: stock };
    const row = this.ctx.storage.sql
      .exec<LineRow>(`UPDATE lines SET quantity = ?, name = ?, price_cents = ? WHERE id = ? RETURNING ${COLUMNS}`, quantity, name, priceCents, itemId)
      .one();
    return { ok: true, value: toLine(row) };
  }

  remove(itemId: number): CartResult<null> {
    const id = z.number().int().parse(itemId);
    const busy = this.locked();
    if (busy) return busy;
    const removed = this.ctx.storage.sql.exec('DELETE FROM lines WHERE id = ?', id).rowsWritten;
    return removed > 0 ? { ok: true, value: null } : { ok: false, error: 'line_not_found' };
  }

  clear(): CartResult<null> {
    const busy = this.locked();
    if (busy) return busy;
    this.ctx.storage.sql.exec('DELETE FROM lines');
    return { ok: true, value: null };
  }

  /**
   * Keeps the name and price that a read of the cart showed (`GET /cart/` prices every line from
   * D1) on the lines whose copy is older, so the checkout that follows finds them holding and
   * commits in one batch, instead of finding them changed and reading again. A cart that a
   * checkout holds is left as that checkout took it. A read from a lagging replica, or one that
   * an add overtook, may keep an older price than the add did: the checkout's batch then finds it
   * changed and reads again, as it would have without this. So this only ever saves a read; it
   * never prices an order. Returns the number of lines changed.
   */
  keepShown(products: z.input<typeof Shown>): number {
    const shown = Shown.parse(products);
    if (this.locked()) return 0;
    let changed = 0;
    for (const p of shown) {
      changed += this.ctx.storage.sql.exec(
        'UPDATE lines SET name = ?, price_cents = ? WHERE product_id = ? AND (name IS NOT ? OR price_cents IS NOT ?)',
        p.name,
        p.priceCents,
        p.productId,
        p.name,
        p.priceCents,
      ).rowsWritten;
    }
    return changed;
  }

  /** Drops the lines of products that left the catalog; returns the lines dropped. */
  dropProducts(productIds: number[]): CartLine[] {
    const ids = Ids.parse(productIds);
    const dropped = this.rows().filter((l) => ids.includes(l.productId));
    for (const line of dropped) this.ctx.storage.sql.exec('DELETE FROM lines WHERE id = ?', line.id);
    return dropped;
  }

  /**
   * Takes the cart for a checkout: returns its lines and a token, and holds every other change
   * (and a second checkout) off until `finishCheckout` or `abortCheckout`, or for 30 seconds if
   * the checkout dies. Two checkouts of one cart cannot both turn it into an order.
   * First it counts the attempt against the user's checkout rate limit (`policy`): the cart
   * object is the user's already, so the limit costs no object call of its own. Every attempt
   * counts, whatever becomes of it. A refused one takes nothing (the caller answers 429 from
   * `limit` and never reads `taken`).
   */
  beginCheckout(policy: RateLimitPolicy): { limit: RateLimitDecision; taken: CartResult<{ token: string; lines: CartLine[] }> } {
    const limit = countInWindow(this.ctx.storage.kv, ATTEMPTS_KEY, policy);
    if (!limit.allowed) return { limit, taken: { ok: false, error: 'checkout_in_progress', retryAfterSeconds: limit.resetSeconds } };
    const busy = this.locked();
    if (busy) return { limit, taken: busy };
    const token = crypto.randomUUID();
    this.setLock({ token, until: Date.now() + CHECKOUT_LOCK_MS });
    return { limit, taken: { ok: true, value: { token, lines: this.rows() } } };
  }

  /** The order was committed: empty the cart and release it. */
  finishCheckout(token: string): void {
    if (this.currentLock()?.token !== Token.parse(token)) return;
    this.ctx.storage.sql.exec('DELETE FROM lines');
    this.setLock(null);
  }

  /** The checkout failed: release the cart as it was. */
  abortCheckout(token: string): void {
    if (this.currentLock()?.token === Token.parse(token)) this.setLock(null);
  }

  /**
   * A hold whose outcome D1 has decided (`settleHold`): its order exists, so the cart empties, or
   * its token is void, so the cart is released as it was. Either way the hold ends.
   */
  settleCheckout(token: string, ordered: boolean): void {
    if (this.currentLock()?.token !== Token.parse(token)) return;
    if (z.boolean().parse(ordered)) this.ctx.storage.sql.exec('DELETE FROM lines');
    this.setLock(null);
  }
}
