/**
 * The time series behind the console's charts: every `intervalMs` the sampler reads the
 * accepted/delivered counters, storage used and messages stored, turns counter deltas into
 * per-second rates, and keeps the last hour at full resolution in memory. Each minute is also
 * averaged into a one-minute sample that is kept in memory for a day and persisted, so the day
 * chart survives a restart.
 *
 * @module
 */
import type { Sample } from "./state.ts";

export type { Sample } from "./state.ts";

/** What the sampler reads each tick. Counters only grow (a restart starts them again at 0). */
export interface Reading {
  acceptedTotal: number;
  deliveredTotal: number;
  usedBytes: number;
  storedMessages: number;
}

/** Where one-minute samples are persisted. */
export interface SampleSink {
  addSample(s: Sample): Promise<void>;
  samplesSince(since: number): Promise<Sample[]>;
  pruneSamples(before: number): Promise<void>;
}

/** Chart windows. */
export type SeriesWindow = "hour" | "day";

/** Window lengths in ms. */
export const WINDOW_MS: Record<SeriesWindow, number> = { hour: 3_600_000, day: 86_400_000 };

const MINUTE_MS = 60_000;
/** Persisted samples older than this are deleted. */
const KEEP_MS = 2 * WINDOW_MS.day;

/** Options for {@linkcode Series}. */
export interface SeriesOptions {
  read: () => Reading | Promise<Reading>;
  /** Sampling interval (ms). */
  intervalMs: number;
  sink?: SampleSink;
  /** Clock (Unix ms). */
  now?: () => number;
  /** Called when persisting fails (the in-memory series goes on). */
  onError?: (err: unknown) => void;
}

/** In-memory + persisted metrics time series. */
export class Series {
  readonly intervalMs: number;
  readonly #opts: SeriesOptions;
  readonly #now: () => number;
  #fine: Sample[] = [];
  #minutes: Sample[] = [];
  #bucket: Sample[] = [];
  #bucketMinute = -1;
  #last: { at: number; reading: Reading } | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #pending: Promise<void> = Promise.resolve();

  constructor(opts: SeriesOptions) {
    if (!(opts.intervalMs > 0)) {
      throw new RangeError(`intervalMs: expected a positive number, got ${opts.intervalMs}`);
    }
    this.#opts = opts;
    this.intervalMs = opts.intervalMs;
    this.#now = opts.now ?? Date.now;
  }

  /** Loads the last day of persisted samples. */
  async load(): Promise<void> {
    if (!this.#opts.sink) return;
    const since = this.#now() - WINDOW_MS.day;
    const loaded = await this.#opts.sink.samplesSince(since);
    const first = this.#minutes[0]?.at ?? Infinity;
    this.#minutes = [...loaded.filter((s) => s.at < first), ...this.#minutes];
  }

  /** Takes one sample now. */
  async tick(): Promise<Sample> {
    const at = this.#now();
    const reading = await this.#opts.read();
    const prev = this.#last;
    this.#last = { at, reading };
    const rate = (cur: number, old: number | undefined, dtMs: number) => {
      if (old === undefined || dtMs <= 0) return 0;
      const delta = cur >= old ? cur - old : cur; // a counter below its last value was reset
      return delta / (dtMs / 1000);
    };
    const dt = prev ? at - prev.at : 0;
    const sample: Sample = {
      at,
      ingestPerSecond: rate(reading.acceptedTotal, prev?.reading.acceptedTotal, dt),
      deliveryPerSecond: rate(reading.deliveredTotal, prev?.reading.deliveredTotal, dt),
      usedBytes: reading.usedBytes,
      storedMessages: reading.storedMessages,
    };
    this.#fine.push(sample);
    const cutoff = at - WINDOW_MS.hour;
    let drop = 0;
    while (drop < this.#fine.length && this.#fine[drop]!.at < cutoff) drop++;
    if (drop > 0) this.#fine.splice(0, drop);

    const minute = Math.floor(at / MINUTE_MS);
    if (minute !== this.#bucketMinute) {
      this.#closeBucket();
      this.#bucketMinute = minute;
    }
    // The very first sample has no rate yet; leave it out of the minute average.
    if (prev !== undefined) this.#bucket.push(sample);
    else this.#bucket.push({ ...sample, ingestPerSecond: NaN, deliveryPerSecond: NaN });
    return sample;
  }

  #closeBucket(): void {
    const b = this.#bucket;
    this.#bucket = [];
    if (b.length === 0) return;
    const avg = (f: (s: Sample) => number) => {
      const xs = b.map(f).filter((x) => !Number.isNaN(x));
      return xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : 0;
    };
    const last = b[b.length - 1]!;
    const s: Sample = {
      at: this.#bucketMinute * MINUTE_MS,
      ingestPerSecond: avg((x) => x.ingestPerSecond),
      deliveryPerSecond: avg((x) => x.deliveryPerSecond),
      usedBytes: last.usedBytes,
      storedMessages: last.storedMessages,
    };
    this.#minutes.push(s);
    const cutoff = last.at - WINDOW_MS.day;
    while (this.#minutes.length > 0 && this.#minutes[0]!.at < cutoff) this.#minutes.shift();
    const sink = this.#opts.sink;
    if (sink) {
      this.#pending = this.#pending.then(async () => {
        try {
          await sink.addSample(s);
          await sink.pruneSamples(s.at - KEEP_MS);
        } catch (err) {
          this.#opts.onError?.(err);
        }
      });
    }
  }

  /**
   * Samples in the window ending now, oldest first: the day at one-minute resolution, the hour
   * at full resolution (with minute samples filling the part before this process started).
   */
  window(w: SeriesWindow): Sample[] {
    const since = this.#now() - WINDOW_MS[w];
    if (w === "day") {
      const minutes = this.#minutes.filter((s) => s.at >= since);
      const lastMinute = minutes[minutes.length - 1]?.at ?? -Infinity;
      // The current (unfinished) minute: show its latest sample so the day chart is current.
      const latest = this.#fine[this.#fine.length - 1];
      return latest && latest.at > lastMinute + MINUTE_MS ? [...minutes, latest] : minutes;
    }
    const firstFine = this.#fine[0]?.at ?? Infinity;
    const before = this.#minutes.filter((s) => s.at >= since && s.at + MINUTE_MS <= firstFine);
    return [...before, ...this.#fine.filter((s) => s.at >= since)];
  }

  /** The most recent sample. */
  get latest(): Sample | undefined {
    return this.#fine[this.#fine.length - 1];
  }

  /** Starts sampling every `intervalMs` (and once now). */
  start(): void {
    if (this.#timer !== undefined) return;
    const run = () => {
      this.tick().catch((err) => this.#opts.onError?.(err));
    };
    run();
    this.#timer = setInterval(run, this.intervalMs);
  }

  /** Stops sampling and waits for pending writes. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pending;
  }

  /** Waits for pending writes (tests). */
  flush(): Promise<void> {
    return this.#pending;
  }
}
