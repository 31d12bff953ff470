import { z } from '@hono/zod-openapi';

/**
 * A positive integer id from the path. Parsed from its digits only (no `1e3`, `0x10`, `1.0`),
 * and bounded to a safe integer, so a malformed id is a 400 naming `path.<name>`, never a 500.
 */
const positiveId = () => z.string().regex(/^[1-9][0-9]{0,14}$/, 'Must be a positive integer.').transform(Number);

export function idParam(name: string, example = 1) {
  return positiveId().openapi({ param: { name, in: 'path', required: true }, type: 'integer', minimum: 1, example });
}

/** An optional id filter in the query string (`?user_id=7`), parsed like `idParam`. */
export function idQuery(name: string, description: string) {
  return positiveId().optional().openapi({ param: { name, in: 'query', description }, type: 'integer', minimum: 1 });
}

export const IdParamsSchema = z.object({ id: idParam('id') });
