import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { LoginThrottle } from '../../src/durable/login-throttle.ts';
import { uniqueName } from '../support/users.ts';

const policy = { maxFailures: 3, windowSeconds: 60 };
const stubFor = () => env.LOGIN_THROTTLE.getByName(uniqueName('throttle'));
const stored = (stub: DurableObjectStub<LoginThrottle>) =>
  runInDurableObject(stub, (_instance: LoginThrottle, state) => state.storage.kv.get<number[]>('failures') ?? []);

describe('LoginThrottle', () => {
  it('lets attempts through until the limit, then tells how long to wait', async () => {
    const stub = stubFor();
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await stub.begin(policy)).retryAfter);
    expect(results).toEqual([0, 0, 0, 60]);
    // A refused attempt is not recorded: the count stays at the limit.
    expect(await stored(stub)).toHaveLength(3);
  });

  it('counts parallel attempts one by one: never more than the limit get through', async () => {
    const stub = stubFor();
    const results = await Promise.all(Array.from({ length: 20 }, () => stub.begin(policy)));
    expect(results.filter((r) => r.retryAfter === 0)).toHaveLength(3);
  });

  it('forgives a successful attempt and resets the key', async () => {
    const stub = stubFor();
    const first = await stub.begin(policy);
    await stub.begin(policy);
    await stub.forgive(first.at);
    expect(await stored(stub)).toHaveLength(1);
    await stub.forgive(123); // unknown: no-op
    expect(await stored(stub)).toHaveLength(1);
    await stub.reset();
    expect(await stored(stub)).toEqual([]);
  });

  it('forgets attempts older than the window and unlocks when the oldest ages out', async () => {
    const stub = stubFor();
    const now = Date.now();
    await runInDurableObject(stub, (_instance: LoginThrottle, state) => {
      // Two attempts long ago and one 50 s ago: only the recent one still counts.
      state.storage.kv.put('failures', [now - 600_000, now - 300_000, now - 50_000]);
    });
    expect((await stub.begin(policy)).retryAfter).toBe(0);
    expect((await stub.begin(policy)).retryAfter).toBe(0);
    // Now at the limit: locked until the attempt from 50 s ago is 60 s old.
    const wait = (await stub.begin(policy)).retryAfter;
    expect(wait).toBeGreaterThanOrEqual(9);
    expect(wait).toBeLessThanOrEqual(11);
  });
});
