import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import type { Order } from '../../src/routes/orders/orders.schemas.ts';
import type { Payment } from '../../src/routes/payments/payments.schemas.ts';
import { call } from './api.ts';
import type { TestUser } from './users.ts';

export async function addToCart(user: TestUser, productId: number, quantity: number) {
  const res = await call('POST', '/cart/', { token: user.access, body: { product_id: productId, quantity } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: number; quantity: number };
}

/** Fills the cart and checks out; returns the new order. */
export async function placeOrder(user: TestUser, lines: [productId: number, quantity: number][]): Promise<Order> {
  for (const [productId, quantity] of lines) await addToCart(user, productId, quantity);
  const res = await call<Order>('POST', '/orders/', { token: user.access });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

export async function stockOf(productId: number): Promise<number | null> {
  const row = await env.DB.prepare('SELECT stock FROM products WHERE id = ?').bind(productId).first<{ stock: number }>();
  return row?.stock ?? null;
}

export async function countRows(table: 'orders' | 'payments' | 'order_items' | 'idempotency_keys', where = '1 = 1', ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).bind(...params).first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * Polls a payment until the payments queue's consumer has decided it. The test runtime runs the
 * real queue: a message sent by the API reaches the worker's consumer after its batch timeout.
 */
export async function settledPayment(user: TestUser, id: number, timeoutMs = 10_000): Promise<Payment> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call<Payment>('GET', `/payments/${id}/`, { token: user.access });
    expect(res.status, res.text).toBe(200);
    if (res.body.status !== 'pending' || Date.now() > deadline) return res.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
