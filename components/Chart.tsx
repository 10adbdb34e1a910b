/** @jsxImportSource preact */
/**
 * A line chart drawn as SVG, for a time window ending now. Server-rendered as is, and
 * interactive (hover read-out) inside an island. No charting library: a few hundred bytes.
 *
 * @module
 */
import { useState } from "preact/hooks";
import { formatBytes, formatRate } from "./format.ts";

/** A point: Unix ms and value. */
export type Point = readonly [number, number];

/** Props of {@linkcode Chart}. */
export interface ChartProps {
  title: string;
  /** Points, oldest first. */
  points: readonly Point[];
  /** End of the window (Unix ms, usually now). */
  endAt: number;
  windowMs: number;
  /** How values are labelled. */
  format: "rate" | "bytes";
  /** A longer gap between points breaks the line (the node was down). */
  gapMs: number;
  /** Optional horizontal limit line (e.g. the storage cap) drawn when in range. */
  limit?: number;
}

const W = 640;
const H = 180;
const LEFT = 64;
const RIGHT = 10;
const TOP = 10;
const BOTTOM = 22;
const PW = W - LEFT - RIGHT;
const PH = H - TOP - BOTTOM;

/** A "nice" axis maximum and step: 1, 2 or 5 times a power of ten, or a power of two in bytes. */
export function niceScale(max: number, base: 10 | 1024): { max: number; step: number } {
  if (!(max > 0)) return { max: base === 1024 ? 1024 : 1, step: base === 1024 ? 256 : 0.25 };
  const raw = max / 4;
  const unit = base === 1024
    ? 1024 ** Math.max(0, Math.floor(Math.log(raw) / Math.log(1024)))
    : 10 ** Math.floor(Math.log10(raw));
  const m = raw / unit;
  const mults = base === 1024 ? [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] : [1, 2, 5, 10];
  const step = unit * (mults.find((x) => x >= m - 1e-9) ?? mults[mults.length - 1]!);
  return { max: Math.ceil(max / step - 1e-9) * step, step };
}

const fmt = (format: ChartProps["format"], v: number) =>
  format === "bytes" ? formatBytes(v) : formatRate(v);

function relLabel(ms: number): string {
  if (ms === 0) return "now";
  return ms % 3_600_000 === 0 ? `-${ms / 3_600_000}h` : `-${Math.round(ms / 60_000)}m`;
}

/** The chart. */
export function Chart(props: ChartProps) {
  const [hover, setHover] = useState<number | undefined>(undefined);
  const { points, endAt, windowMs, format } = props;
  const start = endAt - windowMs;
  const visible = points.filter(([t]) => t >= start && t <= endAt);
  const peak = Math.max(0, ...visible.map(([, v]) => v));
  const { max, step } = niceScale(peak, format === "bytes" ? 1024 : 10);
  const x = (t: number) => LEFT + ((t - start) / windowMs) * PW;
  const y = (v: number) => TOP + PH - (Math.min(v, max) / max) * PH;

  const segments: Point[][] = [];
  let prevT = -Infinity;
  for (const p of visible) {
    if (p[0] - prevT > props.gapMs || segments.length === 0) segments.push([]);
    segments[segments.length - 1]!.push(p);
    prevT = p[0];
  }
  const f = (n: number) => n.toFixed(1);
  const line = (seg: Point[]) =>
    seg.map(([t, v], i) => `${i ? "L" : "M"}${f(x(t))} ${f(y(v))}`).join("");
  const area = (seg: Point[]) =>
    `${line(seg)}L${f(x(seg[seg.length - 1]![0]))} ${TOP + PH}L${f(x(seg[0]![0]))} ${TOP + PH}Z`;

  const ticks: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) ticks.push(v);
  const xTicks = [4, 3, 2, 1, 0].map((i) => (windowMs / 4) * i);
  const latest = visible[visible.length - 1];
  const shown = hover !== undefined ? visible[hover] : undefined;

  const onMove = (e: MouseEvent) => {
    const svg = e.currentTarget as SVGSVGElement;
    const box = svg.getBoundingClientRect();
    const t = start + (((e.clientX - box.left) / box.width) * W - LEFT) / PW * windowMs;
    let best = -1;
    for (let i = 0; i < visible.length; i++) {
      if (best < 0 || Math.abs(visible[i]![0] - t) < Math.abs(visible[best]![0] - t)) best = i;
    }
    setHover(best < 0 ? undefined : best);
  };

  return (
    <figure class="chart">
      <figcaption>
        <span>{props.title}</span>
        <span class="chart-value">
          {shown
            ? `${fmt(format, shown[1])} at ${new Date(shown[0]).toISOString().slice(11, 19)}Z`
            : latest
            ? fmt(format, latest[1])
            : "no data yet"}
        </span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${props.title}: ${visible.length} samples`}
        onMouseMove={onMove}
        onMouseLeave={() => setHover(undefined)}
      >
        {ticks.map((v) => (
          <g key={v} class="grid">
            <line x1={LEFT} x2={W - RIGHT} y1={y(v)} y2={y(v)} />
            <text x={LEFT - 6} y={y(v) + 4} text-anchor="end">{fmt(format, v)}</text>
          </g>
        ))}
        {xTicks.map((ago) => (
          <text
            key={ago}
            class="axis"
            x={x(endAt - ago)}
            y={H - 6}
            text-anchor={ago === windowMs ? "start" : ago === 0 ? "end" : "middle"}
          >
            {relLabel(ago)}
          </text>
        ))}
        {props.limit !== undefined && props.limit <= max && (
          <line class="limit" x1={LEFT} x2={W - RIGHT} y1={y(props.limit)} y2={y(props.limit)} />
        )}
        {segments.map((seg, i) =>
          seg.length === 1
            ? <circle key={i} class="dot" cx={f(x(seg[0]![0]))} cy={f(y(seg[0]![1]))} r="2.5" />
            : (
              <g key={i}>
                <path class="area" d={area(seg)} />
                <path class="line" d={line(seg)} />
              </g>
            )
        )}
        {shown && (
          <g class="cursor">
            <line x1={x(shown[0])} x2={x(shown[0])} y1={TOP} y2={TOP + PH} />
            <circle cx={x(shown[0])} cy={y(shown[1])} r="3.5" />
          </g>
        )}
      </svg>
    </figure>
  );
}
