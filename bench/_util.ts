/**
 * Shared pieces of the whole-system benchmarks: running wrk and reading its JSON summary,
 * percentiles, and starting bench nodes with limits raised out of the way.
 *
 * @module
 */
import { type NodeProcess, startNode } from "../tests/_node.ts";

/** Flags that lift per-client limits, so the benchmark measures the node, not its throttles. */
export const BENCH_ARGS = [
  "--rate-limit",
  "10000000",
  "--rate-burst",
  "10000000",
  "--max-client-connections",
  "100000",
  "--max-waiters",
  "100000",
];

/** Starts a node for benchmarking. */
export function benchNode(args: string[] = [], dataDir?: string): Promise<NodeProcess> {
  return startNode({ args: [...BENCH_ARGS, ...args], ...(dataDir ? { dataDir } : {}) });
}

/** What one wrk run measured. */
export interface WrkResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: number;
}

/** Runs wrk with `bench/<script>` against `url`. */
export async function wrk(
  url: string,
  script: string,
  opts: { connections: number; seconds: number; threads?: number },
): Promise<WrkResult> {
  const out = await new Deno.Command("wrk", {
    args: [
      `-t${opts.threads ?? 1}`,
      `-c${opts.connections}`,
      `-d${opts.seconds}s`,
      "-s",
      new URL(script, import.meta.url).pathname,
      url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("JSON "));
  if (!line) {
    throw new Error(`wrk printed no summary:\n${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  const j = JSON.parse(line.slice(5));
  return {
    requests: j.requests,
    perSecond: j.requests / (j.duration_us / 1e6),
    p50Ms: j.p50_us / 1000,
    p99Ms: j.p99_us / 1000,
    non2xx: j.non2xx,
    socketErrors: j.socket_errors,
  };
}

/** CPU seconds used by process `pid` (Linux `/proc/<pid>/stat`, clock ticks of 1/100 s). */
export async function cpuSecondsOf(pid: number | "self"): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds per thread of process `pid`, by thread name (threads of one name added up). */
export async function threadCpuSecondsOf(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const t of Deno.readDir(`/proc/${pid}/task`)) {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/task/${t.name}/stat`);
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const key = t.name === String(pid) ? "main" : name;
      out.set(key, (out.get(key) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** The q-quantile (0..1) of `values`. */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

/** Formats a number with 2 decimals. */
export const f2 = (n: number) => n.toFixed(2);
