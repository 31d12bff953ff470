import { z } from '@hono/zod-openapi';

/**
 * Money crosses the API as a decimal string with two places ("19.99") and lives everywhere
 * else as integer cents, so sums never drift. This module is the only place that converts.
 */
export const MAX_CENTS = 100_000_000; // 1,000,000.00: far above any product, far below 2^53.

const MONEY_PATTERN = /^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$/;

/** Parses "19.9", "19.99", 19.99 or "0.10" into cents; null for anything else (negatives, 3 decimals, 1e3). */
export function toCents(value: string | number): number | null {
  // A number is read through its shortest decimal form (19.99 -> "19.99"): no float arithmetic.
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value.trim();
  const match = MONEY_PATTERN.exec(text);
  if (!match) return null;
  const whole = Number(match[1]);
  const fraction = (match[2] ?? '.').slice(1).padEnd(2, '0');
  return whole * 100 + Number(fraction);
}

export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Input schema: a string or number with at most two decimals, 0 to 1,000,000.00; outputs cents. */
export function moneyInput(description = 'Amount') {
  return z
    .union([z.string(), z.number()])
    .transform((value, ctx) => {
      const cents = toCents(value);
      if (cents === null || cents > MAX_CENTS) {
        ctx.addIssue({
          code: 'custom',
          message: 'Must be a non-negative amount with at most two decimal places, up to 1000000.00.',
        });
        return z.NEVER;
      }
      return cents;
    })
    .openapi({
      description: `${description}: a decimal string (or number) with at most two decimals.`,
      example: '19.99',
      type: 'string',
      pattern: MONEY_PATTERN.source,
    });
}

export const MoneySchema = z.string().openapi({ description: 'Decimal string with two places.', example: '19.99', pattern: '^-?[0-9]+\\.[0-9]{2}$' });
