import { env } from 'cloudflare:workers';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { ACCOUNT_THROTTLE } from '../../../src/routes/auth/auth.handlers.ts';
import { call, expectProblem } from '../../support/api.ts';
import { createUser, login, uniqueAddress, uniqueName } from '../../support/users.ts';

describe('POST /auth/login/', () => {
  it('returns a token pair for the username, with the claims the API checks', async () => {
    const user = await createUser();
    const res = await login(user.username, user.password);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ access: expect.any(String), refresh: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    const { access, refresh } = res.body as { access: string; refresh: string };
    expect(decodeProtectedHeader(access)).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(access);
    expect(claims).toMatchObject({ sub: String(user.id), role: 'customer', iss: 'edgeshop', aud: 'edgeshop-api' });
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(refresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Only a hash of the refresh token is stored.
    const stored = await env.DB.prepare('SELECT count(*) AS n FROM refresh_tokens WHERE token_hash = ?').bind(refresh).first<{ n: number }>();
    expect(stored?.n).toBe(0);
  });

  it('accepts the email (any case) or the username in another case', async () => {
    const user = await createUser();
    expect((await login(user.email.toUpperCase(), user.password)).status).toBe(200);
    expect((await login(user.username.toUpperCase(), user.password)).status).toBe(200);
  });

  it('answers the same 401 for an unknown user and a wrong password', async () => {
    const user = await createUser();
    const wrong = expectProblem(await login(user.username, 'not the password'), 401, 'unauthorized');
    const unknown = expectProblem(await login(uniqueName('ghost'), 'not the password'), 401, 'unauthorized');
    expect(wrong.detail).toBe(unknown.detail);
    expect(wrong.title).toBe(unknown.title);
  });

  it('answers 400 naming missing fields', async () => {
    expectProblem(await call('POST', '/auth/login/', { body: { username: '' } }), 400, 'validation_failed', ['body.username', 'body.password']);
  });

  it(`answers 429 with Retry-After after ${ACCOUNT_THROTTLE.maxFailures} failures for one account, even with the right password`, async () => {
    const user = await createUser();
    for (let i = 0; i < ACCOUNT_THROTTLE.maxFailures; i++) {
      expect((await login(user.username, `wrong-${i}`)).status).toBe(401);
    }
    const locked = await login(user.username, user.password);
    expectProblem(locked, 429, 'rate_limited');
    const retryAfter = Number(locked.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThan(ACCOUNT_THROTTLE.windowSeconds - 60);
    expect(retryAfter).toBeLessThanOrEqual(ACCOUNT_THROTTLE.windowSeconds);
    // The lock keys on the account, whatever name form or address is used.
    expectProblem(await login(user.email, user.password, uniqueAddress()), 429, 'rate_limited');
  });

  it('holds the limit against a burst of parallel guesses', async () => {
    const user = await createUser();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => login(user.username, `guess-${i}`)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(ACCOUNT_THROTTLE.maxFailures);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20 - ACCOUNT_THROTTLE.maxFailures);
    expectProblem(await login(user.username, user.password), 429, 'rate_limited');
  });

  it('does not count successful logins against the client address', async () => {
    const user = await createUser();
    const address = uniqueAddress();
    for (let i = 0; i < 60; i++) expect((await login(user.username, user.password, address)).status).toBe(200);
  });

  it('counts failures per client address across accounts', async () => {
    const address = uniqueAddress();
    for (let i = 0; i < 50; i++) {
      expect((await login(uniqueName('spray'), 'guess', address)).status).toBe(401);
    }
    const user = await createUser();
    expectProblem(await login(user.username, user.password, address), 429, 'rate_limited');
    expect((await login(user.username, user.password, uniqueAddress())).status).toBe(200);
  });

  it('clears the account count after a successful login', async () => {
    const user = await createUser();
    for (let i = 0; i < ACCOUNT_THROTTLE.maxFailures - 1; i++) expect((await login(user.username, 'wrong')).status).toBe(401);
    expect((await login(user.username, user.password)).status).toBe(200);
    for (let i = 0; i < ACCOUNT_THROTTLE.maxFailures - 1; i++) expect((await login(user.username, 'wrong')).status).toBe(401);
    expect((await login(user.username, user.password)).status).toBe(200);
  });

  it('upgrades a hash stored with fewer iterations on the next login', async () => {
    const user = await createUser();
    const { hashPassword } = await import('../../../src/lib/password.ts');
    await env.DB.prepare('UPDATE users SET password_hash = ? WHERE id = ?').bind(await hashPassword(user.password, 1000), user.id).run();
    expect((await login(user.username, user.password)).status).toBe(200);
    const row = await env.DB.prepare('SELECT password_hash FROM users WHERE id = ?').bind(user.id).first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^pbkdf2_sha256\$100000\$/);
    expect((await login(user.username, user.password)).status).toBe(200);
  });
});
