/**
 * The feature contract: how tokens, fees, federation and the console attach to the node core.
 *
 * A node is the core (store, writer, hub, wallet API) plus the list of features passed to
 * `startNode` — nothing is registered by importing a module. Starting a node runs in phases:
 *
 * 1. `install(core)` for every feature, in list order. A feature opens its own database
 *    ({@linkcode NodeCore.openDatabase}), sets up its state and publishes the typed services it
 *    offers ({@linkcode NodeCore.provide}). It must not read other features' services yet.
 * 2. The app is built: the core's routes, then every feature's `routes(app)`. From here on
 *    {@linkcode NodeCore.service} answers, so a consumer (the console) reads what the others
 *    published, whatever their order in the list.
 * 3. The node listens; `started(url)` runs for each feature.
 * 4. On shutdown the core stops taking writes, then `close()` runs for each feature in reverse
 *    order, then the store closes.
 *
 * Features talk to each other only through services: a {@linkcode ServiceKey} names a value and
 * its type, declared by the module that defines the interface (usually the consumer, so the
 * dependency points from the provider to the consumer's types and never back).
 *
 * @example
 * ```ts
 * import { type Feature, serviceKey } from "./feature.ts";
 *
 * const GREETING = serviceKey<{ hello(): string }>("example.greeting");
 * const greeter: Feature = {
 *   name: "greeter",
 *   install(core) {
 *     core.provide(GREETING, { hello: () => "hi" });
 *     return { routes: (app) => app.get("/hello", (c) => c.text("hi")) };
 *   },
 * };
 * ```
 *
 * @module
 */
import type { Hono } from "hono";
import type { Kysely } from "kysely";
import type { Config } from "./config.ts";
import type { Hub } from "./hub.ts";
import type { Logger } from "./log.ts";
import type { Registry } from "./metrics.ts";
import type { RuntimeLimits } from "./runtime_limits.ts";
import type { Dialect, DialectMigration, SqliteWriteWorker, Store } from "./store/mod.ts";
import type { Writer } from "./writer.ts";

/** Hono environment of the node's app: the connection info Deno.serve passes. */
export type AppEnv = { Bindings: { remoteAddr?: Deno.NetAddr } };

/** Names a service and the type of its value. Create one with {@linkcode serviceKey}. */
export interface ServiceKey<T> {
  readonly name: string;
  /** Never set: carries the type. */
  readonly _type?: T;
}

/**
 * Declares a service key.
 *
 * @example
 * ```ts
 * const CLOCK = serviceKey<() => number>("example.clock");
 * ```
 */
export function serviceKey<T>(name: string): ServiceKey<T> {
  return { name };
}

/** A feature's own database, opened by {@linkcode NodeCore.openDatabase}. */
export interface FeatureDatabase {
  readonly dialect: Dialect;
  // deno-lint-ignore no-explicit-any
  readonly db: Kysely<any>;
  /** SQLite only: a writer thread on the feature's file, so fsync stays off the event loop. */
  readonly writer?: SqliteWriteWorker;
  /** Where it lives (a file path, or the PostgreSQL URL without credentials). */
  readonly location: string;
}

/** What a feature is given to build on. */
export interface NodeCore {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Registry;
  /** The message store (reads; writes go through {@linkcode NodeCore.writer}). */
  readonly store: Store;
  /** The single writer: every stored row and byte passes through it. */
  readonly writer: Writer;
  /** Long polls waiting, by tag range. */
  readonly hub: Hub;
  /** TTL and payload limits in force (pricing may change them at run time). */
  readonly limits: RuntimeLimits;
  /** Unix ms when the node started. */
  readonly startedAt: number;
  /** Clock (Unix ms). */
  now(): number;
  /**
   * Opens (and migrates) the calling feature's own database: on SQLite the file
   * `<data>/<name>.db`, on PostgreSQL the node's database, with the migration bookkeeping in
   * `<name>_migration`. Closed by the core after the feature's `close`.
   */
  openDatabase(
    name: string,
    migrations: Record<string, DialectMigration>,
    opts?: { writerThread?: boolean },
  ): Promise<FeatureDatabase>;
  /** Publishes a service (phase 1). Providing one key twice is an error. */
  provide<T>(key: ServiceKey<T>, value: T): void;
  /** A published service, or `undefined`; answers from phase 2 on (throws before). */
  service<T>(key: ServiceKey<T>): T | undefined;
}

/** What an installed feature adds to the node. Every part is optional. */
export interface FeatureParts {
  /** Adds routes to the app (phase 2). */
  routes?(app: Hono<AppEnv>): void;
  /** Adds fields to `GET /v1/info`. */
  info?(): Record<string, unknown>;
  /** The node listens at `url` (phase 3); keep it quick, start background work here. */
  started?(url: string): Promise<void> | void;
  /** Shutdown (phase 4): stop timers, flush, release. The feature's database closes after. */
  close?(): Promise<void>;
}

/** A feature of the node. */
export interface Feature {
  /** Short name for logs and errors: `quota`, `fees`, `federation`, `console`. */
  readonly name: string;
  /** Phase 1: set up and publish services; returns the parts the node calls later. */
  install(core: NodeCore): Promise<FeatureParts> | FeatureParts;
}
