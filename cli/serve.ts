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
} from "../node/mod.ts";
import { standardFeatures } from "../features.ts";

function help(): string {
  const fields = SCHEMA as unknown as Record<string, { description: string; default: unknown }>;
  const lines = Object.entries(fields).map(([k, f]) =>
    `  --${flagName(k).padEnd(24)} ${f.description}${
      f.default === undefined
        ? ""
        : ` (default ${Array.isArray(f.default) ? f.default.join(",") : f.default})`
    }`
  );
  return `Usage: subspace serve [options]\n\nRuns a Subspace node.\n\nOptions:\n${
    lines.join("\n")
  }`;
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
