import type { AppRouteHandler } from '../../env.ts';
import { ApiError } from '../../lib/errors.ts';
import { logLine } from '../../lib/log.ts';
import type { health } from './health.routes.ts';

export const healthHandler: AppRouteHandler<typeof health> = async (c) => {
  try {
    await c.env.DB.prepare('SELECT 1').first();
  } catch (error) {
    logLine(c.env, 'error', 'health check: D1 unreachable', {
      request_id: c.var.requestId,
      message: error instanceof Error ? error.message : String(error),
    });
    throw new ApiError('unavailable', 'The database is not reachable.');
  }
  return c.json({ status: 'ok' as const }, 200);
};
