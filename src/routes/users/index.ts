import type { App } from '../../env.ts';
import { addRoute } from '../../lib/openapi.ts';
import { getUserHandler, listUsersHandler, meHandler, updateUserHandler } from './users.handlers.ts';
import { getUser, listUsers, me, updateUser } from './users.routes.ts';

export function registerUserRoutes(app: App): void {
  // `/users/me/` first: `/users/{id}/` would otherwise claim it and answer 400 for "me".
  addRoute(app, me, meHandler);
  addRoute(app, listUsers, listUsersHandler);
  addRoute(app, getUser, getUserHandler);
  addRoute(app, updateUser, updateUserHandler);
}
