import { describe, expect, it } from 'vitest';
import { call, expectProblem } from '../support/api.ts';
import { interceptD1 } from '../support/d1.ts';

describe('GET /health', () => {
  it('answers ok when D1 is reachable, with and without the trailing slash', async () => {
    for (const path of ['/health', '/health/']) {
      const res = await call('GET', path);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    }
  });

  it('reuses a successful D1 check for a second, then checks again; an unreachable D1 is 503', async () => {
    let queries = 0;
    let failing = false;
    const restore = interceptD1({
      prepare: (query, prepare) => {
        queries += 1;
        if (failing) throw new Error('D1 is down');
        return prepare(query);
      },
    });
    try {
      expect((await call('GET', '/health')).status).toBe(200);
      const before = queries;
      expect((await call('GET', '/health')).status).toBe(200);
      expect(queries).toBe(before);
      failing = true;
      await new Promise((resolve) => setTimeout(resolve, 1050));
      expectProblem(await call('GET', '/health'), 503, 'unavailable');
      // A failure is never reused: the next probe checks again.
      failing = false;
      expect((await call('GET', '/health')).status).toBe(200);
    } finally {
      restore();
    }
  });
});
