import type { AppRouteHandler } from '../../env.ts';
import { ApiError } from '../../lib/errors.ts';
import { errorMessage, logLine } from '../../lib/log.ts';
import type { health } from './health.routes.ts';

/**
 * A load balancer or uptime probe may call /health many times a second: one D1 round trip per
 * second per isolate says as much. Only a success is reused; a failure is checked again at once.
 * (Module scope on purpose: the memory of one isolate.)
 */
const REUSE_MS = 1000;
let lastSuccess = 0;

export const healthHandler: AppRouteHandler<typeof health> = async (c) => {
  if (Date.now() - lastSuccess >= REUSE_MS) {
    try {
      await c.var.d1.prepare('SELECT 1').first();
      lastSuccess = Date.now();
    } catch (error) {
      logLine(c.env, 'error', 'health check: D1 unreachable', {
        request_id: c.var.requestId,
        message: errorMessage(error),
      });
      throw new ApiError('unavailable', 'The database is not reachable.');
    }
  }
  return c.json({ status: 'ok' as const }, 200);
};
