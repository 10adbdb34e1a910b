/**
 * The long-poll monitor: requests waiting for messages under a tag prefix register here and are
 * woken as soon as a matching message is committed (locally or learned from a peer). The number
 * of waiters is bounded.
 *
 * @module
 */
import { tag32 } from "./wire.ts";

interface Waiter {
  lo32: number;
  hi32: number;
  wake: () => void;
}

/** A registration returned by {@linkcode Hub.register}. */
export interface Wait {
  /** Resolves when a matching message arrives, the timeout passes or the signal aborts. */
  done: Promise<void>;
  /** True once a matching message woke this waiter. */
  readonly woken: boolean;
  /** Unregisters (idempotent). */
  cancel(): void;
}

/** Wakes long polls whose prefix range matches newly committed tags. */
export class Hub {
  readonly maxWaiters: number;
  #waiters = new Set<Waiter>();
  constructor(maxWaiters: number) {
    this.maxWaiters = maxWaiters;
  }

  /** Number of waiting requests. */
  get size(): number {
    return this.#waiters.size;
  }

  /** True when another waiter would exceed the bound. */
  get full(): boolean {
    return this.#waiters.size >= this.maxWaiters;
  }

  /**
   * Registers a waiter for tags whose first 32 bits lie in `[lo32, hi32]`. Register before
   * querying the store so that a commit between the query and the wait is not missed.
   */
  register(lo32: number, hi32: number, timeoutMs: number, signal?: AbortSignal): Wait {
    let woken = false;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const waiter: Waiter = {
      lo32,
      hi32,
      wake: () => {
        woken = true;
        finish();
      },
    };
    const timer = setTimeout(() => finish(), timeoutMs);
    const onAbort = () => finish();
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      this.#waiters.delete(waiter);
      resolve();
    };
    signal?.addEventListener("abort", onAbort);
    this.#waiters.add(waiter);
    return {
      done,
      get woken() {
        return woken;
      },
      cancel: finish,
    };
  }

  /** Wakes every waiter whose range contains one of `tags`. */
  notify(tags: readonly Uint8Array[]): void {
    if (this.#waiters.size === 0 || tags.length === 0) return;
    const sorted = Uint32Array.from(tags, tag32).sort();
    for (const w of [...this.#waiters]) {
      // Smallest tag >= lo32; a match if it is also <= hi32.
      let a = 0, b = sorted.length;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (sorted[mid]! < w.lo32) a = mid + 1;
        else b = mid;
      }
      if (a < sorted.length && sorted[a]! <= w.hi32) w.wake();
    }
  }

  /** True when a waiting long poll's range contains `tag` (federation prefetches its body). */
  wants(tag: Uint8Array): boolean {
    const t = tag32(tag);
    for (const w of this.#waiters) if (t >= w.lo32 && t <= w.hi32) return true;
    return false;
  }

  /** Wakes everyone (shutdown). */
  wakeAll(): void {
    for (const w of [...this.#waiters]) w.wake();
  }
}
