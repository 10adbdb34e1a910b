/**
 * Logger with levels and a component name, writing JSON lines (for log collectors) or, for a
 * person at a terminal, short readable lines (`pretty`). Client addresses are never passed
 * here; callers log salted hashes if anything.
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

/** How lines are written: one JSON object per line, or `12:00:01 WARN  dht: msg key=value`. */
export type LogFormat = "json" | "pretty";

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
  opts: { component: string; level?: LogLevel; sink?: LogSink; format?: LogFormat },
): Logger {
  const level = opts.level ?? "info";
  const sink = opts.sink ?? stderrSink;
  const format = opts.format ?? "json";
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
    sink(format === "pretty" ? prettyLine(rec) : JSON.stringify(rec, jsonValue));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (component) => createLogger({ component, level, sink, format }),
  };
}

const jsonValue = (_k: string, v: unknown) => typeof v === "bigint" ? v.toString() : v;

/** One record as a short line: time (UTC), level, component, message, then key=value pairs. */
function prettyLine(rec: Record<string, unknown>): string {
  const { ts, level, component, msg, ...fields } = rec;
  const pairs = Object.entries(fields).map(([k, v]) => {
    const text = typeof v === "string" ? v : JSON.stringify(v, jsonValue);
    return `${k}=${typeof v === "string" && /[\s"=]/.test(v) ? JSON.stringify(v) : text}`;
  });
  return [
    String(ts).slice(11, 19),
    String(level).toUpperCase().padEnd(5),
    `${component}: ${msg}`,
    ...pairs,
  ].join(" ");
}
