/**
 * Password hashing: PBKDF2-HMAC-SHA256 with a 16-byte per-user salt, stored in Django's
 * versioned format `pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>` so the cost can be
 * raised later (stored hashes carry their own count; `needsRehash` tells when to upgrade).
 *
 * 100,000 iterations is the most Cloudflare Workers' WebCrypto accepts: higher counts work
 * under local workerd and then fail in production, so the test suite pins this value.
 */
export const PBKDF2_ITERATIONS = 100_000;
const ALGORITHM = 'pbkdf2_sha256';
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Bounds the work an attacker can make one login request do. */
export const MAX_PASSWORD_LENGTH = 256;

const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    HASH_BYTES * 8,
  );
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, iterations);
  return `${ALGORITHM}$${iterations}$${toBase64(salt)}$${toBase64(hash)}`;
}

interface ParsedHash {
  iterations: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

function parse(stored: string): ParsedHash | null {
  const [algorithm, iterations, salt, hash, ...rest] = stored.split('$');
  if (algorithm !== ALGORITHM || rest.length > 0 || !iterations || !salt || !hash) return null;
  const count = Number(iterations);
  if (!Number.isSafeInteger(count) || count < 1 || count > PBKDF2_ITERATIONS) return null;
  return { iterations: count, salt: fromBase64(salt), hash: fromBase64(hash) };
}

/** Compares in constant time: the work does not depend on where the first differing byte is. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: BufferSource, b: BufferSource) => boolean };
  if (typeof subtle.timingSafeEqual === 'function') return subtle.timingSafeEqual(a, b);
  // Node (seed scripts) lacks the Workers extension: XOR-accumulate instead.
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const candidate = await derive(password, parsed.salt, parsed.iterations);
  return constantTimeEqual(candidate, parsed.hash);
}

export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  return !parsed || parsed.iterations < PBKDF2_ITERATIONS;
}

/**
 * A valid hash of a password nobody knows: logins for unknown users verify against it so
 * they take as long as a wrong password for a real user (no user enumeration by timing).
 */
export const DUMMY_PASSWORD_HASH = `${ALGORITHM}$${PBKDF2_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;
