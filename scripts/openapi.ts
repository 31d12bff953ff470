// Writes openapi.json from the route schemas (a test fails when the committed file is stale),
// and the status table of docs/api.md from that document (a test fails when they disagree).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app.ts';
import { openApiDocument } from '../src/routes/docs/openapi.ts';

const root = join(import.meta.dirname, '..');
const document = openApiDocument(createApp());
const path = join(root, 'openapi.json');
writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`);
console.log(`wrote ${path}`);

interface Operation {
  operationId?: string;
  summary?: string;
  security?: unknown[];
  responses?: Record<string, unknown>;
}
const rows = Object.entries(document.paths ?? {}).flatMap(([p, item]) =>
  Object.entries(item as Record<string, Operation>).map(([method, op]) => {
    // Public when security is []; admin routes say so in their summary.
    const who = (op.security ?? []).length === 0 ? 'anyone' : /\(admin\)/.test(op.summary ?? '') ? 'admin' : 'user';
    return `| \`${method.toUpperCase()} ${p}\` | \`${op.operationId}\` | ${who} | ${Object.keys(op.responses ?? {}).join(', ')} |`;
  }),
);
const guide = join(root, 'docs', 'api.md');
const START = '<!-- status-table:start (written by `npm run openapi` from the document) -->';
const END = '<!-- status-table:end -->';
const text = readFileSync(guide, 'utf8');
const [before, rest] = text.split(START);
const after = rest?.split(END)[1];
if (before === undefined || after === undefined) throw new Error(`${guide} lacks the status-table markers`);
writeFileSync(guide, `${before}${START}\n| operation | operationId | who | statuses |\n|---|---|---|---|\n${rows.join('\n')}\n${END}${after}`);
console.log(`wrote the status table of ${guide}`);
