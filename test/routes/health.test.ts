import { describe, expect, it } from 'vitest';
import { call } from '../support/api.ts';

describe('GET /health', () => {
  it('answers ok when D1 is reachable, with and without the trailing slash', async () => {
    for (const path of ['/health', '/health/']) {
      const res = await call('GET', path);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    }
  });
});
