/**
 * The spent-token set. A redemption is decided by inserting the token's nonce into the message
 * store's `spent_nonces`, whose primary key makes the insert succeed exactly once. A POST pays
 * in its message's own transaction (`NewMessage.spend`: one commit for both); other redemptions
 * arriving while a commit is in flight are grouped into the next insert (one fsync for many
 * tokens). An in-memory set of recent nonces refuses an obvious replay without touching the
 * database, and keeps two concurrent redemptions of one token out of the same batch.
 *
 * @module
 */
import { toHex } from "../../client/mod.ts";
import type { Store } from "../store/mod.ts";

/** Where spent nonces are kept: the message store. */
export type SpentNonces = Pick<Store, "insertSpent" | "deleteExpiredSpent" | "spentCount">;

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
  #store: SpentNonces;
  #maxBatch: number;
  #maxMemory: number;
  #memory = new Set<string>();
  #queue: PendingSpend[] = [];
  #flushing = false;
  /** Redemptions refused by the in-memory set. */
  memoryHits = 0;
  /** Inserts issued. */
  commits = 0;

  constructor(store: SpentNonces, opts: SpentSetOptions = {}) {
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
    if (!this.#claim(key)) return Promise.resolve(false);
    const { promise, resolve, reject } = Promise.withResolvers<boolean>();
    this.#queue.push({ nonce, key, expiresAt, resolve, reject });
    if (!this.#flushing) this.#flush();
    return promise;
  }

  /**
   * Claims `nonce` for a spend that rides in a message's commit: false when it is known spent
   * (in memory). The commit decides; call {@linkcode release} when it failed.
   */
  claim(nonce: Uint8Array): boolean {
    return this.#claim(toHex(nonce));
  }

  #claim(key: string): boolean {
    if (this.#memory.has(key)) {
      this.memoryHits++;
      return false;
    }
    this.#remember(key);
    return true;
  }

  /** Forgets a claim whose commit failed (nothing was recorded), so the token can be retried. */
  release(nonce: Uint8Array): void {
    this.#memory.delete(toHex(nonce));
  }

  /** Number of spent nonces kept (in the database). */
  count(): Promise<number> {
    return this.#store.spentCount();
  }

  /** Deletes the nonces whose key has expired; returns how many. */
  sweep(now: number): Promise<number> {
    return this.#store.deleteExpiredSpent(now);
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
