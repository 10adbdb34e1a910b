/**
 * Test helper: spawns a real node process (`main.ts serve --port 0`) in a temporary data folder
 * and reports the URL it listens on.
 *
 * @module
 */

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Deno flags every spawned node runs with (the same grants as `deno task start`). */
export const NODE_DENO_FLAGS = [
  "run",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--unstable-no-legacy-abort",
];

/**
 * Serve flags for nodes whose clients all share 127.0.0.1 (other nodes, the test, a load): the
 * per-client HTTP limits are lifted, as they would not bind when each client has its own address.
 */
export const SHARED_ADDRESS_ARGS = [
  "--rate-limit",
  "100000",
  "--rate-burst",
  "100000",
  "--max-client-connections",
  "4096",
];

/** A node process started by {@linkcode startNode}. */
export interface NodeProcess {
  url: string;
  port: number;
  dataDir: string;
  process: Deno.ChildProcess;
  /** Log lines written so far (JSON lines from stderr). */
  logs: string[];
  /** SIGTERM and wait (graceful shutdown). */
  stop(): Promise<void>;
  /** SIGKILL and wait (crash). */
  kill(): Promise<void>;
}

/** Options for {@linkcode startNode}. */
export interface StartNodeOptions {
  /** Extra `serve` arguments. */
  args?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Reuse a data folder (restart); a fresh temporary one otherwise. */
  dataDir?: string;
  /** Port (default 0: any free one). */
  port?: number;
  /** Milliseconds to wait for "listening" (default 30 s). */
  timeoutMs?: number;
}

/** Spawns a node and resolves once it listens. */
export async function startNode(opts: StartNodeOptions = {}): Promise<NodeProcess> {
  const dataDir = opts.dataDir ?? await Deno.makeTempDir({ prefix: "subspace-test-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...NODE_DENO_FLAGS,
      MAIN,
      "serve",
      "--data",
      dataDir,
      "--port",
      String(opts.port ?? 0),
      // Tests post without tokens unless they ask for `--quota tokens` (a later flag wins).
      "--quota",
      "open",
      // Every test node and its peers live on loopback.
      "--dht-private-peers",
      "true",
      ...(opts.args ?? []),
    ],
    env: { NO_COLOR: "1", ...opts.env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logs: string[] = [];
  const url = await waitListening(child, logs, opts.timeoutMs);
  const end = async (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    await child.status;
  };
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    process: child,
    logs,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

/**
 * Reads a spawned node's stderr (JSON log lines, appended to `logs`) until its "listening" line
 * and returns the URL. Rejects, after killing the child, if it exits first or `timeoutMs` passes.
 */
export async function waitListening(
  child: Deno.ChildProcess,
  logs: string[],
  timeoutMs = 30_000,
): Promise<string> {
  const listening = Promise.withResolvers<string>();
  const exited = child.status.then((s) => {
    listening.reject(
      new Error(`node exited with code ${s.code} before listening:\n${logs.join("\n")}`),
    );
  });
  (async () => {
    let buf = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        logs.push(line);
        if (line.includes('"msg":"listening"')) {
          try {
            listening.resolve(JSON.parse(line).url);
          } catch { /* not JSON */ }
        }
      }
    }
  })().catch(() => {});
  const timer = setTimeout(
    () => listening.reject(new Error(`node did not listen in time:\n${logs.join("\n")}`)),
    timeoutMs,
  );
  try {
    return await listening.promise;
  } catch (err) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await exited;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
