// Writes openapi.json from the route schemas; a test fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app.ts';
import { openApiDocument } from '../src/routes/docs/openapi.ts';

const path = join(import.meta.dirname, '..', 'openapi.json');
writeFileSync(path, `${JSON.stringify(openApiDocument(createApp()), null, 2)}\n`);
console.log(`wrote ${path}`);
