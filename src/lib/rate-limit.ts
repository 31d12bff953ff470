import { createMiddleware } from 'hono/factory';
import type { RateLimiter } from '../durable/rate-limiter.ts';
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

/** Route middleware (after `requireUser` for per-user limits). Counts the request, then sets the headers or refuses with 429. */
export function rateLimit(route: LimitedRoute) {
  const policy = RATE_LIMITS[route];
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = policy.by === 'user' ? `user:${c.var.user.userId}` : `ip:${clientAddress(c)}`;
    const stub = c.env.RATE_LIMITER.getByName(`${policy.name}:${key}`) as DurableObjectStub<RateLimiter>;
    const limit = limitOf(c.env, policy.limit);
    const decision = await stub.hit({ limit, windowSeconds: policy.windowSeconds });
    const headers = rateLimitHeaders(policy.name, { ...decision, windowSeconds: policy.windowSeconds });
    if (!decision.allowed) {
      throw tooManyRequests(`At most ${limit} requests per ${policy.windowSeconds} seconds here; try again in ${decision.resetSeconds} seconds.`, decision.resetSeconds, headers);
    }
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    await next();
  });
}
