/**
 * The Subspace node: opens the store, starts the writer and sweeper, builds the app and serves
 * it (HTTP or HTTPS). Features plug in through {@linkcode NodeContext.hooks}.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { type AppEnv, emptyHooks, type NodeContext } from "./context.ts";
import { createApp } from "./app.ts";
import { Hub } from "./hub.ts";
import { createLogger, type Logger } from "./log.ts";
import { Registry } from "./metrics.ts";
import { openQuota } from "./quota.ts";
import { openStore } from "./store/mod.ts";
import { Writer } from "./writer.ts";

export {
  type Config,
  ConfigError,
  configMarkdown,
  loadConfig,
  redactedConfig,
  SCHEMA,
} from "./config.ts";
export type { AppEnv, NodeContext, NodeHooks } from "./context.ts";
export { createLogger, type Logger } from "./log.ts";
export { VERSION } from "./version.ts";

/** A plugin sets up a feature on the context before the app is built. */
export type NodePlugin = (ctx: NodeContext) => Promise<void> | void;

/** A running node. */
export interface RunningNode {
  ctx: NodeContext;
  /** The base URL it listens on (`http://127.0.0.1:PORT`). */
  url: string;
  port: number;
  /** Handles a request in-process, as the server would. */
  fetch(req: Request): Promise<Response>;
  /** Graceful shutdown: stop accepting, finish writes, close the database. */
  close(): Promise<void>;
}

/** Options for {@linkcode startNode}. */
export interface StartOptions {
  log?: Logger;
  /** Features to install (federation, tokens, console); run in order. */
  plugins?: NodePlugin[];
  /** Do not listen on a socket (tests that use `fetch` only). */
  listen?: boolean;
}

/** Plugins registered by feature modules (see `node/plugins.ts`). */
export const PLUGINS: NodePlugin[] = [];

/** Starts a node. */
export async function startNode(config: Config, opts: StartOptions = {}): Promise<RunningNode> {
  const log = opts.log ?? createLogger({ component: "node", level: config.logLevel });
  const store = await openStore({ url: config.store, dataDir: config.data });
  const metrics = new Registry();
  const writer = new Writer({
    store,
    log: log.child("writer"),
    maxBatch: config.commitMaxBatch,
    maxQueue: config.commitMaxQueue,
    maxStoreBytes: config.maxStoreBytes,
    usedBytes: await store.usedBytes(),
    lastSeq: await store.maxSeq(),
    storedCount: await store.count(),
  });
  const hub = new Hub(config.maxWaiters);
  writer.onCommit((inserted) => hub.notify(inserted.map((m) => m.tag)));
  const ctx: NodeContext = {
    config,
    log,
    store,
    writer,
    hub,
    quota: openQuota,
    metrics,
    hooks: emptyHooks(),
    nodeId: undefined,
    startedAt: Date.now(),
    now: () => Date.now(),
  };
  metrics.gauge("subspace_store_used_bytes", "Bytes of stored payloads", () => writer.usedBytes);
  metrics.gauge("subspace_store_max_bytes", "Storage cap", () => config.maxStoreBytes);
  metrics.gauge("subspace_longpoll_waiting", "Long polls waiting", () => hub.size);
  metrics.gauge(
    "subspace_writer_queue",
    "Messages waiting for the writer",
    () => writer.queueLength,
  );
  const commits = metrics.counter("subspace_store_commits_total", "Group commits");
  writer.onCommit(() => commits.inc());
  const swept = metrics.counter("subspace_messages_expired_total", "Expired messages deleted");

  try {
    for (const plugin of [...PLUGINS, ...(opts.plugins ?? [])]) await plugin(ctx);
  } catch (err) {
    await store.close();
    throw err;
  }
  const app = createApp(ctx);

  const sweepTimer = setInterval(async () => {
    try {
      const n = await writer.sweep(ctx.now());
      if (n > 0) {
        swept.inc(undefined, n);
        log.info("swept expired messages", { count: n });
      }
    } catch (err) {
      log.error("sweep failed", { err });
    }
  }, config.sweepInterval * 1000);

  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  let port = config.port;
  const tls = config.tlsCert !== undefined && config.tlsKey !== undefined;
  if (opts.listen !== false) {
    const handler = (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) =>
      app.fetch(req, { remoteAddr: info.remoteAddr } satisfies AppEnv["Bindings"]);
    const listening = Promise.withResolvers<Deno.NetAddr>();
    const common = {
      hostname: config.host,
      port: config.port,
      onListen: (addr: Deno.NetAddr) => listening.resolve(addr),
      onError: (err: unknown) => {
        log.error("request failed", { err });
        return new Response("Internal error", { status: 500 });
      },
    };
    server = tls
      ? Deno.serve({
        ...common,
        cert: await Deno.readTextFile(config.tlsCert!),
        key: await Deno.readTextFile(config.tlsKey!),
      }, handler)
      : Deno.serve(common, handler);
    port = (await listening.promise).port;
  }
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `${tls ? "https" : "http"}://${host}:${port}`;
  if (server) log.info("listening", { url, store: store.dialect, quota: ctx.quota.mode });
  for (const h of ctx.hooks.started) {
    try {
      await h(url);
    } catch (err) {
      log.error("start hook failed", { err });
    }
  }

  let closing: Promise<void> | undefined;
  return {
    ctx,
    url,
    port,
    fetch: (req) => Promise.resolve(app.fetch(req, {})),
    close() {
      closing ??= (async () => {
        clearInterval(sweepTimer);
        hub.wakeAll();
        const shutdown = server?.shutdown();
        await writer.close();
        for (const h of ctx.hooks.close) {
          try {
            await h();
          } catch (err) {
            log.error("close hook failed", { err });
          }
        }
        await shutdown;
        await store.close();
        log.info("stopped");
      })();
      return closing;
    },
  };
}
