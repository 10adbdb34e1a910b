/**
 * Several node processes on one PostgreSQL database, in one run:
 *
 * 1. Ingest: wrk POSTs 1 KiB messages to 1, 2 and 3 `serve` processes on a fresh database each
 *    (the connections split evenly, one wrk per process, all at once); msgs/s summed, as ratios
 *    against the one-process run.
 * 2. Wake-up: with 3 processes running, a long poll waits at one process while a client POSTs a
 *    matching message at the same process (the single-process path) or at another one (the
 *    cross-process path: NOTIFY, watermark refresh, tag read). Times from the POST's
 *    acknowledgement to the poll's answer, p50/p99.
 *
 * 3. With `BEFORE_TREE=<source tree>` (e.g. an export of the commit before several processes were
 *    supported), one-process ingest of that tree and of this one, in alternating rounds on fresh
 *    databases: what the watermark marks and notifications cost a single process.
 *
 * Run: `SUBSPACE_TEST_PG_URL=postgres://... deno run -A bench/multiprocess.ts [seconds] [connections] [iterations] [rounds]`.
 * On a 2-core machine the processes, PostgreSQL and wrk share the cores: the gain from more
 * processes is bounded by that, not by the design.
 *
 * @module
 */
import { BENCH_ARGS, benchNode, f2, quantile, wrk, type WrkResult } from "./_util.ts";
import { NODE_DENO_FLAGS, type NodeProcess, waitListening } from "../tests/_node.ts";
import { freshDatabase, PG_URL } from "../node/store/testing.ts";

if (PG_URL === undefined) throw new Error("Set SUBSPACE_TEST_PG_URL to a PostgreSQL server");
const seconds = Number(Deno.args[0] ?? 10);
const connections = Number(Deno.args[1] ?? 48);
const iterations = Number(Deno.args[2] ?? 300);
const rounds = Number(Deno.args[3] ?? 3);
const beforeTree = Deno.env.get("BEFORE_TREE");

/** One-process ingest of the node in `tree` (this one when undefined) on a fresh database. */
async function oneProcessIngest(tree: string | undefined): Promise<number> {
  const db = await freshDatabase();
  try {
    if (tree === undefined) {
      const [node] = await cluster(1, db.url);
      const r = await wrk(node!.url, "post_1k.lua", { connections, seconds });
      await stopAll([node!]);
      return r.perSecond;
    }
    const dataDir = await Deno.makeTempDir({ prefix: "subspace-before-" });
    const child = new Deno.Command(Deno.execPath(), {
      args: [...NODE_DENO_FLAGS, `${tree}/main.ts`, "serve", "--data", dataDir, "--port", "0"]
        .concat(["--quota", "open", "--store", db.url, ...BENCH_ARGS]),
      cwd: tree,
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const url = await waitListening(child, []);
    const r = await wrk(url, "post_1k.lua", { connections, seconds });
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dataDir, { recursive: true });
    return r.perSecond;
  } finally {
    await db.drop();
  }
}

async function cluster(n: number, url: string): Promise<NodeProcess[]> {
  const first = await benchNode(["--store", url]);
  const rest = await Promise.all(Array.from({ length: n - 1 }, () => benchNode(["--store", url])));
  return [first, ...rest];
}

async function stopAll(nodes: NodeProcess[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
  await Promise.all(nodes.map((n) => Deno.remove(n.dataDir, { recursive: true })));
}

const ingest: { n: number; perSecond: number; p99Ms: number; non2xx: number }[] = [];
for (const n of [1, 2, 3]) {
  const db = await freshDatabase();
  const nodes = await cluster(n, db.url);
  const runs: WrkResult[] = await Promise.all(
    nodes.map((node) =>
      wrk(node.url, "post_1k.lua", { connections: Math.round(connections / n), seconds })
    ),
  );
  ingest.push({
    n,
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

const ab: { before: number[]; after: number[] } = { before: [], after: [] };
if (beforeTree !== undefined) {
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first.
    for (const which of r % 2 === 0 ? ["before", "after"] as const : ["after", "before"] as const) {
      ab[which].push(await oneProcessIngest(which === "before" ? beforeTree : undefined));
    }
  }
}

const base = ingest[0]!.perSecond;
console.log(`| processes | msgs/s | ratio to 1 | worst p99 ms | non-2xx |`);
console.log(`| --- | --- | --- | --- | --- |`);
for (const r of ingest) {
  console.log(
    `| ${r.n} | ${r.perSecond.toFixed(0)} | ${f2(r.perSecond / base)} | ${
      f2(r.p99Ms)
    } | ${r.non2xx} |`,
  );
}
console.log(
  `\n(${connections} connections in all, ${seconds} s per run, wrk 1 thread per process)\n`,
);
const row = (name: string, xs: number[]) =>
  `| ${name} | ${f2(quantile(xs, 0.5))} | ${f2(quantile(xs, 0.99))} |`;
console.log(`| long poll answered − POST acknowledged (${iterations} each) | p50 ms | p99 ms |`);
console.log(`| --- | --- | --- |`);
console.log(row("poll and POST at one process", same));
console.log(row("poll at one process, POST at another", cross));
const extra = quantile(cross, 0.99) - quantile(same, 0.99);
console.log(`\ncross-process p99 extra: ${f2(extra)} ms (target <= 20 ms)`);
if (beforeTree !== undefined) {
  const med = (xs: number[]) => quantile(xs, 0.5);
  console.log(`\n| one process, ${rounds} alternating rounds | median msgs/s | runs |`);
  console.log(`| --- | --- | --- |`);
  console.log(
    `| before (${beforeTree}) | ${med(ab.before).toFixed(0)} | ${
      ab.before.map((x) => x.toFixed(0)).join(", ")
    } |`,
  );
  console.log(
    `| after (this tree) | ${med(ab.after).toFixed(0)} | ${
      ab.after.map((x) => x.toFixed(0)).join(", ")
    } |`,
  );
  console.log(`\nafter / before: ${f2(med(ab.after) / med(ab.before))}`);
}
