/**
 * `subspace serve`: runs a node until SIGINT/SIGTERM, then shuts down gracefully.
 *
 * @module
 */
import {
  ConfigError,
  configMarkdown,
  createLogger,
  flagName,
  isDataDirError,
  loadConfig,
  SCHEMA,
  startNode,
  VERSION,
} from "../node/mod.ts";
import { standardFeatures } from "../features.ts";
import { formatBytesExact, formatSeconds } from "../components/format.ts";

/** A default as an operator would type it: `7d`, `10GiB`, nothing for an empty list. */
function humanDefault(f: { kind: string; default: unknown }): string | undefined {
  const d = f.default;
  if (d === undefined || (Array.isArray(d) && d.length === 0) || d === "") return undefined;
  if (Array.isArray(d)) return d.join(",");
  if (f.kind === "duration" && typeof d === "number") return formatSeconds(d);
  if (f.kind === "bytes" && typeof d === "number") return formatBytesExact(d);
  return String(d);
}

function help(): string {
  const fields = SCHEMA as unknown as Record<
    string,
    { description: string; default: unknown; kind: string }
  >;
  const width = Math.max(...Object.keys(fields).map((k) => flagName(k).length)) + 2;
  const lines = Object.entries(fields).map(([k, f]) => {
    const d = humanDefault(f);
    return `  --${flagName(k).padEnd(width)} ${f.description}${
      d === undefined ? "" : ` (default ${d})`
    }`;
  });
  return `Usage: subspace serve [options]\n\nRuns a Subspace node.\n\nOptions:\n${
    lines.join("\n")
  }`;
}

/**
 * The one line for a database a newer version migrated (kysely refuses to run when a migration
 * it applied is not in this version's list), or undefined for any other error.
 */
function downgradeMessage(err: unknown): string | undefined {
  const m = /previously executed migration (\S+) is missing/.exec(String((err as Error)?.message));
  if (m === null) return undefined;
  const where = /Cannot migrate the (\w+ )?database( [^\s(]\S*)?/.exec((err as Error).message);
  return `the ${where?.[1] ?? ""}database${where?.[2] ?? ""} was upgraded by a newer Subspace ` +
    `(its migration ${m[1]} is unknown to version ${VERSION}). Downgrades are not supported: ` +
    "run the newer version, or restore a backup taken before the upgrade (docs/operations.md).";
}

/** Runs the command. */
export async function run(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(help());
    return 0;
  }
  if (args.includes("--print-config-docs")) {
    console.log(configMarkdown().trimEnd());
    return 0;
  }
  let config;
  try {
    config = loadConfig({ args, env: Deno.env.toObject() });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`subspace serve: refusing to start, invalid configuration:`);
      for (const e of err.errors) console.error(`  ${e}`);
      return 2;
    }
    throw err;
  }
  let node;
  try {
    const tty = Deno.stderr.isTerminal();
    const format = config.logFormat === "auto" ? (tty ? "pretty" : "json") : config.logFormat;
    const log = createLogger({ component: "node", level: config.logLevel, format });
    node = await startNode(config, { features: standardFeatures(), log });
  } catch (err) {
    const newer = downgradeMessage(err);
    if (newer !== undefined) {
      console.error(`subspace serve: refusing to start: ${newer}`);
      return 1;
    }
    if (!isDataDirError(err)) throw err;
    console.error(`subspace serve: ${err.message}`);
    return 1;
  }
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await stopped.promise;
  await node.close();
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  return 0;
}
