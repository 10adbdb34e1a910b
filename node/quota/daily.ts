/**
 * Per-day totals of "since start" counters (tokens issued and redeemed): each tick adds the
 * counters' growth to today's (UTC) bucket, so the totals survive restarts and the Quotas page
 * can chart the last days. Persisted as one JSON setting; a bounded number of days is kept.
 *
 * @module
 */

/** Per-day totals: day (`YYYY-MM-DD`) → counter name → total. */
export type DailyTotals = Record<string, Record<string, number>>;

/** Where totals are persisted. */
export interface DailyStore {
  getSetting<T>(name: string): Promise<T | undefined>;
  setSetting(name: string, value: unknown, now: number): Promise<void>;
  /**
   * Read-modify-write under a lock, for several processes sharing the setting (PostgreSQL): then
   * each save adds this process's growth to the saved totals instead of replacing them.
   */
  updateSetting?<T>(
    name: string,
    fn: (value: T | undefined) => Promise<T | undefined>,
  ): Promise<void>;
}

/** Options for {@linkcode DailyTally}. */
export interface DailyTallyOptions {
  /** Setting name. */
  name: string;
  store: DailyStore;
  /** Days kept (default 60). */
  keepDays?: number;
  now?: () => number;
}

/** `YYYY-MM-DD` (UTC) of Unix ms. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Tallies counters by UTC day. */
export class DailyTally {
  readonly #opts: DailyTallyOptions;
  readonly #now: () => number;
  #totals: DailyTotals = {};
  #last = new Map<string, number>();
  #readers = new Map<string, () => number>();
  #dirty = false;
  /** Growth not yet saved (only used with {@linkcode DailyStore.updateSetting}). */
  #unsaved: DailyTotals = {};

  constructor(opts: DailyTallyOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Loads the persisted totals. */
  async load(): Promise<void> {
    this.#totals = (await this.#opts.store.getSetting<DailyTotals>(this.#opts.name)) ?? {};
  }

  /** Tracks counter `name`; its value at this moment is the baseline. */
  track(name: string, read: () => number): void {
    this.#readers.set(name, read);
    this.#last.set(name, read());
  }

  /** True when at least one counter is tracked. */
  get tracking(): boolean {
    return this.#readers.size > 0;
  }

  /** Adds each counter's growth since the last tick to today. */
  tick(): void {
    const day = utcDay(this.#now());
    for (const [name, read] of this.#readers) {
      const v = read();
      const last = this.#last.get(name) ?? 0;
      const delta = v >= last ? v - last : v; // below the last value: the counter was reset
      this.#last.set(name, v);
      if (delta === 0) continue;
      const bucket = this.#totals[day] ??= {};
      bucket[name] = (bucket[name] ?? 0) + delta;
      const unsaved = this.#unsaved[day] ??= {};
      unsaved[name] = (unsaved[name] ?? 0) + delta;
      this.#dirty = true;
    }
  }

  /** Persists the totals if they changed, dropping days past `keepDays`. */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    const keep = this.#opts.keepDays ?? 60;
    const prune = (t: DailyTotals) => {
      const days = Object.keys(t).sort();
      for (const d of days.slice(0, Math.max(0, days.length - keep))) delete t[d];
      return t;
    };
    const store = this.#opts.store;
    if (store.updateSetting === undefined) {
      this.#unsaved = {};
      await store.setSetting(this.#opts.name, prune(this.#totals), this.#now());
      return;
    }
    const growth = this.#unsaved;
    this.#unsaved = {};
    try {
      await store.updateSetting<DailyTotals>(this.#opts.name, (saved) => {
        const merged = addTotals(structuredClone(saved ?? {}), growth);
        this.#totals = prune(merged);
        return Promise.resolve(this.#totals);
      });
    } catch (err) {
      // Not saved: keep the growth for the next save.
      this.#unsaved = addTotals(this.#unsaved, growth);
      this.#dirty = true;
      throw err;
    }
  }

  /** The last `days` days (oldest first, today last), zero-filled. */
  lastDays(days: number): { day: string; totals: Record<string, number> }[] {
    const out: { day: string; totals: Record<string, number> }[] = [];
    const today = Date.parse(utcDay(this.#now()));
    for (let i = days - 1; i >= 0; i--) {
      const day = utcDay(today - i * 86_400_000);
      out.push({ day, totals: { ...this.#totals[day] } });
    }
    return out;
  }
}

function addTotals(into: DailyTotals, more: DailyTotals): DailyTotals {
  for (const [day, counters] of Object.entries(more)) {
    const bucket = into[day] ??= {};
    for (const [name, n] of Object.entries(counters)) bucket[name] = (bucket[name] ?? 0) + n;
  }
  return into;
}
