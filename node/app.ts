/**
 * Assembles the node's HTTP app: CORS for the wallet API, per-client limits, the one operator
 * guard, the wallet API, `/metrics`, the features' routes, and one error handler that renders
 * problem+json.
 *
 * @module
 */
import { Hono } from "hono";
import { adminGuard } from "./admin_guard.ts";
import type { AppEnv, FeatureParts, NodeCore } from "./feature.ts";
import { HttpError, httpErrorResponse, problemResponse } from "./errors.ts";
import { clientLimits } from "./limits.ts";
import { cors } from "./cors.ts";
import { IncompleteBodyError } from "./body.ts";
import { diskFullError, isDiskFullError } from "./data_dir.ts";
import { ADMIN_AUTH } from "./services.ts";
import { infoRoutes } from "./api/info.ts";
import { messageRoutes } from "./api/messages.ts";

/** Builds the app. Call `app.fetch(request, { remoteAddr })`. */
export function createApp(core: NodeCore, features: readonly FeatureParts[]): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { config, log } = core;
  const limits = clientLimits({
    ratePerSecond: config.rateLimit,
    burst: config.rateBurst,
    maxPerClient: config.maxClientConnections,
    maxTotal: config.maxConnections,
    address: (c) => (c.env as AppEnv["Bindings"] | undefined)?.remoteAddr?.hostname,
  });
  const requests = core.metrics.counter("subspace_http_requests_total", "HTTP requests by status");
  core.metrics.gauge(
    "subspace_http_in_flight",
    "HTTP requests in flight",
    () => limits.stats.inFlight,
  );
  core.metrics.gauge(
    "subspace_http_rate_limited",
    "Requests refused by per-client limits since start",
    () => limits.stats.rateLimited + limits.stats.overCapacity,
  );

  const incomplete = core.metrics.counter(
    "subspace_http_incomplete_bodies_total",
    "Request bodies that did not arrive, by reason (aborted: the client went away; timeout: too slow)",
  );
  let diskFullLoggedMs = -Infinity;
  app.onError((err, c) => {
    if (err instanceof IncompleteBodyError) incomplete.inc({ reason: err.reason });
    if (err instanceof HttpError) return httpErrorResponse(err);
    if (isDiskFullError(err)) {
      if (core.now() - diskFullLoggedMs > 60_000) {
        diskFullLoggedMs = core.now();
        log.warn("the disk is full: a write failed with 507", { path: c.req.path });
      }
      return httpErrorResponse(diskFullError());
    }
    log.error("unhandled error", { err, path: c.req.path });
    return problemResponse(500, "Internal error; it has been logged");
  });
  app.notFound((c) => problemResponse(404, `No route for ${c.req.method} ${c.req.path}`));
  app.use("*", async function countRequests(c, next) {
    await next();
    requests.inc({ code: String(c.res.status) });
  });
  const walletCors = cors({ origins: config.corsOrigins });
  app.use("/v1/*", walletCors);
  app.use("/.well-known/private-token-issuer-directory", walletCors);
  app.use("*", limits);
  const guard = adminGuard({
    adminToken: config.adminToken,
    auth: () => core.service(ADMIN_AUTH),
  });
  app.use("/admin", guard);
  app.use("/admin/*", guard);
  app.use("/metrics", guard);
  app.get("/metrics", () =>
    new Response(core.metrics.render(), {
      headers: {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
        "cache-control": "no-store",
      },
    }));
  app.route("/", infoRoutes(core, () => features.map((f) => f.info?.() ?? {})));
  app.route("/", messageRoutes(core));
  for (const f of features) f.routes?.(app);
  return app;
}
