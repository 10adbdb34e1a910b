/**
 * The node context: everything a route or feature needs, assembled once by `startNode` (or by
 * tests). Features extend a node through the hook lists here rather than by editing the core.
 *
 * @module
 */
import type { Hono } from "hono";
import type { Config } from "./config.ts";
import type { Hub } from "./hub.ts";
import type { Logger } from "./log.ts";
import type { Registry } from "./metrics.ts";
import type { Quota } from "./quota.ts";
import type { Store, StoredMessage } from "./store/mod.ts";
import type { Writer } from "./writer.ts";

/** Hono environment of the node's app: the connection info Deno.serve passes. */
export type AppEnv = { Bindings: { remoteAddr?: Deno.NetAddr } };

/** Extension points for features (federation, tokens, console). */
export interface NodeHooks {
  /** Adds routes to the app (called once while the app is built). */
  routes: ((app: Hono<AppEnv>) => void)[];
  /** Adds fields to `GET /v1/info`. */
  info: (() => Record<string, unknown>)[];
  /**
   * Supplies payloads for messages held here only as notices (payload `null`). Returns the
   * messages with payloads it could get, checked against their ids. Default: drop them.
   */
  resolveBodies: ((messages: StoredMessage[]) => Promise<StoredMessage[]>) | undefined;
  /** Called on shutdown, before the store closes. */
  close: (() => Promise<void>)[];
  /** Called once the node listens, with its URL (federation starts here); keep it quick. */
  started: ((url: string) => Promise<void> | void)[];
}

/** Everything a node is made of. */
export interface NodeContext {
  config: Config;
  log: Logger;
  store: Store;
  writer: Writer;
  hub: Hub;
  quota: Quota;
  metrics: Registry;
  hooks: NodeHooks;
  /** Node id (hex) once federation gives the node an identity. */
  nodeId: string | undefined;
  /** Unix ms when the node started. */
  startedAt: number;
  /** Clock (Unix ms); tests may replace it. */
  now: () => number;
}

/** Empty hook lists. */
export function emptyHooks(): NodeHooks {
  return { routes: [], info: [], resolveBodies: undefined, close: [], started: [] };
}
