import type { RouteConfig } from '@hono/zod-openapi';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';
import type { ZodType } from 'zod';
import { createApp } from '../../src/app.ts';
import { openApiDocument } from '../../src/routes/docs/openapi.ts';

/**
 * Every test that calls the API is also a contract test. Each response is checked twice:
 *
 * 1. against the generated OpenAPI document, which is what clients read (openapi.json is this
 *    document; a test keeps them identical), with Ajv, a maintained JSON Schema 2020-12
 *    validator: the translation from zod to JSON Schema is what is tested here;
 * 2. against the route's zod schema, parsing without stripping: a field the schema does not
 *    document (a password hash, say) fails the test.
 *
 * A response from a path the document does not know fails, unless it is the app's 404 problem
 * for unknown paths (or the 405 problem for a documented path with another method).
 */
const app = createApp();
const doc = openApiDocument(app);

type Schema = Record<string, unknown>;
interface DocResponse {
  content?: Record<string, { schema?: Schema }>;
}
interface DocOperation {
  method: string;
  path: string;
  pattern: RegExp;
  responses: Record<string, DocResponse>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** `/users/{id}/` matches `/users/7` and `/users/7/`: the API answers both. */
const patternOf = (path: string) => new RegExp(`^${path.replace(/\/$/, '').replace(/\{[^}]+\}/g, '[^/]+')}/?$`);

const operations: DocOperation[] = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
  Object.entries(item as Record<string, { responses?: Record<string, DocResponse> }>)
    .filter(([method]) => METHODS.includes(method))
    .map(([method, op]) => ({ method: method.toUpperCase(), path, pattern: patternOf(path), responses: op.responses ?? {} })),
);

/** Pages that are not API operations: the document itself and the Swagger UI page with its files. */
const PAGES = [/^\/openapi\.json\/?$/, /^\/docs\/?$/, /^\/swagger-ui\//, /^\/favicon\.(ico|svg)$/];

// The document's `#/components/schemas/X` refs point into the document; Ajv gets the components
// as one schema of their own, and every ref is rewritten to point there.
const COMPONENTS = 'https://edgeshop.test/openapi/components';
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', `${COMPONENTS}#/$defs/`) : rewriteRefs(v)]),
    );
  }
  return value;
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
(addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
// OpenAPI's own schema keyword (deprecated in 3.1 in favour of `examples`, still emitted).
ajv.addKeyword({ keyword: 'example' });
ajv.addSchema({ $id: COMPONENTS, $defs: rewriteRefs((doc.components?.schemas ?? {}) as Schema) as Schema });

const compiled = new Map<string, ValidateFunction>();
function validatorFor(key: string, schema: Schema): ValidateFunction {
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(rewriteRefs(schema) as Schema);
    compiled.set(key, validate);
  }
  return validate;
}
const problemValidator = () => validatorFor('Problem', { $ref: '#/components/schemas/Problem' });

/** zod schemas by method and documented path, from the same registry that generates the document. */
const zodRoutes = new Map(
  app.openAPIRegistry.definitions.flatMap((d) => (d.type === 'route' ? [[`${d.route.method.toUpperCase()} ${d.route.path}`, d.route.responses] as const] : [])),
);

function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ');
}

export function expectDocumented(method: string, path: string, status: number, contentType: string | null, body: unknown): void {
  const mediaType = contentType?.split(';')[0]?.trim() ?? '';
  // A CORS preflight is answered by the CORS middleware for any path; it has no body to check.
  if (method === 'OPTIONS') return;
  const lookup = method === 'HEAD' ? 'GET' : method;
  if (PAGES.some((p) => p.test(path))) return;
  const operation = operations.find((o) => o.method === lookup && o.pattern.test(path));
  if (!operation) {
    const pathKnown = operations.some((o) => o.pattern.test(path));
    expect(status, `${method} ${path} is not in openapi.json, and answered ${status}`).toBe(pathKnown ? 405 : 404);
    expect(mediaType).toBe('application/problem+json');
    const validate = problemValidator();
    expect(validate(body), `${method} ${path} ${status}: ${describeErrors(validate)}`).toBe(true);
    return;
  }

  const response = operation.responses[String(status)];
  expect(response, `${method} ${path} answered ${status}, which openapi.json does not document for ${operation.method} ${operation.path}`).toBeDefined();
  if (!response?.content) {
    expect(body === '' || body === undefined, `${method} ${path} ${status} is documented without a body`).toBe(true);
    return;
  }
  if (method === 'HEAD') return;
  const schema = response.content[mediaType]?.schema;
  expect(schema, `${method} ${path} ${status} answered ${mediaType}, documented ${Object.keys(response.content).join(', ')}`).toBeDefined();
  const validate = validatorFor(`${operation.method} ${operation.path} ${status} ${mediaType}`, schema as Schema);
  expect(validate(body), `${method} ${path} ${status} does not match openapi.json: ${describeErrors(validate)}`).toBe(true);

  const zodResponse = zodRoutes.get(`${operation.method} ${operation.path}`)?.[status] as { content?: Record<string, { schema?: unknown }> } | undefined;
  const zodSchema = zodResponse?.content?.[mediaType]?.schema as ZodType | undefined;
  if (zodSchema) {
    const parsed = zodSchema.safeParse(body);
    expect(parsed.success, `${method} ${path} ${status} body does not match its zod schema: ${parsed.error?.message}`).toBe(true);
    expect(parsed.data, `${method} ${path} ${status} body has undocumented fields`).toEqual(body);
  }
}

export type { RouteConfig };
