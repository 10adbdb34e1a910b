/**
 * Login rate limiting: each client address may make `maxAttempts` unsuccessful login attempts
 * per window, and all clients together ten times that (so many addresses cannot guess at full
 * speed either). An attempt counts when it starts; a successful login clears its address.
 * The table of addresses is bounded.
 *
 * @module
 */

/** Options for {@linkcode LoginLimiter}. */
export interface LoginLimiterOptions {
  /** Attempts allowed per address per window. */
  maxAttempts: number;
  /** Window length in ms (default 15 minutes). */
  windowMs?: number;
  /** Most addresses tracked; the oldest are forgotten first (default 10000). */
  maxClients?: number;
  /** Clock (Unix ms). */
  now?: () => number;
}

/** Outcome of {@linkcode LoginLimiter.attempt}. */
export type LimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Window {
  start: number;
  count: number;
}

/** Fixed-window counter of login attempts per client and in total. */
export class LoginLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxClients: number;
  readonly #now: () => number;
  #clients = new Map<string, Window>();
  #global: Window = { start: 0, count: 0 };

  constructor(opts: LoginLimiterOptions) {
    if (!Number.isSafeInteger(opts.maxAttempts) || opts.maxAttempts < 1) {
      throw new RangeError(`maxAttempts: expected a positive integer, got ${opts.maxAttempts}`);
    }
    this.#max = opts.maxAttempts;
    this.#windowMs = opts.windowMs ?? 15 * 60_000;
    this.#maxClients = opts.maxClients ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Records an attempt by `client` if it is allowed. */
  attempt(client: string): LimitDecision {
    const now = this.#now();
    if (now - this.#global.start >= this.#windowMs) this.#global = { start: now, count: 0 };
    let w = this.#clients.get(client);
    if (w !== undefined && now - w.start >= this.#windowMs) {
      this.#clients.delete(client);
      w = undefined;
    }
    const refuse = (win: Window): LimitDecision => ({
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((win.start + this.#windowMs - now) / 1000)),
    });
    if (w !== undefined && w.count >= this.#max) return refuse(w);
    if (this.#global.count >= this.#max * 10) return refuse(this.#global);
    if (w === undefined) {
      if (this.#clients.size >= this.#maxClients) {
        this.#clients.delete(this.#clients.keys().next().value!);
      }
      w = { start: now, count: 0 };
      this.#clients.set(client, w);
    }
    w.count++;
    this.#global.count++;
    return { allowed: true };
  }

  /** Forgets `client`'s attempts after it logged in. */
  succeeded(client: string): void {
    const w = this.#clients.get(client);
    if (w === undefined) return;
    this.#global.count = Math.max(0, this.#global.count - w.count);
    this.#clients.delete(client);
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.#clients.size;
  }
}
