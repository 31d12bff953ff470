import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCents, toCents } from '../../src/lib/money.ts';

describe('money', () => {
  it.each([
    ['0', 0],
    ['0.1', 10],
    ['0.10', 10],
    [0.1, 10],
    [0.29, 29],
    [1.15, 115],
    ['19.99', 1999],
    [19.99, 1999],
    ['999999999.99', 99999999999],
  ])('parses %j as %d cents', (input, cents) => {
    expect(toCents(input)).toBe(cents);
  });

  it.each([['1.999'], ['-1'], [-0.01], ['1e3'], [1e21], [''], ['.5'], ['01.00'], ['1.'], [Number.POSITIVE_INFINITY], [Number.NaN], [' 1 0']])(
    'rejects %j',
    (input) => {
      expect(toCents(input)).toBeNull();
    },
  );

  it('formats cents with two places', () => {
    expect(formatCents(0)).toBe('0.00');
    expect(formatCents(10)).toBe('0.10');
    expect(formatCents(1999)).toBe('19.99');
    expect(formatCents(-5)).toBe('-0.05');
  });

  it('round-trips every amount exactly (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000_000 }), (cents) => {
        expect(toCents(formatCents(cents))).toBe(cents);
      }),
    );
  });
});
