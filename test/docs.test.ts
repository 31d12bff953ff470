import { describe, expect, it } from 'vitest';
import guide from '../docs/api.md?raw';
import committed from '../openapi.json';

interface Operation {
  operationId: string;
  security?: unknown[];
  responses: Record<string, unknown>;
}

/** Rows of the guide's "Status codes by operation" table: `| \\`GET /path/\\` | \\`id\\` | who | 200, 404 |`. */
const rows = [...guide.matchAll(/^\| `([A-Z]+) ([^`]+)` \| `([A-Za-z0-9]+)` \| (anyone|user|admin) \| ([0-9, ]+) \|$/gm)].map((m) => ({
  key: `${m[1]} ${m[2]}`,
  operationId: m[3],
  who: m[4],
  statuses: m[5]!.split(',').map((s) => s.trim()),
}));

const documented = Object.entries(committed.paths as unknown as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
);

describe('docs/api.md agrees with openapi.json', () => {
  it('lists every operation once, with its operationId and documented statuses', () => {
    expect(rows.map((r) => r.key).sort()).toEqual(documented.map((d) => d.key).sort());
    for (const { key, op } of documented) {
      const row = rows.find((r) => r.key === key)!;
      expect(row.operationId, key).toBe(op.operationId);
      expect(row.statuses, key).toEqual(Object.keys(op.responses));
      expect(row.who === 'anyone', `${key}: public in the guide iff security is []`).toBe((op.security ?? []).length === 0);
    }
  });
});
