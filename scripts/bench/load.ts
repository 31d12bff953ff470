// What the benchmark asks for, and how: a new path on every request, so the figures cover the
// whole catalog and many queries instead of one cached answer.
//
// Load comes from wrk (Debian's package) when it is installed: the tool, and the settings
// (-t1 -c16), the performance issue measured DRF and edgeshop's "before" figures with. It is C
// and takes a small part of one core; autocannon is JavaScript, and at a few thousand req/s it
// takes a core of its own on this two-core machine and caps what it can measure (a bare worker:
// about 11,000 req/s under autocannon, 17,000 under wrk). The write workloads run one wrk thread
// per connection (writes.lua: one shopper each). Without wrk, autocannon loads everything, and
// the report says which tool ran. Priming always uses autocannon.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import type { Request as AutocannonRequest } from 'autocannon';
import type { WorkerName } from './servers.ts';

/** The tool that loads this run. `BENCH_LOAD=autocannon` forces autocannon. */
export const LOAD_GENERATOR: 'wrk' | 'autocannon' =
  process.env['BENCH_LOAD'] !== 'autocannon' && spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error === undefined ? 'wrk' : 'autocannon';

export interface Target {
  name: string;
  worker: WorkerName;
  /** What the paths look like, for the report. */
  sample: string;
  nextPath: () => string;
  /**
   * Paths requested in order before the warm-up, each twice: "on a warm cache" means every one
   * was read, and is in the location's cache too, which admits a copy on its second request.
   */
  prime?: readonly string[];
}

export interface LoadOptions {
  /** Seconds measured per target. */
  duration: number;
  /** Seconds of load before measuring, not counted: JIT, SQLite page cache, connection setup. */
  warmup: number;
  connections: number;
  /** After a wrk run, probe the latency with a closed-loop client too (`probeLatency`). */
  closedLoop?: boolean;
  /** Awaited after priming, before the warm-up: the server has finished what earlier requests started. */
  settle?: () => Promise<void>;
}

export interface Measurement {
  target: Target['name'];
  sample: string;
  requests: number;
  requestsPerSec: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
  /**
   * Latency of the same traffic from a closed-loop client (autocannon) that reports what it
   * measured: wrk adds coordinated-omission samples (see `probeLatency`). Only when wrk loads.
   */
  closedLoopMs?: Measurement['latencyMs'];
  /** These four include the warm-up. */
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

const CATEGORIES = ['Furniture', 'Kitchen', 'Toys', 'Electronics', 'Garden'];
const WORDS = ['steel', 'wood', 'chair', 'cotton', 'granite', 'soft', 'gorgeous', 'rustic'];
// Shapes a shopper types: prefixes (`chai` finds Chair), single words, two or three words,
// with and without a category filter, and the category filter alone.
const QUERIES = [
  'q=chai',
  'q=wood',
  'q=steel%20chair',
  'q=chair&category=Furniture',
  'q=granite',
  'q=headphones',
  'q=bamboo&category=Kitchen',
  'q=keyboard',
  'q=rustic%20wooden%20desk',
  'q=gorgeous',
  'q=cotton%20sweater',
  'q=elegant&category=Toys',
  'q=dark%20chocolate',
  'category=Garden',
];

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

function between(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** Pages stay inside the catalog: a page past the end is a 404, which would fail the run. */
export function targets(productIds: readonly number[], worker: WorkerName): Target[] {
  if (worker === 'bare' || worker === 'bare-assets' || worker === 'floor') return baselines().filter((t) => t.worker === worker);
  if (worker === 'bare-v8-defaults') return baselines().flatMap((t) => (t.worker === 'bare' ? [{ ...t, worker }] : []));
  const hot = productIds.filter((_, i) => i % Math.max(1, Math.floor(productIds.length / 1000)) === 0).slice(0, 1000);
  const reads: Omit<Target, 'worker'>[] = [
    { name: 'health', sample: '/health', nextPath: () => '/health' },
    {
      name: 'list',
      sample: '/products/?page=1..50, or ?category=&ordering=&page=1..10',
      nextPath: () =>
        Math.random() < 0.5
          ? `/products/?page=${between(1, 50)}`
          : `/products/?category=${pick(CATEGORIES)}&ordering=${pick(['price', '-price', 'name', '-created_at'])}&page=${between(1, 10)}`,
    },
    {
      name: 'detail',
      sample: `/products/{id}/, ${productIds.length} ids, each read twice before (a warm cache)`,
      nextPath: () => `/products/${pick(productIds)}/`,
      prime: productIds.map((id) => `/products/${id}/`),
    },
    {
      // Shoppers look at some products far more than others: the same path over the 1,000
      // products that draw the traffic, each read twice before.
      name: 'detail (1,000 hot)',
      sample: '/products/{id}/, 1,000 ids drawn from the catalog, each read twice before',
      nextPath: () => `/products/${pick(hot)}/`,
      prime: hot.map((id) => `/products/${id}/`),
    },
    {
      name: 'search',
      sample: `/products/search/?q=..., ${QUERIES.length} queries`,
      nextPath: () => `/products/search/?${pick(QUERIES)}`,
    },
    {
      name: 'search+category',
      sample: `/products/search/?q=...&category=..., ${WORDS.length} words x ${CATEGORIES.length} categories`,
      nextPath: () => `/products/search/?q=${pick(WORDS)}&category=${pick(CATEGORIES)}`,
    },
  ];
  return reads.map((t) => ({ ...t, worker }));
}

/** Random traffic over the whole catalog: details, list pages, searches, categories. */
export function mixed(productIds: readonly number[], worker: WorkerName, name: string): Target {
  const shapes = [
    () => `/products/${pick(productIds)}/`,
    () => `/products/${pick(productIds)}/`,
    () => `/products/?page=${between(1, 50)}`,
    () => `/products/?category=${pick(CATEGORIES)}&ordering=${pick(['price', '-price', 'name'])}&page=${between(1, 10)}`,
    () => `/products/search/?${pick(QUERIES)}`,
    () => `/products/search/?q=${pick(WORDS)}&category=${pick(CATEGORIES)}`,
    () => '/categories/',
  ];
  return { name, worker, sample: 'detail 2/7, list 2/7, search 2/7, categories 1/7; random ids, pages, terms', nextPath: () => pick(shapes)() };
}

function baselines(): Target[] {
  return [
    {
      name: 'bare',
      worker: 'bare',
      sample: '/products/{id}/ on the bare worker',
      nextPath: () => `/products/${between(1, 10_000)}/`,
    },
    {
      name: 'bare+assets',
      worker: 'bare-assets',
      sample: '/products/{id}/ on the bare worker with an [assets] directory, like edgeshop',
      nextPath: () => `/products/${between(1, 10_000)}/`,
    },
    {
      name: 'floor: one D1 query',
      worker: 'floor',
      sample: '/d1: one trivial D1 query in a Sessions API session, no app code',
      nextPath: () => '/d1',
    },
    {
      name: 'floor: D1 query + Durable Object write',
      worker: 'floor',
      sample: '/d1-do: a D1 query in a session, then an upsert in one of 50 SQLite-backed objects, no app code',
      nextPath: () => '/d1-do',
    },
    {
      name: 'floor: cart add + checkout storage steps',
      worker: 'floor',
      sample: "/checkout: the add's two steps, then the cart object's hold, one D1 batch (order, line, stock) in a session, the release",
      nextPath: () => '/checkout',
    },
  ];
}

export async function measure(url: string, target: Target, options: LoadOptions): Promise<Measurement> {
  if (target.prime) {
    const paths = [...target.prime, ...target.prime];
    let next = 0;
    const primed = await autocannon({
      url,
      connections: options.connections,
      amount: paths.length,
      requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] }) }],
    });
    if (primed.non2xx + primed.errors + primed.timeouts > 0) throw new Error(`priming ${target.name} failed: ${JSON.stringify(primed.statusCodeStats)}`);
  }
  await options.settle?.();
  if (LOAD_GENERATOR === 'wrk') {
    const measured = await measureWithWrk(url, target, options);
    return options.closedLoop ? { ...measured, closedLoopMs: await probeLatency(url, target, options) } : measured;
  }
  return measureRequests(url, target, options, pathRequests(target));
}

/** Seconds of the closed-loop latency probe that follows a wrk measurement. */
const PROBE_SECONDS = 5;

/**
 * The latency the same traffic sees from a closed-loop client: autocannon, with as many
 * connections as wrk had, right after wrk's run (the cache is as warm), reporting the latencies
 * it measured. wrk 4 does not: when a response takes more than twice the mean interval of a
 * connection, it adds the samples the requests it did not send meanwhile would have had
 * (`stats_correct`, its coordinated-omission correction). workerd pauses for a garbage
 * collection of its request objects every few thousand requests, for 20 to 200 ms, a bare worker
 * included, and each pause becomes a hundred or more samples at that length: the p99 wrk
 * reports is the pause's length. Both are reported.
 */
async function probeLatency(url: string, target: Target, options: LoadOptions): Promise<Measurement['latencyMs']> {
  const probe = await measureRequests(url, target, { ...options, duration: PROBE_SECONDS, warmup: 0 }, pathRequests(target));
  if (probe.non2xx + probe.errors + probe.timeouts > 0) throw new Error(`latency probe of ${target.name} failed: ${JSON.stringify(probe.statusCodes)}`);
  return probe.latencyMs;
}

/** An autocannon request sequence of one GET to the target's next path. */
function pathRequests(target: Target): AutocannonRequest[] {
  return [{ method: 'GET', setupRequest: (request) => ({ ...request, path: target.nextPath() }) }];
}

/** Paths drawn in advance for wrk: enough that a connection never walks the same stretch twice in a run. */
const WRK_PATHS = 200_000;

interface WrkSummary {
  requests: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  /** Responses with a status of 400 or more (wrk counts those). */
  status: number;
  timeout: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

/** A wrk script, its environment, and how many threads (each thread keeps its own Lua state). */
export interface WrkScript {
  script: string;
  env: Record<string, string>;
  threads: number;
  /** Called before each wrk run (the warm-up's, then the measured one's), once the last one's requests have landed. */
  beforeRun?: () => Promise<void>;
}

function runWrk(url: string, seconds: number, connections: number, { script, env, threads }: WrkScript, resultFile: string): Promise<WrkSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', join(import.meta.dirname, script), url], {
      env: { ...process.env, ...env, WRK_RESULT: resultFile, WRK_RESULT_LUA: join(import.meta.dirname, 'result.lua') },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited with ${code}`));
      resolve(JSON.parse(readFileSync(resultFile, 'utf8')) as WrkSummary);
    });
  });
}

/**
 * Runs a wrk script (after `options.warmup` seconds of the same load, not counted).
 * `perOperation` requests make one operation: req/s is reported per operation.
 */
export async function measureWithWrkScript(
  url: string,
  target: Pick<Target, 'name' | 'sample'>,
  options: LoadOptions,
  script: (dir: string) => WrkScript,
  perOperation = 1,
): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeshop-bench-'));
  try {
    const wrk = script(dir);
    const resultFile = join(dir, 'result.json');
    await wrk.beforeRun?.();
    const warmup = options.warmup > 0 ? await runWrk(url, options.warmup, options.connections, wrk, resultFile) : undefined;
    // wrk stops with requests in flight: let them finish (a checkout still holding its cart
    // would refuse the next run's first add with a 409).
    if (warmup) {
      await sleep(1000);
      await wrk.beforeRun?.();
    }
    const run = await runWrk(url, options.duration, options.connections, wrk, resultFile);
    const runs = [run, ...(warmup ? [warmup] : [])];
    const failed = (r: WrkSummary) => r.connect + r.read + r.write;
    const ms = (us: number) => Math.round(us / 100) / 10;
    const non2xx = runs.reduce((n, r) => n + r.status, 0);
    return {
      target: target.name,
      sample: target.sample,
      requests: run.requests / perOperation,
      requestsPerSec: run.requests / perOperation / (run.durationUs / 1e6),
      latencyMs: { mean: ms(run.meanUs), p50: ms(run.p50Us), p90: ms(run.p90Us), p99: ms(run.p99Us), p999: ms(run.p999Us), max: ms(run.maxUs) },
      non2xx,
      errors: runs.reduce((n, r) => n + failed(r), 0),
      timeouts: runs.reduce((n, r) => n + r.timeout, 0),
      // wrk tells failures (400 and over) from the rest, not each status.
      statusCodes: { '2xx/3xx': runs.reduce((n, r) => n + r.requests - r.status, 0), '4xx/5xx': non2xx },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measureWithWrk(url: string, target: Target, options: LoadOptions): Promise<Measurement> {
  return measureWithWrkScript(url, target, options, (dir) => {
    const paths = join(dir, 'paths');
    writeFileSync(paths, `${Array.from({ length: WRK_PATHS }, () => target.nextPath()).join('\n')}\n`);
    return { script: 'paths.lua', env: { WRK_PATHS: paths }, threads: 1 };
  });
}

/**
 * Runs autocannon with a request sequence (each connection walks it in order, over and over).
 * `perOperation` requests make one operation: req/s is reported per operation.
 */
export async function measureRequests(
  url: string,
  target: Pick<Target, 'name' | 'sample'>,
  options: LoadOptions,
  requests: AutocannonRequest[],
  perOperation = 1,
): Promise<Measurement> {
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.duration,
    warmup: options.warmup > 0 ? { connections: options.connections, duration: options.warmup } : undefined,
    requests,
  });
  // A failure during warm-up is as much a failure as one during the measurement.
  const runs = [result, ...(result.warmup ? [result.warmup] : [])];
  const statusCodes: Record<string, number> = {};
  for (const run of runs) {
    for (const [code, { count }] of Object.entries(run.statusCodeStats)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  }
  return {
    target: target.name,
    sample: target.sample,
    requests: result.requests.total / perOperation,
    requestsPerSec: result.requests.mean / perOperation,
    latencyMs: {
      mean: result.latency.mean,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      p999: result.latency.p99_9,
      max: result.latency.max,
    },
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    timeouts: runs.reduce((n, r) => n + r.timeouts, 0),
    statusCodes,
  };
}
