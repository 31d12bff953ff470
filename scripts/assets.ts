// Copies Swagger UI's files from swagger-ui-dist into the worker's static assets (public/),
// so /docs serves them itself instead of loading a CDN. Runs before dev, start, test and deploy.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const source = dirname(require.resolve('swagger-ui-dist/package.json'));
const target = join(import.meta.dirname, '..', 'public', 'swagger-ui');
mkdirSync(target, { recursive: true });
for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'LICENSE']) {
  copyFileSync(join(source, file), join(target, file));
}
