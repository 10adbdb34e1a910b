/** @jsxImportSource preact */
/**
 * Overview island: storage, message counts and the three charts. Server-rendered with the
 * data at request time; in the browser it polls `/console/api/overview` and redraws.
 *
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import type { OverviewData } from "../node/console/mod.ts";
import { Chart, type Point } from "../components/Chart.tsx";
import { formatBytes, formatCount, formatDuration, formatRate } from "../components/format.ts";

function last(points: Point[]): number {
  return points[points.length - 1]?.[1] ?? 0;
}

/** The island. */
export default function OverviewLive(initial: OverviewData) {
  const [d, setD] = useState(initial);
  const [live, setLive] = useState<"off" | "on" | "error">("off");
  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      try {
        const res = await fetch(`/console/api/overview?window=${initial.window}`, {
          headers: { accept: "application/json" },
          credentials: "same-origin",
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const next = await res.json() as OverviewData;
        if (!stopped) {
          setD(next);
          setLive("on");
        }
      } catch {
        if (!stopped) setLive("error");
      }
    };
    poll();
    const timer = setInterval(poll, Math.max(2000, initial.refreshMs));
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [initial.window, initial.refreshMs]);

  const pct = d.maxStoreBytes > 0 ? Math.min(100, (d.usedBytes / d.maxStoreBytes) * 100) : 0;
  const stats: [string, string][] = [
    ["Uptime", formatDuration((d.now - d.startedAt) / 1000)],
    ["Messages stored", formatCount(d.storedMessages)],
    ["Accepted since start", formatCount(d.acceptedTotal)],
    ["Delivered since start", formatCount(d.deliveredTotal)],
    ["Ingest now", formatRate(last(d.ingest))],
    ["Delivery now", formatRate(last(d.delivery))],
  ];
  return (
    <div class="overview-live" data-live={live}>
      <div class="storage">
        <div class="storage-label">
          <span>Storage</span>
          <span>
            {formatBytes(d.usedBytes)} of {formatBytes(d.maxStoreBytes)} ({pct.toFixed(1)}%)
          </span>
        </div>
        <div
          class={`bar${pct >= 90 ? " bar-warn" : ""}`}
          role="meter"
          aria-label="Storage used"
          aria-valuemin={0}
          aria-valuemax={d.maxStoreBytes}
          aria-valuenow={d.usedBytes}
        >
          <span style={{ width: `${pct}%` }} />
        </div>
      </div>
      <dl class="stats">
        {stats.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <p class="live-status" aria-live="polite">
        {live === "on" ? "● live" : live === "error" ? "○ updates paused (node unreachable)" : ""}
      </p>
      <div class="charts">
        <Chart
          title="Ingest rate (messages accepted)"
          points={d.ingest}
          endAt={d.now}
          windowMs={d.windowMs}
          format="rate"
          gapMs={d.gapMs}
        />
        <Chart
          title="Delivery rate (messages returned)"
          points={d.delivery}
          endAt={d.now}
          windowMs={d.windowMs}
          format="rate"
          gapMs={d.gapMs}
        />
        <Chart
          title="Storage used"
          points={d.storage}
          endAt={d.now}
          windowMs={d.windowMs}
          format="bytes"
          gapMs={d.gapMs}
          limit={d.maxStoreBytes}
        />
      </div>
    </div>
  );
}
