import { type RouteConfig, z } from '@hono/zod-openapi';
import type { App, AppRouteHandler } from '../env.ts';
import { BOOKMARK_HEADER } from './bookmark.ts';

/**
 * Adds one operation: documented exactly as written (Django's paths end in `/`), routed
 * without the trailing slash. With the app's `strict: false`, Hono drops a trailing slash
 * from the request path before matching, so `/products` and `/products/` both reach it
 * with no redirect (a redirect would turn a client's POST into a GET).
 */
export function addRoute<R extends RouteConfig>(app: App, route: R, handler: AppRouteHandler<R>): void {
  // Generated clients name their methods after operationIds, and a route that forgets `security`
  // would be documented as needing whatever the default is: both are required, `security: []`
  // saying "public" out loud. A route missing either fails at start-up (and so every test).
  if (!route.operationId || !/^[a-z][A-Za-z0-9]*$/.test(route.operationId)) {
    throw new Error(`${route.method.toUpperCase()} ${route.path} needs a camelCase operationId`);
  }
  if (!route.security) throw new Error(`${route.method.toUpperCase()} ${route.path} must declare security ([] when public)`);
  const { middleware: _middleware, hide: _hide, ...documented } = route;
  app.openAPIRegistry.registerPath(withBookmark(app, documented));
  const path = route.path.length > 1 ? route.path.replace(/\/+$/, '') : route.path;
  app.openapi({ ...route, path, hide: true }, handler as never);
}

/** The D1 bookmark header (src/lib/d1-session.ts), documented on every operation: they all use D1. */
const BookmarkParamSchema = z
  .string()
  .optional()
  .openapi({
    param: {
      name: BOOKMARK_HEADER,
      in: 'header',
      description:
        'Read your own writes: send back the `X-D1-Bookmark` of an earlier response (a write, typically) and this request reads a ' +
        'database replica at least that recent, skipping the catalog cache. Optional; without it reads may come from any replica or cache.',
    },
    example: '0000000a-00000004-00005021-8f9ad0c5b4d8a7e0c1b2e3f4a5b6c7d8',
  });

/**
 * The bookmark as one named parameter and one named response header per document
 * (`#/components/parameters/Bookmark`, `#/components/headers/Bookmark`), so every operation
 * refers to them instead of repeating them.
 */
const bookmarkComponents = new WeakMap<App, { headers: z.ZodObject; responseHeader: { $ref: string } }>();

function bookmarkOf(app: App) {
  let components = bookmarkComponents.get(app);
  if (!components) {
    const param = app.openAPIRegistry.registerParameter('Bookmark', BookmarkParamSchema);
    app.openAPIRegistry.registerComponent('headers', 'Bookmark', {
      schema: { type: 'string' },
      description: 'Where in the database history this response stands (D1 Sessions API). Send it back as X-D1-Bookmark to read at least this state.',
    });
    components = { headers: z.object({ [BOOKMARK_HEADER]: param }), responseHeader: { $ref: '#/components/headers/Bookmark' } };
    bookmarkComponents.set(app, components);
  }
  return components;
}

function withBookmark<R extends RouteConfig>(app: App, route: R): R {
  const bookmark = bookmarkOf(app);
  const headers = route.request?.headers;
  const merged =
    headers === undefined
      ? bookmark.headers
      : Array.isArray(headers)
        ? [...headers, bookmark.headers]
        : headers instanceof z.ZodObject
          ? headers.extend(bookmark.headers.shape)
          : headers;
  const responses = Object.fromEntries(
    Object.entries(route.responses).map(([status, response]) => [
      status,
      Number(status) < 400 && !('$ref' in response)
        ? { ...response, headers: { ...(response.headers as object | undefined), [BOOKMARK_HEADER]: bookmark.responseHeader } }
        : response,
    ]),
  );
  return { ...route, request: { ...route.request, headers: merged }, responses };
}

/** A required JSON request body. */
export function jsonBody<T>(schema: T) {
  return { content: { 'application/json': { schema } }, required: true as const };
}

/** A JSON response. */
export function jsonResponse<T>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/**
 * The optional `Idempotency-Key` request header, for the document. The `idempotency` middleware
 * reads and checks the value (Hono hands header validators lower-cased names, so this schema
 * never sees it and validates nothing by itself).
 */
export const IdempotencyHeadersSchema = z.object({
  'Idempotency-Key': z
    .string()
    .optional()
    .openapi({
      param: {
        name: 'Idempotency-Key',
        in: 'header',
        description:
          'A unique key per logical request (a UUID, say; 1 to 255 printable ASCII characters). A retry with the same key and body ' +
          'returns the first response; with another body it is 422. Kept for 24 hours.',
      },
      example: '5f0c6a9e-8d1b-4f7e-9a51-3c2b7d2e4a10',
    }),
});

/** `If-None-Match` on the cached catalog reads (documented; the cache middleware reads it). */
export const ConditionalHeadersSchema = z.object({
  'If-None-Match': z
    .string()
    .optional()
    .openapi({ param: { name: 'If-None-Match', in: 'header', description: 'An ETag from an earlier answer: 304 when it is still current.' }, example: '"b6Yq3pBf0sd2Q9Wm7kLx1aVt"' }),
});

/** Where a cached catalog read was answered from (`X-Cache`, src/lib/catalog-cache.ts). */
export const CACHE_SOURCES = ['hit-isolate', 'hit-location', 'miss'] as const;
export type CacheSource = (typeof CACHE_SOURCES)[number];

/** The 200 and 304 of a cached catalog read. */
export function cachedResponses<T>(schema: T, description: string) {
  const headers = {
    ETag: { schema: { type: 'string' as const }, description: 'Strong validator of this representation; send it back in If-None-Match.' },
    'Cache-Control': {
      schema: { type: 'string' as const },
      description:
        '`public, max-age=0, must-revalidate` on an answer from the cache: keep it, and revalidate it (If-None-Match) before each use. ' +
        '`private, no-store` when the request carried `Authorization`.',
    },
    'X-Cache': {
      schema: { type: 'string' as const, enum: [...CACHE_SOURCES] },
      description:
        "Where the answer came from: the worker's memory (`hit-isolate`), the Cloudflare location's cache (`hit-location`) or the database " +
        '(`miss`). Absent when the request skipped the cache: it carried `Authorization` or `X-D1-Bookmark`, or the cache is off.',
    },
  };
  return {
    200: { description, headers, content: { 'application/json': { schema } } },
    304: { description: 'Not modified: the ETag in If-None-Match is current.', headers },
  };
}

/** Response headers of an operation that honours `Idempotency-Key`. */
export const idempotentResponseHeaders = {
  'Idempotent-Replayed': {
    schema: { type: 'string' as const, enum: ['true'] },
    description: 'Present when this is the stored response of an earlier request with the same Idempotency-Key.',
  },
};

/** OpenAPI response headers of a rate-limited operation. */
export const rateLimitResponseHeaders = {
  'RateLimit-Policy': { schema: { type: 'string' as const }, description: 'The limit and its window, e.g. `"checkout";q=10;w=60` (IETF httpapi RateLimit draft).' },
  RateLimit: { schema: { type: 'string' as const }, description: 'What is left of it, e.g. `"checkout";r=7;t=42`: 7 requests left, window frees up in 42 s.' },
};
