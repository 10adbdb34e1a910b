/**
 * Per-client request rate limits and caps on requests in flight. Clients are keyed by a salted
 * hash of their address; the salt is random per process and the key is never written anywhere.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { HttpError } from "./errors.ts";

/** Most client keys remembered at once (oldest forgotten first). */
export const MAX_TRACKED_CLIENTS = 100_000;

/** Derives the key a client is counted under. */
export type ClientKeyFn = (address: string) => string;

/** Returns a keying function with a fresh random salt. */
export function saltedClientKey(): ClientKeyFn {
  const salt = randomBytes(32);
  return (address) =>
    createHash("sha256").update(salt).update(address).digest("base64url").slice(0, 22);
}

interface Bucket {
  tokens: number;
  updatedMs: number;
  inFlight: number;
}

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
  /** Keying function (salted hash). */
  key?: ClientKeyFn;
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
  const buckets = new Map<string, Bucket>();
  const now = opts.now ?? (() => performance.now());
  const keyOf = opts.key ?? saltedClientKey();
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
    const t = now();
    let b = buckets.get(key);
    if (b === undefined) {
      if (buckets.size >= MAX_TRACKED_CLIENTS) {
        for (const [k, old] of buckets) {
          if (old.inFlight === 0) {
            buckets.delete(k);
            break;
          }
        }
      }
      b = { tokens: opts.burst, updatedMs: t, inFlight: 0 };
      buckets.set(key, b);
    } else {
      b.tokens = Math.min(opts.burst, b.tokens + ((t - b.updatedMs) / 1000) * opts.ratePerSecond);
      b.updatedMs = t;
    }
    if (b.tokens < 1) {
      stats.rateLimited++;
      const wait = Math.ceil((1 - b.tokens) / opts.ratePerSecond);
      throw new HttpError(429, "Too many requests from this client; slow down", {
        headers: { "retry-after": String(Math.max(1, wait)) },
      });
    }
    if (b.inFlight >= opts.maxPerClient) {
      stats.overCapacity++;
      throw new HttpError(429, "Too many open requests from this client", {
        headers: { "retry-after": "1" },
      });
    }
    b.tokens -= 1;
    b.inFlight++;
    stats.inFlight++;
    try {
      await next();
    } finally {
      b.inFlight--;
      stats.inFlight--;
    }
  };
  return Object.assign(handler, { stats });
}
