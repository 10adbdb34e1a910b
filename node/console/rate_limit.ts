/**
 * Login rate limiting: each client address (an IPv6 address by its /64) may make
 * `maxAttempts` login attempts per window, and all clients together ten times that (so many
 * addresses cannot guess at full speed either). Both budgets are the node's one
 * {@linkcode RateLimiter} (token buckets refilling `maxAttempts` per window). An attempt counts
 * when it starts; a successful login gives its address's attempts back.
 *
 * @module
 */
import { RateLimiter } from "../rate_limit.ts";

/** Options for {@linkcode LoginLimiter}. */
export interface LoginLimiterOptions {
  /** Attempts allowed per address per window (also the burst). */
  maxAttempts: number;
  /** Window length in ms (default 15 minutes). */
  windowMs?: number;
  /** Most addresses tracked; the least recently seen are forgotten first (default 10000). */
  maxClients?: number;
  /** Clock (Unix ms). */
  now?: () => number;
}

/** Outcome of {@linkcode LoginLimiter.attempt}. */
export type LimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const ALL = "all";

/** Login attempts per client and in total. */
export class LoginLimiter {
  readonly #clients: RateLimiter;
  readonly #global: RateLimiter;

  constructor(opts: LoginLimiterOptions) {
    if (!Number.isSafeInteger(opts.maxAttempts) || opts.maxAttempts < 1) {
      throw new RangeError(`maxAttempts: expected a positive integer, got ${opts.maxAttempts}`);
    }
    const windowSeconds = (opts.windowMs ?? 15 * 60_000) / 1000;
    const now = opts.now ?? Date.now;
    this.#clients = new RateLimiter({
      ratePerSecond: opts.maxAttempts / windowSeconds,
      burst: opts.maxAttempts,
      maxKeys: opts.maxClients ?? 10_000,
      now,
    });
    this.#global = new RateLimiter({
      ratePerSecond: (opts.maxAttempts * 10) / windowSeconds,
      burst: opts.maxAttempts * 10,
      maxKeys: 1,
      keys: "exact",
      now,
    });
  }

  /** Records an attempt by `client` if it is allowed. */
  attempt(client: string): LimitDecision {
    for (const [limiter, key] of [[this.#clients, client], [this.#global, ALL]] as const) {
      const wait = limiter.retryAfterSeconds(key);
      if (wait > 0) return { allowed: false, retryAfterSeconds: wait };
    }
    this.#clients.take(client);
    this.#global.take(ALL);
    return { allowed: true };
  }

  /** Gives `client`'s attempts back after it logged in. */
  succeeded(client: string): void {
    const used = this.#clients.used(client);
    this.#clients.forget(client);
    this.#global.refund(ALL, used);
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.#clients.size;
  }
}
