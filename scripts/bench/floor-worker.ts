// The floors under edgeshop's D1-bound figures in `npm run bench`: what the local runtime costs
// before any app code. `/d1`: one trivial D1 query (the floor of any request that reads D1 once,
// as a cache miss or a cart add's product check does). `/d1-do`: that query, then one upsert in
// a SQLite-backed Durable Object (the floor of a cart add: a product read, then the cart object's
// write).
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
}

let n = 0;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    n += 1;
    const row = await env.DB.prepare('SELECT ?1 AS id').bind(n).first<{ id: number }>();
    // Fifty shoppers, as the benchmark's cart adds have.
    if (new URL(request.url).pathname === '/d1-do') await env.LINES.getByName(`shopper-${n % 50}`).add(n % 20);
    return Response.json(row);
  },
} satisfies ExportedHandler<Env>;
