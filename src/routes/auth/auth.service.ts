import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { refreshTokens, type UserRow, users } from '../../db/schema.ts';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  assertJwtSecret,
  hashRefreshToken,
  newRefreshToken,
  REFRESH_TOKEN_TTL_SECONDS,
  signAccessToken,
} from '../../lib/tokens.ts';

export interface TokenPair {
  access: string;
  refresh: string;
  token_type: 'Bearer';
  expires_in: number;
}

const isoIn = (seconds: number, from = Date.now()) => new Date(from + seconds * 1000).toISOString();

async function pair(user: Pick<UserRow, 'id' | 'role' | 'username'>, refresh: string, secret: string | undefined): Promise<TokenPair> {
  const access = await signAccessToken({ userId: user.id, role: user.role, username: user.username }, secret);
  return { access, refresh, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_SECONDS };
}

/** Starts a new token family: one per successful login. */
export async function issueTokens(db: Database, user: Pick<UserRow, 'id' | 'role' | 'username'>, secret: string | undefined): Promise<TokenPair> {
  // Sign first: a missing secret must fail before anything is written.
  const result = await pair(user, newRefreshToken(), secret);
  await db.insert(refreshTokens).values({
    tokenHash: await hashRefreshToken(result.refresh),
    familyId: crypto.randomUUID(),
    userId: user.id,
    expiresAt: isoIn(REFRESH_TOKEN_TTL_SECONDS),
  });
  return result;
}

export type RotateOutcome = { ok: true; tokens: TokenPair } | { ok: false; reuse: boolean };

/**
 * Spends a refresh token and issues its successor in one atomic batch: the UPDATE claims the
 * token only while it is unused, unrevoked and unexpired, and the INSERT copies its family only
 * when that claim (marked with the successor's own hash) succeeded. Two racing refreshes
 * cannot both win. A token presented after it was spent is treated as stolen (RFC 6819
 * §5.2.2.3): the whole family is revoked, so neither the thief nor the victim keeps a session.
 */
export async function rotateRefreshToken(db: Database, presented: string, secret: string | undefined): Promise<RotateOutcome> {
  assertJwtSecret(secret);
  const oldHash = await hashRefreshToken(presented);
  const successor = newRefreshToken();
  const newHash = await hashRefreshToken(successor);
  const now = new Date().toISOString();

  // Plain D1 statements: drizzle's batch() cannot carry a parameterised INSERT ... SELECT.
  const d1 = db.$client;
  const [claimed] = await d1.batch<{ user_id: number }>([
    d1
      .prepare(
        `UPDATE refresh_tokens SET used_at = ?1, replaced_by = ?2
         WHERE token_hash = ?3 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?1
         RETURNING user_id`,
      )
      .bind(now, newHash, oldHash),
    // Copies the family only when the UPDATE above claimed the token for this successor.
    d1
      .prepare(
        `INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at)
         SELECT ?1, family_id, user_id, ?2, ?3 FROM refresh_tokens WHERE token_hash = ?4 AND replaced_by = ?1`,
      )
      .bind(newHash, now, isoIn(REFRESH_TOKEN_TTL_SECONDS, Date.parse(now)), oldHash),
  ]);

  const userId = claimed?.results[0]?.user_id;
  if (userId === undefined) {
    const [known] = await db
      .select({ familyId: refreshTokens.familyId, usedAt: refreshTokens.usedAt, revokedAt: refreshTokens.revokedAt })
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, oldHash));
    const reuse = Boolean(known?.usedAt && !known.revokedAt);
    if (known && reuse) await revokeFamily(db, known.familyId, now);
    return { ok: false, reuse };
  }

  // The role is read fresh here, so a promotion or demotion shows in the next access token.
  const [user] = await db.select({ id: users.id, role: users.role, username: users.username }).from(users).where(eq(users.id, userId));
  if (!user) return { ok: false, reuse: false };
  return { ok: true, tokens: await pair(user, successor, secret) };
}

async function revokeFamily(db: Database, familyId: string, now: string): Promise<void> {
  await db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

/** Revokes the family the presented token belongs to; unknown tokens change nothing. */
export async function revokeRefreshToken(db: Database, presented: string): Promise<void> {
  const hash = await hashRefreshToken(presented);
  const now = new Date().toISOString();
  await db.run(sql`
    UPDATE refresh_tokens SET revoked_at = ${now}
    WHERE revoked_at IS NULL
      AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ${hash})`);
}
