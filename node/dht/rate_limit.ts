/**
 * A penalty box for misbehaving peers, with bounded memory. (Request budgets are the node's
 * one token-bucket limiter, `node/rate_limit.ts`.)
 *
 * @module
 */

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
