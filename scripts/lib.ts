// Shared helpers for the Node scripts: run wrangler from this project's own node_modules.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..');

/** This project's wrangler, never a global one. */
export const WRANGLER_BIN = join(root, 'node_modules', '.bin', 'wrangler');

/** Wrangler offline: no telemetry, and no 3 s wait trying to download Request.cf. */
export function wranglerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false', ...extra };
}

export function wrangler(args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(WRANGLER_BIN, args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: wranglerEnv(),
    ...options,
  });
  if (result.status !== 0) {
    throw new Error(`wrangler ${args.join(' ')} failed (exit ${result.status}):\n${String(result.stdout ?? '')}`);
  }
  return String(result.stdout ?? '');
}

/** Creates .dev.vars from the example on first run: local-only values, never real secrets. */
export function ensureDevVars(): void {
  const devVars = join(root, '.dev.vars');
  if (!existsSync(devVars)) {
    copyFileSync(join(root, '.dev.vars.example'), devVars);
    console.log('created .dev.vars from .dev.vars.example');
  }
}

/** Reads KEY=value pairs from .dev.vars (the settings wrangler dev gives the worker). */
export function readDevVars(): Record<string, string> {
  const vars: Record<string, string> = {};
  const file = join(root, '.dev.vars');
  if (!existsSync(file)) return vars;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (match?.[1]) vars[match[1]] = (match[2] ?? '').replace(/^"(.*)"$/, '$1');
  }
  return vars;
}

/**
 * Runs SQL against the local D1 database (the one `wrangler dev` uses). `options.maxBuffer`: the
 * bytes of JSON the answer may take (1 MiB by default).
 */
export function d1Execute(sqlText: string, options: Pick<SpawnSyncOptions, 'maxBuffer'> = {}): unknown[] {
  const out = wrangler(['d1', 'execute', 'DB', '--local', '--json', '--command', sqlText], options);
  const parsed = JSON.parse(out) as { results: unknown[] }[];
  return parsed.flatMap((r) => r.results);
}

export function d1ExecuteFile(path: string): void {
  wrangler(['d1', 'execute', 'DB', '--local', '--file', path]);
}

export function applyLocalMigrations(): void {
  wrangler(['d1', 'migrations', 'apply', 'DB', '--local'], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** SQL string literal. */
export function q(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
