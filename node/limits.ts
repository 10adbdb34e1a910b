/**
 * Per-client request rate limits and caps on requests in flight. The rate limit is the node's
 * one {@linkcode RateLimiter}: clients are counted by address (an IPv6 address by its /64)
 * under a salted digest; the salt is random per process and no address is kept.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { HttpError } from "./errors.ts";
import { RateLimiter, saltedAddressKey } from "./rate_limit.ts";

/** Most client keys remembered at once (least recently seen forgotten first). */
export const MAX_TRACKED_CLIENTS = 100_000;

/** Options for {@linkcode clientLimits}. */
export interface ClientLimitsOptions {
  /** Sustained requests per second per client. */
  ratePerSecond: number;
  /** Burst size per client. */
  burst: number;
  /** Requests in flight per client. */
  maxPerClient: number;
  /** Requests in flight overall. */
  maxTotal: number;
  /** Reads the client's address from the request context; `undefined` for in-process calls. */
  address: (c: Parameters<MiddlewareHandler>[0]) => string | undefined;
  /** Clock (ms). */
  now?: () => number;
}

/** Counters the limiter exposes for metrics. */
export interface LimitStats {
  rateLimited: number;
  overCapacity: number;
  inFlight: number;
}

/**
 * Middleware: token-bucket rate limit and in-flight caps per client address (429 / 503 with
 * `Retry-After`).
 */
export function clientLimits(opts: ClientLimitsOptions): MiddlewareHandler & { stats: LimitStats } {
  // One salted digest per request keys both the bucket and the in-flight count.
  const keyOf = saltedAddressKey();
  const rate = new RateLimiter({
    ratePerSecond: opts.ratePerSecond,
    burst: opts.burst,
    maxKeys: MAX_TRACKED_CLIENTS,
    keys: "exact",
    now: opts.now ?? (() => performance.now()),
  });
  // Requests in flight per client digest; only clients with some are present, so the map is
  // bounded by `maxTotal`.
  const inFlight = new Map<string, number>();
  const stats: LimitStats = { rateLimited: 0, overCapacity: 0, inFlight: 0 };
  const handler: MiddlewareHandler = async function clientLimits(c, next) {
    const address = opts.address(c);
    if (address === undefined) return await next();
    if (stats.inFlight >= opts.maxTotal) {
      stats.overCapacity++;
      throw new HttpError(503, "The node is at its connection limit; retry shortly", {
        headers: { "retry-after": "1" },
      });
    }
    const key = keyOf(address);
    const wait = rate.retryAfterSeconds(key);
    if (wait > 0) {
      stats.rateLimited++;
      throw new HttpError(429, "Too many requests from this client; slow down", {
        headers: { "retry-after": String(wait) },
      });
    }
    const open = inFlight.get(key) ?? 0;
    if (open >= opts.maxPerClient) {
      stats.overCapacity++;
      throw new HttpError(429, "Too many open requests from this client", {
        headers: { "retry-after": "1" },
      });
    }
    rate.take(key);
    inFlight.set(key, open + 1);
    stats.inFlight++;
    try {
      await next();
    } finally {
      const left = (inFlight.get(key) ?? 1) - 1;
      if (left === 0) inFlight.delete(key);
      else inFlight.set(key, left);
      stats.inFlight--;
    }
  };
  return Object.assign(handler, { stats });
}
