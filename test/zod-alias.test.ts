import { describe, expect, it } from 'vitest';
// The package itself, by path: the bundle's alias may also apply here.
import * as real from '../node_modules/zod/index.js';
import * as shim from '../src/lib/zod/index.js';

const keys = (namespace: object) => Object.keys(namespace).sort();

describe("the bundle's zod (wrangler.toml [alias])", () => {
  it("exports everything zod exports except its translations, bound to zod's own code", () => {
    expect(keys(real)).toContain('locales');
    expect(keys(shim)).toEqual(keys(real).filter((k) => k !== 'locales'));
    expect(keys(shim.z)).toEqual(keys(real.z).filter((k) => k !== 'locales'));
    expect(keys(shim.z.core)).toEqual(keys(real.z.core).filter((k) => k !== 'locales'));
    // The same functions and classes, not copies: instanceof and prototypes agree.
    expect(shim.z.object).toBe(real.z.object);
    expect(shim.z.ZodType).toBe(real.z.ZodType);
    expect(shim.z.core.$ZodType).toBe(real.z.core.$ZodType);
    expect(shim.default).toBe(shim.z);
  });

  it('still answers in English', () => {
    const result = shim.z.object({ price: shim.z.number() }).safeParse({ price: 'x' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('Invalid input: expected number, received string');
  });
});
