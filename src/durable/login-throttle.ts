import { DurableObject } from 'cloudflare:workers';

/**
 * Counts login attempts for one key (`account:<id>` or `ip:<address>`): one object per key,
 * so every attempt against an account is serialised through a single place, wherever in the
 * world it arrives. An attempt is recorded *before* the password is checked and forgiven
 * when it succeeds: a burst of parallel guesses cannot all slip past the check before the
 * first failure is written. Once `maxFailures` attempts fall within `windowSeconds` the key is
 * locked until the oldest of them leaves the window.
 *
 * Storage is the object's synchronous SQLite-backed KV, and no method awaits, so a
 * read-modify-write never interleaves with another call (input gates).
 */
export interface ThrottlePolicy {
  maxFailures: number;
  windowSeconds: number;
}

export interface Attempt {
  /** Seconds to wait before trying again; 0 when this attempt may go ahead. */
  retryAfter: number;
  /** Identifies the recorded attempt, to forgive it if it succeeds. */
  at: number;
  /** Failed attempts left in the window, counting this one as failed (for the RateLimit header). */
  remaining: number;
  /** Seconds until the oldest counted failure leaves the window. */
  resetSeconds: number;
}

const FAILURES_KEY = 'failures';

export class LoginThrottle extends DurableObject<Env> {
  private recent(now: number, windowSeconds: number): number[] {
    const all = this.ctx.storage.kv.get<number[]>(FAILURES_KEY) ?? [];
    return all.filter((t) => t > now - windowSeconds * 1000);
  }

  private retryAfter(failures: number[], now: number, policy: ThrottlePolicy): number {
    if (failures.length < policy.maxFailures) return 0;
    // The lock lifts when enough failures have aged out to drop below the limit.
    const unlocking = failures[failures.length - policy.maxFailures] ?? now;
    return Math.max(1, Math.ceil((unlocking + policy.windowSeconds * 1000 - now) / 1000));
  }

  private save(failures: number[], policy: ThrottlePolicy): void {
    this.ctx.storage.kv.put(FAILURES_KEY, failures.slice(-policy.maxFailures));
  }

  /** Checks and, when allowed, records the attempt as a failure until `forgive` says otherwise. */
  begin(policy: ThrottlePolicy): Attempt {
    const now = Date.now();
    const failures = this.recent(now, policy.windowSeconds);
    const wait = this.retryAfter(failures, now, policy);
    if (wait > 0) return { retryAfter: wait, at: 0, remaining: 0, resetSeconds: wait };
    const counted = [...failures, now];
    this.save(counted, policy);
    const oldest = counted[0] ?? now;
    return {
      retryAfter: 0,
      at: now,
      remaining: Math.max(0, policy.maxFailures - counted.length),
      resetSeconds: Math.max(1, Math.ceil((oldest + policy.windowSeconds * 1000 - now) / 1000)),
    };
  }

  /** Takes back one attempt recorded by `begin` (it succeeded). */
  forgive(at: number): void {
    const failures = this.ctx.storage.kv.get<number[]>(FAILURES_KEY) ?? [];
    const index = failures.indexOf(at);
    if (index === -1) return;
    failures.splice(index, 1);
    this.ctx.storage.kv.put(FAILURES_KEY, failures);
  }

  /** A successful login clears the account's count. */
  reset(): void {
    this.ctx.storage.kv.delete(FAILURES_KEY);
  }
}
