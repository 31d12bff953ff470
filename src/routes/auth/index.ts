import type { App } from '../../env.ts';
import { loginHandler, logoutHandler, refreshHandler, registerHandler } from './auth.handlers.ts';
import { login, logout, refresh, register } from './auth.routes.ts';

export function registerAuthRoutes(app: App): void {
  app.openapi(register, registerHandler).openapi(login, loginHandler).openapi(refresh, refreshHandler).openapi(logout, logoutHandler);
}
