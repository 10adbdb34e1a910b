/**
 * The node's one rate limiter: a token bucket per key, in a bounded map.
 *
 * Each key has a bucket of `burst` tokens that refills at `ratePerSecond`; an action takes `n`
 * tokens or is refused, and {@linkcode RateLimiter.retryAfterSeconds} says when it would
 * succeed. At most `maxKeys` buckets are kept; the least recently used is forgotten first (a
 * forgotten key starts again with a full bucket, so the bound can only make the limiter more
 * lenient, never wrong about a key it remembers).
 *
 * Keys are client addresses by default (`keys: "address"`): an IPv6 address counts by its
 * /64 (one subscriber's prefix, so a client cannot dodge its budget by hopping addresses
 * inside it), an IPv4-mapped IPv6 address as its IPv4 address, and the result is replaced by
 * SHA-256 of a random 32-byte salt (drawn at construction, never stored) followed by the
 * address, so the map never holds an address. (A salted hash rather than an HMAC: the digests
 * never leave the process, and it costs a quarter of the time, about 2 µs here.) Keys that are public identifiers (DHT node ids) are used as given
 * (`keys: "exact"`).
 *
 * @example
 * ```ts
 * const signups = new RateLimiter({ ratePerSecond: 10 / 3600, burst: 10 });
 * if (!signups.take(remoteAddr)) {
 *   throw new HttpError(429, "Too many signups", {
 *     headers: { "retry-after": String(signups.retryAfterSeconds(remoteAddr)) },
 *   });
 * }
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import { defaultRandomBytes, type RandomBytes } from "../client/mod.ts";

/** Buckets kept at most when `maxKeys` is not given. */
export const DEFAULT_MAX_KEYS = 100_000;

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket size: the most tokens a key can save up (its burst). */
  burst: number;
  /** Most keys tracked; the least recently used are forgotten first. */
  maxKeys?: number;
  /**
   * `"address"` (default): keys are client addresses, grouped by {@linkcode addressKey} and
   * stored only as salted digests. `"exact"`: keys are used as given.
   */
  keys?: "address" | "exact";
  /** Clock in milliseconds (default `Date.now`); every method also takes an explicit time. */
  now?: () => number;
  /** Randomness for the salt. */
  randomBytes?: RandomBytes;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

// An IPv6 address: hex groups with at most one "::", optionally ending in an IPv4 address and
// a zone ("%eth0"), optionally in brackets.
const IPV6 = /^\[?([0-9a-fA-F:]+?)(?::(\d{1,3}(?:\.\d{1,3}){3}))?(?:%[\w.-]+)?\]?$/;

/**
 * The part of an address that identifies one client: an IPv4 address whole, an IPv6 address by
 * its /64 (written `2001:db8:0:1::/64`), an IPv4-mapped IPv6 address (`::ffff:192.0.2.7`) as
 * its IPv4 address. Anything else (host names, test transports' labels) is returned unchanged.
 *
 * @example
 * ```ts
 * addressKey("2001:db8:0:1:aaaa::1"); // "2001:db8:0:1::/64"
 * addressKey("192.0.2.7"); // "192.0.2.7"
 * ```
 */
export function addressKey(address: string): string {
  const m = IPV6.exec(address);
  if (m === null || !address.includes(":")) return address;
  let text = m[1]!;
  const v4 = m[2];
  // An IPv4 tail ("::ffff:192.0.2.7") stands for the last two groups.
  if (v4 !== undefined) text += ":0:0";
  const halves = text.split("::");
  if (halves.length > 2) return address;
  const left = halves[0] === "" ? [] : halves[0]!.split(":");
  const right = halves.length === 1 || halves[1] === "" ? [] : halves[1]!.split(":");
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return address;
  const groups = [...left, ...Array<string>(halves.length === 1 ? 0 : missing).fill("0"), ...right];
  if (groups.some((g) => g.length === 0 || g.length > 4)) return address;
  const norm = groups.map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""));
  if (v4 !== undefined && norm.slice(0, 6).join(":") === "0:0:0:0:0:ffff") return v4;
  return norm.slice(0, 4).join(":") + "::/64";
}

/**
 * Returns a function that maps an address to the key it is counted under: its
 * {@linkcode addressKey} group, hashed with a fresh random salt (22 base64url characters).
 *
 * @example
 * ```ts
 * const keyOf = saltedAddressKey();
 * keyOf("2001:db8::1") === keyOf("2001:db8::2"); // true: the same /64
 * ```
 */
export function saltedAddressKey(
  randomBytes: RandomBytes = defaultRandomBytes,
): (address: string) => string {
  const salt = randomBytes(32);
  // Keys of recent addresses, since a client sends many requests: the digest costs about 2 µs,
  // the lookup 0.02 µs. Bounded; cleared whole when full.
  const recent = new Map<string, string>();
  return (address) => {
    let key = recent.get(address);
    if (key === undefined) {
      key = createHash("sha256").update(salt).update(addressKey(address)).digest("base64url")
        .slice(0, 22);
      if (recent.size >= RECENT_KEYS) recent.clear();
      recent.set(address, key);
    }
    return key;
  };
}

/** Addresses whose keys {@linkcode saltedAddressKey} remembers. */
const RECENT_KEYS = 4096;

/**
 * Token buckets per key (see the module documentation).
 *
 * @example
 * ```ts
 * const peers = new RateLimiter({ ratePerSecond: 100, burst: 200, keys: "exact" });
 * if (!peers.take(peerId, 1, Date.now())) return 429;
 * ```
 */
export class RateLimiter {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Bucket size. */
  readonly burst: number;
  /** Most keys tracked. */
  readonly maxKeys: number;
  readonly #keyOf: ((address: string) => string) | undefined;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: RateLimiterOptions) {
    if (!(opts.ratePerSecond >= 0) || !Number.isFinite(opts.ratePerSecond)) {
      throw new RangeError(
        `ratePerSecond: expected a non-negative number, got ${opts.ratePerSecond}`,
      );
    }
    if (!(opts.burst >= 1) || !Number.isFinite(opts.burst)) {
      throw new RangeError(`burst: expected a number >= 1, got ${opts.burst}`);
    }
    this.ratePerSecond = opts.ratePerSecond;
    this.burst = opts.burst;
    this.maxKeys = opts.maxKeys ?? DEFAULT_MAX_KEYS;
    this.#keyOf = (opts.keys ?? "address") === "address"
      ? saltedAddressKey(opts.randomBytes)
      : undefined;
    this.#now = opts.now ?? Date.now;
  }

  /** Keys tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** What `key` is tracked under: the salted digest of its address group, or `key` itself. */
  digest(key: string): string {
    return this.#keyOf === undefined ? key : this.#keyOf(key);
  }

  /** The bucket's tokens at `nowMs` (refilled, not stored). */
  #level(b: Bucket | undefined, nowMs: number): number {
    if (b === undefined) return this.burst;
    return Math.min(
      this.burst,
      b.tokens + (Math.max(0, nowMs - b.atMs) / 1000) * this.ratePerSecond,
    );
  }

  #store(digest: string, tokens: number, nowMs: number): void {
    this.#buckets.delete(digest);
    this.#buckets.set(digest, { tokens, atMs: nowMs });
    if (this.#buckets.size > this.maxKeys) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
  }

  /** Takes `n` tokens for `key`; false (and nothing taken) when it has fewer. */
  take(key: string, n = 1, nowMs: number = this.#now()): boolean {
    const d = this.digest(key);
    const tokens = this.#level(this.#buckets.get(d), nowMs);
    const ok = tokens >= n;
    this.#store(d, ok ? tokens - n : tokens, nowMs);
    return ok;
  }

  /** Whole seconds until `key` can take `n` tokens (0 when it can now). */
  retryAfterSeconds(key: string, n = 1, nowMs: number = this.#now()): number {
    const tokens = this.#level(this.#buckets.get(this.digest(key)), nowMs);
    if (tokens >= n) return 0;
    if (this.ratePerSecond === 0 || n > this.burst) return Infinity;
    return Math.max(1, Math.ceil((n - tokens) / this.ratePerSecond));
  }

  /** Tokens `key` has used and not yet got back (0 for a full bucket). */
  used(key: string, nowMs: number = this.#now()): number {
    return this.burst - this.#level(this.#buckets.get(this.digest(key)), nowMs);
  }

  /** Gives `n` tokens back to `key` (up to a full bucket). */
  refund(key: string, n: number, nowMs: number = this.#now()): void {
    const d = this.digest(key);
    const b = this.#buckets.get(d);
    if (b === undefined) return;
    this.#store(d, Math.min(this.burst, this.#level(b, nowMs) + n), nowMs);
  }

  /** Forgets `key`: it starts again with a full bucket. */
  forget(key: string): void {
    this.#buckets.delete(this.digest(key));
  }
}
