/**
 * `GET /v1/info` (the node's self-description, after NIP-11), `GET /healthz` and
 * `GET /openapi.json`.
 *
 * @module
 */
import { Hono } from "hono";
import type { AppEnv, NodeCore } from "../feature.ts";
import { NODE_IDENTITY } from "../services.ts";
import { HttpError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { MAX_PREFIX_BITS } from "../wire.ts";
import { DEFAULT_LIMIT, MAX_LIMIT } from "./messages.ts";
import { openApiDocument } from "./openapi.ts";

/** Builds the info routes. */
export function infoRoutes(
  ctx: NodeCore,
  extras: () => Record<string, unknown>[],
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { config } = ctx;
  app.get("/v1/info", (c) => {
    const info: Record<string, unknown> = {
      software: "subspace",
      version: VERSION,
      node_id: ctx.service(NODE_IDENTITY)?.id ?? null,
      quota: config.quota,
      limits: {
        max_payload_bytes: ctx.limits.current.maxPayloadBytes,
        default_ttl_seconds: ctx.limits.current.defaultTtlSeconds,
        max_ttl_seconds: ctx.limits.current.maxTtlSeconds,
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
    for (const extra of extras()) Object.assign(info, extra);
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
