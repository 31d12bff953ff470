import type { RouteConfig } from '@hono/zod-openapi';
import { expect } from 'vitest';
import type { ZodType } from 'zod';
import { createApp } from '../../src/app.ts';

interface DocumentedRoute {
  method: string;
  pattern: RegExp;
  responses: RouteConfig['responses'];
}

/** Every documented operation, from the same registry that generates openapi.json. */
const documented: DocumentedRoute[] = createApp()
  .openAPIRegistry.definitions.flatMap((d) => (d.type === 'route' ? [d.route] : []))
  .map((route) => ({
    method: route.method.toUpperCase(),
    // `/users/{id}/` matches `/users/7` and `/users/7/`: the API answers both.
    pattern: new RegExp(`^${route.path.replace(/\/$/, '').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
    responses: route.responses,
  }));

/**
 * Checks a response against the schema its route documents for that status: every test that
 * calls the API is also a contract test. The body must parse, and parsing must not strip
 * anything: a field the schema does not document (a password hash, say) fails the test.
 */
export function expectDocumented(method: string, path: string, status: number, contentType: string | null, body: unknown): void {
  const route = documented.find((r) => r.method === method && r.pattern.test(path));
  if (!route) return;
  const response = route.responses[status] as { content?: Record<string, { schema?: unknown }> } | undefined;
  expect(response, `${method} ${path} answered ${status}, which its route does not document`).toBeDefined();
  const mediaType = contentType?.split(';')[0]?.trim() ?? '';
  const schema = response?.content?.[mediaType]?.schema as ZodType | undefined;
  if (!response?.content) return;
  expect(schema, `${method} ${path} ${status} answered ${mediaType}, documented ${Object.keys(response.content).join(', ')}`).toBeDefined();
  const parsed = schema!.safeParse(body);
  expect(parsed.success, `${method} ${path} ${status} body does not match its schema: ${parsed.error?.message}`).toBe(true);
  expect(parsed.data, `${method} ${path} ${status} body has undocumented fields`).toEqual(body);
}
