// What the bundle gets for `import ... from 'zod'` (wrangler.toml `[alias]`): zod itself, minus
// its 48 translations of error messages.
//
// Why: @hono/zod-openapi hands the whole `z` namespace to extendZodWithOpenApi(z), so the
// bundler must keep every export of it, and zod's namespace includes `locales`: about 250 KiB
// minified (40 KiB gzipped) of messages in languages this API never speaks (its errors are
// English; zod's English messages stay, installed by zod's schemas module). Dropping them
// brings the Worker under the 250 KiB gzipped budget and shortens its start-up.
//
// classic.js repeats zod's own export list (node_modules/zod/v4/classic/external.js) without
// the `locales` line; test/zod-alias.test.ts fails when the two differ in anything else, so a
// zod upgrade that changes that list is caught. Types still come from the real package.
import * as z from './classic.js';

export * from './classic.js';
export { z, z as default };
