// `npm run bench:ab -- <commit>`: the same targets on two builds, in alternating runs, so a change
// is measured against the build before it on the same machine in the same minutes. The VM under
// this machine changes speed by up to three times between runs (bench/HISTORY.md), so two figures
// are comparable only when taken close together, and the evidence is each pair's ratio, not the
// means of separate runs.
//
// "A" is <commit>, built from a git worktree under .wrangler/bench/ab/ (sharing this checkout's
// node_modules when its package-lock.json is the same, else with an `npm ci` of its own); "B" is
// this working tree, uncommitted changes included. Both serve `npm start` (the built bundle on
// workerd's direct socket), each with its own copy of this checkout's local catalog (D1) and fresh
// cart objects, and both stay up for the whole comparison; each measurement waits until both are
// idle. Each pair measures A then B, the next B then A, so neither always goes first.
//   npm run bench:ab -- <commit> [--pairs 3] [--targets writes,detail,mixed] [--ram]
//                              [--duration 6] [--warmup 1] [--connections 16]
// Targets: `writes` (cart-add, checkout, checkout alone: scripts/bench/writes.ts), and the warm
// reads of `npm run bench`: health, list, detail, detail-hot, search, search-category, mixed.
// `--ram` keeps both copies of the state on a tmpfs (/dev/shm), as the report's RAM section does.
// The table goes to standard output and the raw figures to bench-ab.json. Not a test: it fails
// only when a request fails, as `npm run bench` does.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type LoadOptions, type Measurement, type Target, measure, mixed, targets } from './bench/load.ts';
import { type RunningServer, answers, ramDisk, runBenchmark, spawnServer, stopAllServers } from './bench/servers.ts';
import { benchAdmin, measureWrites, prepareWrites } from './bench/writes.ts';
import { d1Execute, root, wranglerEnv } from './lib.ts';

/** Read targets by the name `--targets` takes: the names `npm run bench` reports them under. */
const READS: Record<string, string> = {
  health: 'health',
  list: 'list',
  detail: 'detail',
  'detail-hot': 'detail (1,000 hot)',
  search: 'search',
  'search-category': 'search+category',
  mixed: 'mixed (warm)',
};
const WRITES = 'writes';
const PORTS = { A: 8821, B: 8822 } as const;
type Side = keyof typeof PORTS;

function git(args: string[], cwd = root): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      pairs: { type: 'string', default: '3' },
      targets: { type: 'string', default: `${WRITES},detail,mixed` },
      ram: { type: 'boolean', default: false },
      duration: { type: 'string', default: '6' },
      warmup: { type: 'string', default: '1' },
      connections: { type: 'string', default: '16' },
    },
  });
  const [ref, ...extra] = positionals;
  if (ref === undefined || extra.length > 0) throw new Error('usage: npm run bench:ab -- <commit> [--pairs N] [--targets writes,detail,...] [--ram]');
  const whole = (value: string, flag: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} takes a whole number of at least ${min}, not ${value}`);
    return n;
  };
  const chosen = values.targets.split(',').map((t) => t.trim()).filter((t) => t !== '');
  const unknown = chosen.filter((t) => t !== WRITES && !(t in READS));
  if (unknown.length > 0 || chosen.length === 0) throw new Error(`--targets takes ${[WRITES, ...Object.keys(READS)].join(', ')}; not ${unknown.join(', ') || 'nothing'}`);
  // Where `--ram` keeps both states: a tmpfs, or nothing when there is none.
  const tmpfs = values.ram ? ramDisk() : undefined;
  if (values.ram && tmpfs === undefined) throw new Error('--ram needs a tmpfs at /dev/shm');
  return {
    ref,
    pairs: whole(values.pairs, 'pairs', 1),
    targets: chosen,
    tmpfs,
    load: { duration: whole(values.duration, 'duration', 1), warmup: whole(values.warmup, 'warmup', 0), connections: whole(values.connections, 'connections', 1) } satisfies LoadOptions,
  };
}

/**
 * A worktree of `commit`, ready to serve: this checkout's node_modules when both lock files are the
 * same (else its own `npm ci`), its .dev.vars, and Swagger UI's files (what `npm start` copies first).
 */
function worktreeOf(commit: string): { dir: string; remove: () => void } {
  const dir = join(root, '.wrangler', 'bench', 'ab', commit.slice(0, 12));
  if (existsSync(dir)) git(['worktree', 'remove', '--force', dir]);
  mkdirSync(join(dir, '..'), { recursive: true });
  git(['worktree', 'add', '--detach', dir, commit]);
  const remove = () => git(['worktree', 'remove', '--force', dir]);
  try {
    // Exit 0: the commit locked the dependencies this checkout installed, so it shares node_modules.
    const sameDependencies = spawnSync('git', ['diff', '--quiet', commit, '--', 'package-lock.json'], { cwd: root }).status === 0;
    if (sameDependencies) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    else execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
    if (existsSync(join(root, '.dev.vars'))) copyFileSync(join(root, '.dev.vars'), join(dir, '.dev.vars'));
    execFileSync(process.execPath, [join(dir, 'scripts', 'assets.ts')], { cwd: dir, stdio: 'inherit' });
  } catch (error) {
    remove();
    throw error;
  }
  return { dir, remove };
}

/** `npm start` of the checkout in `dir`, on a copy of this checkout's catalog in `state`. */
async function serve(side: Side, dir: string, state: string): Promise<RunningServer> {
  cpSync(join(root, '.wrangler', 'state', 'v3', 'd1'), join(state, 'v3', 'd1'), { recursive: true });
  const url = `http://127.0.0.1:${PORTS[side]}`;
  const server = await spawnServer({
    name: `${side} (${dir})`,
    logName: `ab-${side}`,
    file: process.execPath,
    // As the benchmark serves edgeshop: the shoppers all come from 127.0.0.1 (scripts/bench/servers.ts).
    args: [join(dir, 'scripts', 'start.ts'), '--no-seed', '--persist-to', state, '--var', 'RATE_LIMIT_MULTIPLIER=100000'],
    cwd: dir,
    env: wranglerEnv({ PORT: String(PORTS[side]) }),
    ready: () => answers(`${url}/health`),
  });
  return { url, ...server };
}

interface Row {
  pair: number;
  side: Side;
  target: string;
  requestsPerSec: number;
  p50: number;
  p99: number;
  failed: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function report(rows: Row[], names: Record<Side, string>, pairs: number): string {
  const lines = [
    `A: ${names.A}; B: ${names.B}. req/s of each pair (A then B in odd pairs, B then A in even ones); B/A is each pair's ratio.`,
    '',
    `| target | A req/s | B req/s | B/A per pair | B/A median | A p99 ms (median) | B p99 ms (median) |`,
    '|---|---|---|---|---|---|---|',
  ];
  for (const target of [...new Set(rows.map((r) => r.target))]) {
    const of = (side: Side) => Array.from({ length: pairs }, (_, pair) => rows.find((r) => r.pair === pair && r.side === side && r.target === target));
    const [a, b] = [of('A'), of('B')];
    const ratios = a.flatMap((x, i) => (x && b[i] ? [b[i].requestsPerSec / x.requestsPerSec] : []));
    const p99 = (side: (Row | undefined)[]) => median(side.flatMap((r) => (r ? [r.p99] : []))).toFixed(1);
    const rate = (side: (Row | undefined)[]) => side.map((r) => (r ? Math.round(r.requestsPerSec) : '-')).join(', ');
    lines.push(`| ${target} | ${rate(a)} | ${rate(b)} | ${ratios.map((r) => r.toFixed(2)).join(', ')} | ${ratios.length > 0 ? median(ratios).toFixed(2) : '-'} | ${p99(a)} | ${p99(b)} |`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<number> {
  const { ref, pairs, targets: chosen, tmpfs, load } = options();
  const ram = tmpfs !== undefined;
  const commit = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const names: Record<Side, string> = { A: `${commit.slice(0, 7)} (${ref})`, B: `the working tree at ${git(['rev-parse', '--short', 'HEAD'])}${dirty ? ' with uncommitted changes' : ''}` };
  const ids = (d1Execute('SELECT id FROM products', { maxBuffer: 256 * 2 ** 20 }) as { id: number }[]).map((row) => row.id);
  if (ids.length === 0) throw new Error('the local catalog is empty: run `npm run seed` (or `npm run bench` once) first');
  const admin = benchAdmin();
  console.log(`A/B over ${pairs} pairs, ${ids.length} products, ${load.connections} connections, ${load.duration} s per target after ${load.warmup} s of warm-up, state ${ram ? 'in RAM' : 'on disk'}`);
  console.log(`A: ${names.A}\nB: ${names.B}`);

  const worktree = worktreeOf(commit);
  const states = mkdtempSync(join(tmpfs ?? join(root, '.wrangler', 'bench'), 'ab-state-'));
  const rows: Row[] = [];
  try {
    const servers = { A: await serve('A', worktree.dir, join(states, 'A')), B: await serve('B', root, join(states, 'B')) };
    const quiet = () => Promise.all([servers.A.quiet(), servers.B.quiet()]).then(() => undefined);
    const readTargets = (name: string): Target => (name === 'mixed' ? mixed(ids, 'edgeshop', READS[name] as string) : (targets(ids, 'edgeshop').find((t) => t.name === READS[name]) as Target));
    const record = (pair: number, side: Side, m: Measurement) => {
      rows.push({ pair, side, target: m.target, requestsPerSec: m.requestsPerSec, p50: m.latencyMs.p50, p99: m.latencyMs.p99, failed: m.non2xx + m.errors + m.timeouts });
      console.log(`pair ${pair + 1} ${side} ${m.target}: ${Math.round(m.requestsPerSec)} req/s, p99 ${m.latencyMs.p99} ms${m.non2xx + m.errors + m.timeouts > 0 ? `, ${m.non2xx} non-2xx, ${m.errors} errors` : ''}`);
    };
    const run = async (side: Side, name: string, options: LoadOptions): Promise<Measurement[]> => {
      const { url } = servers[side];
      if (name !== WRITES) return [await measure(url, readTargets(name), { ...options, settle: quiet })];
      await quiet();
      // A fixture per run: its tokens live 15 minutes, and a comparison can take longer.
      const fixture = await prepareWrites(url, admin, options.connections);
      try {
        return await measureWrites(url, fixture, options);
      } finally {
        await fixture.cleanup();
      }
    };
    // A pass on each side first, not counted: the first run on a server registers its shoppers and
    // makes their cart objects, and its code is not compiled yet. Without it, in a first try, the
    // side that went first ran 23 % to 29 % under the other in the first pair, and the next two
    // pairs showed no such gap.
    for (const side of ['A', 'B'] as const) {
      console.log(`warming up ${side}`);
      for (const name of chosen) await run(side, name, { ...load, duration: Math.min(load.duration, 3), warmup: 0 });
    }
    for (let pair = 0; pair < pairs; pair++) {
      for (const side of pair % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
        for (const name of chosen) for (const m of await run(side, name, load)) record(pair, side, m);
      }
    }
  } finally {
    await stopAllServers();
    rmSync(states, { recursive: true, force: true });
    worktree.remove();
  }
  const table = report(rows, names, pairs);
  console.log(`\n${table}`);
  writeFileSync(join(root, 'bench-ab.json'), `${JSON.stringify({ date: new Date().toISOString(), a: names.A, b: names.B, ram, load, products: ids.length, rows }, null, 2)}\n`);
  console.log('Results written to bench-ab.json');
  const failed = rows.filter((r) => r.failed > 0);
  for (const r of failed) console.error(`FAILED: ${r.target} on ${r.side} in pair ${r.pair + 1}: ${r.failed} failed requests (server log under .wrangler/bench/)`);
  return failed.length > 0 ? 1 : 0;
}

await runBenchmark(main);
