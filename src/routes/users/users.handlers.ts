import { asc, count, eq, sql } from 'drizzle-orm';
import { users } from '../../db/schema.ts';
import type { AppRouteHandler } from '../../env.ts';
import { ApiError } from '../../lib/errors.ts';
import { pageWindow, toPage } from '../../lib/pagination.ts';
import type { getUser, listUsers, me, updateUser } from './users.routes.ts';
import { toUser } from './users.schemas.ts';

const notFound = () => new ApiError('not_found', 'No such user.');

export const meHandler: AppRouteHandler<typeof me> = async (c) => {
  const [row] = await c.var.db.select().from(users).where(eq(users.id, c.var.user.userId));
  if (!row) throw notFound();
  return c.json(toUser(row), 200);
};

export const getUserHandler: AppRouteHandler<typeof getUser> = async (c) => {
  const { id } = c.req.valid('param');
  const viewer = c.var.user;
  if (viewer.role !== 'admin' && viewer.userId !== id) throw notFound();
  const [row] = await c.var.db.select().from(users).where(eq(users.id, id));
  if (!row) throw notFound();
  return c.json(toUser(row), 200);
};

export const listUsersHandler: AppRouteHandler<typeof listUsers> = async (c) => {
  const query = c.req.valid('query');
  const { limit, offset } = pageWindow(query);
  const db = c.var.db;
  const [[total], rows] = await db.batch([
    db.select({ n: count() }).from(users),
    db.select().from(users).orderBy(asc(users.id)).limit(limit).offset(offset),
  ]);
  return c.json(toPage(c, query, total?.n ?? 0, rows.map(toUser)), 200);
};

export const updateUserHandler: AppRouteHandler<typeof updateUser> = async (c) => {
  const { id } = c.req.valid('param');
  const { role } = c.req.valid('json');
  const db = c.var.db;
  // One conditional statement: demoting an admin only succeeds while another admin remains,
  // so two admins demoting each other at once cannot leave the shop without one.
  const [row] = await db
    .update(users)
    .set({ role, updatedAt: new Date().toISOString() })
    .where(
      sql`${users.id} = ${id} AND (${role} = 'admin' OR ${users.role} <> 'admin'
          OR (SELECT count(*) FROM users WHERE role = 'admin') > 1)`,
    )
    .returning();
  if (row) return c.json(toUser(row), 200);
  const [existing] = await db.select({ id: users.id }).from(users).where(eq(users.id, id));
  if (!existing) throw notFound();
  throw new ApiError('conflict', 'The last admin cannot be demoted.', { errors: [{ path: 'body.role', message: 'At least one admin must remain.' }] });
};
