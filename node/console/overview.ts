/**
 * Builds the overview's live data (page and `GET /console/api/overview`) from the node and
 * its time series.
 *
 * @module
 */
import type { NodeCore } from "../feature.ts";
import { type Sample, type Series, type SeriesWindow, WINDOW_MS } from "./series.ts";

/** A chart point: Unix ms and value. */
type Point = readonly [number, number];

/** The overview's live data (also the JSON of `GET /console/api/overview`). */
export interface OverviewData {
  window: "hour" | "day";
  /** Server time (Unix ms) the data was taken. */
  now: number;
  windowMs: number;
  /** A longer gap between samples breaks a chart line. */
  gapMs: number;
  /** How often the island polls (ms). */
  refreshMs: number;
  startedAt: number;
  usedBytes: number;
  maxStoreBytes: number;
  storedMessages: number;
  acceptedTotal: number;
  deliveredTotal: number;
  ingest: Point[];
  delivery: Point[];
  storage: Point[];
}

/** Most points per chart line sent to the browser. */
export const MAX_POINTS = 360;

/**
 * Averages consecutive samples so at most `max` remain (rates are averaged, levels take the
 * last value of each group).
 */
export function downsample(samples: readonly Sample[], max: number): Sample[] {
  if (samples.length <= max) return [...samples];
  const group = Math.ceil(samples.length / max);
  const out: Sample[] = [];
  for (let i = 0; i < samples.length; i += group) {
    const g = samples.slice(i, i + group);
    const avg = (f: (s: Sample) => number) => g.reduce((a, s) => a + f(s), 0) / g.length;
    const lastOne = g[g.length - 1]!;
    out.push({
      at: lastOne.at,
      ingestPerSecond: avg((s) => s.ingestPerSecond),
      deliveryPerSecond: avg((s) => s.deliveryPerSecond),
      usedBytes: lastOne.usedBytes,
      storedMessages: lastOne.storedMessages,
    });
  }
  return out;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/** The overview's data for `window`. */
export function overviewData(
  core: NodeCore,
  series: Series,
  window: SeriesWindow,
  counters: { acceptedTotal: number; deliveredTotal: number; storedMessages: number },
): OverviewData {
  const samples = downsample(series.window(window), MAX_POINTS);
  const pts = (f: (s: Sample) => number): Point[] => samples.map((s) => [s.at, round(f(s))]);
  const step = window === "hour" ? series.intervalMs : 60_000;
  return {
    window,
    now: core.now(),
    windowMs: WINDOW_MS[window],
    gapMs: Math.max(3 * step, Math.ceil(samples.length ? WINDOW_MS[window] / MAX_POINTS : 0) * 3),
    refreshMs: Math.max(5000, series.intervalMs),
    startedAt: core.startedAt,
    usedBytes: core.writer.usedBytes,
    maxStoreBytes: core.config.maxStoreBytes,
    storedMessages: counters.storedMessages,
    acceptedTotal: counters.acceptedTotal,
    deliveredTotal: counters.deliveredTotal,
    ingest: pts((s) => s.ingestPerSecond),
    delivery: pts((s) => s.deliveryPerSecond),
    storage: pts((s) => s.usedBytes),
  };
}
