/**
 * The node's HTTP(S) listener, with the connection hygiene `Deno.serve` does not offer:
 *
 * - **Own accept loop.** `Deno.serve` ends the process when `accept` fails with "Too many open
 *   files"; here an accept error backs off (5 ms doubling to 1 s) and the loop goes on, so the
 *   node recovers as soon as descriptors are free again.
 * - **Caps at accept time, before any byte is parsed**: at most `maxConnectionsPerAddress` open
 *   connections per client address and `maxOpenConnections` in all (which {@linkcode serve}
 *   lowers to what the descriptor limit leaves room for). A connection over a cap is closed at
 *   once, so it holds its descriptor for microseconds.
 * - **Deadlines per connection**: the first request's headers must be complete within
 *   `headersTimeoutMs` of the accept, and an idle keep-alive connection (no request in
 *   progress) gets `keepAliveTimeoutMs` to send the next request's headers. Past a deadline the
 *   connection is closed. The deadline for request bodies lives in the body reader
 *   (`node/body.ts`), which every route reads bodies through; the same sweep that checks the
 *   connections' deadlines expires its overdue reads.
 *
 * Each accepted connection is served by the runtime's own HTTP/1.1 and HTTP/2 implementation (the
 * same one `Deno.serve` runs on), through `serveHttpOnConnection`, which the runtime exposes on
 * `Deno[Deno.internal]` but does not document. Where a runtime lacks it, {@linkcode serve} falls
 * back to `Deno.serve` and logs a warning that the edge limits are not enforced.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import { expireBodyReads, setBodyDeadline } from "../body.ts";
import { addressGroup } from "./address.ts";
import type { Registry } from "../metrics.ts";

/** Connection info passed to the handler, as `Deno.serve` passes it. */
export interface EdgeRequestInfo {
  remoteAddr: Deno.NetAddr;
}

/** A request handler. */
export type EdgeHandler = (req: Request, info: EdgeRequestInfo) => Response | Promise<Response>;

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** PEM certificate and key: serve HTTPS. */
  cert?: string;
  key?: string;
  /** Time from accept until the first request's headers are complete. */
  headersTimeoutMs: number;
  /**
   * Time a request's body may take to arrive once its headers did (enforced by the body reader,
   * `node/body.ts`); unset: no deadline.
   */
  bodyTimeoutMs?: number;
  /** Time an idle keep-alive connection may wait for the next request's headers. */
  keepAliveTimeoutMs: number;
  /** Open connections allowed per client address. */
  maxConnectionsPerAddress: number;
  /** Open connections allowed in all (lowered to fit the descriptor limit). */
  maxOpenConnections: number;
  /**
   * Descriptors kept free for everything but client connections (database files, threads,
   * outgoing requests); the connection cap is lowered to `soft limit - open now - reserve`.
   */
  reservedFds?: number;
  log: Logger;
  metrics?: Registry;
  /** Renders a response for an error the handler threw. */
  onError?: (err: unknown) => Response | Promise<Response>;
}

/** Counters of the edge, for metrics and tests. */
export interface EdgeStats {
  /** Connections open now. */
  open: number;
  accepted: number;
  /** Closed at accept: their address already had `maxConnectionsPerAddress` open. */
  refusedPerAddress: number;
  /** Closed at accept: `maxOpenConnections` were open. */
  refusedTotal: number;
  /** Closed because their headers did not arrive in time (first request). */
  headerTimeouts: number;
  /** Idle keep-alive connections closed. */
  idleTimeouts: number;
  /** Accept calls that failed (e.g. out of file descriptors). */
  acceptErrors: number;
}

/** A listening edge server. */
export interface EdgeServer {
  readonly port: number;
  readonly hostname: string;
  readonly stats: Readonly<EdgeStats>;
  /** The connection cap in force (after fitting it to the descriptor limit). */
  readonly maxOpenConnections: number;
  /** Stops accepting, closes idle connections and waits for requests in progress. */
  shutdown(): Promise<void>;
}

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: (
    req: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ) => Response | Promise<Response>,
  onError: (err: unknown) => Response | Promise<Response>,
  onListen: (addr: unknown) => void,
) => { finished: Promise<void>; shutdown(): Promise<void> };

/** The runtime's per-connection HTTP server, or `undefined` when this runtime has none. */
function serveOnConnection(): ServeOnConnection | undefined {
  // deno-lint-ignore no-explicit-any
  const d = Deno as any;
  const fn = d.internal === undefined ? undefined : d[d.internal]?.serveHttpOnConnection;
  return typeof fn === "function" ? fn as ServeOnConnection : undefined;
}

/** Descriptors open in this process now (Linux), or `undefined` where it cannot be read. */
export function openFdCount(): number | undefined {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  } catch {
    return undefined;
  }
}

type Deadline = "headers" | "idle" | "close";

interface Connection {
  key: string;
  /** Closes the connection (after the request in flight, if any); safe to call twice. */
  close: () => void;
  closed: boolean;
  /** `performance.now()` time by which a request must start, while none is in flight. */
  deadlineMs: number;
  deadline: Deadline;
  inFlight: number;
  served: number;
}

const MAX_ACCEPT_BACKOFF_MS = 1000;

let aborting = false;
let abortGuard = false;

/**
 * Aborts a connection's signal, which makes the runtime close it at once (its graceful
 * `shutdown()` would wait for the rest of a body nobody reads). The runtime's abort listener
 * closes the connection's resource without checking whether it is already closing, and then
 * reports `BadResource` as an uncaught error, which would end the process. Such a report, made
 * synchronously inside this call, is marked handled; nothing else is.
 */
function abortQuietly(abort: AbortController): void {
  if (!abortGuard) {
    abortGuard = true;
    globalThis.addEventListener("error", (e) => {
      if (aborting && e.error instanceof Deno.errors.BadResource) e.preventDefault();
    });
  }
  aborting = true;
  try {
    abort.abort();
  } finally {
    aborting = false;
  }
}
/** How long a response marked `Connection: close` gets to be written before the connection ends. */
const CLOSE_AFTER_RESPONSE_MS = 100;

/**
 * Listens and serves `handler` with the limits above. Resolves once listening.
 *
 * @example
 * ```ts ignore
 * const server = await serve((req) => new Response("ok"), {
 *   hostname: "127.0.0.1", port: 0, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000,
 *   maxConnectionsPerAddress: 256, maxOpenConnections: 16_384, log,
 * });
 * await server.shutdown();
 * ```
 */
export async function serve(handler: EdgeHandler, opts: ServeOptions): Promise<EdgeServer> {
  const onError = opts.onError ?? (() => new Response("Internal error", { status: 500 }));
  const tls = opts.cert !== undefined && opts.key !== undefined;
  const perConnection = serveOnConnection();
  if (perConnection === undefined) return await fallback(handler, opts, onError, tls);

  const listener: Deno.Listener = tls
    ? Deno.listenTls({
      hostname: opts.hostname,
      port: opts.port,
      cert: opts.cert!,
      key: opts.key!,
      alpnProtocols: ["h2", "http/1.1"],
    })
    : Deno.listen({ hostname: opts.hostname, port: opts.port });
  const addr = listener.addr as Deno.NetAddr;
  const maxOpen = await fitToFdLimit(opts.maxOpenConnections, opts.reservedFds ?? 64);
  const stats: EdgeStats = {
    open: 0,
    accepted: 0,
    refusedPerAddress: 0,
    refusedTotal: 0,
    headerTimeouts: 0,
    idleTimeouts: 0,
    acceptErrors: 0,
  };
  registerMetrics(opts.metrics, stats);
  const perAddress = new Map<string, number>();
  const conns = new Set<Connection>();
  const finished = new Set<Promise<void>>();
  let closing = false;

  // One sweep for every connection's deadline rather than a timer per request: the deadlines
  // are seconds long, so a tick a quarter of the shortest one is precise enough.
  const tickMs = Math.min(
    1000,
    Math.max(25, Math.min(opts.headersTimeoutMs, opts.keepAliveTimeoutMs) / 4),
  );
  const arm = (c: Connection, ms: number, deadline: Deadline) => {
    c.deadlineMs = performance.now() + ms;
    c.deadline = deadline;
  };
  const sweep = setInterval(() => {
    const now = performance.now();
    expireBodyReads(now);
    for (const c of conns) {
      if (c.inFlight > 0 || now < c.deadlineMs || c.closed) continue;
      if (c.deadline === "headers") stats.headerTimeouts++;
      else if (c.deadline === "idle") stats.idleTimeouts++;
      c.close();
    }
  }, tickMs);
  const release = (c: Connection) => {
    conns.delete(c);
    stats.open--;
    const n = (perAddress.get(c.key) ?? 1) - 1;
    if (n <= 0) perAddress.delete(c.key);
    else perAddress.set(c.key, n);
  };

  const accept = async () => {
    let backoffMs = 0;
    let lastErrorLogMs = -Infinity;
    while (!closing) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
        backoffMs = 0;
      } catch (err) {
        if (closing || err instanceof Deno.errors.BadResource) return;
        stats.acceptErrors++;
        backoffMs = Math.min(MAX_ACCEPT_BACKOFF_MS, backoffMs === 0 ? 5 : backoffMs * 2);
        if (performance.now() - lastErrorLogMs > 10_000) {
          lastErrorLogMs = performance.now();
          opts.log.warn("accepting a connection failed; backing off", {
            err: (err as Error).message,
            open: stats.open,
            fds: openFdCount(),
          });
        }
        await new Promise((r) => setTimeout(r, backoffMs));
        continue;
      }
      const remote = conn.remoteAddr as Deno.NetAddr;
      const key = addressGroup(remote.hostname);
      const held = perAddress.get(key) ?? 0;
      if (stats.open >= maxOpen || held >= opts.maxConnectionsPerAddress) {
        if (stats.open >= maxOpen) stats.refusedTotal++;
        else stats.refusedPerAddress++;
        try {
          conn.close();
        } catch { /* already closed */ }
        continue;
      }
      stats.accepted++;
      stats.open++;
      perAddress.set(key, held + 1);
      const c: Connection = {
        key,
        close: () => {},
        closed: false,
        deadlineMs: Infinity,
        deadline: "headers",
        inFlight: 0,
        served: 0,
      };
      conns.add(c);
      arm(c, opts.headersTimeoutMs, "headers");
      let done: Promise<void>;
      try {
        const abort = new AbortController();
        const served = perConnection(
          conn,
          abort.signal,
          async (req, info) => {
            c.inFlight++;
            // By method, not `req.body`: touching the body here would make the runtime build a
            // stream even for handlers that read it whole.
            if (opts.bodyTimeoutMs !== undefined && req.method !== "GET" && req.method !== "HEAD") {
              setBodyDeadline(req, performance.now() + opts.bodyTimeoutMs);
            }
            let closeAfter = false;
            try {
              const res = await handler(req, { remoteAddr: info.remoteAddr ?? remote });
              // A response that ends the connection (e.g. a body cut at its deadline): the
              // runtime would otherwise wait for the rest of that body.
              closeAfter = res.headers.get("connection")?.toLowerCase() === "close";
              return res;
            } finally {
              c.inFlight--;
              c.served++;
              if (c.inFlight === 0 && !closing) {
                if (closeAfter) arm(c, CLOSE_AFTER_RESPONSE_MS, "close");
                else arm(c, opts.keepAliveTimeoutMs, "idle");
              }
            }
          },
          onError,
          () => {},
        );
        c.close = () => {
          if (c.closed) return;
          c.closed = true;
          abortQuietly(abort);
        };
        done = served.finished;
      } catch (err) {
        release(c);
        try {
          conn.close();
        } catch { /* already closed */ }
        opts.log.warn("serving a connection failed", { err: (err as Error).message });
        continue;
      }
      const tracked: Promise<void> = done.catch(() => {}).finally(() => {
        release(c);
        finished.delete(tracked);
      });
      finished.add(tracked);
    }
  };
  const loop = accept();

  return {
    port: addr.port,
    hostname: addr.hostname,
    stats,
    maxOpenConnections: maxOpen,
    async shutdown() {
      if (closing) return;
      closing = true;
      try {
        listener.close();
      } catch { /* already closed */ }
      await loop;
      clearInterval(sweep);
      for (const c of conns) c.close();
      await Promise.all(finished);
    },
  };
}

/**
 * Lowers `wanted` so that connections cannot use up the descriptors the rest of the node needs:
 * `soft limit - open now - reserved` (with 64 assumed open where they cannot be counted).
 */
async function fitToFdLimit(wanted: number, reserved: number): Promise<number> {
  const limits = await readFdLimits();
  if (limits === undefined || !Number.isFinite(limits.soft)) return wanted;
  const open = openFdCount() ?? 64;
  return Math.max(1, Math.min(wanted, limits.soft - open - reserved));
}

function registerMetrics(metrics: Registry | undefined, stats: EdgeStats): void {
  if (metrics === undefined) return;
  metrics.gauge("subspace_edge_connections_open", "Client connections open", () => stats.open);
  metrics.counter(
    "subspace_edge_connections_refused_total",
    "Connections closed at accept (per-address or total cap)",
    () => stats.refusedPerAddress + stats.refusedTotal,
  );
  metrics.counter(
    "subspace_edge_header_timeouts_total",
    "Connections closed because request headers did not arrive in time",
    () => stats.headerTimeouts,
  );
  metrics.counter(
    "subspace_edge_idle_timeouts_total",
    "Idle keep-alive connections closed",
    () => stats.idleTimeouts,
  );
  metrics.counter(
    "subspace_edge_accept_errors_total",
    "Failed accepts (e.g. out of file descriptors)",
    () => stats.acceptErrors,
  );
  const fds = openFdCount();
  if (fds !== undefined) {
    metrics.gauge("subspace_process_open_fds", "File descriptors open", () => openFdCount() ?? 0);
  }
}

async function fallback(
  handler: EdgeHandler,
  opts: ServeOptions,
  onError: (err: unknown) => Response | Promise<Response>,
  tls: boolean,
): Promise<EdgeServer> {
  opts.log.warn(
    "this runtime has no per-connection HTTP server: serving with Deno.serve, without the accept-time caps and header deadlines",
  );
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const common = {
    hostname: opts.hostname,
    port: opts.port,
    onListen: (a: Deno.NetAddr) => listening.resolve(a),
    onError,
  };
  const h = (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) =>
    handler(req, { remoteAddr: info.remoteAddr });
  const server = tls
    ? Deno.serve({ ...common, cert: opts.cert!, key: opts.key! }, h)
    : Deno.serve(common, h);
  const addr = await listening.promise;
  const stats: EdgeStats = {
    open: 0,
    accepted: 0,
    refusedPerAddress: 0,
    refusedTotal: 0,
    headerTimeouts: 0,
    idleTimeouts: 0,
    acceptErrors: 0,
  };
  return {
    port: addr.port,
    hostname: addr.hostname,
    stats,
    maxOpenConnections: opts.maxOpenConnections,
    shutdown: () => server.shutdown(),
  };
}

/** The process's `RLIMIT_NOFILE` (Linux, from `/proc/self/limits`). */
export interface FdLimits {
  soft: number;
  hard: number;
}

/**
 * Reads this process's `RLIMIT_NOFILE`: from `/proc/self/limits` (Deno grants that only with
 * `--allow-all`), else by asking util-linux `prlimit` (`--allow-run=prlimit`); `undefined`
 * when neither answers.
 */
export async function readFdLimits(): Promise<FdLimits | undefined> {
  const num = (s: string) => (s === "unlimited" || s === "-1" ? Infinity : Number(s));
  try {
    const text = Deno.readTextFileSync("/proc/self/limits");
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
    if (m !== null) return { soft: num(m[1]!), hard: num(m[2]!) };
  } catch { /* not readable with these permissions: ask prlimit */ }
  try {
    const out = await new Deno.Command("prlimit", {
      args: [`--pid=${Deno.pid}`, "--nofile", "--raw", "--noheadings", "--output=SOFT,HARD"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    const m = /^\s*(\S+)\s+(\S+)/.exec(new TextDecoder().decode(out.stdout));
    if (out.success && m !== null) return { soft: num(m[1]!), hard: num(m[2]!) };
  } catch { /* no permission to run it, or not installed */ }
  return undefined;
}

/** Where {@linkcode raiseFdLimit} left the limit. */
export interface FdLimitOutcome {
  before: FdLimits | undefined;
  after: FdLimits | undefined;
  /** Why it was not raised, when it was not. */
  reason?: string;
}

/** Highest soft limit asked for (where the hard limit is higher still, or unlimited). */
export const FD_SOFT_LIMIT_TARGET = 1 << 20;

/**
 * Raises the soft `RLIMIT_NOFILE` of this process toward its hard limit. Deno has no
 * `setrlimit`, so this runs util-linux `prlimit --pid <this pid>` (allowed without privileges:
 * a process may raise its own soft limit up to the hard one). Needs `--allow-run=prlimit`;
 * without it, or without `prlimit`, the limit stays and `reason` says why.
 */
export async function raiseFdLimit(): Promise<FdLimitOutcome> {
  const before = await readFdLimits();
  if (before === undefined) {
    return {
      before,
      after: before,
      reason: "cannot read it (needs --allow-run=prlimit, or /proc/self/limits with --allow-all)",
    };
  }
  const target = Math.min(before.hard, FD_SOFT_LIMIT_TARGET);
  if (before.soft >= target) return { before, after: before };
  try {
    const out = await new Deno.Command("prlimit", {
      args: [`--pid=${Deno.pid}`, `--nofile=${target}:`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim();
      return { before, after: await readFdLimits(), reason: `prlimit failed: ${err}` };
    }
  } catch (err) {
    const reason =
      err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied
        ? "needs --allow-run=prlimit"
        : err instanceof Deno.errors.NotFound
        ? "prlimit is not installed"
        : (err as Error).message;
    return { before, after: before, reason };
  }
  return { before, after: await readFdLimits() };
}
