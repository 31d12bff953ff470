import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { call, expectProblem } from '../../support/api.ts';
import { createUser, login } from '../../support/users.ts';

const refresh = (token: string) => call('POST', '/auth/refresh/', { body: { refresh: token } });

describe('POST /auth/refresh/', () => {
  it('rotates: returns a new pair and the old refresh token stops working', async () => {
    const user = await createUser();
    const first = await refresh(user.refresh);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ access: expect.any(String), refresh: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    expect(first.body.refresh).not.toBe(user.refresh);
    expect(decodeJwt(first.body.access).sub).toBe(String(user.id));
    const me = await call('GET', '/users/me/', { token: first.body.access });
    expect(me.body.id).toBe(user.id);
    const second = await refresh(first.body.refresh);
    expect(second.status).toBe(200);
  });

  it('treats reuse of a spent token as theft: 401 and the whole family is revoked', async () => {
    const user = await createUser();
    const rotated = await refresh(user.refresh);
    expect(rotated.status).toBe(200);
    const replay = await refresh(user.refresh);
    const problem = expectProblem(replay, 401, 'unauthorized');
    expect(problem.detail).toMatch(/already used/);
    expect(replay.headers.get('WWW-Authenticate')).toContain('Bearer');
    // The successor issued before the replay is dead too.
    expectProblem(await refresh(rotated.body.refresh), 401, 'unauthorized');
  });

  it('lets only one of two simultaneous refreshes of one token succeed', async () => {
    const user = await createUser();
    const results = await Promise.all([refresh(user.refresh), refresh(user.refresh)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    const { n } = (await env.DB.prepare('SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ?').bind(user.id).first<{ n: number }>())!;
    expect(n).toBe(2);
  });

  it('does not revoke other sessions of the same user on reuse', async () => {
    const user = await createUser();
    const other = await login(user.username, user.password);
    await refresh(user.refresh);
    await refresh(user.refresh);
    expect((await refresh(other.body.refresh)).status).toBe(200);
  });

  it('refuses expired, unknown and revoked tokens', async () => {
    const user = await createUser();
    await env.DB.prepare("UPDATE refresh_tokens SET expires_at = '2000-01-01T00:00:00.000Z' WHERE user_id = ?").bind(user.id).run();
    expectProblem(await refresh(user.refresh), 401, 'unauthorized');
    expectProblem(await refresh('not-a-real-token'), 401, 'unauthorized');
    const fresh = await login(user.username, user.password);
    expect((await call('POST', '/auth/logout/', { body: { refresh: fresh.body.refresh } })).status).toBe(204);
    expectProblem(await refresh(fresh.body.refresh), 401, 'unauthorized');
  });

  it('puts the current role in the new access token', async () => {
    const user = await createUser();
    await env.DB.prepare("UPDATE users SET role = 'admin' WHERE id = ?").bind(user.id).run();
    const res = await refresh(user.refresh);
    expect(decodeJwt(res.body.access).role).toBe('admin');
  });

  it('answers 400 without a refresh token', async () => {
    expectProblem(await call('POST', '/auth/refresh/', { body: {} }), 400, 'validation_failed', ['body.refresh']);
    expectProblem(await call('POST', '/auth/refresh/', { body: { refresh: 5 } }), 400, 'validation_failed', ['body.refresh']);
  });
});

describe('POST /auth/logout/', () => {
  it('answers 204, revokes the token and its rotations, and leaves other sessions alone', async () => {
    const user = await createUser();
    const other = await login(user.username, user.password);
    const rotated = await refresh(user.refresh);
    const out = await call('POST', '/auth/logout', { body: { refresh: rotated.body.refresh } });
    expect(out.status).toBe(204);
    expect(out.text).toBe('');
    expectProblem(await refresh(rotated.body.refresh), 401, 'unauthorized');
    expect((await refresh(other.body.refresh)).status).toBe(200);
  });

  it('answers 204 for an unknown token (RFC 7009) and 400 without one', async () => {
    expect((await call('POST', '/auth/logout/', { body: { refresh: 'unknown' } })).status).toBe(204);
    expectProblem(await call('POST', '/auth/logout/', { body: {} }), 400, 'validation_failed', ['body.refresh']);
  });
});
