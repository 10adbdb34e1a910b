/**
 * Limits that apply to every message and may change while the node runs: the longest TTL, the
 * default TTL and the largest payload. They start from the configuration; the operator's saved
 * pricing (the fees feature) may change them. Readers ask at the time of each request, so a
 * change applies to the next POST, and nobody writes into the configuration.
 *
 * @module
 */

/** The limits in force. */
export interface LimitValues {
  maxTtlSeconds: number;
  defaultTtlSeconds: number;
  maxPayloadBytes: number;
}

/**
 * The node's runtime limits.
 *
 * @example
 * ```ts
 * const limits = new RuntimeLimits({ maxTtlSeconds: 604800, defaultTtlSeconds: 86400, maxPayloadBytes: 65536 });
 * limits.set({ maxTtlSeconds: 3600 });
 * limits.current.defaultTtlSeconds; // 3600: never above the maximum
 * ```
 */
export class RuntimeLimits {
  #start: LimitValues;
  #now: LimitValues;
  #listeners: ((v: LimitValues) => void)[] = [];

  constructor(start: LimitValues) {
    this.#start = { ...start };
    this.#now = { ...start };
  }

  /** The values in force now. */
  get current(): Readonly<LimitValues> {
    return this.#now;
  }

  /**
   * Changes the limits. The payload limit never rises above its start-up value (the body reader
   * of `POST /v1/messages` is sized at start); the default TTL follows a lower maximum down.
   */
  set(update: { maxTtlSeconds?: number; maxPayloadBytes?: number }): void {
    const maxTtlSeconds = update.maxTtlSeconds ?? this.#now.maxTtlSeconds;
    const maxPayloadBytes = Math.min(
      update.maxPayloadBytes ?? this.#now.maxPayloadBytes,
      this.#start.maxPayloadBytes,
    );
    if (!(maxTtlSeconds >= 1) || !(maxPayloadBytes >= 1)) {
      throw new RangeError(
        `Cannot set limits: expected positive values, got ttl ${maxTtlSeconds}, payload ${maxPayloadBytes}`,
      );
    }
    this.#now = {
      maxTtlSeconds,
      maxPayloadBytes,
      defaultTtlSeconds: Math.min(this.#start.defaultTtlSeconds, maxTtlSeconds),
    };
    for (const l of this.#listeners) l(this.#now);
  }

  /** Calls `listener` after every change. */
  onChange(listener: (v: LimitValues) => void): void {
    this.#listeners.push(listener);
  }
}
