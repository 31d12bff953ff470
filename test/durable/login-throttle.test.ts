import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { LoginThrottle } from '../../src/durable/login-throttle.ts';
import { uniqueName } from '../support/users.ts';

const policy = { maxFailures: 3, windowSeconds: 60 };
const stubFor = () => env.LOGIN_THROTTLE.getByName(uniqueName('throttle'));

describe('LoginThrottle', () => {
  it('allows attempts until the limit, then tells how long to wait', async () => {
    const stub = stubFor();
    expect(await stub.check(policy)).toBe(0);
    expect(await stub.recordFailure(policy)).toBe(0);
    expect(await stub.recordFailure(policy)).toBe(0);
    expect(await stub.recordFailure(policy)).toBe(60);
    expect(await stub.check(policy)).toBe(60);
  });

  it('forgets failures older than the window and unlocks when the oldest ages out', async () => {
    const stub = stubFor();
    const now = Date.now();
    await runInDurableObject(stub, (_instance: LoginThrottle, state) => {
      // Two failures long ago and one 50 s ago: only the recent one still counts.
      state.storage.kv.put('failures', [now - 600_000, now - 300_000, now - 50_000]);
    });
    expect(await stub.check(policy)).toBe(0);
    expect(await stub.recordFailure(policy)).toBe(0);
    // Third failure within the window locks until the failure from 50 s ago is 60 s old.
    const wait = await stub.recordFailure(policy);
    expect(wait).toBeGreaterThanOrEqual(9);
    expect(wait).toBeLessThanOrEqual(11);
  });

  it('keeps at most maxFailures timestamps and resets on success', async () => {
    const stub = stubFor();
    for (let i = 0; i < 10; i++) await stub.recordFailure(policy);
    const stored = await runInDurableObject(stub, (_instance: LoginThrottle, state) => state.storage.kv.get<number[]>('failures'));
    expect(stored).toHaveLength(3);
    await stub.reset();
    expect(await stub.check(policy)).toBe(0);
  });
});
