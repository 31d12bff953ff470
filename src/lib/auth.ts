import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env.ts';
import { ApiError } from './errors.ts';
import { verifyAccessToken } from './tokens.ts';

/** RFC 6750 §3: a 401 for a bearer-protected resource names the scheme it expects. */
export function unauthorized(detail: string, error?: 'invalid_token'): ApiError {
  const challenge = error ? `Bearer realm="edgeshop", error="${error}"` : 'Bearer realm="edgeshop"';
  return new ApiError('unauthorized', detail, { headers: { 'WWW-Authenticate': challenge } });
}

/** Requires a valid access token; puts its claims in `c.var.user`. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('Authorization');
  if (!header) throw unauthorized('Authentication credentials were not provided.');
  const match = /^Bearer[ ]+([A-Za-z0-9\-_.~+/]+=*)$/i.exec(header.trim());
  if (!match?.[1]) throw unauthorized('The Authorization header must be "Bearer <token>".', 'invalid_token');
  const claims = await verifyAccessToken(match[1], c.env.JWT_SECRET);
  if (!claims) throw unauthorized('The access token is invalid or expired.', 'invalid_token');
  c.set('user', claims);
  await next();
});

/** Requires an admin; run after `requireUser`. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (c.var.user.role !== 'admin') throw new ApiError('forbidden', 'This action needs the admin role.');
  await next();
});

export const bearerSecurity = [{ bearerAuth: [] }];
