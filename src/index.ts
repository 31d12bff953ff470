import { createApp } from './app.ts';
import type { Bindings } from './env.ts';

export { LoginThrottle } from './durable/login-throttle.ts';

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;
