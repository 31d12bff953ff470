// The baseline the performance targets are ratios to: the catalog reads of the Django REST
// Framework design edgeshop replaces (`drf/baseline`: Django, DRF, page-number pagination,
// `icontains` search), on gunicorn with 2 sync workers and PostgreSQL, holding the same products
// as the local D1, measured in the same run as edgeshop with the same load. Everything comes from
// Debian's packages:
//   apt-get install -y python3-django python3-djangorestframework python3-psycopg2 gunicorn postgresql
// Without them `npm run bench` measures edgeshop alone and compares it with the fixed figures the
// performance issue measured.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { d1Execute } from '../lib.ts';
import { type RunningServer, answers, spawnServer } from './servers.ts';

const DRF_DIR = join(import.meta.dirname, 'drf');
const DATABASE = 'edgeshop';
/** gunicorn's default worker class (sync) with 2 workers, as the issue ran DRF. */
const GUNICORN_WORKERS = 2;

/** The columns both stacks serve, in D1's names (the Django model uses the same ones). */
const COLUMNS = [
  'id',
  'name',
  'category',
  'price_cents',
  'description',
  'stock',
  'features',
  'description_status',
  'description_source',
  'description_model',
  'description_generated_at',
  'description_error',
  'created_at',
  'updated_at',
] as const;

/** Debian keeps each PostgreSQL major's server programs in /usr/lib/postgresql/<major>/bin: the newest. */
function postgresBin(): string | undefined {
  let majors: string[];
  try {
    majors = readdirSync('/usr/lib/postgresql').filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return undefined;
  }
  return majors
    .sort((a, b) => Number(b) - Number(a))
    .map((major) => join('/usr/lib/postgresql', major, 'bin'))
    .find((bin) => existsSync(join(bin, 'postgres')) && existsSync(join(bin, 'initdb')));
}

/**
 * A Python that imports Django, DRF and psycopg2: the one on the PATH, or Debian's, which its
 * packages install into (and which Debian's gunicorn runs on) when the PATH's is another, such as pyenv's.
 */
function python(): string | undefined {
  return ['python3', '/usr/bin/python3'].find((file) => spawnSync(file, ['-c', 'import django, rest_framework, psycopg2'], { stdio: 'ignore' }).status === 0);
}

/** What is missing to run the baseline, as an install hint, or undefined when it can run. */
export function drfMissing(): string | undefined {
  const missing: string[] = [];
  if (python() === undefined) missing.push('python3-django python3-djangorestframework python3-psycopg2');
  if (spawnSync('gunicorn', ['--version'], { stdio: 'ignore' }).error !== undefined) missing.push('gunicorn');
  if (postgresBin() === undefined) missing.push('postgresql');
  return missing.length > 0 ? `apt-get install -y ${missing.join(' ')}` : undefined;
}

/** PostgreSQL refuses to run as root: as root, its programs run as Debian's `postgres` user. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** A CSV field as PostgreSQL's COPY reads it: NULL unquoted and empty, every value quoted. */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  return `"${String(value).replaceAll('"', '""')}"`;
}

export interface DrfServer extends RunningServer {
  /** Django, DRF, gunicorn and PostgreSQL versions, for the report. */
  versions: string;
}

/**
 * Starts PostgreSQL in a new cluster under the system's temporary folder (a Unix socket only, on
 * `pgPort`), loads the local D1's products into it, then gunicorn on 127.0.0.1:`port`.
 * `stop()` stops both and deletes the cluster.
 */
export async function startDrf(port: number, pgPort: number): Promise<DrfServer> {
  const bin = postgresBin();
  const py = python();
  if (bin === undefined || py === undefined) throw new Error(`the DRF baseline needs: ${drfMissing() ?? '?'}`);
  const user = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'edgeshop-drf-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { stdio: 'ignore', ...user });
    const psql = (database: string, ...commands: string[]) =>
      execFileSync(join(bin, 'psql'), ['-h', dir, '-p', String(pgPort), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-q', ...commands.flatMap((c) => ['-c', c])], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    const postgres = await spawnServer({
      name: 'PostgreSQL',
      logName: 'drf-postgres',
      file: join(bin, 'postgres'),
      // Default settings, but no TCP: the socket lives in the cluster's folder.
      args: ['-D', data, '-p', String(pgPort), '-k', dir, '-c', 'listen_addresses='],
      cwd: dir,
      env: { ...process.env, LC_ALL: 'C' },
      user,
      ready: async () => spawnSync(join(bin, 'pg_isready'), ['-q', '-h', dir, '-p', String(pgPort)]).status === 0,
    });
    stops.push(postgres.stop);
    psql('postgres', `CREATE DATABASE ${DATABASE}`);

    const env = {
      ...process.env,
      DJANGO_SETTINGS_MODULE: 'baseline.settings',
      DRF_DB_HOST: dir,
      DRF_DB_PORT: String(pgPort),
      PYTHONDONTWRITEBYTECODE: '1',
    };
    // The table and its indexes, from the Django model.
    execFileSync(py, ['-m', 'django', 'migrate', '--run-syncdb', '-v', '0'], { cwd: DRF_DIR, env, stdio: ['ignore', 'ignore', 'inherit'] });
    const rows = d1Execute(`SELECT ${COLUMNS.join(', ')} FROM products ORDER BY id`, { maxBuffer: 512 * 2 ** 20 }) as Record<string, unknown>[];
    const csv = join(dir, 'products.csv');
    writeFileSync(csv, rows.map((row) => COLUMNS.map((c) => csvField(row[c])).join(',')).join('\n') + '\n');
    psql(DATABASE, `\\copy products (${COLUMNS.join(', ')}) FROM '${csv}' WITH (FORMAT csv)`, 'ANALYZE products');

    const url = `http://127.0.0.1:${port}`;
    const gunicorn = await spawnServer({
      name: 'gunicorn',
      logName: 'drf-gunicorn',
      file: 'gunicorn',
      args: ['--workers', String(GUNICORN_WORKERS), '--bind', `127.0.0.1:${port}`, '--chdir', DRF_DIR, 'baseline.wsgi'],
      cwd: DRF_DIR,
      env,
      ready: () => answers(`${url}/health`),
    });
    stops.push(gunicorn.stop);

    const [django = '?', drf = '?'] = execFileSync(py, ['-c', 'import django, rest_framework; print(django.get_version(), rest_framework.VERSION)'], { encoding: 'utf8' }).trim().split(' ');
    // "gunicorn (version 20.1.0)", "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    const version = (out: string) => /[0-9]+(\.[0-9]+)+/.exec(out)?.[0] ?? '?';
    const gunicornVersion = version(execFileSync('gunicorn', ['--version'], { encoding: 'utf8' }));
    const postgresVersion = version(execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }));
    return {
      url,
      log: gunicorn.log,
      versions: `Django ${django}, Django REST Framework ${drf}, gunicorn ${gunicornVersion} (${GUNICORN_WORKERS} sync workers), PostgreSQL ${postgresVersion}`,
      quiet: gunicorn.quiet,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
