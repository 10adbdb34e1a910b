/**
 * Signup rate limiting per client address without keeping addresses: each address (an IPv6
 * address by its /64) is replaced by an HMAC under a random salt drawn at start and never
 * stored, and only that digest keys a token bucket in a bounded in-memory map.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import { defaultRandomBytes, type RandomBytes } from "../../client/mod.ts";

/** Options for {@linkcode AddressRateLimiter}. */
export interface AddressRateLimiterOptions {
  /** Attempts allowed per hour per address (also the burst). */
  perHour: number;
  /** Most addresses tracked; the least recently seen are dropped past it. */
  maxKeys?: number;
  now?: () => number;
  randomBytes?: RandomBytes;
}

/** The part of an address that identifies a client: IPv4 whole, IPv6 by its /64. */
export function addressKey(address: string): string {
  if (!address.includes(":")) return address;
  const [head, tail] = address.split("::") as [string, string | undefined];
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined
    ? left
    : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, "")).join(":") + "::/64";
}

/**
 * A token bucket per (hashed) client address.
 *
 * @example
 * ```ts
 * const limiter = new AddressRateLimiter({ perHour: 10 });
 * if (!limiter.take(remoteAddr)) throw new HttpError(429, "Too many signups");
 * ```
 */
export class AddressRateLimiter {
  #salt: Uint8Array;
  #perMs: number;
  #burst: number;
  #max: number;
  #now: () => number;
  #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(opts: AddressRateLimiterOptions) {
    this.#salt = (opts.randomBytes ?? defaultRandomBytes)(32);
    this.#perMs = opts.perHour / 3_600_000;
    this.#burst = opts.perHour;
    this.#max = opts.maxKeys ?? 100_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Addresses tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** The salted digest an address is tracked under. */
  digest(address: string): string {
    return createHmac("sha256", this.#salt).update(addressKey(address)).digest("base64url")
      .slice(0, 22);
  }

  /** Takes one attempt for `address`; false when its budget is spent. */
  take(address: string | undefined): boolean {
    const key = this.digest(address ?? "unknown");
    const now = this.#now();
    const b = this.#buckets.get(key);
    let tokens = b === undefined
      ? this.#burst
      : Math.min(this.#burst, b.tokens + (now - b.at) * this.#perMs);
    this.#buckets.delete(key);
    if (tokens < 1) {
      this.#buckets.set(key, { tokens, at: now });
      return false;
    }
    tokens -= 1;
    this.#buckets.set(key, { tokens, at: now });
    if (this.#buckets.size > this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
    return true;
  }

  /** Seconds until `address` may try again (0 when it may now). */
  retryAfterSeconds(address: string | undefined): number {
    const b = this.#buckets.get(this.digest(address ?? "unknown"));
    if (b === undefined) return 0;
    const tokens = Math.min(this.#burst, b.tokens + (this.#now() - b.at) * this.#perMs);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.#perMs / 1000);
  }
}
