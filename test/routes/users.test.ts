import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserPageSchema, UserSchema } from '../../src/routes/users/users.schemas.ts';
import { call, expectProblem } from '../support/api.ts';
import { authMatrix, createUser, type TestUser } from '../support/users.ts';

let customer: TestUser;
let other: TestUser;
let admin: TestUser;

beforeAll(async () => {
  ({ customer, other, admin } = await authMatrix());
});

describe('GET /users/me/', () => {
  it('returns the caller, matching the schema and without secrets', async () => {
    const res = await call('GET', '/users/me/', { token: customer.access });
    expect(res.status).toBe(200);
    expect(UserSchema.parse(res.body)).toEqual({ id: customer.id, username: customer.username, email: customer.email, role: 'customer', created_at: expect.any(String) });
    expect(Object.keys(res.body).sort()).toEqual(['created_at', 'email', 'id', 'role', 'username']);
  });

  it('answers 401 anonymously', async () => {
    expectProblem(await call('GET', '/users/me/'), 401, 'unauthorized');
  });

  it('answers 404 when the token outlives its user', async () => {
    const gone = await createUser();
    await env.DB.prepare('DELETE FROM users WHERE id = ?').bind(gone.id).run();
    expectProblem(await call('GET', '/users/me/', { token: gone.access }), 404, 'not_found');
    // Its refresh tokens went with it (ON DELETE CASCADE).
    const left = await env.DB.prepare('SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ?').bind(gone.id).first<{ n: number }>();
    expect(left?.n).toBe(0);
    expectProblem(await call('POST', '/auth/refresh/', { body: { refresh: gone.refresh } }), 401, 'unauthorized');
  });
});

describe('GET /users/{id}/', () => {
  it('lets a user read themself', async () => {
    const res = await call('GET', `/users/${customer.id}/`, { token: customer.access });
    expect(res.status).toBe(200);
    expect(res.body.username).toBe(customer.username);
  });

  it("answers 404 (not 403) for another user's profile, exactly as for a missing id", async () => {
    const res = expectProblem(await call('GET', `/users/${other.id}/`, { token: customer.access }), 404, 'not_found');
    const missing = expectProblem(await call('GET', '/users/999999/', { token: customer.access }), 404, 'not_found');
    expect(res.detail).toBe(missing.detail);
  });

  it('lets an admin read anyone; 404 for a missing id', async () => {
    const res = await call('GET', `/users/${other.id}/`, { token: admin.access });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(other.id);
    expectProblem(await call('GET', '/users/999999/', { token: admin.access }), 404, 'not_found');
  });

  it('answers 401 anonymously and 400 for a non-integer id', async () => {
    expectProblem(await call('GET', `/users/${customer.id}/`), 401, 'unauthorized');
    for (const bad of ['abc', '1.5', '0', '-1', '1e3', '99999999999999999999']) {
      expectProblem(await call('GET', `/users/${bad}/`, { token: admin.access }), 400, 'validation_failed', ['path.id']);
    }
  });
});

describe('GET /users/', () => {
  it('is admin-only: 401 anonymous, 403 customer', async () => {
    expectProblem(await call('GET', '/users/'), 401, 'unauthorized');
    expectProblem(await call('GET', '/users/', { token: customer.access }), 403, 'forbidden');
  });

  it('pages users oldest first like DRF', async () => {
    await Promise.all([createUser(), createUser(), createUser()]);
    const { n } = (await env.DB.prepare('SELECT count(*) AS n FROM users').first<{ n: number }>())!;
    const first = await call('GET', '/users/?page_size=2', { token: admin.access });
    expect(first.status).toBe(200);
    const page = UserPageSchema.parse(first.body);
    expect(page.count).toBe(n);
    expect(page.results).toHaveLength(2);
    expect(page.results[0]!.id).toBeLessThan(page.results[1]!.id);
    expect(page.previous).toBeNull();
    expect(page.next).toBe('https://edgeshop.test/users/?page_size=2&page=2');
    const second = await call('GET', '/users?page_size=2&page=2', { token: admin.access });
    expect(second.body.previous).toBe('https://edgeshop.test/users?page_size=2');
    expect(second.body.results[0].id).toBeGreaterThan(page.results[1]!.id);
    const last = Math.ceil(n / 2);
    const end = await call('GET', `/users/?page_size=2&page=${last}`, { token: admin.access });
    expect(end.body.next).toBeNull();
    expectProblem(await call('GET', `/users/?page_size=2&page=${last + 1}`, { token: admin.access }), 404, 'not_found');
  });

  it('caps page_size at 100 and rejects nonsense paging values', async () => {
    const res = await call('GET', '/users/?page_size=1000', { token: admin.access });
    expect(res.status).toBe(200);
    expect(res.body.results.length).toBeLessThanOrEqual(100);
    expectProblem(await call('GET', '/users/?page=0', { token: admin.access }), 400, 'validation_failed', ['query.page']);
    expectProblem(await call('GET', '/users/?page=x&page_size=-1', { token: admin.access }), 400, 'validation_failed', ['query.page', 'query.page_size']);
  });
});

describe('PATCH /users/{id}/', () => {
  it('lets an admin promote and demote; the next refresh carries the role', async () => {
    const target = await createUser();
    const promoted = await call('PATCH', `/users/${target.id}/`, { token: admin.access, body: { role: 'admin' } });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ id: target.id, role: 'admin' });
    const refreshed = await call('POST', '/auth/refresh/', { body: { refresh: target.refresh } });
    expect((await call('GET', '/users/', { token: refreshed.body.access })).status).toBe(200);
    const demoted = await call('PATCH', `/users/${target.id}`, { token: admin.access, body: { role: 'customer' } });
    expect(demoted.body.role).toBe('customer');
  });

  it('is admin-only: 401 anonymous, 403 for customers (even on themselves)', async () => {
    expectProblem(await call('PATCH', `/users/${customer.id}/`, { body: { role: 'admin' } }), 401, 'unauthorized');
    expectProblem(await call('PATCH', `/users/${customer.id}/`, { token: customer.access, body: { role: 'admin' } }), 403, 'forbidden');
    expectProblem(await call('PATCH', `/users/${other.id}/`, { token: customer.access, body: { role: 'admin' } }), 403, 'forbidden');
    const me = await call('GET', '/users/me/', { token: customer.access });
    expect(me.body.role).toBe('customer');
  });

  it('answers 400 for an unknown role, 404 for a missing user', async () => {
    expectProblem(await call('PATCH', `/users/${other.id}/`, { token: admin.access, body: { role: 'root' } }), 400, 'validation_failed', ['body.role']);
    expectProblem(await call('PATCH', '/users/999999/', { token: admin.access, body: { role: 'admin' } }), 404, 'not_found');
  });

  it('refuses to demote the last admin with 409', async () => {
    // Demote every other admin first so `admin` is the only one left.
    await env.DB.prepare("UPDATE users SET role = 'customer' WHERE role = 'admin' AND id <> ?").bind(admin.id).run();
    const res = await call('PATCH', `/users/${admin.id}/`, { token: admin.access, body: { role: 'customer' } });
    expectProblem(res, 409, 'conflict', ['body.role']);
    const row = await env.DB.prepare('SELECT role FROM users WHERE id = ?').bind(admin.id).first<{ role: string }>();
    expect(row?.role).toBe('admin');
    // With a second admin, demotion works.
    await call('PATCH', `/users/${other.id}/`, { token: admin.access, body: { role: 'admin' } });
    expect((await call('PATCH', `/users/${admin.id}/`, { token: admin.access, body: { role: 'customer' } })).status).toBe(200);
  });
});
