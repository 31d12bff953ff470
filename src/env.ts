import type { OpenAPIHono, RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { Database } from './db/client.ts';
import type { D1 } from './lib/d1-session.ts';
import type { IdempotencyClaim } from './lib/idempotency.ts';
import type { AccessClaims } from './lib/tokens.ts';

/**
 * Bindings: `Env` comes from `wrangler types` (worker-configuration.d.ts, which reads the secret
 * names from .dev.vars.example); optional settings that example leaves unset are declared here.
 */
export interface Bindings extends Env {
  GEMINI_API_KEY?: string;
  GEMINI_BASE_URL?: string;
  /** Reconciler thresholds (src/queues/reconcile.ts); the chaos script shortens them. */
  RECONCILE_RESEND_AFTER_SECONDS?: string;
  RECONCILE_FAIL_AFTER_SECONDS?: string;
}

export interface AppVariables {
  requestId: string;
  db: Database;
  /** This request's D1 session (src/lib/d1-session.ts): raw statements and batches go through it. */
  d1: D1;
  /** Set by the auth middleware on routes that require a user. */
  user: AccessClaims;
  /** Set by the idempotency middleware when the request carries an `Idempotency-Key` it now holds. */
  idempotency?: IdempotencyClaim;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: AppVariables;
}

export type App = OpenAPIHono<AppEnv>;
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
