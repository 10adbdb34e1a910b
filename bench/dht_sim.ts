/**
 * 1,000-node DHT simulation (memory transport, virtual time): lookup hop counts and success,
 * broadcast coverage and cost for r = 1, 2, 3 with 0% and 5% loss per message leg, before and
 * after 10% churn (10% of nodes vanish without notice, 10% new nodes join).
 *
 *   deno run -A bench/dht_sim.ts [nodes=1000] [notices=20] [seed=1]
 *
 * Prints Markdown tables (recorded in docs/bench/dht.md). Signatures use the simulation scheme
 * to keep the run short; the cost of real secp256k1 signatures is measured here and reported
 * per node per notice from the counted operations.
 *
 * @module
 */
import { generateIdentity, secp256k1Scheme } from "../node/dht/mod.ts";
import { type BroadcastMeasurement, percentile, Swarm } from "../node/dht/testing.ts";

const N = Number(Deno.args[0] ?? 1000);
const NOTICES = Number(Deno.args[1] ?? 20);
const SEED = Number(Deno.args[2] ?? 1);

function signCostUs(): { sign: number; verify: number } {
  const me = generateIdentity(secp256k1Scheme);
  const msg = new Uint8Array(400).fill(7);
  const sig = me.sign(msg);
  for (let i = 0; i < 100; i++) secp256k1Scheme.verify(me.publicKey, msg, me.sign(msg));
  let t = performance.now();
  for (let i = 0; i < 1000; i++) me.sign(msg);
  const sign = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < 1000; i++) secp256k1Scheme.verify(me.publicKey, msg, sig);
  return { sign, verify: performance.now() - t };
}

const out: string[] = [];
const log = (s: string) => {
  out.push(s);
  console.log(s);
};

const t0 = performance.now();
const swarm = new Swarm({ seed: SEED });
await swarm.grow(N);
const joinSeconds = (performance.now() - t0) / 1000;
const joinRpcs = swarm.net.stats.requests;
const sizes = swarm.nodes.map((n) => n.table.size);
log(`## ${N}-node simulation (seed ${SEED})\n`);
log(
  `Join: ${N} nodes bootstrapped 20 at a time (ping, self lookup, bucket refresh): ` +
    `${(joinRpcs / N).toFixed(0)} RPCs per join; routing table size p50 ${
      percentile(sizes, 50)
    }, min ${Math.min(...sizes)}; ${joinSeconds.toFixed(0)} s wall clock.\n`,
);

function lookupRow(label: string, m: Awaited<ReturnType<Swarm["measureLookups"]>>): string {
  return `| ${label} | ${m.lookups} | ${(100 * m.found / m.lookups).toFixed(1)}% | ${
    percentile(m.hops, 50)
  } | ${percentile(m.hops, 90)} | ${percentile(m.hops, 99)} | ${Math.max(...m.hops)} | ${
    percentile(m.rpcs, 50)
  } |`;
}

const lookupsHeader = "| network | lookups | success | hops p50 | p90 | p99 | max | RPCs p50 |\n" +
  "|---|---:|---:|---:|---:|---:|---:|---:|";
const lookupRows: string[] = [];
lookupRows.push(lookupRow("no churn", await swarm.measureLookups(500)));

const broadcastRows: string[] = [];
const verifyBefore = () => swarm.live().reduce((a, n) => a + n.stats.verifications, 0);
async function broadcast(label: string, r: number, loss: number, mode: "trees" | "first-copy") {
  for (const n of swarm.nodes) {
    n.broadcaster.r = r;
    n.broadcaster.mode = mode;
  }
  swarm.net.lossRate = loss;
  const v0 = verifyBefore();
  const b: BroadcastMeasurement = await swarm.measureBroadcast(NOTICES);
  const verifies = (verifyBefore() - v0) / (b.liveNodes * b.notices);
  swarm.net.lossRate = 0;
  broadcastRows.push(
    `| ${label} | ${mode === "trees" ? "r trees" : "first copy"} | ${r} | ${loss * 100}% | ${
      (100 * b.coverage).toFixed(2)
    }% | ${b.copiesPerNodePerNotice.toFixed(2)} | ${r + 0.5} | ${
      b.batchesPerNodePerNotice.toFixed(2)
    } | ${verifies.toFixed(2)} | ${b.durationMs} |`,
  );
  console.log(broadcastRows[broadcastRows.length - 1]);
}

for (const r of [1, 2, 3]) {
  for (const loss of [0, 0.05]) await broadcast("no churn", r, loss, "trees");
}
await broadcast("no churn", 2, 0, "first-copy");

swarm.churn(0.1);
await swarm.grow(Math.round(N / 10));
lookupRows.push(lookupRow("10% churn", await swarm.measureLookups(500)));
for (const r of [1, 2, 3]) {
  for (const loss of [0, 0.05]) await broadcast("10% churn", r, loss, "trees");
}
swarm.stop();

log("### Lookups (find_node for a random live node id from a random live node)\n");
log(lookupsHeader);
for (const row of lookupRows) log(row);
log(
  "\nHops: round trips until the target answered (seeds are 1 hop). Success: the target was " +
    "found. With churn the dead 10% stay in routing tables until they time out.\n",
);
log(`### Broadcast (${NOTICES} notices from random origins)\n`);
log(
  "| network | scheme | r | loss per leg | coverage | copies/node/notice | target | " +
    "RPCs/node/notice | verifications/node/notice | settle ms (virtual) |",
);
log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const row of broadcastRows) log(row);
const cost = signCostUs();
log(
  `\nReal secp256k1 cost on this machine (node:crypto): sign ${cost.sign.toFixed(0)} µs, ` +
    `verify ${cost.verify.toFixed(0)} µs per operation. A node pays one notice verification per ` +
    `new notice plus one envelope verification and one signature per batch it receives.`,
);
log(`\nTotal wall clock ${((performance.now() - t0) / 1000).toFixed(0)} s.`);
await Deno.writeTextFile(`.tmp/dht_sim_${N}.md`, out.join("\n") + "\n").catch(() => {});
