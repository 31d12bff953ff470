import type { App } from '../../env.ts';
import { addRoute } from '../../lib/openapi.ts';
import { loginHandler, logoutHandler, refreshHandler, registerHandler } from './auth.handlers.ts';
import { login, logout, refresh, register } from './auth.routes.ts';

export function registerAuthRoutes(app: App): void {
  addRoute(app, register, registerHandler);
  addRoute(app, login, loginHandler);
  addRoute(app, refresh, refreshHandler);
  addRoute(app, logout, logoutHandler);
}
