/**
 * End-to-end delivery latency across 10 real node processes on 127.0.0.1: a wallet long-polls
 * server B, another POSTs to server A, and we time from the POST until B's long poll returns
 * the message (A's commit, notice broadcast, B's commit, wake-up, body fetch from A).
 *
 *   deno run -A bench/dht_e2e.ts [rounds=200] [nodes=10]
 *
 * Baseline in the same run: the same measurement with A = B (local delivery, no federation).
 *
 * @module
 */
import { type NodeProcess, SHARED_ADDRESS_ARGS, startNode } from "../tests/_node.ts";

const ROUNDS = Number(Deno.args[0] ?? 200);
const NODES = Number(Deno.args[1] ?? 10);
const COMMON = [
  "--quota",
  "open",
  "--dht-range-limits",
  "false",
  "--dht-private-peers", // loopback peers
  "true",
  ...SHARED_ADDRESS_ARGS,
];

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function contacts(n: NodeProcess): Promise<number> {
  const i = await (await fetch(`${n.url}/v1/info`)).json();
  return i.federation?.contacts ?? 0;
}

async function once(a: NodeProcess, b: NodeProcess): Promise<number> {
  const tag = crypto.getRandomValues(new Uint8Array(20)).toHex();
  const poll = fetch(`${b.url}/v1/messages?prefix=${tag.slice(0, 8)}&bits=32&wait=10`)
    .then((r) => r.json());
  await new Promise((r) => setTimeout(r, 20)); // let the poll register
  const t0 = performance.now();
  const res = await fetch(`${a.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tag, payload: btoa("x".repeat(200)) }),
  });
  await res.body?.cancel();
  const got = await poll;
  const ms = performance.now() - t0;
  if (got.messages?.length !== 1 || got.messages[0].payload === null) {
    throw new Error(`round failed: ${JSON.stringify(got)}`);
  }
  return ms;
}

const nodes: NodeProcess[] = [await startNode({ args: COMMON })];
try {
  nodes.push(
    ...await Promise.all(
      Array.from(
        { length: NODES - 1 },
        () => startNode({ args: [...COMMON, "--bootstrap", nodes[0]!.url] }),
      ),
    ),
  );
  for (let i = 0; i < 100; i++) {
    const c = await Promise.all(nodes.map(contacts));
    if (c.every((x) => x >= NODES - 1)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const pick = () => nodes[Math.floor(Math.random() * nodes.length)]!;
  // Warm up connections and JIT.
  for (let i = 0; i < 20; i++) await once(pick(), pick());
  const local: number[] = [], remote: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const a = pick();
    let b = pick();
    while (b === a) b = pick();
    remote.push(await once(a, b));
    if (i % 4 === 0) local.push(await once(a, a));
  }
  const row = (label: string, v: number[]) =>
    `| ${label} | ${v.length} | ${percentile(v, 50).toFixed(1)} | ${
      percentile(v, 90).toFixed(1)
    } | ${percentile(v, 99).toFixed(1)} | ${Math.max(...v).toFixed(1)} |`;
  console.log(`${NODES} node processes on 127.0.0.1, ${ROUNDS} rounds\n`);
  console.log("| delivery | rounds | p50 ms | p90 ms | p99 ms | max ms |");
  console.log("|---|---:|---:|---:|---:|---:|");
  console.log(row("POST at A, long poll at B (federated)", remote));
  console.log(row("POST and long poll at A (baseline)", local));
  console.log(
    `\nFederated p50 / baseline p50 = ${
      (percentile(remote, 50) / percentile(local, 50)).toFixed(2)
    }`,
  );
} finally {
  await Promise.all(nodes.map((n) => n.kill()));
  await Promise.all(nodes.map((n) => Deno.remove(n.dataDir, { recursive: true }).catch(() => {})));
}
