import { createMiddleware } from 'hono/factory';
import type { RateLimiter } from '../durable/rate-limiter.ts';
import type { RateLimitDecision, RateLimitPolicy } from '../durable/sliding-window.ts';
import type { AppEnv, Bindings } from '../env.ts';
import { ApiError } from './errors.ts';

/**
 * Every rate limit of the API, in one table (the README repeats it). Limits count requests per
 * user (signed-in routes) or per client address (registration), in a sliding window.
 * `login` is the failed-login throttle (src/durable/login-throttle.ts): it counts failures only.
 */
export const RATE_LIMITS = {
  login: { name: 'login', limit: 5, windowSeconds: 15 * 60, by: 'account (failed attempts); 50 per address' },
  register: { name: 'register', limit: 5, windowSeconds: 60, by: 'address' },
  checkout: { name: 'checkout', limit: 10, windowSeconds: 60, by: 'user' },
  payment: { name: 'payment', limit: 10, windowSeconds: 60, by: 'user' },
  generateDescription: { name: 'generate-description', limit: 30, windowSeconds: 60, by: 'user' },
} as const;

export type LimitedRoute = Exclude<keyof typeof RATE_LIMITS, 'login'>;

/** `RATE_LIMIT_MULTIPLIER` scales every limit (load tests on one machine, one address); default 1. */
export function limitOf(env: Bindings, limit: number): number {
  const multiplier = Number(env.RATE_LIMIT_MULTIPLIER ?? '1');
  return Number.isFinite(multiplier) && multiplier >= 1 ? Math.floor(limit * multiplier) : limit;
}

export function clientAddress(c: { req: { header(name: string): string | undefined } }): string {
  return c.req.header('CF-Connecting-IP') ?? 'unknown';
}

/**
 * The headers of the IETF httpapi draft "RateLimit header fields for HTTP" (structured fields):
 * `RateLimit-Policy: "checkout";q=10;w=60` and `RateLimit: "checkout";r=7;t=42`.
 */
export function rateLimitHeaders(name: string, state: { limit: number; windowSeconds: number; remaining: number; resetSeconds: number }) {
  return {
    'RateLimit-Policy': `"${name}";q=${state.limit};w=${state.windowSeconds}`,
    RateLimit: `"${name}";r=${state.remaining};t=${state.resetSeconds}`,
  };
}

export function tooManyRequests(detail: string, retryAfter: number, headers: Record<string, string> = {}): ApiError {
  return new ApiError('rate_limited', detail, { headers: { 'Retry-After': String(retryAfter), ...headers } });
}

/** The policy of a route as this deployment applies it (`RATE_LIMIT_MULTIPLIER` included). */
export function policyOf(env: Bindings, route: LimitedRoute): RateLimitPolicy {
  const policy = RATE_LIMITS[route];
  return { limit: limitOf(env, policy.limit), windowSeconds: policy.windowSeconds };
}

/** The headers a counted request answers with; throws the 429 when it was refused. */
export function decided(route: LimitedRoute, decision: RateLimitDecision): Record<string, string> {
  const { name, windowSeconds } = RATE_LIMITS[route];
  const headers = rateLimitHeaders(name, { ...decision, windowSeconds });
  if (!decision.allowed) {
    throw tooManyRequests(`At most ${decision.limit} requests per ${windowSeconds} seconds here; try again in ${decision.resetSeconds} seconds.`, decision.resetSeconds, headers);
  }
  return headers;
}

/**
 * Route middleware (after `requireUser` for per-user limits). Counts the request in the key's
 * own object, then sets the headers or refuses with 429. (Checkout counts in the user's cart
 * object instead: src/routes/orders/orders.service.ts.)
 */
export function rateLimit(route: LimitedRoute) {
  const by = RATE_LIMITS[route].by;
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = by === 'user' ? `user:${c.var.user.userId}` : `ip:${clientAddress(c)}`;
    const stub = c.env.RATE_LIMITER.getByName(`${RATE_LIMITS[route].name}:${key}`) as DurableObjectStub<RateLimiter>;
    const policy = policyOf(c.env, route);
    const headers = decided(route, await stub.hit(policy));
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    await next();
  });
}
