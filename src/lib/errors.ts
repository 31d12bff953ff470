import { z } from '@hono/zod-openapi';
import { rateLimitResponseHeaders } from './openapi.ts';

/**
 * The closed set of problem codes this API answers with. Each maps to one HTTP status,
 * a short title and a stable problem `type` URI (RFC 9457 §3.1.1): clients branch on `type`,
 * humans read `title` and `detail`.
 */
export const PROBLEMS = {
  bad_request: { status: 400, title: 'Bad request' },
  validation_failed: { status: 400, title: 'Validation failed' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'Unprocessable content' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;
export type ProblemStatus = (typeof PROBLEMS)[ProblemCode]['status'];

export interface FieldError {
  /** Where the bad value is, as `body.price`, `query.page` or `path.id`. */
  path: string;
  message: string;
}

export function problemType(code: ProblemCode): string {
  return `urn:edgeshop:problem:${code.replaceAll('_', '-')}`;
}

/** The one error type handlers throw; `onError` turns it into a problem+json response. */
export class ApiError extends Error {
  readonly code: ProblemCode;
  readonly status: ProblemStatus;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  /** Extra members for the problem body (RFC 9457 §3.2 extension members). */
  readonly extensions: Record<string, unknown>;

  constructor(
    code: ProblemCode,
    detail?: string,
    options: { errors?: FieldError[]; headers?: Record<string, string>; extensions?: Record<string, unknown> } = {},
  ) {
    super(detail ?? PROBLEMS[code].title);
    this.name = 'ApiError';
    this.code = code;
    this.status = PROBLEMS[code].status;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

/** A 400 naming every field at fault (`body.price`, `header.Idempotency-Key`). */
export function validationError(errors: FieldError[]): ApiError {
  const n = errors.length;
  return new ApiError('validation_failed', `The request has ${n} invalid field${n === 1 ? '' : 's'}.`, { errors });
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  request_id: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** Builds the RFC 9457 body: the only place a problem document is assembled. */
export function problemBody(
  code: ProblemCode,
  detail: string,
  requestId: string,
  errors?: FieldError[],
  extensions: Record<string, unknown> = {},
): ProblemBody {
  const { status, title } = PROBLEMS[code];
  return {
    ...extensions,
    type: problemType(code),
    title,
    status,
    detail,
    request_id: requestId,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

// ---- OpenAPI: shared error responses, spread into every route's `responses` ----

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:edgeshop:problem:validation-failed' }),
    title: z.string().openapi({ example: 'Validation failed' }),
    status: z.number().int().openapi({ example: 400 }),
    detail: z.string().openapi({ example: 'The request has 1 invalid field.' }),
    request_id: z.string().openapi({ example: '3f1c0f6e-5a0b-4a43-9c57-0a6c3b1f7d11' }),
    errors: z
      .array(z.object({ path: z.string().openapi({ example: 'body.price' }), message: z.string() }))
      .optional()
      .openapi({ description: 'Every offending field, for validation errors.' }),
  })
  .passthrough()
  .openapi('Problem', { description: 'RFC 9457 problem details.' });

export const ValidationProblemSchema = ProblemSchema.extend({
  errors: z
    .array(z.object({ path: z.string().openapi({ example: 'body.price' }), message: z.string().openapi({ example: 'Must be a non-negative amount.' }) }))
    .min(1)
    .openapi({ description: 'Every offending field: `body.<field>`, `query.<name>`, `path.<name>` or `header.<name>`.' }),
}).openapi('ValidationProblem', { description: 'RFC 9457 problem details for invalid input, naming every field at fault.' });

function problemResponseDoc(description: string) {
  return { description, content: { 'application/problem+json': { schema: ProblemSchema } } };
}

export const errorResponses = {
  400: {
    description: 'Invalid fields (`ValidationProblem`, every offending field in `errors`), or a malformed body such as broken JSON (`Problem`).',
    content: { 'application/problem+json': { schema: z.union([ValidationProblemSchema, ProblemSchema]) } },
  },
  401: {
    ...problemResponseDoc('Missing, malformed, expired or tampered bearer token.'),
    headers: { 'WWW-Authenticate': { schema: { type: 'string' as const }, description: 'Bearer challenge (RFC 6750 §3).' } },
  },
  403: problemResponseDoc('Authenticated but not allowed.'),
  404: problemResponseDoc('No such resource (or not yours).'),
  405: problemResponseDoc('The path exists but not with this method; see `Allow`.'),
  409: {
    ...problemResponseDoc('Conflicts with the current state.'),
    headers: { 'Retry-After': { schema: { type: 'integer' as const }, description: 'When the conflict is temporary (a request in progress): seconds to wait before retrying.' } },
  },
  413: problemResponseDoc('Request body over 1 MiB.'),
  415: problemResponseDoc('Request body is not `application/json`.'),
  422: problemResponseDoc('Understood but cannot be processed (an Idempotency-Key reused with a different request).'),
  429: {
    ...problemResponseDoc('Too many requests: a rate limit of this operation is reached.'),
    headers: { 'Retry-After': { schema: { type: 'integer' as const }, description: 'Seconds to wait.' }, ...rateLimitResponseHeaders },
  },
  500: problemResponseDoc('Unexpected error; quote `request_id` when reporting it.'),
  503: problemResponseDoc('A dependency (the database) is unavailable.'),
} as const;

type ErrorStatus = keyof typeof errorResponses;

/** Picks the documented error responses a route can answer with. */
export function errors<S extends ErrorStatus>(...statuses: S[]): Pick<typeof errorResponses, S | 500> {
  const picked = { 500: errorResponses[500] } as Pick<typeof errorResponses, S | 500>;
  for (const s of statuses) (picked as Record<number, unknown>)[s] = errorResponses[s];
  return picked;
}
