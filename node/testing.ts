/**
 * Test helpers: an in-process node on a temporary SQLite file (or PostgreSQL), reached through
 * the app's fetch handler or a real socket on 127.0.0.1.
 *
 * @module
 */
import { toBase64, toHex } from "../client/mod.ts";
import { loadConfig } from "./config.ts";
import { createLogger } from "./log.ts";
import { type Feature, type RunningNode, startNode } from "./mod.ts";

/** Options for {@linkcode testNode}. */
export interface TestNodeOptions {
  /** Extra `serve` flags. */
  args?: string[];
  /** Listen on a real socket (port 0). */
  listen?: boolean;
  /** Use this data folder (and leave it in place on close); a fresh temporary one otherwise. */
  dataDir?: string;
  /** The node's features (none by default: pass `--quota open` or a quota feature). */
  features?: readonly Feature[];
}

/** Starts an in-process node in a fresh temporary folder; `close()` also removes the folder. */
export async function testNode(
  opts: TestNodeOptions = {},
): Promise<RunningNode & { dataDir: string }> {
  const dataDir = opts.dataDir ?? await Deno.makeTempDir({ prefix: "subspace-unit-" });
  const config = loadConfig({
    // Open unless the test asks for tokens (and passes the quota feature).
    args: ["--data", dataDir, "--port", "0", "--quota", "open", ...(opts.args ?? [])],
    env: {},
  });
  const lines: string[] = [];
  const debug = Deno.env.get("SUBSPACE_TEST_LOG") === "1";
  const log = createLogger({
    component: "node",
    level: debug ? "debug" : "warn",
    sink: (l) => debug ? console.error(l) : lines.push(l),
  });
  const node = await startNode(config, {
    log,
    listen: opts.listen ?? false,
    features: opts.features ?? [],
  });
  return {
    ...node,
    dataDir,
    async close() {
      await node.close();
      if (opts.dataDir === undefined) {
        await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      }
    },
  };
}

/** A random 20-byte tag as hex, optionally starting with `prefixHex`. */
export function randomTag(prefixHex = ""): string {
  const bytes = toHex(crypto.getRandomValues(new Uint8Array(20)));
  return (prefixHex + bytes.slice(prefixHex.length)).slice(0, 40);
}

/** Base64 of `n` random bytes. */
export function randomPayload(n: number): string {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return toBase64(out);
}

/** A JSON POST request to `path` on `base`. */
export function postJson(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Request {
  return new Request(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
