/**
 * One JSON object per line: Workers Logs and `wrangler tail` index the fields.
 * Callers pass only what is safe to keep: never tokens, passwords or request bodies.
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = Exclude<keyof typeof LEVELS, 'silent'>;

function threshold(env: { LOG_LEVEL?: string } | undefined): number {
  const configured = env?.LOG_LEVEL as keyof typeof LEVELS | undefined;
  return (configured && LEVELS[configured]) ?? LEVELS.info;
}

/** Whether a line at `level` would be written: lets a caller skip building fields nobody reads. */
export function logs(env: { LOG_LEVEL?: string } | undefined, level: LogLevel): boolean {
  return LEVELS[level] >= threshold(env);
}

export function logLine(
  env: { LOG_LEVEL?: string } | undefined,
  level: LogLevel,
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  if (!logs(env, level)) return;
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

/** What a log line says of a thrown value: its message, or the value itself. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
