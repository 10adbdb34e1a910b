/**
 * `GET /v1/info` (the node's self-description, after NIP-11), `GET /healthz` and
 * `GET /openapi.json`.
 *
 * @module
 */
import { Hono } from "hono";
import type { AppEnv, NodeContext } from "../context.ts";
import { HttpError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { MAX_PREFIX_BITS } from "../wire.ts";
import { DEFAULT_LIMIT, MAX_LIMIT } from "./messages.ts";
import { openApiDocument } from "./openapi.ts";

/** Builds the info routes. */
export function infoRoutes(ctx: NodeContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { config } = ctx;
  app.get("/v1/info", (c) => {
    const info: Record<string, unknown> = {
      software: "subspace",
      version: VERSION,
      node_id: ctx.nodeId ?? null,
      quota: ctx.quota.mode,
      limits: {
        max_payload_bytes: config.maxPayloadBytes,
        default_ttl_seconds: config.defaultTtl,
        max_ttl_seconds: config.maxTtl,
        max_wait_seconds: config.maxWait,
        max_prefix_bits: MAX_PREFIX_BITS,
        max_limit: MAX_LIMIT,
        default_limit: DEFAULT_LIMIT,
      },
      storage: {
        used_bytes: ctx.writer.usedBytes,
        max_bytes: config.maxStoreBytes,
      },
    };
    for (const extra of ctx.hooks.info) Object.assign(info, extra());
    return c.json(info);
  });
  app.get("/healthz", async (c) => {
    try {
      await ctx.store.maxSeq();
    } catch {
      throw new HttpError(503, "The store is not answering");
    }
    return c.json({ ok: true });
  });
  app.get("/openapi.json", (c) => c.json(openApiDocument()));
  return app;
}
