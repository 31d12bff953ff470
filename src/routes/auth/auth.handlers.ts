import { eq, sql } from 'drizzle-orm';
import type { Attempt, ThrottlePolicy } from '../../durable/login-throttle.ts';
import type { AppRouteHandler, Bindings } from '../../env.ts';
import { users } from '../../db/schema.ts';
import { unauthorized } from '../../lib/auth.ts';
import { ApiError } from '../../lib/errors.ts';
import { RATE_LIMITS, rateLimitHeaders } from '../../lib/rate-limit.ts';
import { logLine } from '../../lib/log.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, needsRehash, verifyPassword } from '../../lib/password.ts';
import { toUser } from '../users/users.schemas.ts';
import type { login, logout, refresh, register } from './auth.routes.ts';
import { issueTokens, revokeRefreshToken, rotateRefreshToken } from './auth.service.ts';

/** Per account: slows guessing one password to 5 tries per 15 minutes. */
export const ACCOUNT_THROTTLE: ThrottlePolicy = { maxFailures: 5, windowSeconds: 15 * 60 };
/** Per client address: bounds spraying one password across many accounts. */
export const ADDRESS_THROTTLE: ThrottlePolicy = { maxFailures: 50, windowSeconds: 15 * 60 };

/**
 * The account key is the user's id when the name resolves, so `Ada`, `ada` and
 * `ada@example.com` share one count; unknown names are counted by the name tried.
 */
function throttles(env: Bindings, account: string, address: string) {
  return [
    { stub: env.LOGIN_THROTTLE.getByName(`account:${account}`), policy: ACCOUNT_THROTTLE },
    { stub: env.LOGIN_THROTTLE.getByName(`ip:${address}`), policy: ADDRESS_THROTTLE },
  ] as const;
}

function tooManyAttempts(retryAfter: number): ApiError {
  return new ApiError('rate_limited', `Too many failed logins. Try again in ${retryAfter} seconds.`, {
    headers: { 'Retry-After': String(retryAfter) },
  });
}

export const registerHandler: AppRouteHandler<typeof register> = async (c) => {
  const { username, email, password } = c.req.valid('json');
  const db = c.var.db;
  const taken = await db
    .select({ username: users.username, email: users.email })
    .from(users)
    .where(sql`${users.username} = ${username} COLLATE NOCASE OR ${users.email} = ${email}`);
  const conflicts = [
    ...(taken.some((u) => u.username.toLowerCase() === username.toLowerCase())
      ? [{ path: 'body.username', message: 'A user with that username already exists.' }]
      : []),
    ...(taken.some((u) => u.email === email) ? [{ path: 'body.email', message: 'A user with that email already exists.' }] : []),
  ];
  if (conflicts.length > 0) throw new ApiError('conflict', 'The username or email is already registered.', { errors: conflicts });

  const passwordHash = await hashPassword(password);
  // The unique indexes still decide a race between two identical sign-ups: ON CONFLICT makes
  // the loser insert nothing (and answer 409) instead of raising a constraint error.
  const [row] = await db.insert(users).values({ username, email, passwordHash, role: 'customer' }).onConflictDoNothing().returning();
  if (!row) throw new ApiError('conflict', 'The username or email is already registered.');
  c.header('Location', `/users/${row.id}/`);
  return c.json(toUser(row), 201);
};

export const loginHandler: AppRouteHandler<typeof login> = async (c) => {
  const { username: identifier, password } = c.req.valid('json');
  const db = c.var.db;
  const byEmail = identifier.includes('@');
  const [user] = await db
    .select()
    .from(users)
    .where(byEmail ? eq(users.email, identifier.toLowerCase()) : sql`${users.username} = ${identifier} COLLATE NOCASE`);
  const address = c.req.header('CF-Connecting-IP') ?? 'unknown';
  const guards = throttles(c.env, user ? `id:${user.id}` : `name:${identifier.toLowerCase()}`, address);

  // The attempt is counted before the password is checked, so parallel guesses cannot all
  // pass a check that none of them has yet failed; a locked key is refused unchecked, so a
  // correct guess during the lock looks exactly like a wrong one.
  const attempts: Attempt[] = await Promise.all(guards.map(({ stub, policy }) => stub.begin(policy)));
  // The account's failure budget, on every answer (IETF RateLimit headers): this attempt is
  // counted as failed until it succeeds.
  const account = attempts[0]!;
  const headers = rateLimitHeaders(RATE_LIMITS.login.name, { limit: ACCOUNT_THROTTLE.maxFailures, windowSeconds: ACCOUNT_THROTTLE.windowSeconds, ...account });
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  const wait = Math.max(...attempts.map((a) => a.retryAfter));
  if (wait > 0) {
    // A key that let this attempt through must not keep counting it.
    await Promise.all(guards.map(({ stub }, i) => (attempts[i]!.retryAfter === 0 ? stub.forgive(attempts[i]!.at) : undefined)));
    throw tooManyAttempts(wait);
  }

  // Unknown users cost one hash too, so timing does not reveal which accounts exist.
  const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!user || !valid) {
    logLine(c.env, 'info', 'login failed', { request_id: c.var.requestId, known_user: Boolean(user) });
    throw unauthorized('No active account found with the given credentials.');
  }

  const tokens = await issueTokens(db, user, c.env.JWT_SECRET);
  const [accountGuard, addressGuard] = guards;
  await Promise.all([accountGuard.stub.reset(), addressGuard.stub.forgive(attempts[1]!.at)]);
  // A success clears the account's count: the whole budget is back.
  c.header('RateLimit', rateLimitHeaders(RATE_LIMITS.login.name, { limit: ACCOUNT_THROTTLE.maxFailures, windowSeconds: ACCOUNT_THROTTLE.windowSeconds, remaining: ACCOUNT_THROTTLE.maxFailures, resetSeconds: ACCOUNT_THROTTLE.windowSeconds }).RateLimit);
  if (needsRehash(user.passwordHash)) {
    await db.update(users).set({ passwordHash: await hashPassword(password), updatedAt: new Date().toISOString() }).where(eq(users.id, user.id));
  }
  return c.json(tokens, 200);
};

export const refreshHandler: AppRouteHandler<typeof refresh> = async (c) => {
  const outcome = await rotateRefreshToken(c.var.db, c.req.valid('json').refresh, c.env.JWT_SECRET);
  if (!outcome.ok) {
    if (outcome.reuse) logLine(c.env, 'warn', 'refresh token reuse: family revoked', { request_id: c.var.requestId });
    throw unauthorized('The refresh token is invalid, expired, revoked or already used.', 'invalid_token');
  }
  return c.json(outcome.tokens, 200);
};

export const logoutHandler: AppRouteHandler<typeof logout> = async (c) => {
  await revokeRefreshToken(c.var.db, c.req.valid('json').refresh);
  return c.body(null, 204);
};
