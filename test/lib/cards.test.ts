import { describe, expect, it } from 'vitest';
import { cardFingerprint, luhnValid, normalizeCardNumber } from '../../src/lib/cards.ts';
import { backoffSeconds } from '../../src/queues/consume.ts';

describe('card numbers', () => {
  it.each([
    ['4242424242424242', '4242424242424242'],
    ['4242 4242 4242 4242', '4242424242424242'],
    ['4000-0000-0000-0002', '4000000000000002'],
    ['378282246310005', '378282246310005'],
  ])('accepts %s as %s', (input, digits) => {
    expect(normalizeCardNumber(input)).toBe(digits);
  });

  it.each([['4242424242424241'], ['42424242424'], ['42424242424242424242'], ['4242  4242 4242 4242'], ['4242x424242424242'], ['']])('rejects %j', (input) => {
    expect(normalizeCardNumber(input)).toBeNull();
  });

  it('implements the Luhn check', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });

  it('fingerprints with a key: same number and key agree, another key differs, and the number is not in it', async () => {
    const a = await cardFingerprint('4242424242424242', 'k1');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await cardFingerprint('4242424242424242', 'k1')).toBe(a);
    expect(await cardFingerprint('4242424242424242', 'k2')).not.toBe(a);
    expect(a).not.toContain('4242');
  });
});

describe('backoffSeconds', () => {
  it('doubles its ceiling per attempt up to the cap, and waits at least a second', () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffSeconds(n, 2, 60, () => 1))).toEqual([2, 4, 8, 16, 60]);
    expect(backoffSeconds(5, 2, 60, () => 0)).toBe(1);
  });
});
