import { exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { problemType, type ProblemCode } from '../../src/lib/errors.ts';
import { expectDocumented } from './contract.ts';

export const ORIGIN = 'https://edgeshop.test';

export interface CallOptions {
  body?: unknown;
  /** A raw body sent as is (for malformed JSON and content-type tests). */
  rawBody?: BodyInit;
  token?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Calls the worker's own fetch handler inside workerd: the full middleware stack, real bindings. */
export async function call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers = new Headers(options.headers);
  if (options.token) headers.set('Authorization', `Bearer ${options.token}`);
  let body: BodyInit | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  }
  const response = await exports.default.fetch(new Request(`${ORIGIN}${path}`, { method, headers, body }));
  const text = await response.text();
  let parsed: unknown = text;
  if (text && /json/.test(response.headers.get('Content-Type') ?? '')) parsed = JSON.parse(text);
  // Match the route on the path the worker saw: the URL parser resolves `.` and `..` segments.
  expectDocumented(method, new URL(`${ORIGIN}${path}`).pathname, response.status, response.headers.get('Content-Type'), parsed);
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/**
 * The one place a problem+json answer is checked: status, media type, RFC 9457 members,
 * the request id echoed in the header, and (optionally) exactly which fields were at fault.
 */
export function expectProblem(
  response: ApiResponse,
  status: number,
  code: ProblemCode,
  fields?: string[],
): { type: string; title: string; status: number; detail: string; request_id: string; errors?: { path: string; message: string }[] } {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('Content-Type')).toMatch(/^application\/problem\+json/);
  const body = response.body as ReturnType<typeof expectProblem>;
  expect(body).toMatchObject({ type: problemType(code), status, title: expect.any(String), detail: expect.any(String) });
  expect(body.request_id).toBeTruthy();
  expect(response.headers.get('X-Request-Id')).toBe(body.request_id);
  if (fields) {
    expect([...new Set(body.errors?.map((e) => e.path))].sort()).toEqual([...fields].sort());
    for (const e of body.errors ?? []) expect(e.message).toBeTruthy();
  }
  return body;
}
