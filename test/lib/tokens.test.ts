import { decodeJwt, SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signAccessToken, verifyAccessToken } from '../../src/lib/tokens.ts';

// verifyAccessToken keeps the HMAC key it imported for a secret (src/lib/tokens.ts). These check
// that a kept key never outlives its secret, and the checks around it: expiry, signature, type.
const SECRET = 'tokens-test-secret-0123456789abcdef0123456789';
const OTHER_SECRET = 'tokens-test-other-secret-0123456789abcdef01234';
const claims = { userId: 41, role: 'customer' as const, username: 'tokens_test' };

afterEach(() => {
  vi.useRealTimers();
});

describe('verifyAccessToken', () => {
  it('accepts a token again with the key it kept, refuses it under another secret, and goes back', async () => {
    const token = await signAccessToken(claims, SECRET);
    expect(await verifyAccessToken(token, SECRET)).toEqual(claims);
    expect(await verifyAccessToken(token, SECRET)).toEqual(claims);
    // A rotated secret gets its own key: the old token fails under it.
    expect(await verifyAccessToken(token, OTHER_SECRET)).toBeNull();
    expect(await verifyAccessToken(token, SECRET)).toEqual(claims);
  });

  it('refuses a token it accepted once the token has expired', async () => {
    const token = await signAccessToken(claims, SECRET);
    expect(await verifyAccessToken(token, SECRET)).toEqual(claims);
    const exp = decodeJwt(token).exp as number;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((exp - 1) * 1000);
    expect(await verifyAccessToken(token, SECRET)).toEqual(claims);
    vi.setSystemTime(exp * 1000);
    expect(await verifyAccessToken(token, SECRET)).toBeNull();
    vi.setSystemTime((exp - 1) * 1000);
    expect(await verifyAccessToken(token, SECRET)).toEqual(claims);
  });

  it('refuses a token whose signature differs by one character from one it accepted', async () => {
    const token = await signAccessToken(claims, SECRET);
    expect(await verifyAccessToken(token, SECRET)).toEqual(claims);
    // Well inside the signature: the last character of its base64url also carries padding bits.
    const at = token.length - 10;
    const other = token[at] === 'A' ? 'B' : 'A';
    expect(await verifyAccessToken(`${token.slice(0, at)}${other}${token.slice(at + 1)}`, SECRET)).toBeNull();
  });

  it('refuses a token of another type, every time', async () => {
    const refresh = await new SignJWT({ role: 'customer', username: 'tokens_test', typ: 'refresh' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('41')
      .setIssuer('edgeshop')
      .setAudience('edgeshop-api')
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(new TextEncoder().encode(SECRET));
    expect(await verifyAccessToken(refresh, SECRET)).toBeNull();
    expect(await verifyAccessToken(refresh, SECRET)).toBeNull();
  });

  it('throws on a missing or short secret, before it looks at the token', async () => {
    const token = await signAccessToken(claims, SECRET);
    await expect(verifyAccessToken(token, undefined)).rejects.toThrow(/JWT_SECRET/);
    await expect(verifyAccessToken(token, 'short')).rejects.toThrow(/JWT_SECRET/);
    expect(await verifyAccessToken(token, SECRET)).toEqual(claims);
  });
});
