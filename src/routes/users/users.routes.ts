import { createRoute } from '@hono/zod-openapi';
import { bearerSecurity, requireAdmin, requireUser } from '../../lib/auth.ts';
import { errors } from '../../lib/errors.ts';
import { jsonBody, jsonResponse } from '../../lib/openapi.ts';
import { PageQuerySchema } from '../../lib/pagination.ts';
import { IdParamsSchema } from '../../lib/params.ts';
import { UpdateUserBodySchema, UserPageSchema, UserSchema } from './users.schemas.ts';

export const me = createRoute({
  method: 'get',
  path: '/users/me/',
  operationId: 'getCurrentUser',
  tags: ['Users'],
  summary: 'The authenticated user',
  security: bearerSecurity,
  middleware: [requireUser] as const,
  responses: { 200: jsonResponse(UserSchema, 'You.'), ...errors(401, 404) },
});

export const getUser = createRoute({
  method: 'get',
  path: '/users/{id}/',
  operationId: 'getUser',
  tags: ['Users'],
  summary: 'One user (yourself, or anyone for admins)',
  description: "Another user's profile answers 404 for non-admins, so ids reveal nothing.",
  security: bearerSecurity,
  middleware: [requireUser] as const,
  request: { params: IdParamsSchema },
  responses: { 200: jsonResponse(UserSchema, 'The user.'), ...errors(400, 401, 404) },
});

export const listUsers = createRoute({
  method: 'get',
  path: '/users/',
  operationId: 'listUsers',
  tags: ['Users'],
  summary: 'All users, oldest first (admin)',
  security: bearerSecurity,
  middleware: [requireUser, requireAdmin] as const,
  request: { query: PageQuerySchema },
  responses: {
    200: jsonResponse(UserPageSchema, 'A page of users.'),
    ...errors(400, 401, 403, 404),
  },
});

export const updateUser = createRoute({
  method: 'patch',
  path: '/users/{id}/',
  operationId: 'updateUser',
  tags: ['Users'],
  summary: "Change a user's role (admin)",
  description: 'The last remaining admin cannot be demoted (409). The new role shows in the next access token, at most 15 minutes later.',
  security: bearerSecurity,
  middleware: [requireUser, requireAdmin] as const,
  request: { params: IdParamsSchema, body: jsonBody(UpdateUserBodySchema) },
  responses: { 200: jsonResponse(UserSchema, 'The updated user.'), ...errors(400, 401, 403, 404, 409, 413, 415) },
});
