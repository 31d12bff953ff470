import { z } from '@hono/zod-openapi';

/**
 * A positive integer id from the path. Parsed from its digits only (no `1e3`, `0x10`, `1.0`),
 * and bounded to a safe integer, so a malformed id is a 400 naming `path.<name>`, never a 500.
 */
export function idParam(name: string, example = 1) {
  return z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'Must be a positive integer.')
    .transform(Number)
    .openapi({ param: { name, in: 'path', required: true }, type: 'integer', minimum: 1, example });
}

export const IdParamsSchema = z.object({ id: idParam('id') });
