import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, expectProblem } from '../../support/api.ts';
import { uniqueName } from '../../support/users.ts';

const password = 'correct horse battery staple';

describe('POST /auth/register/', () => {
  it('creates a customer and answers 201 with the user, a Location and no secret', async () => {
    const username = uniqueName('Reg');
    const res = await call('POST', '/auth/register/', { body: { username, email: `${username}@Example.COM`, password } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      username,
      email: `${username}@example.com`.toLowerCase(),
      role: 'customer',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(res.headers.get('Location')).toBe(`/users/${res.body.id}/`);
    expect(res.text).not.toMatch(/password|pbkdf2|hash/i);
    const row = await env.DB.prepare('SELECT password_hash FROM users WHERE id = ?').bind(res.body.id).first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^pbkdf2_sha256\$100000\$/);
    expect(row?.password_hash).not.toContain(password);
  });

  it('ignores a role in the body: nobody registers as admin', async () => {
    const username = uniqueName();
    const res = await call('POST', '/auth/register/', { body: { username, email: `${username}@example.com`, password, role: 'admin' } });
    expect(res.status).toBe(201);
    expect(res.body.role).toBe('customer');
  });

  it('answers 409 for a duplicate username, case-insensitively, naming the field', async () => {
    const username = uniqueName();
    expect((await call('POST', '/auth/register/', { body: { username, email: `${username}@example.com`, password } })).status).toBe(201);
    const dup = await call('POST', '/auth/register/', { body: { username: username.toUpperCase(), email: `other-${username}@example.com`, password } });
    expectProblem(dup, 409, 'conflict', ['body.username']);
  });

  it('answers 409 for a duplicate email in another case, naming the field', async () => {
    const username = uniqueName();
    expect((await call('POST', '/auth/register/', { body: { username, email: `${username}@example.com`, password } })).status).toBe(201);
    const dup = await call('POST', '/auth/register/', { body: { username: `${username}_2`, email: `${username}@EXAMPLE.com`.toUpperCase(), password } });
    expectProblem(dup, 409, 'conflict', ['body.email']);
  });

  it('names both fields when both are taken', async () => {
    const username = uniqueName();
    await call('POST', '/auth/register/', { body: { username, email: `${username}@example.com`, password } });
    const dup = await call('POST', '/auth/register/', { body: { username, email: `${username}@example.com`, password } });
    expectProblem(dup, 409, 'conflict', ['body.username', 'body.email']);
  });

  it('lets exactly one of two simultaneous identical sign-ups win', async () => {
    const username = uniqueName();
    const body = { username, email: `${username}@example.com`, password };
    const results = await Promise.all([call('POST', '/auth/register/', { body }), call('POST', '/auth/register/', { body })]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const { n } = (await env.DB.prepare('SELECT count(*) AS n FROM users WHERE username = ?').bind(username).first<{ n: number }>())!;
    expect(n).toBe(1);
  });

  it.each([
    [{ username: 'ab', email: 'ab@example.com', password }, ['body.username']],
    [{ username: 'has space', email: 'x@example.com', password }, ['body.username']],
    [{ username: 'at@sign', email: 'x@example.com', password }, ['body.username']],
    [{ username: 'fine_name', email: 'not-an-email', password }, ['body.email']],
    [{ username: 'fine_name', email: 'x@example.com', password: 'short' }, ['body.password']],
    [{ username: 'fine_name', email: 'x@example.com', password: 'x'.repeat(257) }, ['body.password']],
    [{ username: 42, email: null, password: ['x'] }, ['body.username', 'body.email', 'body.password']],
  ])('answers 400 for %j naming %j', async (body, fields) => {
    expectProblem(await call('POST', '/auth/register/', { body }), 400, 'validation_failed', fields);
  });
});
