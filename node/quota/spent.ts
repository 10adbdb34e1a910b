/**
 * The spent-token set. A redemption is decided by inserting the token's nonce into
 * `quota_spent`, whose primary key makes the insert succeed exactly once; redemptions arriving
 * while a commit is in flight are grouped into the next single-statement insert (one fsync for
 * many tokens). An in-memory set of recent nonces refuses an obvious replay without touching the
 * database, and keeps two concurrent redemptions of one token out of the same batch.
 *
 * @module
 */
import { toHex } from "../../client/mod.ts";
import type { QuotaStore } from "./store.ts";

/** Options for {@linkcode SpentSet}. */
export interface SpentSetOptions {
  /** Most nonces one insert carries. */
  maxBatch?: number;
  /** Most nonces remembered in memory (oldest forgotten first; the database stays exact). */
  maxMemory?: number;
}

interface PendingSpend {
  nonce: Uint8Array;
  key: string;
  expiresAt: number;
  resolve: (fresh: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Records spent nonces.
 *
 * @example
 * ```ts
 * const spent = new SpentSet(quotaStore);
 * await spent.spend(nonce, keyExpiresAt); // true the first time, false after
 * ```
 */
export class SpentSet {
  #store: QuotaStore;
  #maxBatch: number;
  #maxMemory: number;
  #memory = new Set<string>();
  #queue: PendingSpend[] = [];
  #flushing = false;
  /** Redemptions refused by the in-memory set. */
  memoryHits = 0;
  /** Inserts issued. */
  commits = 0;

  constructor(store: QuotaStore, opts: SpentSetOptions = {}) {
    this.#store = store;
    this.#maxBatch = opts.maxBatch ?? 1000;
    this.#maxMemory = opts.maxMemory ?? 200_000;
  }

  /** Nonces remembered in memory. */
  get memorySize(): number {
    return this.#memory.size;
  }

  /**
   * Spends `nonce` (kept until `expiresAt`, Unix ms). Resolves true when this call spent it,
   * false when it was spent before.
   */
  spend(nonce: Uint8Array, expiresAt: number): Promise<boolean> {
    const key = toHex(nonce);
    if (this.#memory.has(key)) {
      this.memoryHits++;
      return Promise.resolve(false);
    }
    this.#remember(key);
    const { promise, resolve, reject } = Promise.withResolvers<boolean>();
    this.#queue.push({ nonce, key, expiresAt, resolve, reject });
    if (!this.#flushing) this.#flush();
    return promise;
  }

  #remember(key: string): void {
    this.#memory.add(key);
    if (this.#memory.size > this.#maxMemory) {
      this.#memory.delete(this.#memory.values().next().value!);
    }
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    // Let redemptions that arrive in the same tick join the first batch.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          this.commits++;
          const fresh = await this.#store.insertSpent(
            batch.map((p) => ({ nonce: p.nonce, expiresAt: p.expiresAt })),
          );
          // A nonce twice in one batch (possible once memory forgot it) is fresh only once.
          for (const p of batch) {
            const isFresh = fresh.has(p.key);
            if (isFresh) fresh.delete(p.key);
            p.resolve(isFresh);
          }
        } catch (err) {
          // Nothing was recorded: forget the nonces so the tokens can be tried again.
          for (const p of batch) {
            this.#memory.delete(p.key);
            p.reject(err);
          }
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** Forgets nonces from memory (e.g. after their keys expired and rows were swept). */
  clearMemory(): void {
    this.#memory.clear();
  }

  /** Waits until every queued nonce is committed. */
  async drain(): Promise<void> {
    while (this.#flushing || this.#queue.length > 0) {
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}
