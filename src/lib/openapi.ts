import type { RouteConfig } from '@hono/zod-openapi';
import type { App, AppRouteHandler } from '../env.ts';

/**
 * Adds one operation: documented exactly as written (Django's paths end in `/`), routed
 * without the trailing slash. With the app's `strict: false`, Hono drops a trailing slash
 * from the request path before matching, so `/products` and `/products/` both reach it
 * with no redirect (a redirect would turn a client's POST into a GET).
 */
export function addRoute<R extends RouteConfig>(app: App, route: R, handler: AppRouteHandler<R>): void {
  const { middleware: _middleware, hide: _hide, ...documented } = route;
  app.openAPIRegistry.registerPath(documented);
  const path = route.path.length > 1 ? route.path.replace(/\/+$/, '') : route.path;
  app.openapi({ ...route, path, hide: true }, handler as never);
}

/** A required JSON request body. */
export function jsonBody<T>(schema: T) {
  return { content: { 'application/json': { schema } }, required: true as const };
}

/** A JSON response. */
export function jsonResponse<T>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}
