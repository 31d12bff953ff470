// Seeds the local D1 database: the admin account from ADMIN_* settings (.dev.vars, with the
// contract's defaults) and the demo catalog. Safe to run again: nothing is duplicated.
//   npm run seed                    admin + demo catalog (300 products) when the catalog is empty
//   npm run seed -- --count 10000   tops the catalog up to 10,000 products (for benchmarks)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hashPassword } from '../src/lib/password.ts';
import { descriptionState } from '../src/routes/products/products.service.ts';
import { DEMO_PRODUCT_COUNT, demoProducts } from './catalog.ts';
import { applyLocalMigrations, d1Execute, d1ExecuteFile, ensureDevVars, q, readDevVars } from './lib.ts';

/** Rows per INSERT: 10 rows x 9 columns = 90 values, inside D1's 100-bound-parameter limit. */
const ROWS_PER_STATEMENT = 10;
/** Statements per `wrangler d1 execute` file. */
const STATEMENTS_PER_FILE = 200;

export async function seedAdmin(vars: Record<string, string>): Promise<void> {
  const username = vars['ADMIN_USERNAME'] || 'admin';
  const email = (vars['ADMIN_EMAIL'] || 'admin@example.com').toLowerCase();
  const password = vars['ADMIN_PASSWORD'] || 'admin-password-change-me';
  const existing = d1Execute(`SELECT id FROM users WHERE username = ${q(username)} COLLATE NOCASE OR email = ${q(email)}`);
  if (existing.length > 0) {
    console.log(`admin: ${username} already exists`);
    return;
  }
  const hash = await hashPassword(password);
  d1Execute(
    `INSERT INTO users (username, email, password_hash, role) VALUES (${q(username)}, ${q(email)}, ${q(hash)}, 'admin')`,
  );
  console.log(`admin: created ${username} <${email}>`);
}

function productCount(): number {
  const [row] = d1Execute('SELECT count(*) AS n FROM products') as { n: number }[];
  return row?.n ?? 0;
}

/** Tops the catalog up to `target` products with the deterministic demo sequence. */
export function seedCatalog(target: number): void {
  const existing = productCount();
  if (existing >= target) {
    console.log(`catalog: ${existing} products already (target ${target})`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'edgeshop-seed-'));
  try {
    const products = demoProducts(existing, target);
    const statements: string[] = [];
    for (let i = 0; i < products.length; i += ROWS_PER_STATEMENT) {
      const rows = products.slice(i, i + ROWS_PER_STATEMENT).map((p) => {
        // The same rule the API applies to a hand-written description.
        const { descriptionStatus, descriptionSource } = descriptionState(p.description);
        const source = descriptionSource === null ? 'NULL' : q(descriptionSource);
        return `(${q(p.name)}, ${q(p.category)}, ${p.priceCents}, ${q(p.description)}, ${p.stock}, ${q(JSON.stringify(p.features))}, ${q(descriptionStatus)}, ${source}, ${q(p.createdAt)}, ${q(p.createdAt)})`;
      });
      statements.push(
        `INSERT INTO products (name, category, price_cents, description, stock, features, description_status, description_source, created_at, updated_at) VALUES\n${rows.join(',\n')};`,
      );
    }
    for (let i = 0; i < statements.length; i += STATEMENTS_PER_FILE) {
      const file = join(dir, `products-${i}.sql`);
      writeFileSync(file, statements.slice(i, i + STATEMENTS_PER_FILE).join('\n'));
      d1ExecuteFile(file);
    }
    console.log(`catalog: added ${products.length} products (now ${productCount()})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function seed(options: { count?: number } = {}): Promise<void> {
  ensureDevVars();
  applyLocalMigrations();
  await seedAdmin(readDevVars());
  seedCatalog(options.count ?? DEMO_PRODUCT_COUNT);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { count: { type: 'string' } } });
  const count = values.count === undefined ? undefined : Number(values.count);
  if (count !== undefined && (!Number.isSafeInteger(count) || count < 0)) throw new Error('--count takes a whole number');
  await seed({ count });
}
