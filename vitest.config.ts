import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Tests run inside workerd with the real D1, Durable Objects and Queues from wrangler.toml.
// Only the settings a developer keeps in .dev.vars are given here, with test-only values.
export default defineConfig(async () => {
  const migrations = await readD1Migrations('./migrations');
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            JWT_SECRET: 'test-only-jwt-secret-0123456789abcdef0123456789',
            LOG_LEVEL: 'error',
            // Tests register and check out many users from one address; test/rate-limits.test.ts
            // sets this back to 1 and checks the real limits.
            RATE_LIMIT_MULTIPLIER: '1000',
          },
        },
      }),
    ],
    test: {
      setupFiles: ['./test/support/setup.ts'],
      include: ['test/**/*.test.ts'],
    },
  };
});
