import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import type { App, AppEnv } from './env.ts';
import { d1Session } from './lib/d1-session.ts';
import { ApiError, type FieldError, type ProblemCode, problemBody, validationError } from './lib/errors.ts';
import { logLine, logs } from './lib/log.ts';
import { API_SECURITY_HEADERS } from './lib/security-headers.ts';
import { registerAuthRoutes } from './routes/auth/index.ts';
import { registerCartRoutes } from './routes/cart/index.ts';
import { registerCategoryRoutes } from './routes/categories/index.ts';
import { registerDocsRoutes } from './routes/docs/index.ts';
import { registerHealthRoutes } from './routes/health/index.ts';
import { registerOrderRoutes } from './routes/orders/index.ts';
import { registerPaymentRoutes } from './routes/payments/index.ts';
import { registerProductRoutes } from './routes/products/index.ts';
import { registerUserRoutes } from './routes/users/index.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

/** `body.price`, `query.page`, `path.id`: where a bad value sits, in the words a client uses. */
const TARGET_NAMES: Record<string, string> = { json: 'body', form: 'body', query: 'query', param: 'path', header: 'header', cookie: 'cookie' };

export function zodFieldErrors(target: string, error: ZodError): FieldError[] {
  const prefix = TARGET_NAMES[target] ?? target;
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

function problem(c: Context<AppEnv>, error: ApiError): Response {
  const body = problemBody(error.code, error.message, c.get('requestId'), error.errors, error.extensions);
  return c.json(body, body.status as ContentfulStatusCode, {
    'Content-Type': 'application/problem+json',
    ...error.headers,
  });
}

/** Maps Hono's own exceptions (malformed JSON, media type, body limit) onto the problem codes. */
function fromHttpException(error: HTTPException): ApiError {
  // Hono's JSON validator answers a missing or foreign Content-Type with a 400 naming the header.
  if (error.status === 415 || (error.status === 400 && /content-type/i.test(error.message))) {
    return new ApiError('unsupported_media_type', 'The request body must be application/json.');
  }
  if (error.status === 400 && /json/i.test(error.message)) return new ApiError('bad_request', 'The request body is not valid JSON.');
  const codes: Partial<Record<number, ProblemCode>> = {
    400: 'bad_request',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not_found',
    413: 'payload_too_large',
  };
  const code = codes[error.status];
  return code ? new ApiError(code, error.message || undefined) : new ApiError('internal', 'The server could not complete the request.');
}

export function createApp(): App {
  const app: App = new OpenAPIHono<AppEnv>({
    // `/products` and `/products/` are one route: the original Django clients always send the slash.
    strict: false,
    defaultHook: (result) => {
      if (!result.success) throw validationError(zodFieldErrors(result.target, result.error));
    },
  });

  app.use(requestId());
  app.use(async (c, next) => {
    const started = Date.now();
    await next();
    // Anonymous reads that succeed (the catalog: most of the traffic) log at debug. Workers Logs
    // already records every invocation's URL, status and duration, and a line of our own for
    // each would double the log volume (billed per event) and, locally, cost a third of the
    // throughput of a cached read. Requests with a user, writes and failures log at info.
    const read = c.req.method === 'GET' || c.req.method === 'HEAD';
    const level = read && c.res.status < 400 && c.get('user') === undefined ? 'debug' : 'info';
    if (!logs(c.env, level)) return;
    logLine(c.env, level, 'request', {
      request_id: c.get('requestId'),
      method: c.req.method,
      // The path as sent (c.req.path has the trailing slash removed for routing); no query string.
      path: new URL(c.req.url).pathname,
      status: c.res.status,
      duration_ms: Date.now() - started,
      user_id: c.get('user')?.userId,
    });
  });
  app.use(secureHeaders(API_SECURITY_HEADERS));
  app.use(async (c, next) => {
    await next();
    // Nothing that carries or answers a credential may be stored by any cache: a cart, an order
    // or a token pair is one user's (RFC 9111 §5.2.2.3 no-store, §5.2.2.7 private; RFC 6749 §5.1
    // requires no-store on token responses). Errors for such requests too: they may name the user.
    if (c.req.header('Authorization') !== undefined || c.req.path.startsWith('/auth/')) {
      c.res.headers.set('Cache-Control', 'private, no-store');
    }
  });
  app.use(
    cors({
      // Read per request from the binding (settings live in env), built once.
      origin: (origin, c: Context<AppEnv>) => {
        const allowed = (c.env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim());
        return allowed.includes('*') ? '*' : allowed.includes(origin) ? origin : null;
      },
      allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-None-Match', 'X-D1-Bookmark', 'X-Request-Id'],
      allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['X-Request-Id', 'Location', 'Retry-After', 'WWW-Authenticate', 'Idempotent-Replayed', 'ETag', 'X-D1-Bookmark', 'RateLimit', 'RateLimit-Policy'],
      maxAge: 600,
    }),
  );
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        problem(c, new ApiError('method_not_allowed', `${c.req.method} is not allowed here; use ${methods.join(', ')}.`, {
          headers: { Allow: methods.join(', ') },
        })),
    }),
  );
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError('payload_too_large', `The request body is over ${MAX_BODY_BYTES} bytes.`);
      },
    }),
  );
  app.use(d1Session());

  registerHealthRoutes(app);
  registerAuthRoutes(app);
  registerUserRoutes(app);
  registerProductRoutes(app);
  registerCategoryRoutes(app);
  registerCartRoutes(app);
  registerOrderRoutes(app);
  registerPaymentRoutes(app);
  registerDocsRoutes(app);

  app.notFound((c) => problem(c, new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}.`)));

  app.onError((error, c) => {
    if (error instanceof ApiError) return problem(c, error);
    if (error instanceof HTTPException) return problem(c, fromHttpException(error));
    logLine(c.env, 'error', 'unhandled error', {
      request_id: c.get('requestId'),
      name: error.name,
      message: error.message,
      stack: error.stack,
    });
    return problem(c, new ApiError('internal', 'The server could not complete the request.'));
  });

  return app;
}
