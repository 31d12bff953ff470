import type { D1 } from './d1-session.ts';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env.ts';
import { ApiError, validationError } from './errors.ts';

/**
 * Idempotency keys for the writes that create money-bearing objects (`POST /orders/`,
 * `POST /payments/`), after the IETF httpapi draft "The Idempotency-Key HTTP Header Field"
 * and Stripe's behaviour:
 *
 * - the first request with a key claims it (one atomic upsert: of two concurrent requests
 *   exactly one wins) and runs;
 * - its success is recorded *in the same D1 batch* that creates the object
 *   (`completion()`), so a crash cannot leave an order without its key or a key without its order;
 * - a retry with the same key and the same request replays the recorded response with
 *   `Idempotent-Replayed: true`; with a different request it is 422 (draft §2.7);
 * - a retry while the first request still runs is 409 with `Retry-After` (draft §2.6);
 * - a request that ends in an error records nothing and frees the key, so the client can fix
 *   the cause (an empty cart, say) and retry with the same key;
 * - a key whose request died mid-way is taken over after `IN_FLIGHT_TIMEOUT_SECONDS`;
 * - keys are kept for 24 hours (the reconciler purges older ones).
 *
 * Keys are scoped per user: two users can never see each other's responses.
 */
export const IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 60 * 60;
export const IN_FLIGHT_TIMEOUT_SECONDS = 60;
/** Printable ASCII, as the draft's examples; long enough for a UUID or a ULID with a prefix. */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface IdempotencyClaim {
  userId: number;
  key: string;
  requestHash: string;
  /** Our claim's timestamp: the key is ours while the row still carries it. */
  lockedAt: string;
}

interface StoredKey {
  request_hash: string;
  response_status: number | null;
  response_body: string | null;
  locked_at: string;
}

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{ "b": 2, "a": 1 }` are one request. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

async function requestHash(method: string, path: string, body: string): Promise<string> {
  let normalized = body;
  try {
    normalized = JSON.stringify(canonical(JSON.parse(body)));
  } catch {
    // Not JSON: hash the text as sent (the route's validator will refuse it anyway).
  }
  const text = `${method} ${path.replace(/\/+$/, '')}\n${normalized}`;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

const secondsBefore = (now: Date, seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();

/**
 * Route middleware, after `requireUser`. Without an `Idempotency-Key` header it does nothing.
 * With one it claims the key, or answers from it (replay, 409, 422) without running the handler.
 */
export const idempotency = createMiddleware<AppEnv>(async (c, next) => {
  const key = c.req.header('Idempotency-Key');
  if (key === undefined) return next();
  if (!KEY_PATTERN.test(key)) {
    throw validationError([{ path: 'header.Idempotency-Key', message: '1 to 255 printable ASCII characters, no spaces.' }]);
  }
  const userId = c.var.user.userId;
  const hash = await requestHash(c.req.method, c.req.path, await c.req.text());
  const now = new Date();
  const lockedAt = now.toISOString();
  const d1 = c.var.d1;

  // Claim: insert the key, or take over one that expired or whose request died (same request
  // only). RETURNING yields a row only when this request now holds the key.
  const claimed = await d1
    .prepare(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, locked_at, created_at) VALUES (?1, ?2, ?3, ?4, ?4)
       ON CONFLICT (user_id, key) DO UPDATE
         SET request_hash = excluded.request_hash, locked_at = excluded.locked_at, created_at = excluded.created_at,
             response_status = NULL, response_body = NULL
         WHERE idempotency_keys.created_at < ?5
            OR (idempotency_keys.response_status IS NULL AND idempotency_keys.request_hash = excluded.request_hash
                AND idempotency_keys.locked_at < ?6)
       RETURNING locked_at`,
    )
    .bind(userId, key, hash, lockedAt, secondsBefore(now, IDEMPOTENCY_KEY_TTL_SECONDS), secondsBefore(now, IN_FLIGHT_TIMEOUT_SECONDS))
    .first<{ locked_at: string }>();

  if (!claimed) {
    const stored = await d1
      .prepare('SELECT request_hash, response_status, response_body, locked_at FROM idempotency_keys WHERE user_id = ? AND key = ?')
      .bind(userId, key)
      .first<StoredKey>();
    if (!stored) throw new ApiError('conflict', 'The Idempotency-Key changed hands; retry the request.', { headers: { 'Retry-After': '1' } });
    if (stored.request_hash !== hash) {
      throw new ApiError('unprocessable', 'This Idempotency-Key was used with a different request.', {
        errors: [{ path: 'header.Idempotency-Key', message: 'Already used with another method, path or body; use a new key.' }],
      });
    }
    if (stored.response_status === null || stored.response_body === null) {
      const retryAfter = Math.max(1, Math.ceil((Date.parse(stored.locked_at) + IN_FLIGHT_TIMEOUT_SECONDS * 1000 - now.getTime()) / 1000));
      throw new ApiError('conflict', 'A request with this Idempotency-Key is still being processed.', {
        headers: { 'Retry-After': String(Math.min(retryAfter, 5)) },
      });
    }
    return new Response(stored.response_body, {
      status: stored.response_status,
      headers: { 'Content-Type': 'application/json', 'Idempotent-Replayed': 'true' },
    });
  }

  const claim: IdempotencyClaim = { userId, key, requestHash: hash, lockedAt };
  c.set('idempotency', claim);
  await next();
  // Errors are answered by onError before control returns here; a request that did not
  // record a response frees its key. (A recorded key has a status and is left alone.)
  if (c.res.status >= 400) {
    await d1
      .prepare('DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND locked_at = ? AND response_status IS NULL')
      .bind(userId, key, lockedAt)
      .run();
  }
});

/**
 * The statements that record the response, for the batch that creates the object. The body's
 * `id` is filled in by SQL from the row the batch inserts (found by its `ref`), since the id
 * does not exist before the batch runs. The statement only records when that row exists; and
 * if the key is no longer held by this request, it writes -1, which the table's CHECK refuses,
 * failing the whole batch. So does a key whose row is gone (another request took it over after
 * this one stalled, then freed it): the second statement inserts a status of -1 then, where the
 * update alone would have matched nothing and let the object be created with no record.
 */
export function completion(
  d1: D1,
  claim: IdempotencyClaim | undefined,
  status: number,
  body: object,
  created: { table: 'orders' | 'payments'; ref: string },
): D1PreparedStatement[] {
  if (!claim) return [];
  return [
    d1
      .prepare(
        `UPDATE idempotency_keys
         SET response_status = CASE WHEN locked_at = ?1 AND response_status IS NULL THEN ?2 ELSE -1 END,
             response_body = json_set(?3, '$.id', (SELECT id FROM ${created.table} WHERE ref = ?4))
         WHERE user_id = ?5 AND key = ?6 AND EXISTS (SELECT 1 FROM ${created.table} WHERE ref = ?4)`,
      )
      .bind(claim.lockedAt, status, JSON.stringify(body), created.ref, claim.userId, claim.key),
    // The key's row is gone: insert one with a status of -1, which the CHECK refuses. (An upsert
    // cannot do both: SQLite checks the inserted values before it looks for the conflict.)
    d1
      .prepare(
        `INSERT INTO idempotency_keys (user_id, key, request_hash, locked_at, response_status)
         SELECT ?1, ?2, ?3, ?4, -1
         WHERE NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE user_id = ?1 AND key = ?2)
           AND EXISTS (SELECT 1 FROM ${created.table} WHERE ref = ?5)`,
      )
      .bind(claim.userId, claim.key, claim.requestHash, claim.lockedAt, created.ref),
  ];
}
