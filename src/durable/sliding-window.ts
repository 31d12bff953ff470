/**
 * The rate limits' counting rule, shared by the objects that count: a sliding-window log of the
 * requests let through, kept in the object's synchronous KV storage under one key. The caller
 * is a Durable Object method that does not await, so a count never interleaves with another.
 * No `cloudflare:workers` import: the routes (and the OpenAPI script, in Node) use its types.
 */
import { z } from 'zod';

/** A limit and its window, as the caller sends it across RPC (checked on arrival). */
const Policy = z.object({ limit: z.number().int().positive(), windowSeconds: z.number().int().positive() });
export type RateLimitPolicy = z.input<typeof Policy>;

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Requests left in the window after this one. */
  remaining: number;
  /** Seconds until the window has room again (the oldest counted request leaves it). */
  resetSeconds: number;
}

/** Counts one request against `policy` in the log stored under `key`; refused requests are not logged. */
export function countInWindow(kv: SyncKvStorage, key: string, policy: RateLimitPolicy, now = Date.now()): RateLimitDecision {
  const { limit, windowSeconds } = Policy.parse(policy);
  const windowMs = windowSeconds * 1000;
  const log = (kv.get<number[]>(key) ?? []).filter((t) => t > now - windowMs);
  const allowed = log.length < limit;
  if (allowed) log.push(now);
  kv.put(key, log.slice(-limit));
  const oldest = log[0] ?? now;
  return {
    allowed,
    limit,
    remaining: Math.max(0, limit - log.length),
    resetSeconds: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)),
  };
}
