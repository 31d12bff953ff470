import { describe, expect, it } from 'vitest';
import { DUMMY_PASSWORD_HASH, hashPassword, needsRehash, PBKDF2_ITERATIONS, verifyPassword } from '../../src/lib/password.ts';

describe('password hashing', () => {
  it('pins PBKDF2 at the Workers maximum of 100,000 iterations (more fails in production only)', async () => {
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    const hash = await hashPassword('hunter2hunter2');
    const [algorithm, iterations, salt, digest] = hash.split('$');
    expect(algorithm).toBe('pbkdf2_sha256');
    expect(Number(iterations)).toBe(100_000);
    expect(atob(salt!)).toHaveLength(16);
    expect(atob(digest!)).toHaveLength(32);
  });

  it('salts per hash and verifies only the right password', async () => {
    const a = await hashPassword('same password');
    const b = await hashPassword('same password');
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password', a)).toBe(true);
    expect(await verifyPassword('same password', b)).toBe(true);
    expect(await verifyPassword('same passwore', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('refuses malformed or over-cost stored hashes instead of throwing', async () => {
    expect(await verifyPassword('x', 'md5$1$abc$def')).toBe(false);
    expect(await verifyPassword('x', 'pbkdf2_sha256$abc$AA==$AA==')).toBe(false);
    expect(await verifyPassword('x', 'pbkdf2_sha256$100001$AAAAAAAAAAAAAAAAAAAAAA==$AAAA')).toBe(false);
    expect(await verifyPassword('x', DUMMY_PASSWORD_HASH)).toBe(false);
  });

  it('reports hashes below the current cost as needing a rehash', async () => {
    expect(needsRehash(await hashPassword('x', 1000))).toBe(true);
    expect(needsRehash(await hashPassword('x'))).toBe(false);
    expect(needsRehash('garbage')).toBe(true);
  });
});
