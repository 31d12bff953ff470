// Starts the servers under test, each in a process group of its own: the load generator never
// shares an event loop with a server, and stopping a group takes its workerd children with it.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { root, WRANGLER_BIN, wranglerEnv } from '../lib.ts';

/** `wrangler-dev`: what `npm run dev` runs. `miniflare`: what `npm start` runs. */
export type ServingPath = 'wrangler-dev' | 'miniflare';
/** `-v8-defaults`: npm start's V8 collector settings left out (scripts/start.ts, `V8_GC_FLAGS`). */
export type WorkerName = 'edgeshop' | 'edgeshop-nocache' | 'edgeshop-v8-defaults' | 'bare' | 'bare-v8-defaults' | 'bare-assets' | 'floor';

export interface RunningServer {
  url: string;
  /** The server's own output, kept out of the report: request lines and worker logs. */
  log: string;
  /**
   * Settles once the server's processes have used under 5 % of a core for half a second: the
   * work a request started in the background (`waitUntil`, such as the location-cache puts of a
   * priming pass) is done before the next measurement begins. At most a minute.
   */
  quiet(): Promise<void>;
  stop(): Promise<void>;
}

const BARE_CONFIG = ['--config', join(import.meta.dirname, 'bare.wrangler.toml')];
const CONFIGS: Record<WorkerName, string[]> = {
  edgeshop: [],
  'edgeshop-nocache': [],
  'edgeshop-v8-defaults': ['--v8-defaults'],
  bare: BARE_CONFIG,
  'bare-v8-defaults': [...BARE_CONFIG, '--v8-defaults'],
  'bare-assets': ['--config', join(import.meta.dirname, 'bare-assets.wrangler.toml')],
  floor: ['--config', join(import.meta.dirname, 'floor.wrangler.toml')],
};
const READY_TIMEOUT_MS = 90_000;
/**
 * The benchmark's shoppers all come from 127.0.0.1: lift the per-address and per-user limits.
 * `edgeshop-nocache` is the same bundle with the catalog cache off: the baseline of the cache.
 */
function loadVars(worker: WorkerName): [string, string][] {
  if (worker === 'edgeshop' || worker === 'edgeshop-v8-defaults') return [['RATE_LIMIT_MULTIPLIER', '100000']];
  if (worker === 'edgeshop-nocache') return [['RATE_LIMIT_MULTIPLIER', '100000'], ['CATALOG_CACHE_TTL_SECONDS', '0']];
  return [];
}
const STOP_TIMEOUT_MS = 5_000;

const TMPFS_MAGIC = 0x01021994;
/** A tmpfs to hold a server's state in RAM (`--persist-to`), or undefined where /dev/shm is not one. */
export function ramDisk(): string | undefined {
  try {
    return statfsSync('/dev/shm').type === TMPFS_MAGIC ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
}

/** Servers not stopped yet, by process group id. */
const running = new Map<number, () => Promise<void>>();

// Last resort when the benchmark dies mid-run: no workerd may outlive it.
process.on('exit', () => {
  for (const pgid of running.keys()) signalGroup(pgid, 'SIGKILL');
});

/** False once no process is left in the group. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function commandLine(path: ServingPath, worker: WorkerName, port: number, persistTo: string | undefined): string[] {
  const config = CONFIGS[worker];
  if (worker.endsWith('-v8-defaults') && path !== 'miniflare') throw new Error('only the npm start path sets V8 flags');
  if (path === 'wrangler-dev') {
    // What `npm run dev` runs once it has seeded (the benchmark seeds first).
    return [
      WRANGLER_BIN,
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      ...config,
      ...(persistTo === undefined ? [] : ['--persist-to', persistTo]),
      ...loadVars(worker).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
    ];
  }
  // `npm start` itself (it reads PORT), so the benchmark measures that code and not a copy.
  return [
    process.execPath,
    join(root, 'scripts', 'start.ts'),
    '--no-seed',
    ...(persistTo === undefined ? [] : ['--persist-to', persistTo]),
    ...config,
    ...loadVars(worker).flatMap(([k, v]) => ['--var', `${k}=${v}`]),
  ];
}

/**
 * `state`: the folder of the local state (D1, Durable Objects, Cache API; `--persist-to`), and a
 * word for it in the server's log name; the worker's own `.wrangler/state` by default.
 */
export async function startServer(path: ServingPath, worker: WorkerName, port: number, state?: { persistTo: string; label: string }): Promise<RunningServer> {
  const [file = '', ...args] = commandLine(path, worker, port, state?.persistTo);
  const url = `http://127.0.0.1:${port}`;
  const probe = url + (worker.startsWith('edgeshop') ? '/health' : '/');
  const server = await spawnServer({
    name: `${worker} on ${path}`,
    logName: `${path}-${worker}${state === undefined ? '' : `-${state.label}`}`,
    file,
    args,
    cwd: root,
    env: wranglerEnv({ PORT: String(port) }),
    ready: () => answers(probe),
  });
  return { url, ...server };
}

/** A server process to start in a process group of its own (see `spawnServer`). */
export interface ServerCommand {
  /** For messages: what is starting. */
  name: string;
  /** Its log's file name under `.wrangler/bench/`, without `.log`. */
  logName: string;
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Run it as this user (PostgreSQL refuses to run as root). */
  user?: { uid: number; gid: number };
  /** True once it serves. */
  ready: () => Promise<boolean>;
}

/** True when a GET of `url` answers 2xx within 2 s. */
export async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false; // not listening yet
  }
}

/** Starts a command in a process group of its own, its output to a log, and waits until it is ready. */
export async function spawnServer(command: ServerCommand): Promise<Omit<RunningServer, 'url'>> {
  const logDir = join(root, '.wrangler', 'bench');
  mkdirSync(logDir, { recursive: true });
  const log = join(logDir, `${command.logName}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(command.file, command.args, {
    cwd: command.cwd,
    detached: true,
    stdio: ['ignore', fd, fd],
    env: command.env,
    ...command.user,
  });
  closeSync(fd);
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`could not start ${command.file}`);
  const stop = () => stopGroup(child, pgid);
  running.set(pgid, stop);
  try {
    await waitUntilReady(command.ready, child);
  } catch (error) {
    await stop();
    throw new Error(`${command.name} did not start: see ${log}`, { cause: error });
  }
  return { log, stop, quiet: () => waitUntilQuiet(pgid) };
}

/** Clock ticks a second in /proc (USER_HZ): 100 on Linux. */
const TICKS_PER_SECOND = 100;
const QUIET_WINDOW_MS = 500;
const QUIET_TIMEOUT_MS = 60_000;

/** CPU time (user and system, in clock ticks) the processes of a group have used, or undefined without /proc. */
function groupCpuTicks(pgid: number): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return undefined;
  }
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // After "pid (command)": state, ppid, pgrp, ... utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks;
}

async function waitUntilQuiet(pgid: number): Promise<void> {
  const deadline = Date.now() + QUIET_TIMEOUT_MS;
  let before = groupCpuTicks(pgid);
  while (before !== undefined && Date.now() < deadline) {
    await sleep(QUIET_WINDOW_MS);
    const after = groupCpuTicks(pgid);
    if (after === undefined || after - before <= 0.05 * TICKS_PER_SECOND * (QUIET_WINDOW_MS / 1000)) return;
    before = after;
  }
  if (before !== undefined) console.warn(`the server (process group ${pgid}) was still busy after ${QUIET_TIMEOUT_MS / 1000} s; measuring anyway`);
}

async function waitUntilReady(ready: () => Promise<boolean>, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isRunning(child)) throw new Error(`exited (${child.exitCode ?? child.signalCode})`);
    if (await ready()) return;
    await sleep(250);
  }
  throw new Error(`not ready within ${READY_TIMEOUT_MS / 1000} s`);
}

async function stopGroup(child: ChildProcess, pgid: number): Promise<void> {
  running.delete(pgid);
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  // Done when the leader has been reaped and every other member (workerd) has exited too.
  while (Date.now() < deadline && (isRunning(child) || signalGroup(pgid, 0))) await sleep(100);
  signalGroup(pgid, 'SIGKILL');
}

export async function stopAllServers(): Promise<void> {
  await Promise.all([...running.values()].map((stop) => stop()));
}

/**
 * Runs a benchmark's `main` and sets the exit code it returns. Every server it started stops when
 * it ends or fails, and on Ctrl-C: the signal reaches only this process group, and the servers
 * live in groups of their own.
 */
export async function runBenchmark(main: () => Promise<number>): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stopAllServers().finally(() => process.exit(130));
    });
  }
  try {
    process.exitCode = await main();
  } finally {
    await stopAllServers();
  }
}
