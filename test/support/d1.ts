import { env } from 'cloudflare:workers';

interface D1Hooks {
  /** Sees each statement the worker prepares; returns what the worker gets. */
  prepare?: (query: string, prepare: (query: string) => D1PreparedStatement) => D1PreparedStatement;
  /** Sees each batch the worker runs; returns its results. */
  batch?: (statements: D1PreparedStatement[], batch: (statements: D1PreparedStatement[]) => Promise<D1Result[]>) => Promise<D1Result[]>;
  /** Sees where each session the worker opens starts (a bookmark, or `first-...`). */
  session?: (constraint: D1SessionConstraint | D1SessionBookmark | undefined) => void;
  /** Sees the bookmark a session reports; returns what the worker gets (a lagging replica's, say). */
  bookmark?: (reached: string | null) => string | null;
}

/**
 * Watches or disturbs the worker's queries: every D1 session the worker opens (one per
 * request, src/lib/d1-session.ts) goes through `hooks` until the returned function restores it.
 * Queries the hooks pass on still run on the real session, bookmark and all.
 */
export function interceptD1(hooks: D1Hooks): () => void {
  const withSession = env.DB.withSession.bind(env.DB);
  env.DB.withSession = ((constraint?: D1SessionConstraint | D1SessionBookmark) => {
    hooks.session?.(constraint);
    const session = withSession(constraint);
    const prepare = (query: string) => session.prepare(query);
    const batch = <T = unknown>(statements: D1PreparedStatement[]) => session.batch<T>(statements);
    return {
      prepare: (query: string) => (hooks.prepare ? hooks.prepare(query, prepare) : prepare(query)),
      batch: (statements: D1PreparedStatement[]) => (hooks.batch ? hooks.batch(statements, batch) : batch(statements)),
      getBookmark: () => (hooks.bookmark ? hooks.bookmark(session.getBookmark()) : session.getBookmark()),
    } as D1DatabaseSession;
  }) as typeof env.DB.withSession;
  return () => {
    env.DB.withSession = withSession;
  };
}
