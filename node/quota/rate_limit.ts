/**
 * Signup rate limiting per client address: the node's one {@linkcode RateLimiter} configured
 * as "`perHour` attempts per hour, `perHour` at once", keyed by address (an IPv6 address by
 * its /64) and storing only salted digests of addresses.
 *
 * @module
 */
import type { RandomBytes } from "../../client/mod.ts";
import { RateLimiter } from "../rate_limit.ts";

export { addressKey } from "../rate_limit.ts";

/** Options for {@linkcode AddressRateLimiter}. */
export interface AddressRateLimiterOptions {
  /** Attempts allowed per hour per address (also the burst). */
  perHour: number;
  /** Most addresses tracked; the least recently seen are dropped past it. */
  maxKeys?: number;
  now?: () => number;
  randomBytes?: RandomBytes;
}

/**
 * A token bucket per (hashed) client address, refilling `perHour` attempts per hour.
 *
 * @example
 * ```ts
 * const limiter = new AddressRateLimiter({ perHour: 10 });
 * if (!limiter.take(remoteAddr)) throw new HttpError(429, "Too many signups");
 * ```
 */
export class AddressRateLimiter extends RateLimiter {
  constructor(opts: AddressRateLimiterOptions) {
    super({
      ratePerSecond: opts.perHour / 3600,
      burst: opts.perHour,
      keys: "address",
      ...(opts.maxKeys !== undefined ? { maxKeys: opts.maxKeys } : {}),
      ...(opts.now !== undefined ? { now: opts.now } : {}),
      ...(opts.randomBytes !== undefined ? { randomBytes: opts.randomBytes } : {}),
    });
  }

  /** Takes one attempt for `address` (an unknown address counts as one client). */
  override take(address: string | undefined, n?: number, nowMs?: number): boolean {
    return super.take(address ?? "unknown", n, nowMs);
  }

  /** Seconds until `address` may try again (0 when it may now). */
  override retryAfterSeconds(address: string | undefined, n?: number, nowMs?: number): number {
    return super.retryAfterSeconds(address ?? "unknown", n, nowMs);
  }
}
