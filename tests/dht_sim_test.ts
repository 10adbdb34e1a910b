/**
 * In-process swarm on the memory transport in virtual time (the 1,000-node numbers come from
 * `bench/dht_sim.ts`; this test keeps the same checks on a smaller swarm so it stays fast).
 * Signatures use the simulation scheme; node_test.ts runs the same code with secp256k1.
 */
import assert from "node:assert/strict";
import { percentile, Swarm } from "../node/dht/testing.ts";

const SIZE = 150;

Deno.test("simulated swarm: lookups, broadcast coverage and cost, loss and churn", async (t) => {
  const swarm = new Swarm({ seed: 42, node: { placement: "broadcast" } });
  await swarm.grow(SIZE);

  await t.step("lookups succeed in a few hops without churn", async () => {
    const m = await swarm.measureLookups(150);
    assert.equal(m.found, m.lookups);
    assert.ok(percentile(m.hops, 50) <= 3, `median ${percentile(m.hops, 50)}`);
    assert.ok(percentile(m.hops, 99) <= 5, `p99 ${percentile(m.hops, 99)}`);
  });

  for (const r of [1, 2, 3]) {
    await t.step(
      `broadcast r=${r} without loss covers everyone at about r copies per node`,
      async () => {
        for (const n of swarm.nodes) n.broadcaster.r = r;
        const b = await swarm.measureBroadcast(10);
        assert.equal(b.coverage, 1);
        assert.ok(b.copiesPerNodePerNotice <= r + 0.5, `${b.copiesPerNodePerNotice} copies`);
      },
    );
  }

  await t.step("broadcast r=2 with 5% loss per leg still covers >= 99.9%", async () => {
    swarm.net.lossRate = 0.05;
    for (const n of swarm.nodes) n.broadcaster.r = 2;
    const b = await swarm.measureBroadcast(10);
    assert.ok(b.coverage >= 0.999, `coverage ${b.coverage}`);
    assert.ok(b.copiesPerNodePerNotice <= 2.5, `${b.copiesPerNodePerNotice} copies`);
    swarm.net.lossRate = 0;
  });

  await t.step("10% churn: lookups of live nodes and broadcast still succeed", async () => {
    swarm.churn(0.1);
    await swarm.grow(SIZE / 10);
    const m = await swarm.measureLookups(100);
    assert.ok(m.found / m.lookups >= 0.98, `found ${m.found}/${m.lookups}`);
    const b = await swarm.measureBroadcast(10);
    assert.ok(b.coverage >= 0.99, `coverage ${b.coverage}`);
  });

  await t.step("the naive first-copy fan-out costs more copies than r trees", async () => {
    for (const n of swarm.nodes) {
      n.broadcaster.r = 2;
      n.broadcaster.mode = "first-copy";
    }
    const naive = await swarm.measureBroadcast(5);
    for (const n of swarm.nodes) n.broadcaster.mode = "trees";
    const trees = await swarm.measureBroadcast(5);
    assert.ok(naive.copiesPerNodePerNotice > trees.copiesPerNodePerNotice);
  });
  swarm.stop();
});

Deno.test("region placement: a server's share follows its keyspace and its wallets' prefixes", async () => {
  const R = 3;
  const swarm = new Swarm({
    seed: 43,
    latencyMs: { min: 50, max: 50 },
    node: { noticeReplicas: R },
  });
  await swarm.grow(SIZE);
  const m = await swarm.measureRegion({
    followers: 10,
    bits: 8,
    notices: 400,
    inFollowed: 0.3,
    rounds: 5,
    roundMs: 2000,
    churn: 0.1,
    lateFollowers: 5,
  });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  // Without watched prefixes a server stores about replicas / N of all notices (not all).
  assert.ok(mean(m.idleShare) <= 3 * R / m.nodes, `idle mean share ${mean(m.idleShare)}`);
  assert.ok(Math.max(...m.idleShare) < 0.25, `idle max share ${Math.max(...m.idleShare)}`);
  assert.ok(mean(m.followerShare) <= 3 * R / m.nodes, `follower excess ${mean(m.followerShare)}`);
  assert.ok(m.delivery >= 0.98, `delivery ${m.delivery}`);
  assert.ok(m.backlogCompleteness >= 0.98, `backlog ${m.backlogCompleteness}`);
  swarm.stop();
});
