import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.ts';
import { expectProblem, ORIGIN } from './support/api.ts';
import { createUser } from './support/users.ts';

afterEach(() => vi.restoreAllMocks());

async function fetchWith(overrides: Record<string, unknown>, path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const response = await createApp().fetch(new Request(`${ORIGIN}${path}`, init), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined };
}

describe('unexpected errors', () => {
  it('answer an opaque 500 problem with the request id, and log name, message and stack as one JSON line', async () => {
    const user = await createUser();
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    // A deployment without JWT_SECRET cannot sign tokens: a server fault, never a client one.
    const res = await fetchWith({ JWT_SECRET: '' }, '/auth/login/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'trace-500' },
      body: JSON.stringify({ username: user.username, password: user.password }),
    });
    const body = expectProblem(res, 500, 'internal');
    expect(body.request_id).toBe('trace-500');
    expect(res.text).not.toMatch(/JWT_SECRET|stack|at /);
    const line = JSON.parse(String(logged.mock.calls.at(-1)?.[0]));
    expect(line).toMatchObject({ level: 'error', request_id: 'trace-500', name: 'Error', message: expect.stringContaining('JWT_SECRET') });
    expect(line.stack).toContain('tokens.ts');
    expect(JSON.stringify(line)).not.toContain(user.password);
  });
});

describe('request log', () => {
  it('writes one JSON line per request with method, path, status, duration and no credentials', async () => {
    const user = await createUser();
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    const res = await fetchWith({ LOG_LEVEL: 'info' }, '/users/me/?secret=no', { headers: { Authorization: `Bearer ${user.access}` } });
    expect(res.status).toBe(200);
    const lines = logged.mock.calls.map((call) => JSON.parse(String(call[0])));
    const requestLines = lines.filter((l) => l.msg === 'request');
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({ method: 'GET', path: '/users/me/', status: 200, user_id: user.id, request_id: res.headers.get('X-Request-Id') });
    expect(requestLines[0].duration_ms).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(lines)).not.toContain(user.access);
    expect(JSON.stringify(lines)).not.toContain('secret=no');
  });

  it('logs an anonymous read that succeeds at debug only; a failed one at info', async () => {
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    const requestLines = () => logged.mock.calls.map((call) => JSON.parse(String(call[0]))).filter((l) => l.msg === 'request');
    expect((await fetchWith({ LOG_LEVEL: 'info' }, '/categories/')).status).toBe(200);
    expect(requestLines()).toHaveLength(0);
    expect((await fetchWith({ LOG_LEVEL: 'info' }, '/products/999999999/')).status).toBe(404);
    expect(requestLines()).toMatchObject([{ level: 'info', method: 'GET', path: '/products/999999999/', status: 404 }]);
    expect((await fetchWith({ LOG_LEVEL: 'debug' }, '/categories/')).status).toBe(200);
    expect(requestLines().at(-1)).toMatchObject({ level: 'debug', method: 'GET', path: '/categories/', status: 200 });
  });
});
