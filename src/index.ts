import { createApp } from './app.ts';
import type { Bindings } from './env.ts';
import { answerFromIsolate, learnHeaders } from './lib/catalog-cache.ts';
import { handleQueue } from './queues/index.ts';
import { reconcile } from './queues/reconcile.ts';

export { CartDurableObject } from './durable/cart.ts';
export { LoginThrottle } from './durable/login-throttle.ts';
export { RateLimiter } from './durable/rate-limiter.ts';

// Built by the first request that needs it, not at module load: the isolate starts 10 ms sooner
// (`wrangler check startup`), and a queue or cron invocation never builds it.
let app: ReturnType<typeof createApp> | undefined;

// Annotated rather than inferred from `ExportedHandler`: `Env` names this module's classes, and
// contextual typing through it is circular. Full signatures, so tests can pass their own context.
async function queue(batch: MessageBatch<unknown>, env: Bindings, _ctx: ExecutionContext): Promise<void> {
  await handleQueue(batch, env);
}

async function scheduled(controller: ScheduledController, env: Bindings, _ctx: ExecutionContext): Promise<void> {
  await reconcile(env, new Date(controller.scheduledTime));
}

// A public catalog read this isolate already holds is answered without running the app
// (src/lib/catalog-cache.ts says how it stays identical to the app's own answer).
async function fetch(request: Request, env: Bindings, ctx: ExecutionContext): Promise<Response> {
  const held = answerFromIsolate(request, env, ctx);
  if (held) return held;
  const response = await (app ??= createApp()).fetch(request, env, ctx);
  learnHeaders(request, response);
  return response;
}

export default {
  fetch,
  queue,
  scheduled,
} satisfies ExportedHandler<Bindings>;
