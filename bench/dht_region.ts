/**
 * Region placement against broadcast, in one run (memory transport, virtual time, 50 ms links):
 * the share of all notices each server receives (without and with followed prefixes), delivery
 * to long polls under 10% churn, backlog completeness, and bytes per server per message for both
 * designs on swarms of the same size and seed.
 *
 *   deno run -A bench/dht_region.ts [nodes=1000] [notices=2000] [replicas=3] [seed=1] [broadcast=1]
 *
 * `broadcast=0` skips the broadcast swarm (for runs too large to hold both); `broadcast=only` runs
 * the broadcast swarm alone (its bytes row; the region rows are left out).
 *
 * @module
 */
import { percentile, Swarm } from "../node/dht/testing.ts";

const N = Number(Deno.args[0] ?? 1000);
const NOTICES = Number(Deno.args[1] ?? 2000);
const R = Number(Deno.args[2] ?? 3);
const SEED = Number(Deno.args[3] ?? 1);
const WITH_BROADCAST = (Deno.args[4] ?? "1") !== "0";
const BROADCAST_ONLY = Deno.args[4] === "only";
const t0 = performance.now();
const latency = { min: 50, max: 50 };

const progress = (what: string) =>
  console.error(`${what} after ${((performance.now() - t0) / 1000).toFixed(0)} s`);

/** The broadcast design on a swarm of the same size and seed: bytes per server per message. */
async function measureBroadcastBytes(): Promise<
  { bytes: number; notices: number; coverage: number }
> {
  const broadcast = new Swarm({ seed: SEED, latencyMs: latency, node: { placement: "broadcast" } });
  await broadcast.grow(N);
  progress(`broadcast swarm grown to ${N} servers`);
  const b0 = broadcast.net.stats.bytes;
  const b = await broadcast.measureBroadcast(Math.min(NOTICES, 200));
  broadcast.stop();
  return {
    bytes: (broadcast.net.stats.bytes - b0) / (b.liveNodes * b.notices),
    notices: b.notices,
    coverage: b.coverage,
  };
}

if (BROADCAST_ONLY) {
  const b = await measureBroadcastBytes();
  console.log(
    `| bytes per server per message, broadcast (r = 2, ${N} servers, ${b.notices} notices) | ${
      b.bytes.toFixed(1)
    } | coverage ${(100 * b.coverage).toFixed(2)}% |`,
  );
  Deno.exit(0);
}
const region = new Swarm({ seed: SEED, latencyMs: latency, node: { noticeReplicas: R } });
await region.grow(N);
progress(`grown to ${N} servers`);
const m = await region.measureRegion({
  followers: Math.max(10, Math.round(N / 20)),
  bits: 8,
  notices: NOTICES,
  inFollowed: 0.3,
  rounds: 10,
  roundMs: 2000,
  churn: 0.1,
  lateFollowers: 20,
  onProgress: progress,
});
region.stop();

const broadcastBytes = WITH_BROADCAST ? (await measureBroadcastBytes()).bytes : NaN;

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
const f = (x: number) => x.toFixed(4);
const rows = [
  `## Region placement, ${N} servers (seed ${SEED}, replicas ${R}, 50 ms links, 10% churn)\n`,
  "| measure | value | target |",
  "|---|---:|---:|",
  `| share of all notices received, servers following nothing: mean / p99 / max | ${
    f(mean(m.idleShare))
  } / ${f(percentile(m.idleShare, 99))} / ${f(Math.max(...m.idleShare))} | <= ${f(3 * R / N)} |`,
  `| the same servers, share of the uniformly tagged notices (70% of them): mean / p99 / max | ${
    f(mean(m.idleUniformShare))
  } / ${f(percentile(m.idleUniformShare, 99))} / ${f(Math.max(...m.idleUniformShare))} | <= ${
    f(3 * R / N)
  } |`,
  `| the same servers, expected share (their XOR region, ${m.regionSamples} sampled keys): mean / p99 / max | ${
    f(mean(m.idleRegionShare))
  } / ${f(percentile(m.idleRegionShare, 99))} / ${f(Math.max(...m.idleRegionShare))} | <= ${
    f(3 * R / N)
  } |`,
  `| of the uniformly tagged notices those servers hold, share held by a server responsible at the end | ${
    (100 * m.heldResponsible).toFixed(1)
  }% | |`,
  `| servers following one 8-bit prefix: share beyond their region's own traffic, mean / max | ${
    f(mean(m.followerShare))
  } / ${f(Math.max(...m.followerShare))} | <= ${f(3 * R / N)} |`,
  `| the same servers, share of the uniformly tagged notices outside their prefix: mean / p99 / max | ${
    f(mean(m.followerUniformShare))
  } / ${f(percentile(m.followerUniformShare, 99))} / ${
    f(Math.max(...m.followerUniformShare))
  } | <= ${f(3 * R / N)} |`,
  `| delivery to followers (origin alive) | ${(100 * m.delivery).toFixed(2)}% | >= 99.9% |`,
  `| delivery latency p50 / p99 (virtual ms) | ${percentile(m.latencyMs, 50)} / ${
    percentile(m.latencyMs, 99)
  } | p99 <= 500 |`,
  `| first query for a new prefix: complete backlog | ${
    (100 * m.backlogCompleteness).toFixed(2)
  }% | 100% |`,
  `| first query latency p50 / p99 (virtual ms) | ${percentile(m.backlogMs, 50)} / ${
    percentile(m.backlogMs, 99)
  } | p99 <= 1000 |`,
  `| bytes per server per message, region placement | ${m.bytesPerServerPerMessage.toFixed(1)} | |`,
  `| bytes per server per message, broadcast (r = 2, same size) | ${broadcastBytes.toFixed(1)} | |`,
  `\n${m.notices} notices, ${m.left} servers left and as many joined during the run; ` +
  `wall clock ${((performance.now() - t0) / 1000).toFixed(0)} s.`,
];
console.log(rows.join("\n"));
await Deno.mkdir(".tmp", { recursive: true });
await Deno.writeTextFile(`.tmp/dht_region_${N}.md`, rows.join("\n") + "\n");
