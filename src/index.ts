import { createApp } from './app.ts';
import type { Bindings } from './env.ts';
import { handleQueue } from './queues/index.ts';
import { reconcile } from './queues/reconcile.ts';

export { CartDurableObject } from './durable/cart.ts';
export { LoginThrottle } from './durable/login-throttle.ts';
export { RateLimiter } from './durable/rate-limiter.ts';

const app = createApp();

// Annotated rather than inferred from `ExportedHandler`: `Env` names this module's classes, and
// contextual typing through it is circular. Full signatures, so tests can pass their own context.
async function queue(batch: MessageBatch<unknown>, env: Bindings, _ctx: ExecutionContext): Promise<void> {
  await handleQueue(batch, env);
}

async function scheduled(controller: ScheduledController, env: Bindings, _ctx: ExecutionContext): Promise<void> {
  await reconcile(env, new Date(controller.scheduledTime));
}

export default {
  fetch: app.fetch,
  queue,
  scheduled,
} satisfies ExportedHandler<Bindings>;
