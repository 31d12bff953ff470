import { describe, expect, it } from 'vitest';
import { Doorkeeper } from '../../src/lib/doorkeeper.ts';

const key = (i: number) => `https://catalog-cache.edgeshop.internal/detail/${i}`;

/** How many of keys from..to-1 it says it has seen (and remembers them). */
function seenAmong(doorkeeper: Doorkeeper, from: number, to: number): number {
  let seen = 0;
  for (let i = from; i < to; i++) if (doorkeeper.seen(key(i))) seen++;
  return seen;
}

describe('the doorkeeper (admission on the second request)', () => {
  it('says no to a key the first time and yes the second', () => {
    const doorkeeper = new Doorkeeper();
    expect(doorkeeper.seen(key(1))).toBe(false);
    expect(doorkeeper.seen(key(1))).toBe(true);
    expect(doorkeeper.seen(key(2))).toBe(false);
    expect(doorkeeper.seen('')).toBe(false);
    expect(doorkeeper.seen('')).toBe(true);
  });

  it('remembers every one of its last `capacity` keys, and passes few keys it never saw', () => {
    const doorkeeper = new Doorkeeper();
    expect(doorkeeper.capacity).toBe(100_000);
    const early = seenAmong(doorkeeper, 0, 100_000);
    // The filter fills as it goes: about 0.2 % of first requests pass on average.
    expect(early).toBeLessThan(1_000);
    expect(seenAmong(doorkeeper, 0, 100_000)).toBe(100_000);
    // Keys never shown, against a full filter: about 1 % (2 % at most with both filters full).
    expect(seenAmong(doorkeeper, 1_000_000, 1_020_000)).toBeLessThan(20_000 * 0.02);
  });

  it('keeps the previous filter when the current one is full, until the current one is full again', () => {
    const doorkeeper = new Doorkeeper(1_000, 1 << 14);
    seenAmong(doorkeeper, 0, 1_000);
    // The first filter is full: these go to the second, and the first thousand are still remembered.
    expect(seenAmong(doorkeeper, 1_000, 1_500)).toBeLessThan(500 * 0.05);
    expect(seenAmong(doorkeeper, 0, 500)).toBe(500);
    // Two thousand new keys fill both filters: the first fifteen hundred are forgotten.
    seenAmong(doorkeeper, 2_000, 4_000);
    expect(seenAmong(doorkeeper, 0, 1_500)).toBeLessThan(1_500 * 0.05);
  });

  it('forgets everything on clear', () => {
    const doorkeeper = new Doorkeeper(1_000, 1 << 14);
    seenAmong(doorkeeper, 0, 1_500);
    doorkeeper.clear();
    expect(seenAmong(doorkeeper, 0, 1_500)).toBeLessThan(1_500 * 0.05);
  });

  it('takes only a power of two for its size', () => {
    expect(() => new Doorkeeper(10, 1000)).toThrow(RangeError);
    expect(() => new Doorkeeper(10, 16)).toThrow(RangeError);
  });
});
