import type { App } from '../../env.ts';
import { addRoute } from '../../lib/openapi.ts';
import { healthHandler } from './health.handlers.ts';
import { health } from './health.routes.ts';

export function registerHealthRoutes(app: App): void {
  addRoute(app, health, healthHandler);
}
