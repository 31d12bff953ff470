import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import committed from '../openapi.json';
import { call, expectProblem, ORIGIN } from './support/api.ts';
import { createUser } from './support/users.ts';

describe('request ids', () => {
  it('generates one when the client sends none, on success and on error', async () => {
    const ok = await call('GET', '/health');
    expect(ok.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await call('GET', '/nope');
    expect(missing.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(missing.headers.get('X-Request-Id')).not.toBe(ok.headers.get('X-Request-Id'));
  });

  it('echoes a well-formed client id in the header and in problem bodies', async () => {
    const res = await call('GET', '/nope', { headers: { 'X-Request-Id': 'client-abc_123' } });
    expect(res.headers.get('X-Request-Id')).toBe('client-abc_123');
    expect(expectProblem(res, 404, 'not_found').request_id).toBe('client-abc_123');
  });

  it('replaces an id with unsafe characters instead of echoing it', async () => {
    const res = await call('GET', '/health', { headers: { 'X-Request-Id': 'bad id\twith spaces' } });
    expect(res.headers.get('X-Request-Id')).not.toContain(' ');
    expect(res.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('routing conventions', () => {
  it('answers 404 problem+json for unknown routes', async () => {
    const body = expectProblem(await call('GET', '/no/such/route/'), 404, 'not_found');
    expect(body.detail).toContain('/no/such/route');
  });

  it('answers 405 with Allow for a known path and the wrong method, with or without the slash', async () => {
    for (const path of ['/auth/login/', '/auth/login']) {
      const res = await call('GET', path);
      expectProblem(res, 405, 'method_not_allowed');
      expect(res.headers.get('Allow')).toBe('POST');
    }
    const users = await call('DELETE', '/users/1/');
    expectProblem(users, 405, 'method_not_allowed');
    expect(users.headers.get('Allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'PATCH']);
  });

  it('resolves dot segments before routing: /products/./ is the product list', async () => {
    const user = await createUser('admin');
    const res = await call('DELETE', '/products/./', { token: user.access });
    expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.get('Allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
  });

  it('serves POST with and without the trailing slash and never redirects', async () => {
    const user = await createUser();
    for (const path of ['/auth/login/', '/auth/login']) {
      const res = await call('POST', path, { body: { username: user.username, password: user.password } });
      expect(res.status).toBe(200);
    }
    const me = await call('GET', '/users/me', { token: user.access });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(user.id);
  });
});

describe('request bodies', () => {
  it('answers 400 for malformed JSON, naming the problem', async () => {
    const res = await call('POST', '/auth/register/', { rawBody: '{"username": "x",', headers: { 'Content-Type': 'application/json' } });
    const body = expectProblem(res, 400, 'bad_request');
    expect(body.detail).toMatch(/JSON/);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const res = await call('POST', '/auth/register/', { rawBody: 'username=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expectProblem(res, 415, 'unsupported_media_type');
    const plain = await call('POST', '/auth/login/', { rawBody: '{}', headers: { 'Content-Type': 'text/plain' } });
    expectProblem(plain, 415, 'unsupported_media_type');
  });

  it('answers 400 naming every field when the JSON body is empty or incomplete', async () => {
    expectProblem(await call('POST', '/auth/register/', { body: {} }), 400, 'validation_failed', [
      'body.username',
      'body.email',
      'body.password',
    ]);
    expectProblem(await call('POST', '/auth/register/', { body: [] }), 400, 'validation_failed', ['body']);
  });

  it('answers 413 for a body over 1 MiB and writes nothing', async () => {
    const username = `big_${Date.now()}`;
    const padding = 'x'.repeat(1024 * 1024 + 1);
    const res = await call('POST', '/auth/register/', {
      body: { username, email: `${username}@example.com`, password: 'long enough password', padding },
    });
    expectProblem(res, 413, 'payload_too_large');
    const login = await call('POST', '/auth/login/', { body: { username, password: 'long enough password' } });
    expect(login.status).toBe(401);
  });
});

describe('headers', () => {
  it('sets CORS headers from CORS_ORIGINS and answers preflight', async () => {
    const res = await call('OPTIONS', '/auth/login/', {
      headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type, authorization' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(res.headers.get('Access-Control-Allow-Headers')?.toLowerCase()).toContain('authorization');
    const get = await call('GET', '/health', { headers: { Origin: 'https://shop.example' } });
    expect(get.headers.get('Access-Control-Expose-Headers')).toContain('X-Request-Id');
  });

  it('allows only the listed origins when CORS_ORIGINS is a list', async () => {
    const app = createApp();
    const fetchFrom = (origin: string) =>
      app.fetch(new Request(`${ORIGIN}/health`, { headers: { Origin: origin } }), { ...env, CORS_ORIGINS: 'https://shop.example, https://admin.example' });
    const allowed = await fetchFrom('https://admin.example');
    expect(allowed.headers.get('Access-Control-Allow-Origin')).toBe('https://admin.example');
    expect(allowed.headers.get('Vary')).toContain('Origin');
    const refused = await fetchFrom('https://evil.example');
    expect(refused.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('sets secure headers', async () => {
    const res = await call('GET', '/health');
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(res.headers.get('Strict-Transport-Security')).toContain('max-age=');
    expect(res.headers.get('X-Frame-Options')).toBe('SAMEORIGIN');
    expect(res.headers.get('Referrer-Policy')).toBe('no-referrer');
    expect(res.headers.get('Cross-Origin-Resource-Policy')).toBe('cross-origin');
  });

  it('keeps the HTML-document security headers to the docs page', async () => {
    const documentOnly = ['Origin-Agent-Cluster', 'X-DNS-Prefetch-Control', 'X-Download-Options', 'X-Permitted-Cross-Domain-Policies', 'X-XSS-Protection'];
    for (const path of ['/health', '/products/', '/openapi.json']) {
      const res = await call('GET', path);
      for (const name of documentOnly) expect(res.headers.get(name), `${name} on ${path}`).toBeNull();
    }
    const docs = await call('GET', '/docs');
    expect(docs.status).toBe(200);
    for (const name of documentOnly) expect(docs.headers.get(name), `${name} on /docs`).not.toBeNull();
    expect(docs.headers.get('X-XSS-Protection')).toBe('0');
    expect(docs.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(docs.headers.get('Content-Security-Policy')).toContain("frame-ancestors 'none'");
  });
});

describe('OpenAPI document and docs page', () => {
  it('serves OpenAPI 3.1 identical to the committed openapi.json (run `npm run openapi` when this fails)', async () => {
    for (const path of ['/openapi.json', '/openapi.json/']) {
      const res = await call('GET', path);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(committed);
    }
    expect(committed.openapi).toBe('3.1.0');
  });

  it('documents every route with its trailing slash, the bearer scheme and problem responses', () => {
    const paths = Object.keys(committed.paths);
    expect(paths).toEqual(expect.arrayContaining(['/health', '/auth/register/', '/auth/login/', '/auth/refresh/', '/auth/logout/', '/users/', '/users/me/', '/users/{id}/']));
    expect(committed.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const me = committed.paths['/users/me/'].get;
    expect(me.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(me.responses['401'].content)).toEqual(['application/problem+json']);
    const idParam = committed.paths['/users/{id}/'].get.parameters[0];
    expect(idParam).toMatchObject({ name: 'id', in: 'path', required: true, schema: { type: 'integer' } });
  });

  it('serves Swagger UI whose assets come from the worker itself', async () => {
    const res = await call('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('text/html');
    const scripts = [...res.text.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['/swagger-ui/favicon-32x32.png', '/swagger-ui/swagger-ui.css', '/swagger-ui/swagger-ui-bundle.js']);
    expect(res.text).toContain('<title>edgeshop API docs</title>');
    expect(res.text).toContain('persistAuthorization: true');
    const nonce = /nonce="([^"]+)"/.exec(res.text)?.[1];
    expect(res.headers.get('Content-Security-Policy')).toContain(`'nonce-${nonce}'`);
    const bundle = await call('GET', '/swagger-ui/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.text).toContain('SwaggerUIBundle');
  });

  it('answers /favicon.ico with an icon, not a 404 in the browser console', async () => {
    const res = await call('GET', '/favicon.ico');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('image/png');
  });

  it('documents servers relative to the worker, contact, license, and an operationId and security on every operation', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect(doc.info).toMatchObject({ contact: { name: expect.any(String) }, license: { name: expect.any(String) } });
    const ops = Object.values(doc.paths as Record<string, Record<string, { operationId?: string; security?: unknown[] }>>).flatMap((item) => Object.values(item));
    const ids = ops.map((op) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ops.every((op) => Array.isArray(op.security))).toBe(true);
    expect(ids).toEqual(expect.arrayContaining(['listProducts', 'createOrder', 'createPayment', 'getCart', 'generateProductDescription']));
  });
});
