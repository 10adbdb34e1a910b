/**
 * Per-peer token buckets and a penalty box, with bounded memory.
 *
 * @module
 */

/**
 * Token buckets keyed by peer (id or address). Holds at most `maxKeys` buckets; the least
 * recently used is forgotten first (a forgotten peer starts again with a full bucket).
 *
 * @example
 * ```ts
 * const limits = new RateLimiter({ ratePerSecond: 100, burst: 200, maxKeys: 10_000 });
 * if (!limits.take(peerId, 1, Date.now())) return 429;
 * ```
 */
export class RateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly maxKeys: number;
  #buckets = new Map<string, { tokens: number; atMs: number }>();

  /** A limiter refilling `ratePerSecond` tokens up to `burst`. */
  constructor(opts: { ratePerSecond: number; burst: number; maxKeys?: number }) {
    this.ratePerSecond = opts.ratePerSecond;
    this.burst = opts.burst;
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  /** Takes `n` tokens for `key`; false (and nothing taken) if it has fewer. */
  take(key: string, n: number, nowMs: number): boolean {
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.burst, atMs: nowMs };
      if (this.#buckets.size >= this.maxKeys) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
    } else {
      this.#buckets.delete(key);
      b.tokens = Math.min(
        this.burst,
        b.tokens + (Math.max(0, nowMs - b.atMs) / 1000) * this.ratePerSecond,
      );
      b.atMs = nowMs;
    }
    this.#buckets.set(key, b);
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  }
}

/**
 * Counts misbehaviour (bad signatures, malformed requests) per peer and bans a peer for
 * `banMs` once it reaches `maxStrikes` within `windowMs`.
 *
 * @example
 * ```ts
 * const box = new PenaltyBox({ maxStrikes: 3, windowMs: 60_000, banMs: 600_000 });
 * box.strike(peerId, now);
 * box.isBanned(peerId, now);
 * ```
 */
export class PenaltyBox {
  readonly maxStrikes: number;
  readonly windowMs: number;
  readonly banMs: number;
  readonly maxKeys: number;
  #strikes = new Map<string, { count: number; sinceMs: number; bannedUntilMs: number }>();

  /** A penalty box. */
  constructor(opts: { maxStrikes: number; windowMs: number; banMs: number; maxKeys?: number }) {
    this.maxStrikes = opts.maxStrikes;
    this.windowMs = opts.windowMs;
    this.banMs = opts.banMs;
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  /** Records `n` strikes; returns true if the peer is now banned. */
  strike(key: string, nowMs: number, n = 1): boolean {
    let s = this.#strikes.get(key);
    if (s === undefined || nowMs - s.sinceMs > this.windowMs) {
      s = { count: 0, sinceMs: nowMs, bannedUntilMs: s?.bannedUntilMs ?? 0 };
      if (this.#strikes.size >= this.maxKeys) {
        this.#strikes.delete(this.#strikes.keys().next().value!);
      }
    }
    this.#strikes.delete(key);
    s.count += n;
    if (s.count >= this.maxStrikes) s.bannedUntilMs = nowMs + this.banMs;
    this.#strikes.set(key, s);
    return s.bannedUntilMs > nowMs;
  }

  /** Whether `key` is banned at `nowMs`. */
  isBanned(key: string, nowMs: number): boolean {
    const s = this.#strikes.get(key);
    return s !== undefined && s.bannedUntilMs > nowMs;
  }
}
