// `npm run dev`: prepare local state (migrations, admin, demo catalog), then serve the worker
// with `wrangler dev` on 127.0.0.1:$PORT (default 8787). Needs no secrets and no network.
import { spawn } from 'node:child_process';
import { root, WRANGLER_BIN, wranglerEnv } from './lib.ts';
import { seed } from './seed.ts';

await seed();

const port = process.env['PORT'] ?? '8787';
const child = spawn(WRANGLER_BIN, ['dev', '--ip', '127.0.0.1', '--port', port, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: wranglerEnv(),
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
