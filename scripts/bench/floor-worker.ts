// The floors under edgeshop's D1-bound figures in `npm run bench`: what the local runtime costs
// before any app code. `/d1`: one trivial D1 query (the floor of any request that reads D1 once,
// as a cache miss or a cart add's product check does). `/d1-do`: that query, then one upsert in
// a SQLite-backed Durable Object (the floor of a cart add: a product read, then the cart object's
// write). `/checkout`: what a measured checkout (an add, then a checkout) cannot do without: the
// add's two steps, then the cart object's hold, one D1 batch (order, line, stock) and the cart
// object's release. No price read: the app's checkout commits at the prices its cart holds, which
// the batch checks (src/routes/orders/orders.service.ts), and reads only when one changed.
// `/checkout-only?cart=N`: a checkout alone, of a cart `/d1-do?cart=N` filled beforehand (the
// checkout-alone workload of writes.ts fills its carts, then checks them out, in rounds).
// Every D1 query runs in a Sessions API session, as the app's do (`src/lib/d1-session.ts`: reads
// start anywhere, writes on the primary). The design requires them (read replication), and
// locally a query in a session costs about a third more than one on the bare binding.
import { DurableObject } from 'cloudflare:workers';

interface Env {
  DB: D1Database;
  LINES: DurableObjectNamespace<Lines>;
}

export class Lines extends DurableObject<unknown> {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS lines (product_id INTEGER PRIMARY KEY, quantity INTEGER NOT NULL)');
  }

  add(productId: number): void {
    this.ctx.storage.sql.exec('INSERT INTO lines (product_id, quantity) VALUES (?, 1) ON CONFLICT (product_id) DO UPDATE SET quantity = quantity + 1', productId);
  }

  /**
   * Takes the cart: writes its hold, as the app's cart object must (a hold kept only in memory
   * would go with the object, and a second checkout could order the cart while the first
   * commits), and reads its lines.
   */
  hold(): number {
    this.ctx.storage.kv.put('hold', crypto.randomUUID());
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM lines').one().n;
  }

  release(): void {
    this.ctx.storage.sql.exec('DELETE FROM lines');
  }
}

const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, total_cents INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, product_id INTEGER NOT NULL, quantity INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, stock INTEGER NOT NULL CHECK (stock >= 0))',
  'WITH RECURSIVE ids(id) AS (SELECT 0 UNION ALL SELECT id + 1 FROM ids WHERE id < 19) INSERT OR IGNORE INTO products (id, stock) SELECT id, 1000000000 FROM ids',
];
let schema: Promise<unknown> | undefined;

/** The floor's tables, made by the first checkout. */
function ready(env: Env): Promise<unknown> {
  schema ??= env.DB.batch(SCHEMA.map((sql) => env.DB.prepare(sql))).catch((error: unknown) => {
    schema = undefined;
    throw error;
  });
  return schema;
}

/** A checkout's storage steps on `cart`: its hold, one D1 batch (order, line, stock) in a session, its release. */
async function checkout(env: Env, cart: DurableObjectStub<Lines>, product: number): Promise<unknown> {
  await ready(env);
  const db = env.DB.withSession('first-primary');
  const lines = await cart.hold();
  await db.batch([
    db.prepare('INSERT INTO orders (total_cents) VALUES (?)').bind(100),
    db.prepare('INSERT INTO order_items (order_id, product_id, quantity) VALUES (last_insert_rowid(), ?, 1)').bind(product),
    db.prepare('UPDATE products SET stock = stock - 1 WHERE id = ?').bind(product),
  ]);
  await cart.release();
  return { lines };
}

/** `/checkout`: an add, then a checkout, as two requests of the app do them, each in its session. */
async function addThenCheckout(env: Env, n: number): Promise<unknown> {
  const cart = env.LINES.getByName(`shopper-${n % 50}`);
  const product = n % 20;
  await env.DB.withSession('first-primary').prepare('SELECT ?1 AS id').bind(product).first();
  await cart.add(product);
  return checkout(env, cart, product);
}

let n = 0;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    n += 1;
    const url = new URL(request.url);
    const path = url.pathname;
    // `?cart=N`: one of the carts the checkout-alone floor fills, then checks out.
    const cartNumber = url.searchParams.has('cart') ? Number(url.searchParams.get('cart')) : undefined;
    if (path === '/checkout') return Response.json(await addThenCheckout(env, n));
    if (path === '/checkout-only' && cartNumber !== undefined) return Response.json(await checkout(env, env.LINES.getByName(`cart-${cartNumber}`), cartNumber % 20));
    const write = path === '/d1-do';
    const row = await env.DB.withSession(write ? 'first-primary' : 'first-unconstrained')
      .prepare('SELECT ?1 AS id')
      .bind(n)
      .first<{ id: number }>();
    // Fifty shoppers, as the benchmark's cart adds have.
    if (write) await env.LINES.getByName(cartNumber === undefined ? `shopper-${n % 50}` : `cart-${cartNumber}`).add(n % 20);
    return Response.json(row);
  },
} satisfies ExportedHandler<Env>;
