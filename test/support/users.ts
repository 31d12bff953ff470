import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import type { Role } from '../../src/db/schema.ts';
import { call } from './api.ts';

export interface TestUser {
  id: number;
  username: string;
  email: string;
  password: string;
  role: Role;
  access: string;
  refresh: string;
}

let counter = 0;

/** A unique name per call: tests share one database and the login throttle keys on names. */
export function uniqueName(prefix = 'user'): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}_${counter}_${Math.random().toString(36).slice(2, 6)}`;
}

/** A client address of its own, so the per-address login throttle never couples two tests. */
export function uniqueAddress(): string {
  return `198.51.100.${Math.floor(Math.random() * 250) + 1}:${uniqueName('a')}`;
}

export async function login(username: string, password: string, address = uniqueAddress()) {
  return call('POST', '/auth/login/', { body: { username, password }, headers: { 'CF-Connecting-IP': address } });
}

/**
 * Registers through the API and logs in. Admins are registered as customers, then promoted
 * directly in D1: there is no public way to become an admin, which is the point.
 */
export async function createUser(role: Role = 'customer', overrides: { username?: string; password?: string } = {}): Promise<TestUser> {
  const username = overrides.username ?? uniqueName(role);
  const password = overrides.password ?? 'correct horse battery staple';
  const email = `${username}@example.com`.toLowerCase();
  // An address of its own: registrations are rate-limited per client address.
  const registered = await call<{ id: number }>('POST', '/auth/register/', { body: { username, email, password }, headers: { 'CF-Connecting-IP': uniqueAddress() } });
  expect(registered.status, registered.text).toBe(201);
  const id = registered.body.id;
  if (role === 'admin') await env.DB.prepare("UPDATE users SET role = 'admin' WHERE id = ?").bind(id).run();
  const tokens = await login(username, password);
  expect(tokens.status, tokens.text).toBe(200);
  const { access, refresh } = tokens.body as { access: string; refresh: string };
  return { id, username, email, password, role, access, refresh };
}

/** The four callers of the auth matrix. */
export async function authMatrix() {
  const [customer, other, admin] = await Promise.all([createUser('customer'), createUser('customer'), createUser('admin')]);
  return { customer, other, admin };
}
