/**
 * Process and build metrics the console adds to the node's registry (see
 * `docs/observability.md` for every metric name).
 *
 * @module
 */
import type { NodeCore } from "../feature.ts";
import { VERSION } from "../version.ts";

/** Registers uptime, build, memory and stored-message gauges. */
export function registerProcessMetrics(
  core: NodeCore,
  opts: { storedMessages: () => number },
): void {
  const m = core.metrics;
  m.gauge("subspace_build_info", "Always 1; labels name the version").set(1, { version: VERSION });
  m.gauge(
    "subspace_process_start_time_seconds",
    "Unix time the node started",
    () => Math.floor(core.startedAt / 1000),
  );
  m.gauge(
    "subspace_uptime_seconds",
    "Seconds since the node started",
    () => Math.floor((core.now() - core.startedAt) / 1000),
  );
  m.gauge(
    "subspace_process_resident_memory_bytes",
    "Resident set size of the node process",
    () => Deno.memoryUsage().rss,
  );
  m.gauge(
    "subspace_process_heap_used_bytes",
    "JavaScript heap in use",
    () => Deno.memoryUsage().heapUsed,
  );
  m.gauge(
    "subspace_messages_stored",
    "Messages held (with or without body), counted at most once a minute",
    opts.storedMessages,
  );
}
