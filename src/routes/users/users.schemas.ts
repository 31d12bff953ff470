import { z } from '@hono/zod-openapi';
import { ROLES, type UserRow } from '../../db/schema.ts';
import { pageSchema } from '../../lib/pagination.ts';

/** Letters, digits and `_ . + -`; no `@`, so a login name is never mistaken for an email. */
export const USERNAME_PATTERN = /^[A-Za-z0-9_.+-]{3,150}$/;

export const UsernameSchema = z
  .string()
  .trim()
  .regex(USERNAME_PATTERN, '3 to 150 characters: letters, digits and _ . + -')
  .openapi({ example: 'ada' });

export const EmailSchema = z
  .email('Enter a valid email address.')
  .max(254)
  .transform((e) => e.toLowerCase())
  .openapi({ example: 'ada@example.com' });

export const RoleSchema = z.enum(ROLES).openapi({ example: 'customer' });

export const UserSchema = z
  .object({
    id: z.number().int().positive().openapi({ example: 1 }),
    username: z.string().openapi({ example: 'ada' }),
    email: z.string().openapi({ example: 'ada@example.com' }),
    role: RoleSchema,
    created_at: z.string().openapi({ example: '2026-11-23T10:00:00.000Z' }),
  })
  .openapi('User');

export type User = z.infer<typeof UserSchema>;

export const UserPageSchema = pageSchema(UserSchema, 'UserPage');

export const UpdateUserBodySchema = z.object({ role: RoleSchema }).openapi('UserUpdate');

/** The only way a user row leaves the server: never the password hash. */
export function toUser(row: Pick<UserRow, 'id' | 'username' | 'email' | 'role' | 'createdAt'>): User {
  return { id: row.id, username: row.username, email: row.email, role: row.role, created_at: row.createdAt };
}
