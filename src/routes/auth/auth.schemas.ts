import { z } from '@hono/zod-openapi';
import { MAX_PASSWORD_LENGTH } from '../../lib/password.ts';
import { ACCESS_TOKEN_TTL_SECONDS } from '../../lib/tokens.ts';
import { EmailSchema, UsernameSchema } from '../users/users.schemas.ts';

export const PasswordSchema = z
  .string()
  .min(8, 'At least 8 characters.')
  .max(MAX_PASSWORD_LENGTH, `At most ${MAX_PASSWORD_LENGTH} characters.`)
  .openapi({ example: 'correct horse battery staple', format: 'password' });

export const RegisterBodySchema = z
  .object({ username: UsernameSchema, email: EmailSchema, password: PasswordSchema })
  .openapi('RegisterRequest');

export const LoginBodySchema = z
  .object({
    username: z.string().trim().min(1).max(254).openapi({ description: 'Username or email address.', example: 'ada' }),
    password: z.string().min(1).max(MAX_PASSWORD_LENGTH).openapi({ format: 'password', example: 'correct horse battery staple' }),
  })
  .openapi('LoginRequest');

const RefreshTokenString = z.string().min(1).max(512).openapi({ example: 'q5Jp2i0m7y3C2rJbWm3n2o3lP1Y6wq4gS1sV8aF0b2c' });

export const RefreshBodySchema = z.object({ refresh: RefreshTokenString }).openapi('RefreshRequest');
export const LogoutBodySchema = z.object({ refresh: RefreshTokenString }).openapi('LogoutRequest');

export const TokenPairSchema = z
  .object({
    access: z.string().openapi({ description: 'JWT (HS256) for `Authorization: Bearer`.' }),
    refresh: z.string().openapi({ description: 'Opaque, single-use refresh token; rotates on every refresh.' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Access token lifetime in seconds.', example: ACCESS_TOKEN_TTL_SECONDS }),
  })
  .openapi('TokenPair');
