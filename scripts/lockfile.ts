// Runs after every `npm install` (postinstall). Keeps package-lock.json installable by `npm ci`.
//
// workerd ships its binary as one optional package per platform. The npm registry this project
// installs from has only the Linux builds of recent workerd releases, so `npm install` leaves the
// macOS and Windows entries out of the lockfile, and `npm ci` then refuses the lockfile as out of
// sync ("Missing: @cloudflare/workerd-darwin-64 from lock file"; npm/cli#4828, #8320). This adds
// the entries a full registry would have written: optional, with their os and cpu, so npm skips
// them on any other platform, exactly as it does with a complete lockfile.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

const PLATFORMS: Record<string, { os: string; cpu: string }> = {
  'darwin-64': { os: 'darwin', cpu: 'x64' },
  'darwin-arm64': { os: 'darwin', cpu: 'arm64' },
  'linux-64': { os: 'linux', cpu: 'x64' },
  'linux-arm64': { os: 'linux', cpu: 'arm64' },
  'windows-64': { os: 'win32', cpu: 'x64' },
};

const file = join(import.meta.dirname, '..', 'package-lock.json');
const lock = JSON.parse(readFileSync(file, 'utf8')) as { packages: Record<string, LockEntry> };
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  if (!path.endsWith('node_modules/workerd')) continue;
  // Platform packages sit beside the workerd that wants them (hoisted or nested alike).
  const base = path.slice(0, -'workerd'.length);
  const sibling = Object.keys(entry.optionalDependencies ?? {})
    .map((name) => lock.packages[base + name])
    .find((e) => e !== undefined);
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const platform = PLATFORMS[name.replace('@cloudflare/workerd-', '')];
    if (lock.packages[base + name] || !platform) continue;
    lock.packages[base + name] = {
      version,
      cpu: [platform.cpu],
      ...(sibling?.['dev'] ? { dev: true } : {}),
      license: 'Apache-2.0',
      optional: true,
      os: [platform.os],
      engines: { node: '>=16' },
    };
    added++;
  }
}
if (added > 0) {
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`package-lock.json: recorded ${added} workerd platform packages this registry lacks`);
}
