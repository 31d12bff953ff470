import { createApp } from './app.ts';
import type { Bindings } from './env.ts';
import { handleQueue } from './queues/index.ts';
import { reconcile } from './queues/reconcile.ts';

export { CartDurableObject } from './durable/cart.ts';
export { LoginThrottle } from './durable/login-throttle.ts';

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleQueue(batch, env),
  scheduled: async (controller, env) => {
    await reconcile(env, new Date(controller.scheduledTime));
  },
} satisfies ExportedHandler<Bindings>;
