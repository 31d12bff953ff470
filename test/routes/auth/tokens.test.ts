import { env } from 'cloudflare:workers';
import { decodeJwt, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { call, expectProblem } from '../../support/api.ts';
import { createUser } from '../../support/users.ts';

const b64url = (value: unknown) => btoa(JSON.stringify(value)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
const key = () => new TextEncoder().encode(env.JWT_SECRET);

async function sign(claims: Record<string, unknown>, options: { exp?: string | number; iss?: string; aud?: string; secret?: Uint8Array } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(options.iss ?? 'edgeshop')
    .setAudience(options.aud ?? 'edgeshop-api')
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '15m')
    .sign(options.secret ?? key());
}

function expectUnauthorized(res: Awaited<ReturnType<typeof call>>) {
  expectProblem(res, 401, 'unauthorized');
  expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
}

describe('access tokens on a protected route', () => {
  it('accepts a valid token', async () => {
    const user = await createUser();
    expect((await call('GET', '/users/me/', { token: user.access })).status).toBe(200);
  });

  it('answers 401 with WWW-Authenticate when the header is missing or malformed', async () => {
    expectUnauthorized(await call('GET', '/users/me/'));
    expectUnauthorized(await call('GET', '/users/me/', { headers: { Authorization: 'Basic dXNlcjpwYXNz' } }));
    expectUnauthorized(await call('GET', '/users/me/', { headers: { Authorization: 'Bearer' } }));
    expectUnauthorized(await call('GET', '/users/me/', { headers: { Authorization: 'Bearer not a token' } }));
    expectUnauthorized(await call('GET', '/users/me/', { token: 'abc.def.ghi' }));
  });

  it('refuses a tampered payload (customer claiming admin)', async () => {
    const user = await createUser();
    const [header, payload, signature] = user.access.split('.');
    const claims = decodeJwt(user.access);
    const forged = `${header}.${b64url({ ...claims, role: 'admin' })}.${signature}`;
    expect(payload).not.toBe(b64url({ ...claims, role: 'admin' }));
    expectUnauthorized(await call('GET', '/users/', { token: forged }));
  });

  it('refuses alg=none', async () => {
    const user = await createUser();
    const claims = decodeJwt(user.access);
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
    expectUnauthorized(await call('GET', '/users/me/', { token: unsigned }));
  });

  it('refuses an expired token', async () => {
    const user = await createUser();
    const token = await sign({ role: 'customer', username: user.username, typ: 'access', sub: String(user.id) }, { exp: Math.floor(Date.now() / 1000) - 60 });
    expectUnauthorized(await call('GET', '/users/me/', { token }));
  });

  it('refuses a token signed with another secret, for another audience or issuer', async () => {
    const user = await createUser();
    const claims = { role: 'customer', username: user.username, typ: 'access', sub: String(user.id) };
    expect((await call('GET', '/users/me/', { token: await sign(claims) })).status).toBe(200);
    expectUnauthorized(await call('GET', '/users/me/', { token: await sign(claims, { secret: new TextEncoder().encode('x'.repeat(48)) }) }));
    expectUnauthorized(await call('GET', '/users/me/', { token: await sign(claims, { aud: 'someone-else' }) }));
    expectUnauthorized(await call('GET', '/users/me/', { token: await sign(claims, { iss: 'someone-else' }) }));
  });

  it('refuses a token that is not an access token', async () => {
    const user = await createUser();
    const token = await sign({ role: 'customer', username: user.username, sub: String(user.id) });
    expectUnauthorized(await call('GET', '/users/me/', { token }));
  });
});
