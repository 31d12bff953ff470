import { DurableObject } from 'cloudflare:workers';

/**
 * Counts failed logins for one key (`account:<name>` or `ip:<address>`): one object per key,
 * so every attempt against an account is serialised through a single place, wherever in the
 * world it arrives. A failure is a timestamp; once `maxFailures` fall within `windowSeconds`
 * the key is locked until the oldest of them leaves the window.
 *
 * Storage is the object's synchronous SQLite-backed KV: each method runs without an await,
 * so a read-modify-write cannot interleave with another call (input gates).
 */
export interface ThrottlePolicy {
  maxFailures: number;
  windowSeconds: number;
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

  /** Seconds the caller must wait before trying again; 0 when an attempt is allowed. */
  check(policy: ThrottlePolicy): number {
    const now = Date.now();
    return this.retryAfter(this.recent(now, policy.windowSeconds), now, policy);
  }

  /** Records a failed attempt and returns the wait it causes (0 while under the limit). */
  recordFailure(policy: ThrottlePolicy): number {
    const now = Date.now();
    const failures = [...this.recent(now, policy.windowSeconds), now].slice(-policy.maxFailures);
    this.ctx.storage.kv.put(FAILURES_KEY, failures);
    return this.retryAfter(failures, now, policy);
  }

  /** A successful login clears the account's count. */
  reset(): void {
    this.ctx.storage.kv.delete(FAILURES_KEY);
  }
}
