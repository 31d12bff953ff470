import { createRoute } from '@hono/zod-openapi';
import { errors } from '../../lib/errors.ts';
import { jsonBody, jsonResponse, rateLimitResponseHeaders } from '../../lib/openapi.ts';
import { rateLimit } from '../../lib/rate-limit.ts';
import { UserSchema } from '../users/users.schemas.ts';
import { LoginBodySchema, LogoutBodySchema, RefreshBodySchema, RegisterBodySchema, TokenPairSchema } from './auth.schemas.ts';

export const register = createRoute({
  method: 'post',
  path: '/auth/register/',
  operationId: 'registerUser',
  tags: ['Auth'],
  summary: 'Create a customer account',
  security: [],
  description:
    'Usernames and emails are unique case-insensitively. New accounts are customers; admins promote. At most 5 registrations per minute from one client address (429).',
  middleware: [rateLimit('register')] as const,
  request: { body: jsonBody(RegisterBodySchema) },
  responses: {
    201: {
      description: 'The new user. `Location` points at it.',
      headers: { Location: { schema: { type: 'string' } }, ...rateLimitResponseHeaders },
      content: { 'application/json': { schema: UserSchema } },
    },
    ...errors(400, 409, 413, 415, 429),
  },
});

export const login = createRoute({
  method: 'post',
  path: '/auth/login/',
  operationId: 'login',
  tags: ['Auth'],
  summary: 'Log in with username or email',
  security: [],
  description:
    'Returns a 15-minute access token and a single-use refresh token. Unknown users and wrong passwords get the same 401. ' +
    'After 5 failures for one account within 15 minutes, or 50 from one client address, further attempts get 429 with `Retry-After` until the window passes.',
  request: { body: jsonBody(LoginBodySchema) },
  responses: {
    200: { ...jsonResponse(TokenPairSchema, 'A new token pair.'), headers: rateLimitResponseHeaders },
    ...errors(400, 401, 413, 415, 429),
  },
});

export const refresh = createRoute({
  method: 'post',
  path: '/auth/refresh/',
  operationId: 'refreshTokens',
  tags: ['Auth'],
  summary: 'Exchange a refresh token for a new pair',
  security: [],
  description:
    'Refresh tokens rotate (RFC 6749 §10.4): each works once. Presenting a used token again revokes every token descended from the same login.',
  request: { body: jsonBody(RefreshBodySchema) },
  responses: {
    200: jsonResponse(TokenPairSchema, 'A new token pair; the presented refresh token is now spent.'),
    ...errors(400, 401, 413, 415),
  },
});

export const logout = createRoute({
  method: 'post',
  path: '/auth/logout/',
  operationId: 'logout',
  tags: ['Auth'],
  summary: 'Revoke a refresh token',
  security: [],
  description: 'Revokes the refresh token and every token rotated from the same login. Unknown tokens also answer 204 (RFC 7009 §2.2).',
  request: { body: jsonBody(LogoutBodySchema) },
  responses: {
    204: { description: 'Revoked.' },
    ...errors(400, 413, 415),
  },
});
