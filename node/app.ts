/**
 * Assembles the node's HTTP app from its context: limits, the wallet API, feature routes, and
 * one error handler that renders problem+json.
 *
 * @module
 */
import { Hono } from "hono";
import type { AppEnv, NodeContext } from "./context.ts";
import { HttpError, httpErrorResponse, problemResponse } from "./errors.ts";
import { clientLimits } from "./limits.ts";
import { infoRoutes } from "./api/info.ts";
import { messageRoutes } from "./api/messages.ts";

/** Builds the app. Call `app.fetch(request, { remoteAddr })`. */
export function createApp(ctx: NodeContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { config, log } = ctx;
  const limits = clientLimits({
    ratePerSecond: config.rateLimit,
    burst: config.rateBurst,
    maxPerClient: config.maxClientConnections,
    maxTotal: config.maxConnections,
    address: (c) => (c.env as AppEnv["Bindings"] | undefined)?.remoteAddr?.hostname,
  });
  const requests = ctx.metrics.counter("subspace_http_requests_total", "HTTP requests by status");
  ctx.metrics.gauge(
    "subspace_http_in_flight",
    "HTTP requests in flight",
    () => limits.stats.inFlight,
  );
  ctx.metrics.gauge(
    "subspace_http_rate_limited",
    "Requests refused by per-client limits since start",
    () => limits.stats.rateLimited + limits.stats.overCapacity,
  );

  app.onError((err, c) => {
    if (err instanceof HttpError) return httpErrorResponse(err);
    log.error("unhandled error", { err, path: c.req.path });
    return problemResponse(500, "Internal error; it has been logged");
  });
  app.notFound((c) => problemResponse(404, `No route for ${c.req.method} ${c.req.path}`));
  app.use("*", async function countRequests(c, next) {
    await next();
    requests.inc({ code: String(c.res.status) });
  });
  app.use("*", limits);
  app.route("/", infoRoutes(ctx));
  app.route("/", messageRoutes(ctx));
  for (const add of ctx.hooks.routes) add(app);
  return app;
}
