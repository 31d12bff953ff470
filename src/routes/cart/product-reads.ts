import type { Bindings } from '../../env.ts';
import { awaitOtherRequest } from '../../lib/catalog-cache.ts';
import { type CatalogEntry, catalogEntries } from './cart.service.ts';

/**
 * The product read of a cart add or change (its name, price and stock, from the D1 primary),
 * batched across the isolate's requests: opportunistic batching, as a database's group commit.
 * A read that finds none in flight opens a batch that goes out one turn of the event loop later
 * (`setTimeout` 0: no timer of any length, so an idle isolate waits for nothing it could
 * measure), with the reads that arrived in that turn. The reads that arrive while a batch is out
 * join the next, which goes out as one `WHERE id IN (...)` query as soon as it lands. Under load
 * an isolate then sends D1 one query per batch instead of one per request: under 16 shoppers,
 * about 6 products a query, where sending the first read at once gave 2.7 (the README's
 * Benchmarks section has the figures). In production each of these reads is work for the
 * primary: one database, on one thread, for the whole world.
 *
 * Never older than a read of its own: a batch goes out after every request in it arrived, so it
 * sees every write committed before any of them, and it reads on the primary, at least as new as
 * any bookmark a request sent. Each request goes on from the batch's bookmark (`useSession`).
 *
 * Module state, against the house style, because the batching is across requests. Each request
 * waits with a timer of its own (`awaitOtherRequest`): a batch whose request ended before it
 * landed never settles, and its members then read alone.
 */
export interface ProductRead {
  product: CatalogEntry | undefined;
  /** The D1 bookmark after the read: the request's session goes on from it. */
  bookmark: string | null;
}

interface Found {
  entries: Map<number, CatalogEntry>;
  bookmark: string | null;
}

interface Batch {
  ids: Set<number>;
  /** The flight this batch goes out after: once it lands, the first member to wake sends the batch. */
  after: Flight;
  /**
   * The batch's query, once a member has sent it. Made by the request that sends it, not by the
   * one that opened the batch, so that it settles in the request that made it
   * (`awaitOtherRequest` says why).
   */
  found?: Promise<Found> | undefined;
}

interface Flight {
  /**
   * Settles when the query lands, whatever its outcome. Undefined for the turn a new batch
   * waits: each member waits that turn on a timer of its own, since a timer fires only while
   * the request that set it lives.
   */
  landed?: Promise<void>;
  since: number;
}

/** D1 binds at most 100 parameters a query; a full batch goes out at once. */
const MAX_BATCH_PRODUCTS = 50;
/** A flight out longer than this is taken for lost (its request ended): the next read opens a new batch. */
const LOST_FLIGHT_MS = 1000;

/** The query out last (or the turn a new batch waits), until it lands with no batch waiting behind it. */
let flight: Flight | undefined;
/** The batch reads join while `flight` is out. */
let next: Batch | undefined;

/** The product now (undefined when it is not in the catalog), and the bookmark of the read. */
export async function readProduct(env: Bindings, productId: number): Promise<ProductRead> {
  const { batch, sent } = join(env, productId);
  if (sent) return pick(await sent, productId);
  // A member of a batch waits for the flight before it (or the turn a new batch waits), then
  // sends the batch unless another member has: not the request whose flight landed, which may
  // have answered and ended.
  await (batch.after.landed ? awaitOtherRequest(batch.after.landed) : nextTurn());
  if (batch.found === undefined) return pick(await send(env, batch), productId);
  const shared = await awaitOtherRequest(batch.found);
  // The batch failed, or the request that sent it ended first: read alone (a D1 error shows here).
  return pick(shared?.value ?? (await query(env, [productId])), productId);
}

/** The batch a read joins, and its query when this read filled the batch and sent it. */
function join(env: Bindings, productId: number): { batch: Batch; sent?: Promise<Found> } {
  if (flight === undefined || Date.now() - flight.since > LOST_FLIGHT_MS) {
    // None out: this read opens a batch that goes out after a turn of the event loop, so the
    // requests arriving together share its query instead of each sending one. A batch left
    // behind a lost flight is its members' to send: new reads no longer join it.
    flight = { since: Date.now() };
    next = undefined;
  }
  const batch = (next ??= open(flight));
  batch.ids.add(productId);
  if (batch.ids.size >= MAX_BATCH_PRODUCTS) return { batch, sent: send(env, batch) };
  return { batch };
}

function open(after: Flight): Batch {
  return { ids: new Set(), after };
}

function send(env: Bindings, batch: Batch): Promise<Found> {
  if (next === batch) next = undefined;
  const out = query(env, [...batch.ids]);
  batch.found = out;
  const landed = out.then(noop, noop);
  const sent: Flight = { landed, since: Date.now() };
  flight = sent;
  // Landed with no batch behind it: the next read opens a batch of its own. With one behind it,
  // the flight stays, so reads arriving meanwhile join that batch until a member sends it.
  void landed.then(() => {
    if (flight === sent && next === undefined) flight = undefined;
  });
  return out;
}

async function query(env: Bindings, productIds: number[]): Promise<Found> {
  const session = env.DB.withSession('first-primary');
  const entries = await catalogEntries(session, productIds);
  return { entries, bookmark: session.getBookmark() };
}

function pick(found: Found, productId: number): ProductRead {
  return { product: found.entries.get(productId), bookmark: found.bookmark };
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function noop(): void {}
