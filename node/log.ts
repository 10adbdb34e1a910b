/**
 * JSON-line logger with levels and a component name. Client addresses are never passed here;
 * callers log salted hashes if anything.
 *
 * @module
 */

/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger bound to one component. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Returns a logger for a sub-component sharing this one's sink and level. */
  child(component: string): Logger;
}

/** Where log lines go; defaults to stderr. */
export type LogSink = (line: string) => void;

const encoder = new TextEncoder();
const stderrSink: LogSink = (line) => {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nothing sensible to do.
  }
};

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * const log = createLogger({ component: "api", level: "info" });
 * log.info("listening", { port: 8080 });
 * ```
 */
export function createLogger(
  opts: { component: string; level?: LogLevel; sink?: LogSink },
): Logger {
  const level = opts.level ?? "info";
  const sink = opts.sink ?? stderrSink;
  const min = RANK[level];
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    const rec: Record<string, unknown> = {
      ts: new Date().toISOString(),
      level: lvl,
      component: opts.component,
      msg,
    };
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        rec[k] = v instanceof Error ? `${v.name}: ${v.message}` : v;
      }
    }
    sink(JSON.stringify(rec, (_k, v) => typeof v === "bigint" ? v.toString() : v));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (component) => createLogger({ component, level, sink }),
  };
}
