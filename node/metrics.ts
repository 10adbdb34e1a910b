/**
 * A small Prometheus metrics registry: counters, gauges and histograms with optional labels,
 * rendered in the text exposition format for `GET /metrics`.
 *
 * @module
 */

type Labels = Record<string, string>;

function labelKey(labels: Labels | undefined): string {
  if (!labels) return "";
  const parts = Object.keys(labels).sort().map((k) =>
    `${k}="${labels[k]!.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}

interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(): string[];
}

/**
 * A monotonically increasing counter (name should end in `_total`), kept here or read on scrape
 * from a count another component keeps (`collect`).
 */
export class Counter implements Metric {
  readonly type = "counter" as const;
  readonly name: string;
  readonly help: string;
  #values = new Map<string, number>();
  #collect: (() => number) | undefined;
  constructor(name: string, help: string, collect?: () => number) {
    this.name = name;
    this.help = help;
    this.#collect = collect;
  }
  /** Adds `n` (default 1). */
  inc(labels?: Labels, n = 1): void {
    const k = labelKey(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + n);
  }
  /** Current value. */
  get(labels?: Labels): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  render(): string[] {
    if (this.#collect !== undefined) return [`${this.name} ${this.#collect()}`];
    if (this.#values.size === 0) return [`${this.name} 0`];
    return [...this.#values].map(([k, v]) => `${this.name}${k} ${v}`);
  }
}

/** A value that goes up and down, or is computed on scrape. */
export class Gauge implements Metric {
  readonly type = "gauge" as const;
  readonly name: string;
  readonly help: string;
  #values = new Map<string, number>();
  #collect: (() => number) | undefined;
  constructor(name: string, help: string, collect?: () => number) {
    this.name = name;
    this.help = help;
    this.#collect = collect;
  }
  /** Sets the value. */
  set(value: number, labels?: Labels): void {
    this.#values.set(labelKey(labels), value);
  }
  /** Current value. */
  get(labels?: Labels): number {
    if (this.#collect && !labels) return this.#collect();
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  render(): string[] {
    if (this.#collect) return [`${this.name} ${this.#collect()}`];
    if (this.#values.size === 0) return [`${this.name} 0`];
    return [...this.#values].map(([k, v]) => `${this.name}${k} ${v}`);
  }
}

/** Default latency buckets in seconds. */
export const LATENCY_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  10,
];

/** A histogram (name should end in a unit such as `_seconds` or `_bytes`). */
export class Histogram implements Metric {
  readonly type = "histogram" as const;
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  #counts: number[];
  #sum = 0;
  #count = 0;
  constructor(name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS) {
    this.name = name;
    this.help = help;
    this.buckets = buckets;
    this.#counts = buckets.map(() => 0);
  }
  /** Records one observation. */
  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.#counts[i]!++;
  }
  /** Number of observations. */
  get count(): number {
    return this.#count;
  }
  render(): string[] {
    const lines = this.buckets.map((b, i) => `${this.name}_bucket{le="${b}"} ${this.#counts[i]}`);
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`);
    lines.push(`${this.name}_sum ${this.#sum}`, `${this.name}_count ${this.#count}`);
    return lines;
  }
}

/** Holds every metric of a node. */
export class Registry {
  #metrics = new Map<string, Metric>();
  /** Registers (or returns the existing) counter; `collect` reads its value on scrape. */
  counter(name: string, help: string, collect?: () => number): Counter {
    return this.#add(name, () => new Counter(name, help, collect)) as Counter;
  }
  /** Registers (or returns the existing) gauge; `collect` computes it on scrape. */
  gauge(name: string, help: string, collect?: () => number): Gauge {
    return this.#add(name, () => new Gauge(name, help, collect)) as Gauge;
  }
  /** Registers (or returns the existing) histogram. */
  histogram(name: string, help: string, buckets?: readonly number[]): Histogram {
    return this.#add(name, () => new Histogram(name, help, buckets)) as Histogram;
  }
  #add(name: string, make: () => Metric): Metric {
    let m = this.#metrics.get(name);
    if (m === undefined) {
      m = make();
      this.#metrics.set(name, m);
    }
    return m;
  }
  /** Renders every metric in the Prometheus text format (version 0.0.4). */
  render(): string {
    const out: string[] = [];
    for (const m of this.#metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.render());
    }
    return out.join("\n") + "\n";
  }
}
