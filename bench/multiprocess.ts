/**
 * Several node processes on one PostgreSQL database, in one run:
 *
 * 1. Ingest: wrk POSTs 1 KiB messages to 1, 2 and 3 `serve` processes on a fresh database each
 *    (the connections split evenly, one wrk per process, all at once); msgs/s summed, as ratios
 *    against the one-process run.
 * 2. Wake-up: a long poll waits while a client POSTs a matching message: with one process alone
 *    on the database (the baseline), and with 3 processes, at the same process or at another one
 *    (the cross-process path: NOTIFY, watermark refresh, tag read). Times from the POST's
 *    acknowledgement to the poll's answer, p50/p99.
 *
 * What the watermark marks and notifications cost one process: `AB_PG=1 deno run -A
 * bench/ab_ingest.ts <tree before> .` (alternating rounds, fresh databases).
 *
 * Run: `SUBSPACE_TEST_PG_URL=postgres://... deno run -A bench/multiprocess.ts [seconds] [connections] [iterations]`.
 * On a 2-core machine the processes, PostgreSQL and wrk share the cores: the gain from more
 * processes is bounded by that, not by the design.
 *
 * @module
 */
import { benchNode, f2, quantile, wrk, type WrkResult } from "./_util.ts";
import type { NodeProcess } from "../tests/_node.ts";
import { freshDatabase, PG_URL } from "../node/store/testing.ts";

if (PG_URL === undefined) throw new Error("Set SUBSPACE_TEST_PG_URL to a PostgreSQL server");
const seconds = Number(Deno.args[0] ?? 10);
const connections = Number(Deno.args[1] ?? 48);
const iterations = Number(Deno.args[2] ?? 300);

async function cluster(n: number, url: string): Promise<NodeProcess[]> {
  const first = await benchNode(["--store", url]);
  const rest = await Promise.all(Array.from({ length: n - 1 }, () => benchNode(["--store", url])));
  return [first, ...rest];
}

async function stopAll(nodes: NodeProcess[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
  await Promise.all(nodes.map((n) => Deno.remove(n.dataDir, { recursive: true })));
}

/** Busy and total jiffies of all cores (`/proc/stat`), to tell how much CPU was left. */
async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const line = (await Deno.readTextFile("/proc/stat")).split("\n")[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3]! + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

const ingest: { n: number; perSecond: number; p99Ms: number; non2xx: number; cpu: number }[] = [];
for (const n of [1, 2, 3]) {
  const db = await freshDatabase();
  const nodes = await cluster(n, db.url);
  const t0 = await cpuTimes();
  const runs: WrkResult[] = await Promise.all(
    nodes.map((node) =>
      wrk(node.url, "post_1k.lua", { connections: Math.round(connections / n), seconds })
    ),
  );
  const t1 = await cpuTimes();
  ingest.push({
    n,
    cpu: (t1.busy - t0.busy) / (t1.total - t0.total),
    perSecond: runs.reduce((s, r) => s + r.perSecond, 0),
    p99Ms: Math.max(...runs.map((r) => r.p99Ms)),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
  });
  await stopAll(nodes);
  await db.drop();
}

async function wakeAfterAck(poller: string, poster: string): Promise<number> {
  const tag = crypto.getRandomValues(new Uint8Array(20)).toHex();
  const poll = fetch(`${poller}/v1/messages?prefix=${tag.slice(0, 8)}&bits=32&wait=30`);
  await new Promise((r) => setTimeout(r, 5));
  const acked = fetch(`${poster}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tag, payload: "AAAA" }),
  }).then(async (r) => {
    await r.arrayBuffer();
    return performance.now();
  });
  const res = await poll;
  const woke = performance.now();
  const body = await res.json();
  if (body.messages[0]?.tag !== tag) throw new Error("poll returned the wrong message");
  return woke - await acked;
}

const alone: number[] = [];
{
  const db = await freshDatabase();
  const [node] = await cluster(1, db.url);
  for (let i = 0; i < iterations; i++) alone.push(await wakeAfterAck(node!.url, node!.url));
  await stopAll([node!]);
  await db.drop();
}
const db = await freshDatabase();
const nodes = await cluster(3, db.url);
const same: number[] = [];
const cross: number[] = [];
for (let i = 0; i < iterations; i++) {
  const [a, b] = [nodes[i % 3]!.url, nodes[(i + 1) % 3]!.url];
  // Alternate, so both paths see the same conditions.
  same.push(await wakeAfterAck(a, a));
  cross.push(await wakeAfterAck(b, a));
}
await stopAll(nodes);
await db.drop();

const base = ingest[0]!.perSecond;
console.log(`| processes | msgs/s | ratio to 1 | worst p99 ms | non-2xx | machine CPU busy |`);
console.log(`| --- | --- | --- | --- | --- | --- |`);
for (const r of ingest) {
  const cells = [r.n, r.perSecond.toFixed(0), f2(r.perSecond / base), f2(r.p99Ms), r.non2xx];
  console.log(`| ${cells.join(" | ")} | ${(r.cpu * 100).toFixed(0)}% |`);
}
console.log(
  `\n(${connections} connections in all, ${seconds} s per run, wrk 1 thread per process)\n`,
);
const row = (name: string, xs: number[]) =>
  `| ${name} | ${f2(quantile(xs, 0.5))} | ${f2(quantile(xs, 0.99))} |`;
console.log(`| long poll answered − POST acknowledged (${iterations} each) | p50 ms | p99 ms |`);
console.log(`| --- | --- | --- |`);
console.log(row("one process alone on the database", alone));
console.log(row("3 processes: poll and POST at the same one", same));
console.log(row("3 processes: poll at one, POST at another", cross));
const extra = quantile(cross, 0.99) - quantile(alone, 0.99);
console.log(`\ncross-process p99 extra over one process alone: ${f2(extra)} ms (target <= 20 ms)`);
