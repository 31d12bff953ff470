/**
 * The cart object's limits and result types, apart from the class so the routes (and the
 * OpenAPI script, which runs in Node without `cloudflare:workers`) can import them.
 */
export const MAX_LINE_QUANTITY = 99;
export const MAX_CART_LINES = 50;
/**
 * How long a checkout holds the cart. A hold that runs out (its checkout died, or stalled past
 * it) is settled through D1 before the cart changes again (`settleHold`).
 */
export const CHECKOUT_LOCK_MS = 30_000;

export interface CartLine {
  id: number;
  productId: number;
  name: string;
  quantity: number;
  /**
   * The unit price in cents that D1 gave at the line's last add or change, or at the last read of
   * the cart that showed a newer one: what the shopper was shown, and what checkout expects to
   * charge (its batch checks it against the catalog and falls back to a read when it no longer
   * holds). Null for a line kept before the cart stored it.
   */
  priceCents: number | null;
}

export type CartError =
  | { ok: false; error: 'line_not_found' }
  | { ok: false; error: 'quantity_limit'; quantity: number }
  | { ok: false; error: 'insufficient_stock'; quantity: number; available: number }
  | { ok: false; error: 'too_many_lines' }
  | { ok: false; error: 'checkout_in_progress'; retryAfterSeconds: number }
  /** A checkout's hold ran out with its outcome unknown: settle it (`settleHold`), then ask again. */
  | { ok: false; error: 'checkout_unsettled'; token: string };

export type CartResult<T> = { ok: true; value: T } | CartError;
