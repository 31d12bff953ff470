import type { App } from '../../env.ts';
import { healthHandler } from './health.handlers.ts';
import { health } from './health.routes.ts';

export function registerHealthRoutes(app: App): void {
  app.openapi(health, healthHandler);
}
