/**
 * Clocks and timers passed into every DHT component, so that simulations can run a thousand
 * nodes in virtual time (no real waiting, deterministic ordering) through the same code as the
 * server.
 *
 * @module
 */
import { clearImmediate, setImmediate } from "node:timers";

/** An opaque timer handle. */
export type TimerId = number;

/** Wall clock in milliseconds plus one-shot timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch (virtual in simulations). */
  now(): number;
  /** Calls `fn` once after `delayMs`. */
  setTimeout(fn: () => void, delayMs: number): TimerId;
  /** Cancels a timer; unknown ids are ignored. */
  clearTimeout(id: TimerId): void;
}

/**
 * The real clock: `Date.now` and the runtime's timers.
 *
 * @example
 * ```ts
 * const t = systemClock.now();
 * ```
 */
export const systemClock: Clock = (() => {
  // A zero delay runs as an immediate (after pending I/O), not a clamped timer.
  const immediates = new Map<number, ReturnType<typeof setImmediate>>();
  let next = -1;
  return {
    now: () => Date.now(),
    setTimeout: (fn, delayMs) => {
      if (delayMs > 0) return setTimeout(fn, delayMs) as unknown as TimerId;
      const id = next--;
      immediates.set(
        id,
        setImmediate(() => {
          immediates.delete(id);
          fn();
        }),
      );
      return id;
    },
    clearTimeout: (id) => {
      if (id >= 0) return clearTimeout(id);
      const h = immediates.get(id);
      if (h !== undefined) clearImmediate(h);
      immediates.delete(id);
    },
  };
})();

interface VirtualTimer {
  id: TimerId;
  atMs: number;
  seq: number;
  fn: () => void;
}

/** Resolves after every queued microtask (and promise chain they start) has run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Virtual time for simulations: timers fire in order of their due time, and time jumps straight
 * to the next due timer once all pending promise work has settled.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock(0);
 * let fired = false;
 * clock.setTimeout(() => (fired = true), 1000);
 * await clock.runUntilIdle();
 * fired && clock.now() === 1000; // true
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #nextId = 1;
  #heap: VirtualTimer[] = [];
  #cancelled = new Set<TimerId>();

  /** Starts the clock at `startMs`. */
  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  /** Current virtual time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at now + delayMs (virtual). */
  setTimeout(fn: () => void, delayMs: number): TimerId {
    const id = this.#nextId++;
    this.#push({ id, atMs: this.#now + Math.max(0, Math.ceil(delayMs)), seq: this.#seq++, fn });
    return id;
  }

  /** Cancels a scheduled timer. */
  clearTimeout(id: TimerId): void {
    this.#cancelled.add(id);
  }

  /** Number of timers still scheduled (cancelled ones may be counted until they are popped). */
  get pendingTimers(): number {
    return this.#heap.length;
  }

  /**
   * Runs timers in order until none are left, virtual time passes `untilMs`, or `stop()` is
   * true. Between timers it lets all pending promise work finish.
   */
  async runUntilIdle(opts: { untilMs?: number; stop?: () => boolean } = {}): Promise<void> {
    const untilMs = opts.untilMs ?? Infinity;
    for (;;) {
      await settle();
      if (opts.stop?.()) return;
      const next = this.#peek();
      if (next === undefined) return;
      if (next.atMs > untilMs) {
        this.#now = untilMs;
        return;
      }
      // Fire every timer due at this instant, then let promise work settle once.
      if (next.atMs > this.#now) this.#now = next.atMs;
      for (;;) {
        const t = this.#peek();
        if (t === undefined || t.atMs > this.#now) break;
        this.#pop();
        t.fn();
      }
    }
  }

  /** Runs until `promise` settles (or the clock idles) and returns its value. */
  async run<T>(promise: Promise<T>): Promise<T> {
    let done = false;
    const p = promise.finally(() => (done = true));
    await this.runUntilIdle({ stop: () => done });
    return await p;
  }

  /** Advances virtual time by `ms`, firing due timers. */
  advance(ms: number): Promise<void> {
    return this.runUntilIdle({ untilMs: this.#now + ms });
  }

  #peek(): VirtualTimer | undefined {
    while (this.#heap.length > 0 && this.#cancelled.has(this.#heap[0]!.id)) {
      this.#cancelled.delete(this.#heap[0]!.id);
      this.#pop();
    }
    return this.#heap[0];
  }

  #less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  #push(t: VirtualTimer): void {
    const h = this.#heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): VirtualTimer | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Resolves after `ms` on `clock`.
 *
 * @example
 * ```ts
 * await sleep(systemClock, 10);
 * ```
 */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
