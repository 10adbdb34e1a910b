/**
 * Ingest against its baselines, in one run: a bare `Deno.serve` endpoint, the storage engines
 * alone (`node:sqlite` and `pg` batch-insert loops with the node's schema, see
 * `_raw_insert.ts`), and the node under wrk (1 KiB payloads, random tags, per-client limits
 * lifted) with SQLite and `--quota open` (64 and 8 connections), SQLite with a token redeemed
 * per POST (`sqlite-tokens`: signature check and spend; `sqlite-spend` and `sqlite-verify`:
 * each half alone; see `_node_core.ts`), PostgreSQL, and federation on with a peer connected. Every case runs once
 * per round, rounds interleave the cases (the machine is shared), and the summary gives medians
 * over rounds, each with its ratio to its baseline, and the server's CPU time per message (all
 * threads; per thread in the round lines), which load from other processes disturbs less than
 * the rates.
 *
 * Cases: bare, raw-sqlite, raw-pg, sqlite-open, sqlite-open-c8, sqlite-tokens, sqlite-spend,
 * sqlite-verify, pg-open, sqlite-federation, null-store (the node answering every insert at once
 * without storing it: its ceiling on this machine without a storage engine).
 *
 * Run: `deno run -A bench/ingest_compare.ts [--seconds 10] [--rounds 3] [--connections 64]
 * [--threads 2] [--cases a,b,...] [--node name=path/to/_node_core.ts]... [--cpu-prof dir]`.
 * PostgreSQL cases use `SUBSPACE_TEST_PG_URL` (a database `subspace_bench_ingest` is created
 * there and dropped at the end). `--node` runs the node cases once per entry (A/B of two
 * checkouts in one run); by default `bench/_node_core.ts` of this checkout.
 *
 * @module
 */
import pg from "pg";
import { BENCH_ARGS, cpuSecondsOf, f2, threadCpuSecondsOf, wrk, type WrkResult } from "./_util.ts";

interface Options {
  seconds: number;
  rounds: number;
  connections: number;
  threads: number;
  cases: string[];
  nodes: { name: string; entry: string }[];
  cpuProfDir: string | undefined;
}

const ALL_CASES = [
  "bare",
  "raw-sqlite",
  "raw-pg",
  "sqlite-open",
  "sqlite-open-c8",
  "sqlite-tokens",
  "sqlite-spend",
  "sqlite-verify",
  "pg-open",
  "sqlite-federation",
  "null-store",
];

function parseOptions(args: string[]): Options {
  const o: Options = {
    seconds: 10,
    rounds: 3,
    connections: 64,
    threads: 2,
    cases: ALL_CASES,
    nodes: [],
    cpuProfDir: undefined,
  };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1] ?? ""];
    if (flag === "--seconds") o.seconds = Number(value);
    else if (flag === "--rounds") o.rounds = Number(value);
    else if (flag === "--connections") o.connections = Number(value);
    else if (flag === "--threads") o.threads = Number(value);
    else if (flag === "--cases") o.cases = value.split(",");
    else if (flag === "--cpu-prof") o.cpuProfDir = value;
    else if (flag === "--node") {
      const [name, entry] = value.split("=");
      if (!name || !entry) throw new TypeError(`Cannot parse --node: expected name=path`);
      o.nodes.push({ name, entry });
    } else throw new TypeError(`Unknown flag ${flag}`);
  }
  if (o.nodes.length === 0) {
    o.nodes.push({ name: "node", entry: new URL("./_node_core.ts", import.meta.url).pathname });
  }
  return o;
}

const opts = parseOptions(Deno.args);
const pgBase = Deno.env.get("SUBSPACE_TEST_PG_URL");
const PG_DB = "subspace_bench_ingest";

/** A child process that prints one JSON line with its port and stops on SIGTERM. */
interface Child {
  port: number;
  /** CPU seconds (user + system, every thread) the process has used so far. */
  cpuSeconds(): Promise<number>;
  /** The same by thread name. */
  threadCpuSeconds(): Promise<Map<string, number>>;
  url: string;
  stop(): Promise<void>;
}

async function spawnListening(args: string[], dataDir?: string): Promise<Child> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`child exited before listening: ${args.join(" ")}`);
    buf += value;
  }
  const line = buf.split("\n")[0]!.trim();
  const port = /^\d+$/.test(line) ? Number(line) : JSON.parse(line).port;
  // Keep draining stdout so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  return {
    port,
    cpuSeconds: () => cpuSecondsOf(child.pid),
    threadCpuSeconds: () => threadCpuSecondsOf(child.pid),
    url: `http://127.0.0.1:${port}`,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      if (dataDir !== undefined) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/** One case's result: the load's rates and latencies, and the server's CPU per message. */
interface CaseResult extends WrkResult {
  cpuUsPerMessage: number;
  /** The busiest threads' CPU per message, e.g. `main 80, worker 50`. */
  threads?: string;
}

/** Runs `load` against `server` and adds the server's CPU time per message. */
async function measured(server: Child, load: () => Promise<WrkResult>): Promise<CaseResult> {
  const before = await server.cpuSeconds();
  const threadsBefore = await server.threadCpuSeconds();
  const r = await load();
  const cpu = await server.cpuSeconds() - before;
  const per = (s: number) => (s * 1e6) / Math.max(1, r.requests);
  const threads = [...(await server.threadCpuSeconds()).entries()]
    .map(([name, s]) => [name, per(s - (threadsBefore.get(name) ?? 0))] as const)
    .filter(([, us]) => us >= 5).sort((a, b) => b[1] - a[1])
    .map(([name, us]) => `${name} ${us.toFixed(0)}`).join(", ");
  return { ...r, cpuUsPerMessage: per(cpu), threads };
}

const BARE_CODE =
  `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => console.log(a.port) },
  async (req) => { await req.arrayBuffer(); return new Response('{"id":"x"}', { status: 201 }); });`;

async function pgAdmin(q: string): Promise<void> {
  const c = new pg.Client({ connectionString: pgBase });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
}

async function freshPgUrl(): Promise<string> {
  if (pgBase === undefined) throw new Error("SUBSPACE_TEST_PG_URL is not set");
  await pgAdmin(`DROP DATABASE IF EXISTS ${PG_DB} WITH (FORCE)`);
  await pgAdmin(`CREATE DATABASE ${PG_DB}`);
  const u = new URL(pgBase);
  u.pathname = `/${PG_DB}`;
  return u.toString();
}

async function raw(engine: "sqlite" | "pg"): Promise<CaseResult> {
  const args = [
    "run",
    "-A",
    new URL("./_raw_insert.ts", import.meta.url).pathname,
    engine,
    String(opts.seconds),
    "64",
    "1",
  ];
  if (engine === "pg") args.push(await freshPgUrl());
  const out = await new Deno.Command(Deno.execPath(), { args, stderr: "inherit" }).output();
  const j = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  return {
    requests: j.rows,
    perSecond: j.perSecond,
    p50Ms: j.p50Ms,
    p99Ms: j.p99Ms,
    non2xx: 0,
    socketErrors: 0,
    cpuUsPerMessage: j.cpuUsPerRow,
  };
}

let profileRun = 0;
async function startBenchNode(entry: string, extra: string[], label: string): Promise<Child> {
  const dataDir = await Deno.makeTempDir({ prefix: "subspace-ingest-" });
  const deno = ["run", "-A"];
  if (opts.cpuProfDir !== undefined) {
    deno.push("--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}/${label}-${++profileRun}`);
  }
  return await spawnListening([
    ...deno,
    entry,
    "--data",
    dataDir,
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--quota",
    "open",
    "--log-level",
    "warn",
    "--dht-range-limits",
    "false",
    ...BENCH_ARGS,
    ...extra,
  ], dataDir);
}

async function until(what: string, f: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await f().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function load(url: string, connections = opts.connections): Promise<WrkResult> {
  return await wrk(url, "post_1k.lua", {
    connections,
    seconds: opts.seconds,
    threads: Math.min(opts.threads, connections),
  });
}

async function nodeCase(name: string, entry: string, label: string): Promise<CaseResult> {
  if (name === "sqlite-open" || name === "sqlite-open-c8") {
    const n = await startBenchNode(entry, [], label);
    try {
      return await measured(n, () => load(n.url, name === "sqlite-open-c8" ? 8 : opts.connections));
    } finally {
      await n.stop();
    }
  }
  if (
    name === "sqlite-tokens" || name === "sqlite-spend" || name === "sqlite-verify" ||
    name === "null-store"
  ) {
    const feature = name.replace(/^sqlite-/, "");
    const n = await startBenchNode(entry, ["--bench-feature", feature], label);
    try {
      return await measured(n, () => load(n.url));
    } finally {
      await n.stop();
    }
  }
  if (name === "pg-open") {
    const n = await startBenchNode(entry, ["--store", await freshPgUrl()], label);
    try {
      return await measured(n, () => load(n.url));
    } finally {
      await n.stop();
    }
  }
  if (name === "sqlite-federation") {
    // Both on loopback: private peer addresses allowed (refused by default since issue 11).
    const fed = ["--bench-feature", "federation", "--dht-private-peers", "true"];
    const peer = await startBenchNode(entry, fed, `${label}-peer`);
    const n = await startBenchNode(entry, [...fed, "--bootstrap", peer.url], label);
    try {
      await until("the node to join its peer", async () => {
        const info = await (await fetch(`${n.url}/v1/info`)).json();
        return (info.federation?.contacts ?? 0) > 0;
      });
      return await measured(n, () => load(n.url));
    } finally {
      await n.stop();
      await peer.stop();
    }
  }
  throw new TypeError(`Unknown case ${name}`);
}

async function runCase(name: string, entry: string, label: string): Promise<CaseResult> {
  if (name === "bare") {
    const s = await spawnListening(["eval", BARE_CODE]);
    try {
      return await measured(s, () => load(s.url));
    } finally {
      await s.stop();
    }
  }
  if (name === "raw-sqlite") return await raw("sqlite");
  if (name === "raw-pg") return await raw("pg");
  return await nodeCase(name, entry, label);
}

const NODE_CASES = new Set(ALL_CASES.filter((c) => !["bare", "raw-sqlite", "raw-pg"].includes(c)));
const results = new Map<string, CaseResult[]>();
const keyOf = (c: string, node: string) =>
  NODE_CASES.has(c) && opts.nodes.length > 1 ? `${c}@${node}` : c;

console.log(
  `# ingest_compare ${new Date().toISOString()}: ${opts.rounds} rounds × ${opts.seconds} s, ` +
    `wrk ${opts.threads} threads, ${opts.connections} connections, 1 KiB payloads`,
);
for (let round = 1; round <= opts.rounds; round++) {
  for (const c of opts.cases) {
    const variants = NODE_CASES.has(c) ? opts.nodes : [opts.nodes[0]!];
    // Alternate which variant goes first, so neither always runs on the warmer machine.
    const ordered = round % 2 === 0 ? [...variants].reverse() : variants;
    for (const v of ordered) {
      const key = keyOf(c, v.name);
      const load1 = Deno.loadavg()[0]!.toFixed(2);
      const r = await runCase(c, v.entry, key);
      (results.get(key) ?? results.set(key, []).get(key)!).push(r);
      console.log(
        `round ${round} ${key}: ${r.perSecond.toFixed(0)}/s p50 ${f2(r.p50Ms)} ms p99 ${
          f2(r.p99Ms)
        } ms, ${r.cpuUsPerMessage.toFixed(0)} µs CPU/msg (${
          r.threads ?? ""
        }), non-2xx ${r.non2xx} errors ${r.socketErrors} (load ${load1})`,
      );
    }
  }
}
if (opts.cases.includes("pg-open") || opts.cases.includes("raw-pg")) {
  await pgAdmin(`DROP DATABASE IF EXISTS ${PG_DB} WITH (FORCE)`).catch(() => {});
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const med = (key: string) => {
  const rs = results.get(key);
  if (rs === undefined) return undefined;
  return {
    perSecond: median(rs.map((r) => r.perSecond)),
    p50Ms: median(rs.map((r) => r.p50Ms)),
    p99Ms: median(rs.map((r) => r.p99Ms)),
    cpuUs: median(rs.map((r) => r.cpuUsPerMessage)),
    non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
  };
};
const BASELINE: Record<string, string> = {
  "sqlite-open": "raw-sqlite",
  "sqlite-open-c8": "raw-sqlite",
  "sqlite-tokens": "sqlite-open",
  "sqlite-spend": "sqlite-open",
  "sqlite-verify": "sqlite-open",
  "pg-open": "raw-pg",
  "sqlite-federation": "sqlite-open",
};
console.log(
  `\n| case | msgs/s (median) | baseline | ratio | p50 ms | p99 ms | CPU µs/msg | non-2xx |`,
);
console.log(`| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |`);
for (const key of results.keys()) {
  const [c, node] = key.split("@") as [string, string | undefined];
  const m = med(key)!;
  const baseKey = BASELINE[c] === undefined
    ? undefined
    : NODE_CASES.has(BASELINE[c]!) && node !== undefined
    ? `${BASELINE[c]}@${node}`
    : BASELINE[c]!;
  const base = baseKey === undefined ? undefined : med(baseKey);
  const ratio = base === undefined ? "" : f2(m.perSecond / base.perSecond);
  console.log(
    `| ${key} | ${m.perSecond.toFixed(0)} | ${baseKey ?? ""} | ${ratio} | ${f2(m.p50Ms)} | ${
      f2(m.p99Ms)
    } | ${m.cpuUs.toFixed(0)} | ${m.non2xx} |`,
  );
}
