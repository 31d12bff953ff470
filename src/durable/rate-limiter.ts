import { DurableObject } from 'cloudflare:workers';
import { countInWindow, type RateLimitDecision, type RateLimitPolicy } from './sliding-window.ts';

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
 * limited request, on routes that already write to D1. The checkout limit is counted by the
 * user's cart object instead (src/durable/cart.ts), in the call that takes the cart: the same
 * rule (./sliding-window.ts), one object call fewer on every checkout.
 */
export type { RateLimitDecision } from './sliding-window.ts';

const LOG_KEY = 'log';

export class RateLimiter extends DurableObject<Env> {
  hit(policy: RateLimitPolicy): RateLimitDecision {
    return countInWindow(this.ctx.storage.kv, LOG_KEY, policy);
  }
}
