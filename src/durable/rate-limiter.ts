import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';

/**
 * One rate-limit key (`<policy>:user:<id>` or `<policy>:ip:<address>`): a sliding-window log of
 * the requests it let through. One object per key serialises every request for that key,
 * wherever in the world it arrives, and no method awaits, so a check-and-record never
 * interleaves with another.
 *
 * Why a Durable Object and not the Workers Rate Limiting binding: the binding answers only
 * "allowed or not", per Cloudflare location and eventually consistent, with periods of 10 or
 * 60 s. The RateLimit headers (IETF httpapi draft) need the remaining quota and the reset time,
 * and a checkout limit should hold exactly, not per location. The cost is one object call per
 * limited request, on routes that already write to D1.
 */
const Policy = z.object({ limit: z.number().int().positive(), windowSeconds: z.number().int().positive() });

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Requests left in the window after this one. */
  remaining: number;
  /** Seconds until the window has room again (the oldest counted request leaves it). */
  resetSeconds: number;
}

const LOG_KEY = 'log';

export class RateLimiter extends DurableObject<Env> {
  hit(policy: z.input<typeof Policy>): RateLimitDecision {
    const { limit, windowSeconds } = Policy.parse(policy);
    const now = Date.now();
    const windowMs = windowSeconds * 1000;
    const log = (this.ctx.storage.kv.get<number[]>(LOG_KEY) ?? []).filter((t) => t > now - windowMs);
    const allowed = log.length < limit;
    if (allowed) log.push(now);
    this.ctx.storage.kv.put(LOG_KEY, log.slice(-limit));
    const oldest = log[0] ?? now;
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - log.length),
      resetSeconds: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)),
    };
  }
}
