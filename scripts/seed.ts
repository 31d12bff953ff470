// Seeds the local D1 database: the admin account from ADMIN_* settings (.dev.vars, with the
// contract's defaults), and later the demo catalog. Safe to run again: nothing is duplicated.
import { hashPassword } from '../src/lib/password.ts';
import { applyLocalMigrations, d1Execute, ensureDevVars, q, readDevVars } from './lib.ts';

export async function seedAdmin(vars: Record<string, string>): Promise<void> {
  const username = vars['ADMIN_USERNAME'] || 'admin';
  const email = (vars['ADMIN_EMAIL'] || 'admin@example.com').toLowerCase();
  const password = vars['ADMIN_PASSWORD'] || 'admin-password-change-me';
  const existing = d1Execute(`SELECT id FROM users WHERE username = ${q(username)} COLLATE NOCASE OR email = ${q(email)}`);
  if (existing.length > 0) {
    console.log(`admin: ${username} already exists`);
    return;
  }
  const hash = await hashPassword(password);
  d1Execute(
    `INSERT INTO users (username, email, password_hash, role) VALUES (${q(username)}, ${q(email)}, ${q(hash)}, 'admin')`,
  );
  console.log(`admin: created ${username} <${email}>`);
}

export async function seed(): Promise<void> {
  ensureDevVars();
  applyLocalMigrations();
  await seedAdmin(readDevVars());
}

if (import.meta.main) await seed();
