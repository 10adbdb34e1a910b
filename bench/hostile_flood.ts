/**
 * Honest delivery during a notice flood from throwaway identities, with real node processes on
 * loopback (V on 127.0.2.1, H on 127.0.1.1, the attacker on 127.0.0.1): a wallet long-polls
 * server V for messages an honest server H posts, first with no flood (the baseline, same run),
 * then while 200 throwaway identities on one address (each passing V's contact check) send 500
 * notices each. Per-client HTTP limits are lifted (the wallet shares the attacker's address
 * here), so only the DHT's own defences are measured. Reports delivery p50/p99, local POST success
 * at V, and V's resident memory and data-folder growth per 100,000 hostile notices.
 *
 *   deno run -A bench/hostile_flood.ts [rounds=40] [identities=200]
 *
 * @module
 */
import { type NodeProcess, SHARED_ADDRESS_ARGS, startNode } from "../tests/_node.ts";
import { startSybilServer } from "../tests/_hostile.ts";
import { quantile } from "./_util.ts";

const ROUNDS = Number(Deno.args[0] ?? 40);
const IDENTITIES = Number(Deno.args[1] ?? 200);
const PER_IDENTITY = 500;
const COMMON = [
  "--dht-range-limits",
  "false",
  ...SHARED_ADDRESS_ARGS,
];

async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) total += (await Deno.stat(`${dir}/${e.name}`)).size;
  }
  return total;
}

async function deliver(h: NodeProcess, v: NodeProcess): Promise<number> {
  const tag = crypto.getRandomValues(new Uint8Array(20)).toHex();
  const poll = fetch(`${v.url}/v1/messages?prefix=${tag.slice(0, 8)}&bits=32&wait=20`)
    .then((r) => r.json());
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  const res = await fetch(`${h.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tag, payload: btoa("x".repeat(200)) }),
  });
  await res.body?.cancel();
  const got = await poll;
  if (got.messages?.length !== 1) throw new Error(`not delivered: ${JSON.stringify(got)}`);
  return performance.now() - t0;
}

async function localPosts(v: NodeProcess, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${v.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        tag: crypto.getRandomValues(new Uint8Array(20)).toHex(),
        payload: btoa("y".repeat(100)),
      }),
    });
    if (res.status === 201) ok++;
    await res.body?.cancel();
  }
  return ok;
}

async function measure(h: NodeProcess, v: NodeProcess) {
  const ms: number[] = [];
  const posts = localPosts(v, ROUNDS * 2);
  for (let i = 0; i < ROUNDS; i++) ms.push(await deliver(h, v));
  return { ms, ok: await posts };
}

// Distinct /24s (all loopback): the victim, the honest server, and the sybils on 127.0.0.1.
const v = await startNode({ args: [...COMMON, "--host", "127.0.2.1"] });
const h = await startNode({ args: [...COMMON, "--host", "127.0.1.1", "--bootstrap", v.url] });
const sybils = await startSybilServer();
try {
  for (let i = 0; i < 100; i++) {
    const info = await (await fetch(`${v.url}/v1/info`)).json();
    if (info.federation?.contacts > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await deliver(h, v); // warm: the victim verifies the honest origin once
  const quiet = await measure(h, v);
  const vInfo = await (await fetch(`${v.url}/v1/info`)).json();
  const target = { url: v.url, id: vInfo.node_id as string };
  const rss0 = await rssBytes(v.process.pid);
  const disk0 = await folderBytes(v.dataDir);
  const peers = sybils.add(IDENTITIES);
  let sent = 0;
  const t0 = performance.now();
  const flood = Promise.all(peers.map(async (p, i) => {
    const claims = Array.from({ length: PER_IDENTITY }, (_, j) => ({
      id: (1e9 + i * 1e4 + j).toString(16).padStart(64, "0"),
      tag: crypto.getRandomValues(new Uint8Array(20)).toHex(),
      size: 100,
    }));
    await p.sendNotices(target, p.notices(claims));
    sent += PER_IDENTITY;
  }));
  const loud = await measure(h, v);
  await flood;
  const floodSeconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 3000));
  const rss1 = await rssBytes(v.process.pid);
  const disk1 = await folderBytes(v.dataDir);
  const per100k = (x: number) => (x * 100_000 / sent / 2 ** 20).toFixed(1);
  const row = (name: string, r: { ms: number[]; ok: number }) =>
    `| ${name} | ${quantile(r.ms, 0.5).toFixed(1)} | ${quantile(r.ms, 0.99).toFixed(1)} | ${r.ok}/${
      ROUNDS * 2
    } |`;
  console.log(
    `Notice flood: ${sent} notices from ${IDENTITIES} identities on one address in ` +
      `${floodSeconds.toFixed(1)} s (${new Date().toISOString().slice(0, 10)})\n`,
  );
  console.log("| run | honest delivery p50 ms | p99 ms | local POSTs 201 |");
  console.log("| --- | ---: | ---: | ---: |");
  console.log(row("no flood (baseline)", quiet));
  console.log(row("during the flood", loud));
  console.log(
    `\nPer 100,000 hostile notices: memory +${per100k(rss1 - rss0)} MiB, ` +
      `data folder +${per100k(disk1 - disk0)} MiB.`,
  );
} finally {
  await sybils.close();
  await h.stop();
  await v.stop();
}
