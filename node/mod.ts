/**
 * The Subspace node: opens the store, starts the writer and sweeper, installs the features it
 * is given (see `feature.ts` for the phases), builds the app and serves it (HTTP or HTTPS).
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { AppEnv, Feature, FeatureParts, NodeCore, ServiceKey } from "./feature.ts";
import { createApp } from "./app.ts";
import { openDataDir } from "./data_dir.ts";
import { type EdgeServer, serveNode } from "./edge/mod.ts";
import { Hub } from "./hub.ts";
import { createLogger, type Logger } from "./log.ts";
import { Registry } from "./metrics.ts";
import { RuntimeLimits } from "./runtime_limits.ts";
import { QUOTA_POLICY } from "./services.ts";
import { type FeatureDatabaseHandle, openStore } from "./store/mod.ts";
import { Writer } from "./writer.ts";

export {
  type Config,
  ConfigError,
  configMarkdown,
  flagName,
  loadConfig,
  parseDuration,
  redactedConfig,
  SCHEMA,
} from "./config.ts";
export {
  type AppEnv,
  type Feature,
  type FeatureDatabase,
  type FeatureParts,
  type NodeCore,
  type ServiceKey,
  serviceKey,
} from "./feature.ts";
export {
  ADMIN_AUTH,
  type AdminAuth,
  BODY_RESOLVER,
  NODE_IDENTITY,
  QUOTA_POLICY,
} from "./services.ts";
export { type LimitValues, RuntimeLimits } from "./runtime_limits.ts";
export { createLogger, type Logger } from "./log.ts";
export { type ArgvOptions, type ArgvToken, type FlagArity, tokenizeArgv } from "./argv.ts";
export { assertNodeDataDir, isDataDirError, NotADataDirError } from "./data_dir.ts";
export { VERSION } from "./version.ts";

/** A running node. */
export interface RunningNode {
  /** What the features were given (store, writer, services, ...). */
  core: NodeCore;
  /** The base URL it listens on (`http://127.0.0.1:PORT`). */
  url: string;
  port: number;
  /** Handles a request in-process, as the server would. */
  fetch(req: Request): Promise<Response>;
  /** Graceful shutdown: stop accepting, finish writes, close the features and the database. */
  close(): Promise<void>;
}

/** Options for {@linkcode startNode}. */
export interface StartOptions {
  log?: Logger;
  /** The node's features (tokens, fees, federation, console), installed in this order. */
  features?: readonly Feature[];
  /** Do not listen on a socket (tests that use `fetch` only). */
  listen?: boolean;
}

/** Something the node needs at start but no feature provides. */
export class MissingFeatureError extends Error {
  override name = "MissingFeatureError";
}

/**
 * Starts a node with exactly the features given. With `--quota tokens` (the default) a feature
 * must provide {@linkcode QUOTA_POLICY}; otherwise the node refuses to start rather than run open.
 *
 * @example
 * ```ts ignore
 * const node = await startNode(loadConfig({ args: ["--quota", "open"], env: {} }));
 * await node.close();
 * ```
 */
export async function startNode(config: Config, opts: StartOptions = {}): Promise<RunningNode> {
  const log = opts.log ?? createLogger({ component: "node", level: config.logLevel });
  const dataDir = await openDataDir(config.data, { log: log.child("data") });
  const store = await openStore({
    url: config.store,
    dataDir: config.data,
    log: log.child("shared"),
  }).catch((err) => {
    dataDir.release();
    throw err;
  });
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
  if (store.shared === undefined) {
    writer.onCommit((inserted) => hub.notify(inserted.map((m) => m.tag)));
  } // Several processes on one database: waiters wake when rows (anyone's) fall under the watermark.
  else {
    store.shared.onVisible((tags) => tags === "all" ? hub.wakeAll() : hub.notify(tags));
    store.shared.setEager(() => hub.size > 0);
  }
  const limits = new RuntimeLimits({
    maxTtlSeconds: config.maxTtl,
    defaultTtlSeconds: config.defaultTtl,
    maxPayloadBytes: config.maxPayloadBytes,
  });

  const services = new Map<string, unknown>();
  let servicesOpen = false;
  const databases: FeatureDatabaseHandle[] = [];
  const startedAt = Date.now();
  const core: NodeCore = {
    config,
    log,
    metrics,
    store,
    writer,
    hub,
    limits,
    startedAt,
    now: () => Date.now(),
    async openDatabase(name, migrations, o = {}) {
      const handle = await store.openFeatureDatabase({
        dataDir: config.data,
        name,
        migrations,
        writerThread: o.writerThread ?? false,
      });
      databases.push(handle);
      return handle;
    },
    provide<T>(key: ServiceKey<T>, value: T) {
      if (services.has(key.name)) throw new Error(`Service ${key.name} is provided twice`);
      services.set(key.name, value);
    },
    service<T>(key: ServiceKey<T>): T | undefined {
      if (!servicesOpen) {
        throw new Error(`Service ${key.name} was read during install; read it from routes on`);
      }
      return services.get(key.name) as T | undefined;
    },
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

  const installed: { feature: Feature; parts: FeatureParts }[] = [];
  const closeFeatures = async () => {
    for (const { feature, parts } of installed.toReversed()) {
      try {
        await parts.close?.();
      } catch (err) {
        log.error("closing a feature failed", { feature: feature.name, err });
      }
    }
    for (const d of databases.toReversed()) {
      await d.close().catch((err) => log.error("closing a database failed", { err }));
    }
  };
  let app;
  try {
    for (const feature of opts.features ?? []) {
      installed.push({ feature, parts: await feature.install(core) });
    }
    servicesOpen = true;
    if (config.quota === "tokens" && !services.has(QUOTA_POLICY.name)) {
      throw new MissingFeatureError(
        "Cannot start with --quota tokens: no feature provides token charging (add the quota feature, or use --quota open)",
      );
    }
    app = createApp(core, installed.map((i) => i.parts));
  } catch (err) {
    await closeFeatures();
    await writer.close();
    await store.close();
    dataDir.release();
    throw err;
  }

  const sweepTimer = setInterval(async () => {
    try {
      if (store.shared !== undefined) {
        // The other processes' commits and sweeps change the totals too.
        writer.resync({ usedBytes: await store.usedBytes(), storedCount: await store.count() });
      }
      if (!(await store.leads("sweeper"))) return;
      const n = await writer.sweep(core.now());
      if (n > 0) {
        swept.inc(undefined, n);
        log.info("swept expired messages", { count: n });
      }
    } catch (err) {
      log.error("sweep failed", { err });
    }
  }, config.sweepInterval * 1000);

  let server: EdgeServer | undefined;
  let port = config.port;
  const tls = config.tlsCert !== undefined && config.tlsKey !== undefined;
  if (opts.listen !== false) {
    server = await serveNode(
      config,
      (req, info) => app.fetch(req, { remoteAddr: info.remoteAddr } satisfies AppEnv["Bindings"]),
      {
        log: log.child("edge"),
        metrics,
        onError: (err: unknown) => {
          log.error("request failed", { err });
          return new Response("Internal error", { status: 500 });
        },
      },
    );
    port = server.port;
  }
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `${tls ? "https" : "http"}://${host}:${port}`;
  if (server) log.info("listening", { url, store: store.dialect, quota: config.quota });
  for (const { feature, parts } of installed) {
    try {
      await parts.started?.(url);
    } catch (err) {
      log.error("starting a feature failed", { feature: feature.name, err });
    }
  }

  let closing: Promise<void> | undefined;
  return {
    core,
    url,
    port,
    fetch: (req) => Promise.resolve(app.fetch(req, {})),
    close() {
      closing ??= (async () => {
        clearInterval(sweepTimer);
        hub.wakeAll();
        const shutdown = server?.shutdown();
        await writer.close();
        await closeFeatures();
        await shutdown;
        await store.close();
        dataDir.release();
        log.info("stopped");
      })();
      return closing;
    },
  };
}
