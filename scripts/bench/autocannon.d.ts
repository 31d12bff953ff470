// autocannon ships no types. This declares only what scripts/bench uses (autocannon 9's
// programmatic API), rather than adding @types/autocannon, which trails at 7.x.
declare module 'autocannon' {
  export interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Called before every request when present: lets each request take a new path. */
    setupRequest?: (request: Request, context: Record<string, unknown>) => Request | undefined;
  }

  interface Options {
    url: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Stop after this many requests (instead of after `duration`). */
    amount?: number;
    /** Seconds a request may take before it counts as a timeout (and an error). */
    timeout?: number;
    requests?: Request[];
    /** A first run whose figures are kept apart, in `Result.warmup`. */
    warmup?: { connections?: number; duration?: number };
  }

  /** Latency in milliseconds (whole ms), or requests per one-second sample. */
  interface Histogram {
    mean: number;
    stddev: number;
    min: number;
    max: number;
    p50: number;
    p90: number;
    p99: number;
    p99_9: number;
  }

  interface Result {
    duration: number;
    latency: Histogram;
    requests: Histogram & { total: number; sent: number };
    errors: number;
    timeouts: number;
    non2xx: number;
    statusCodeStats: Record<string, { count: number }>;
    warmup?: Result;
  }

  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
