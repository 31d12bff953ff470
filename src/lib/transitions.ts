import type { D1 } from './d1-session.ts';
import type { OrderStatus, PaymentStatus } from '../db/schema.ts';
import { ApiError } from './errors.ts';

/**
 * The one place that says which status may follow which. Every status change in the code is a
 * guarded UPDATE built by `guardedStatus` (`... WHERE id = ? AND status = <from>`), and the
 * caller checks the changed-row count: of two racing transitions exactly one wins, and a
 * redelivered queue message finds nothing left to change.
 */
export const ORDER_TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['paid', 'cancelled'],
  paid: [],
  cancelled: [],
};

export const PAYMENT_TRANSITIONS: Record<PaymentStatus, readonly PaymentStatus[]> = {
  pending: ['succeeded', 'failed'],
  succeeded: [],
  failed: [],
};

type Machine = 'orders' | 'payments';
type StatusOf<M extends Machine> = M extends 'orders' ? OrderStatus : PaymentStatus;

function allowed<M extends Machine>(machine: M, from: StatusOf<M>, to: StatusOf<M>): boolean {
  const table = (machine === 'orders' ? ORDER_TRANSITIONS : PAYMENT_TRANSITIONS) as Record<string, readonly string[]>;
  return table[from]?.includes(to) ?? false;
}

/** 409 for a transition the machine does not have (cancelling a paid order, say). */
export function transitionConflict<M extends Machine>(machine: M, from: StatusOf<M>, to: StatusOf<M>): ApiError {
  const noun = machine === 'orders' ? 'order' : 'payment';
  return new ApiError('conflict', `A ${from} ${noun} cannot become ${to}.`, { extensions: { status_now: from } });
}

export interface GuardedUpdate {
  /** Extra assignments, as SQL with `?` placeholders (appended after status and updated_at). */
  set?: { sql: string; params: unknown[] };
  /** Extra conditions, ANDed after `id = ? AND status = ?`. */
  where?: { sql: string; params: unknown[] };
}

/**
 * `UPDATE <machine> SET status = <to>, updated_at = <now> WHERE id = ? AND status = <from>`:
 * the statement only changes a row still in `from`. Throws for a transition the table lacks,
 * so a coding mistake cannot write an impossible status.
 */
export function guardedStatus<M extends Machine>(
  d1: D1,
  machine: M,
  id: number,
  from: StatusOf<M>,
  to: StatusOf<M>,
  now: string,
  extra: GuardedUpdate = {},
): D1PreparedStatement {
  if (!allowed(machine, from, to)) throw new Error(`no ${machine} transition ${from} -> ${to}`);
  const set = extra.set ? `, ${extra.set.sql}` : '';
  const where = extra.where ? ` AND ${extra.where.sql}` : '';
  return d1
    .prepare(`UPDATE ${machine} SET status = ?, updated_at = ?${set} WHERE id = ? AND status = ?${where}`)
    .bind(to, now, ...(extra.set?.params ?? []), id, from, ...(extra.where?.params ?? []));
}
