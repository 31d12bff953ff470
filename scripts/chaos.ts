// `npm run chaos`: crash consistency. Runs checkouts and payments against the `npm start`
// server, kills it with SIGKILL at a random moment, starts it again on the same local state,
// retries the interrupted requests with their Idempotency-Keys, lets the reconciler run, then
// checks the invariants in D1:
//   - stock plus the units in pending or paid orders equals the starting stock, never negative;
//   - no order is paid twice, every paid order has its one succeeded payment, no payment
//     without an order;
//   - no payment stays pending past the reconciler's threshold;
//   - a retried request returns the first result (and creates nothing new).
// Last, clients that hang up: catalog edits dropped mid-request beside steady ones, which must
// all answer (`hangUps`).
//   npm run chaos -- --runs 3 --shoppers 12
import { type ChildProcess, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { d1Execute, readDevVars, root, wranglerEnv } from './lib.ts';
import { seed } from './seed.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    shoppers: { type: 'string', default: '12' },
    port: { type: 'string', default: '8792' },
  },
});
const RUNS = Number(values.runs);
const SHOPPERS = Number(values.shoppers);
const PORT = Number(values.port);
const URL_BASE = `http://127.0.0.1:${PORT}`;
const START_STOCK = 40;
const PENDING_LIMIT_SECONDS = 30;
const J = { 'content-type': 'application/json' };

// ---- the server, in a process group of its own so SIGKILL takes workerd with it ----

let server: ChildProcess | undefined;

async function startServer(): Promise<void> {
  server = spawn(
    process.execPath,
    [
      `${root}/scripts/start.ts`,
      '--no-seed',
      // Many shoppers from one address; the reconciler every second, re-sending after 3 s.
      '--var', 'RATE_LIMIT_MULTIPLIER=100000',
      '--var', 'RECONCILE_RESEND_AFTER_SECONDS=3',
      '--var', `RECONCILE_FAIL_AFTER_SECONDS=${PENDING_LIMIT_SECONDS}`,
      '--var', 'LOG_LEVEL=warn',
      '--cron-every', '1',
    ],
    { cwd: root, detached: true, stdio: 'ignore', env: wranglerEnv({ PORT: String(PORT) }) },
  );
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${URL_BASE}/health`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  throw new Error('the server did not start');
}

function kill(signal: NodeJS.Signals): void {
  if (server?.pid) {
    try {
      process.kill(-server.pid, signal);
    } catch {
      // already gone
    }
  }
}

async function stopServer(): Promise<void> {
  kill('SIGTERM');
  await sleep(1500);
  kill('SIGKILL');
}
process.on('exit', () => kill('SIGKILL'));

// ---- the client side ----

interface Sent {
  kind: 'checkout' | 'pay';
  token: string;
  key: string;
  body?: unknown;
  status?: number;
  response?: string;
  interrupted?: boolean;
}

async function send(token: string, path: string, key: string, body?: unknown): Promise<{ status: number; text: string; replayed: boolean }> {
  const res = await fetch(`${URL_BASE}${path}`, {
    method: 'POST',
    headers: { ...J, authorization: `Bearer ${token}`, 'Idempotency-Key': key },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text(), replayed: res.headers.get('Idempotent-Replayed') === 'true' };
}

async function api<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const res = await fetch(`${URL_BASE}${path}`, {
    method,
    headers: { ...J, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** Retries an interrupted request with its key until it gets an answer (honouring 409 Retry-After). */
async function retry(sent: Sent): Promise<{ status: number; text: string; replayed: boolean }> {
  const path = sent.kind === 'checkout' ? '/orders/' : '/payments/';
  for (let i = 0; ; i++) {
    const res = await send(sent.token, path, sent.key, sent.body);
    const retryable = res.status === 409 && /still being processed|checkout of this cart is in progress/.test(res.text);
    if (!retryable || i > 120) return res;
    await sleep(1000);
  }
}

function query<T>(sql: string): T[] {
  return d1Execute(sql) as T[];
}

async function run(n: number, shoppers: string[], productIds: number[]): Promise<string[]> {
  const problems: string[] = [];
  const sent: Sent[] = [];
  let stopped = false;
  const killAfter = 300 + Math.floor(Math.random() * 1500);

  const shopper = async (token: string, index: number) => {
    for (let round = 0; !stopped; round++) {
      try {
        const product = productIds[(index + round) % productIds.length]!;
        // Refusals (stock gone, the cart held) are part of the game: only the network failing ends the shopper.
        await fetch(`${URL_BASE}/cart/`, { method: 'POST', headers: { ...J, authorization: `Bearer ${token}` }, body: JSON.stringify({ product_id: product, quantity: 1 + (round % 2) }) });
        const checkout: Sent = { kind: 'checkout', token, key: `chaos-${n}-${index}-${round}-order` };
        sent.push(checkout);
        const order = await send(token, '/orders/', checkout.key);
        Object.assign(checkout, { status: order.status, response: order.text });
        if (order.status !== 201) continue;
        const orderId = (JSON.parse(order.text) as { id: number }).id;
        const pay: Sent = { kind: 'pay', token, key: `chaos-${n}-${index}-${round}-pay`, body: { order_id: orderId, ...(round % 5 === 4 ? { card_number: '4000000000000002' } : {}) } };
        sent.push(pay);
        const payment = await send(token, '/payments/', pay.key, pay.body);
        Object.assign(pay, { status: payment.status, response: payment.text });
      } catch {
        // The server died under us: the request in flight, if any, stays unanswered (marked below).
        return;
      }
    }
  };

  const work = Promise.all(shoppers.map((token, i) => shopper(token, i)));
  await sleep(killAfter);
  const inFlight = sent.filter((s) => s.status === undefined).length;
  kill('SIGKILL');
  stopped = true;
  await work;
  const answered = sent.filter((s) => s.status !== undefined);
  for (const s of sent) if (s.status === undefined) s.interrupted = true;
  const interrupted = sent.filter((s) => s.interrupted);

  await startServer();
  // Interrupted requests, retried with their keys: each gets one answer, whatever the crash did.
  for (const s of interrupted) {
    const res = await retry(s);
    Object.assign(s, { status: res.status, response: res.text });
    if (res.status >= 500) problems.push(`retry of ${s.key} answered ${res.status}`);
  }
  // Answered requests, sent again: the first result comes back, replayed.
  for (const s of answered.filter((a) => a.status === 201 || a.status === 202).slice(0, 20)) {
    const res = await retry(s);
    const same = JSON.stringify(JSON.parse(res.text)) === JSON.stringify(JSON.parse(s.response ?? 'null'));
    if (!same || !res.replayed) problems.push(`replay of ${s.key} differs: ${res.status} ${res.text.slice(0, 80)}`);
  }

  // The reconciler re-sends what the crash stranded; wait until nothing of ours is pending.
  const deadline = Date.now() + (PENDING_LIMIT_SECONDS + 15) * 1000;
  let pending: number;
  let pendingAtRestart: number | undefined;
  do {
    await sleep(1000);
    pending = (await Promise.all(shoppers.map((t) => api<{ results: { status: string }[] }>('GET', '/payments/?page_size=100', t)))).flatMap((p) => p.results).filter((p) => p.status === 'pending').length;
    pendingAtRestart ??= pending;
  } while (pending > 0 && Date.now() < deadline);
  await stopServer();
  if (pending > 0) problems.push(`${pending} payments still pending after ${PENDING_LIMIT_SECONDS + 15} s`);

  // ---- invariants, read from D1 itself ----
  const ids = productIds.join(', ');
  for (const row of query<{ id: number; stock: number; held: number }>(
    `SELECT p.id, p.stock, coalesce((SELECT sum(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id
       WHERE i.product_id = p.id AND o.status IN ('pending', 'paid')), 0) AS held FROM products p WHERE p.id IN (${ids})`,
  )) {
    if (row.stock < 0) problems.push(`product ${row.id}: stock ${row.stock} < 0`);
    if (row.stock + row.held !== START_STOCK) problems.push(`product ${row.id}: stock ${row.stock} + held ${row.held} != ${START_STOCK}`);
  }
  for (const row of query<{ order_id: number; n: number }>("SELECT order_id, count(*) AS n FROM payments WHERE status = 'succeeded' GROUP BY order_id HAVING n > 1")) {
    problems.push(`order ${row.order_id} paid ${row.n} times`);
  }
  for (const row of query<{ id: number }>("SELECT o.id FROM orders o WHERE o.status = 'paid' AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status = 'succeeded')")) {
    problems.push(`order ${row.id} paid without a succeeded payment`);
  }
  for (const row of query<{ id: number }>('SELECT p.id FROM payments p LEFT JOIN orders o ON o.id = p.order_id WHERE o.id IS NULL')) {
    problems.push(`payment ${row.id} without an order`);
  }
  // One order per checkout key: the orders of this run's shoppers equal the keys answered 201.
  const created = new Set(sent.filter((s) => s.kind === 'checkout' && s.status === 201).map((s) => (JSON.parse(s.response ?? '{}') as { id?: number }).id));
  const [{ n: orders } = { n: -1 }] = query<{ n: number }>(
    `SELECT count(DISTINCT o.id) AS n FROM orders o JOIN order_items i ON i.order_id = o.id WHERE i.product_id IN (${ids})`,
  );
  if (orders !== created.size) problems.push(`${orders} orders in D1 for ${created.size} distinct successful checkouts`);

  console.log(
    `run ${n}: killed ${killAfter} ms in, ${inFlight} request(s) in flight; ${answered.length} answered before, ${interrupted.length} interrupted and retried; ` +
      `${created.size} orders; ${pendingAtRestart} payment(s) still pending a second after the restart, settled by the queue and the reconciler; ${problems.length === 0 ? 'all invariants hold' : `${problems.length} PROBLEM(S)`}`,
  );
  for (const p of problems) console.log(`  - ${p}`);
  return problems;
}

/**
 * Clients that hang up: two admins edit products and two visitors read the catalog (details,
 * pages, search), and drop each request after 1 to 30 ms (the worker's request is cancelled
 * wherever it is), while four others edit and two read steadily, for `HANG_UP_SECONDS`. Every
 * steady request must answer 200, and so must an edit of each product afterwards. (A request
 * that is cancelled may leave half-way what others wait for: a location-cache invalidation
 * round, a shared read; src/lib/catalog-cache.ts.)
 */
const HANG_UP_SECONDS = 10;
async function hangUps(): Promise<string[]> {
  await startServer();
  const stamp = Date.now().toString(36);
  const ids = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => (await api<{ id: number }>('POST', '/products/', adminToken, { name: `Hang-up ${stamp} ${i}`, category: 'Chaos', price: '1.00', stock: 5 })).id),
  );
  const send = async (path: string, init: RequestInit, hangUpMs?: number): Promise<string> => {
    try {
      const res = await fetch(`${URL_BASE}${path}`, { ...init, signal: AbortSignal.timeout(hangUpMs ?? 10_000) });
      await res.arrayBuffer();
      return String(res.status);
    } catch {
      return hangUpMs === undefined ? 'no answer in 10 s' : 'hung up';
    }
  };
  const edit = (id: number, hangUpMs?: number) =>
    send(`/products/${id}/`, { method: 'PATCH', headers: { ...J, authorization: `Bearer ${adminToken}` }, body: JSON.stringify({ price: `${1 + Math.floor(Math.random() * 9)}.00` }) }, hangUpMs);
  const read = (hangUpMs?: number) => {
    const id = ids[Math.floor(Math.random() * ids.length)] as number;
    const paths = [`/products/${id}/`, `/products/?category=Chaos&page_size=5`, `/products/search/?q=Hang-up`, '/categories/'];
    return send(paths[Math.floor(Math.random() * paths.length)] as string, {}, hangUpMs);
  };
  const steady: Record<string, number> = {};
  let hungUp = 0;
  const end = Date.now() + HANG_UP_SECONDS * 1000;
  const steadily = async (request: () => Promise<string>) => {
    while (Date.now() < end) {
      const status = await request();
      steady[status] = (steady[status] ?? 0) + 1;
    }
  };
  const hangingUp = async (request: (ms: number) => Promise<string>) => {
    while (Date.now() < end) {
      await request(1 + Math.floor(Math.random() * 30));
      hungUp++;
    }
  };
  await Promise.all([
    ...ids.slice(0, 4).map((id) => steadily(() => edit(id))),
    ...[0, 1].map(() => steadily(() => read())),
    ...ids.slice(4).map((id) => hangingUp((ms) => edit(id, ms))),
    ...[0, 1].map(() => hangingUp((ms) => read(ms))),
  ]);
  const after = await Promise.all(ids.map((id) => edit(id)));
  await stopServer();
  const problems: string[] = [];
  const failed = Object.entries(steady).filter(([status]) => status !== '200');
  if (failed.length > 0) problems.push(`steady requests beside ${hungUp} hung-up ones answered ${failed.map(([s, n]) => `${s} ×${n}`).join(', ')}`);
  if (after.some((status) => status !== '200')) problems.push(`edits afterwards answered ${after.join(', ')}`);
  console.log(`hang-ups: ${steady['200'] ?? 0} steady edits and reads answered 200 beside ${hungUp} hung-up ones; afterwards ${after.join(' ')}`);
  for (const p of problems) console.log(`  - ${p}`);
  return problems;
}

let adminToken = '';
await seed();
await startServer();
const vars = readDevVars();
adminToken = (await api<{ access: string }>('POST', '/auth/login/', undefined, { username: vars['ADMIN_USERNAME'] || 'admin', password: vars['ADMIN_PASSWORD'] || 'admin-password-change-me' })).access;
let failures = 0;
for (let n = 1; n <= RUNS; n++) {
  if (n > 1) await startServer();
  const stamp = `${Date.now().toString(36)}${n}`;
  const productIds = await Promise.all(
    [0, 1, 2, 3].map(async (i) => (await api<{ id: number }>('POST', '/products/', adminToken, { name: `Chaos stock ${stamp} ${i}`, category: 'Chaos', price: `${i + 1}.50`, stock: START_STOCK })).id),
  );
  const shoppers = await Promise.all(
    Array.from({ length: SHOPPERS }, async (_, i) => {
      const username = `chaos_${stamp}_${i}`;
      await api('POST', '/auth/register/', undefined, { username, email: `${username}@chaos.example`, password: 'chaos shopper pw' });
      return (await api<{ access: string }>('POST', '/auth/login/', undefined, { username, password: 'chaos shopper pw' })).access;
    }),
  );
  failures += (await run(n, shoppers, productIds)).length;
}
failures += (await hangUps()).length;
console.log(`chaos: ${RUNS - (failures > 0 ? 1 : 0)} passed, ${failures > 0 ? 1 : 0} failed (${failures} problem(s) over ${RUNS} runs)`);
process.exit(failures > 0 ? 1 : 0);
