import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, expectProblem } from '../../support/api.ts';
import { createProduct } from '../../support/products.ts';
import { authMatrix, type TestUser } from '../../support/users.ts';

let customer: TestUser;
let admin: TestUser;

beforeAll(async () => {
  ({ customer, admin } = await authMatrix());
});

const path = (id: number | string) => `/products/${id}/generate-description/`;
const jobOf = async (id: number) =>
  JSON.parse((await env.DB.prepare('SELECT description_job FROM products WHERE id = ?').bind(id).first<{ description_job: string }>())!.description_job) as { id: string };

/** Polls the product until its job is done; the real queue runs the worker's consumer. */
async function settled(id: number, timeoutMs = 4_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call('GET', `/products/${id}/`);
    if (res.body.description_status !== 'queued' || Date.now() > deadline) return res.body;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('POST /products/{id}/generate-description/', () => {
  it('is admin-only: 401 anonymous, 403 customer, 202 admin', async () => {
    const product = await createProduct(admin);
    expectProblem(await call('POST', path(product.id), { body: {} }), 401, 'unauthorized');
    expectProblem(await call('POST', path(product.id), { token: customer.access, body: {} }), 403, 'forbidden');
    expect((await call('GET', `/products/${product.id}/`)).body.description_status).toBe('none');
    const res = await call('POST', path(product.id), { token: admin.access, body: {} });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ product_id: product.id, description_status: 'queued' });
  });

  it('runs the whole flow on the queue with no key: ready within seconds, written by the offline generator', async () => {
    const product = await createProduct(admin, { name: 'Trail Lantern', category: 'Outdoor', features: ['stored feature'], description: 'Old words.' });
    const res = await call('POST', path(product.id), {
      token: admin.access,
      body: { tone: 'playful', features: ['USB-C charging', '300 lumens', 'IPX4 splash-proof'] },
    });
    expect(res.status).toBe(202);
    const after = await settled(product.id);
    expect(after).toMatchObject({ description_status: 'ready', description_source: 'fallback', description_model: 'offline-fallback', description_error: null });
    for (const part of ['Trail Lantern', 'outdoor', 'USB-C charging', '300 lumens', 'IPX4 splash-proof']) expect(after.description).toContain(part);
    expect(after.description).not.toContain('Old words');
    // The override was for this run: the product keeps its own features.
    expect(after.features).toEqual(['stored feature']);
    expect(after.description_generated_at).toMatch(/Z$/);
  });

  it('takes no body at all', async () => {
    const product = await createProduct(admin);
    expect((await call('POST', path(product.id), { token: admin.access })).status).toBe(202);
    expect((await settled(product.id)).description_status).toBe('ready');
  });

  it('answers 202 again for a product already queued, without a second job', async () => {
    const product = await createProduct(admin);
    const job = { id: 'already-queued-job', tone: 'neutral', maxWords: 120, queuedAt: new Date().toISOString() };
    await env.DB.prepare("UPDATE products SET description_status = 'queued', description_job = ? WHERE id = ?").bind(JSON.stringify(job), product.id).run();
    const res = await call('POST', path(product.id), { token: admin.access, body: { tone: 'luxury' } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ product_id: product.id, description_status: 'queued' });
    expect((await jobOf(product.id)).id).toBe('already-queued-job');
  });

  it('starts one job when requests race', async () => {
    const product = await createProduct(admin);
    const results = await Promise.all(Array.from({ length: 5 }, () => call('POST', path(product.id), { token: admin.access, body: {} })));
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    const after = await settled(product.id);
    expect(after.description_status).toBe('ready');
  });

  it('is 404 for an unknown product and 400 for a malformed id', async () => {
    expectProblem(await call('POST', path(99_999_999), { token: admin.access, body: {} }), 404, 'not_found');
    expectProblem(await call('POST', path('abc'), { token: admin.access, body: {} }), 400, 'validation_failed', ['path.id']);
  });

  it('names every invalid field of the body, and queues nothing', async () => {
    const product = await createProduct(admin);
    const res = await call('POST', path(product.id), { token: admin.access, body: { tone: 'angry', max_words: 5, features: ['ok', ''] } });
    expectProblem(res, 400, 'validation_failed', ['body.tone', 'body.max_words', 'body.features.1']);
    expect((await call('GET', `/products/${product.id}/`)).body.description_status).toBe('none');
    expectProblem(await call('POST', path(product.id), { token: admin.access, rawBody: '{"tone":', headers: { 'Content-Type': 'application/json' } }), 400, 'bad_request');
  });
});
