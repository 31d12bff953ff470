// `npm start`: serve the worker the way production runs it: the bundle `wrangler deploy` would
// upload, on workerd (through Miniflare) listening on a socket of its own, with no entry worker,
// Node proxy or live reload in front.
// Same local state (.wrangler/state), same .dev.vars and same PORT as `npm run dev`.
//   npm start                                         prepare local state, build, serve
//   node scripts/start.ts --no-seed --config <toml>   serve another config as is (the benchmark)
//   npm start -- --var RATE_LIMIT_MULTIPLIER=1000     override a [vars] setting
//   npm start -- --no-seed --persist-to <dir>         serve the state kept in <dir> (the benchmark's copy in RAM)
//   npm start -- --v8-defaults                        leave V8's collector at its defaults (see V8_GC_FLAGS)
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from 'wrangler';
import type * as MiniflareModule from '../node_modules/wrangler/node_modules/miniflare/dist/src/index.js';
import { root, wrangler } from './lib.ts';
import { seed } from './seed.ts';

// Not `import 'miniflare'`: the top-level copy is @cloudflare/vitest-plugin's, an older version
// whose types reject the options wrangler produces. Wrangler's own copy runs the workerd
// `npm run dev` runs and reads the persisted state with the same code. (The type import above
// names the same copy; it is erased at run time.)
const { Miniflare, convertV4MiniflareOptions } = createRequire(import.meta.resolve('wrangler'))(
  'miniflare',
) as typeof MiniflareModule;

export interface Server {
  url: string;
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** wrangler config of the worker; the project's wrangler.toml by default. */
  configPath?: string;
  port: number;
  host?: string;
  /** Fire the config's Cron Triggers, as production does (workerd alone never does). */
  crons?: boolean;
  /** Variables that override the config's `[vars]` (like `wrangler dev --var`). */
  vars?: Record<string, string>;
  /** Seconds between cron firings (60, as the `* * * * *` schedule says; the chaos script uses 1). */
  cronEverySeconds?: number;
  /**
   * Where D1, Durable Object and Cache API data live, as `wrangler dev --persist-to`: `<dir>/v3`.
   * By default the config's `.wrangler/state`, which `npm run dev` and the seed script use too.
   */
  persistTo?: string;
  /** Leave V8's collector at its defaults instead of `V8_GC_FLAGS` (the benchmark's baseline). */
  v8Defaults?: boolean;
}

/**
 * V8 flags for workerd, two settings for one cause: workerd frees a request's Request, Response,
 * Headers and stream objects in V8's collections, running their C++ destructors in the pause, on
 * the one thread that serves every request. Each pause is a stall of every connection.
 * - `--max-semi-space-size=1`: a young generation of 1 MiB per semi-space, where V8 sizes it from
 *   the heap (up to 16 MiB here). With the default size, one scavenge holds thousands of requests'
 *   objects: a pause of 15 to 70 ms about once a second under load (`perf`: the scavenge, then
 *   `Headers::~Headers`, `Wrappable::detachFromShim`...). At 1 MiB the scavenges come more often
 *   and each frees a few hundred: in alternating runs (wrk -t1 -c16, this machine) the bare
 *   worker's p99 went from 104 to 40 ms and a cached detail read's from 167 to 27 ms, at the same
 *   req/s.
 * - `--heap-growing-percent=20`: a full collection once the old generation has grown 20 % past
 *   what the last one kept, where V8 lets it grow 70 % or more. Many request objects outlive two
 *   scavenges, are promoted, and only full collections free them. Those are atomic here (never
 *   incremental: `--trace-gc` shows "allocation limit; GC in old space requested" and no marking
 *   steps), and their pause grows with the garbage they find (about 30 ms with 5 MB of it, 46 ms
 *   with 10 MB, 89 ms with 18 MB, for a cached detail read holding 11 MB live). Smaller, more
 *   frequent ones: in alternating runs the cached reads' p99.9 went from 56 to 66 ms to 29 to
 *   32 ms, at about the same req/s.
 * Production workerd runs Cloudflare's own V8 settings; this is what `npm start` serves with
 * locally. Miniflare passes `MINIFLARE_WORKERD_V8_FLAGS` to workerd (every isolate in the
 * process), and one set in the environment wins over this.
 */
const V8_GC_FLAGS = ['--max-semi-space-size=1', '--heap-growing-percent=20'];
const V8_FLAGS_FROM_ENV = process.env['MINIFLARE_WORKERD_V8_FLAGS'];

/**
 * Cron Triggers do not fire by themselves outside Cloudflare. `npm start` fires them from a
 * timer, once a minute, which is what this project's only schedule (`* * * * *`) says; other
 * expressions also fire once a minute here, and the script says so.
 */
function fireCrons(crons: string[], scheduled: (cron: string) => Promise<unknown>, everySeconds = 60): () => void {
  for (const cron of crons.filter((c) => c.trim() !== '* * * * *')) {
    console.warn(`cron "${cron}" fires every minute under npm start`);
  }
  const timer = setInterval(() => {
    for (const cron of crons) {
      scheduled(cron).catch((error: unknown) => console.error(`scheduled(${cron}) failed:`, error));
    }
  }, everySeconds * 1000);
  return () => clearInterval(timer);
}

/**
 * Runs the worker's `scheduled` handler once, through Miniflare's entry worker
 * (`/cdn-cgi/local/scheduled`, on with `unsafeTriggerHandlers`; the worker's own socket never
 * serves it). Not through `mf.getWorker()`: that proxy reads the property and makes the first
 * call synchronously, blocking Node's event loop (`Atomics.wait`) until workerd answers. Node
 * then stops reading workerd's stdout, and under writes, which log a line each, workerd filled
 * that socket and blocked on its next line before it answered: every request hung for good
 * (cart adds at about 1,000/s, the minute's cron, twice in two runs).
 */
async function fireScheduled(mf: MiniflareModule.Miniflare, cron: string): Promise<void> {
  const res = await mf.dispatchFetch(`http://localhost/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}`);
  const outcome = await res.text();
  if (!res.ok) throw new Error(`outcome ${outcome} (${res.status})`);
}

const PROJECT_CONFIG = join(root, 'wrangler.toml');

export async function serve({ configPath = PROJECT_CONFIG, port, host = '127.0.0.1', crons = false, vars = {}, cronEverySeconds, persistTo, v8Defaults = false }: ServeOptions): Promise<Server> {
  configPath = resolve(configPath);
  const config = unstable_readConfig({ config: configPath });
  if (!config.main) throw new Error(`${configPath} has no main`);
  // The bundle `wrangler deploy` would upload, where `npm run build` puts it; another worker's
  // (the benchmark's) in a folder of its own.
  const outdir = configPath === PROJECT_CONFIG ? join(root, 'dist') : join(root, 'dist', config.name);
  // Minified, as `npm run deploy` uploads it.
  wrangler(['deploy', '--dry-run', '--minify', '--config', configPath, '--outdir', outdir]);
  // Bindings (D1, Durable Objects with SQLite storage, assets, vars, and secrets from .dev.vars)
  // come from wrangler's own translation of the config, so nothing is declared twice.
  const { workerOptions, externalWorkers } = unstable_getMiniflareWorkerOptions(config);
  // Miniflare 5 refuses `modulesRules` (rules for resolving imports from source); the bundle
  // is self-contained, so it needs none.
  const { modulesRules: _modulesRules, ...bindings } = workerOptions;
  // `[vars]` and .dev.vars arrive as `bindings`; overrides replace them by name.
  const configured = (bindings as { bindings?: Record<string, unknown> }).bindings ?? {};
  const withVars = Object.assign({}, bindings, { bindings: { ...configured, ...vars } }) as typeof bindings;
  // Miniflare points a worker's direct socket at its static-assets router whenever the worker has
  // `[assets]`: every API request would cross two more workers (an RPC proxy and the router) that
  // production does not run in front of a worker (Cloudflare routes assets before the worker is
  // invoked). That halved a cached read here (bare worker 11,400 req/s; with [assets] 3,000).
  // So the assets move to a worker of their own, and the API worker reaches them through a service
  // binding of the same name: /swagger-ui/* still comes from ASSETS (src/routes/docs), and nothing
  // else pays for the router.
  const { assets, ...apiWorker } = withVars as typeof withVars & { assets?: { binding?: string }; serviceBindings?: Record<string, unknown> };
  const assetsWorkerName = `${config.name}-assets`;
  const assetsWorkers: MiniflareModule.V4WorkerOptions[] = assets
    ? [
        {
          name: assetsWorkerName,
          modules: true,
          compatibilityDate: config.compatibility_date,
          // The router sends paths that are assets to the asset worker; this script answers the
          // rest (from ASSETS too, which makes them a plain 404).
          script: 'export default { fetch: (request, env) => env.ASSETS.fetch(request) };',
          assets,
        } as MiniflareModule.V4WorkerOptions,
      ]
    : [];
  const apiBindings = (
    assets ? { ...apiWorker, serviceBindings: { ...apiWorker.serviceBindings, [assets.binding ?? 'ASSETS']: assetsWorkerName } } : apiWorker
  ) as typeof bindings;
  const stateDir = join(dirname(configPath), '.wrangler');
  // Read by Miniflare when it writes workerd's config, below (an empty value: V8's defaults).
  process.env['MINIFLARE_WORKERD_V8_FLAGS'] = V8_FLAGS_FROM_ENV ?? (v8Defaults ? '' : V8_GC_FLAGS.join(' '));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      // Miniflare's own entry worker (a router that adds its dev features) listens on a port of
      // its own; requests to `port` go straight to this worker's socket, as workerd serves a
      // worker in production. (The static-assets router is kept off that socket above.)
      host,
      port: 0,
      // Where wrangler dev keeps D1 and Durable Object data: both commands see the same catalog.
      resourcePersistencePath: join(persistTo === undefined ? join(stateDir, 'state') : resolve(persistTo), 'v3'),
      resourceTmpPath: join(stateDir, 'tmp'),
      // The fallback Request.cf instead of waiting up to 3 s to download one: no network here.
      cf: false,
      // Production prints no line per request; the worker's own JSON log lines still show.
      logRequests: false,
      // /cdn-cgi/local/scheduled on the entry worker's port (fireScheduled), not on the worker's.
      unsafeTriggerHandlers: true,
      workers: [
        {
          ...apiBindings,
          // The name scopes Durable Object storage (.wrangler/state/v3/do/<name>-<class>).
          name: config.name,
          modules: true,
          // Module names are paths relative to modulesRoot, and may not climb out of it.
          modulesRoot: outdir,
          scriptPath: join(outdir, basename(config.main).replace(/\.[cm]?[jt]sx?$/, '.js')),
          unsafeDirectSockets: [{ host, port }],
        },
        ...assetsWorkers,
        ...externalWorkers,
      ],
    }),
  );
  await mf.ready;
  const url = await mf.unsafeGetDirectURL(config.name);
  const scheduled = config.triggers.crons ?? [];
  const stopCrons = crons && scheduled.length > 0 ? fireCrons(scheduled, (cron) => fireScheduled(mf, cron), cronEverySeconds) : () => {};
  return {
    url: url.href,
    stop: () => {
      stopCrons();
      return mf.dispose();
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      seed: { type: 'boolean', default: true },
      var: { type: 'string', multiple: true },
      'cron-every': { type: 'string', default: '60' },
      'persist-to': { type: 'string' },
      'v8-defaults': { type: 'boolean', default: false },
    },
    allowNegative: true,
  });
  // Seeding writes to .wrangler/state (through `wrangler d1 execute --local`), not to another folder.
  if (values['persist-to'] !== undefined && values.seed) throw new Error('--persist-to serves a state as it is: add --no-seed');
  // The same local preparation as `npm run dev`: migrations, admin, demo catalog, .dev.vars.
  if (values.seed) await seed();
  const port = Number(process.env['PORT'] ?? '8787');
  // `--var NAME=value`, repeatable, as `wrangler dev --var NAME:value`.
  const vars = Object.fromEntries((values.var ?? []).map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]));
  const server = await serve({ configPath: values.config, port, crons: true, vars, cronEverySeconds: Number(values['cron-every']), persistTo: values['persist-to'], v8Defaults: values['v8-defaults'] });
  console.log(`Serving ${server.url} (built bundle on workerd, direct socket, no dev proxy)`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void server.stop().then(() => process.exit(0));
    });
  }
}
