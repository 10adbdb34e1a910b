import assert from "node:assert/strict";
import { commonPrefixBits, compareDistance, type NodeId, randomId } from "./id.ts";
import type { DhtNode } from "./node.ts";
import type { MemoryNoticeStore } from "./notice_store.ts";
import { closestTo, inRegion, regionBounds, regionKey, regionSet } from "./region.ts";
import { seededRandom } from "./random.ts";
import { REGION_SAMPLES, regionShares, Swarm, XorIndex } from "./testing.ts";
import { toHex } from "../../client/mod.ts";

Deno.test("regionKey masks the bits after the prefix; bounds span the region", () => {
  assert.equal(regionKey("abcd", 12), "abc" + "0".repeat(37));
  assert.equal(regionKey("ff", 3), "e" + "0".repeat(39));
  assert.equal(regionKey("", 0), "0".repeat(40));
  const { lo, hi } = regionBounds(regionKey("a8", 5), 5);
  assert.equal(lo, "a8" + "0".repeat(38));
  assert.equal(hi, "af" + "f".repeat(38));
  assert.ok(inRegion("af" + "1".repeat(38), regionKey("a8", 5), 5));
  assert.ok(!inRegion("b0" + "0".repeat(38), regionKey("a8", 5), 5));
  assert.throws(() => regionKey("a", 5), RangeError);
});

Deno.test("regionSet: the servers sharing the most bits with the prefix, at least `replicas`", () => {
  const prefix = regionKey("ab", 8);
  const c = (hex: string) => ({ id: hex.padEnd(40, "0") as never, publicKey: "", url: "" });
  const found = [c("ab1"), c("aa"), c("a9"), c("b0"), c("ab8")];
  const set = regionSet(found, "1".repeat(40), prefix, 8, 3, 20);
  assert.equal(set.spread, false);
  // Two servers inside the region are not enough for 3 replicas: widen to 7 bits (aa, ab*).
  assert.equal(set.sharedBits, 7);
  assert.deepEqual(set.contacts.map((x) => x.id.slice(0, 3)).sort(), ["aa0", "ab1", "ab8"]);
});

async function swarmOf(n: number, seed: number, node: Record<string, unknown> = {}) {
  const swarm = new Swarm({ seed, node: { noticeReplicas: 3, ...node } });
  await swarm.grow(n, 10);
  return swarm;
}

function holds(n: DhtNode, id: string): boolean {
  return (n.notices as MemoryNoticeStore).all().some((x) => x.id === id);
}

async function publish(swarm: Swarm, origin: DhtNode, tag: string) {
  const id = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const nowS = Math.floor(swarm.clock.now() / 1000);
  const [notice] = await swarm.clock.run(
    origin.publishMany([{ id, tag, size: 10, expiresAt: nowS + 3600, createdAtMs: 0 }]),
  );
  await swarm.clock.runUntilIdle({ untilMs: swarm.clock.now() + 10_000 });
  return notice!;
}

Deno.test("a notice is stored at the servers closest to its tag, and nowhere else", async () => {
  const swarm = await swarmOf(40, 21);
  const random = seededRandom(5);
  for (let i = 0; i < 20; i++) {
    const origin = swarm.nodes[Math.floor(random() * 40)]!;
    const tag = randomId(random);
    const n = await publish(swarm, origin, tag);
    const ranked = [...swarm.nodes].sort((a, b) => compareDistance(tag, a.selfId, b.selfId));
    for (const [i, node] of ranked.entries()) {
      const expected = i < 3; // the origin too holds it only if it is one of the 3
      assert.equal(holds(node, n.id), expected, `rank ${i} ${expected ? "lacks" : "holds"} it`);
    }
  }
  swarm.stop();
});

Deno.test("a follower gets its region's backlog at once and new notices pushed", async () => {
  const swarm = await swarmOf(40, 22);
  const random = seededRandom(6);
  const prefix = randomId(random).slice(0, 2);
  const inPrefix = () => prefix + randomId(random).slice(2);
  const [follower, other] = [swarm.nodes[7]!, swarm.nodes[8]!];
  const old = [];
  for (let i = 0; i < 6; i++) old.push(await publish(swarm, swarm.nodes[i * 5 + 1]!, inPrefix()));
  await swarm.clock.run(follower.follow(prefix, 8));
  const got = swarm.delivered.get(follower.selfId)!;
  for (const n of old) assert.ok(got.has(n.id), "backlog notice missing after follow()");
  const fresh = [];
  for (let i = 0; i < 6; i++) fresh.push(await publish(swarm, swarm.nodes[i * 6 + 2]!, inPrefix()));
  for (const n of fresh) assert.ok(got.has(n.id), "pushed notice missing");
  // Outside the region, and at a server that follows nothing: no rows.
  const outside = await publish(
    swarm,
    swarm.nodes[3]!,
    (prefix === "00" ? "01" : "00") + "0".repeat(38),
  );
  assert.ok(!got.has(outside.id));
  assert.equal(swarm.delivered.get(other.selfId)!.size, 0);
  swarm.stop();
});

Deno.test("a short prefix spreads down its subtree: every notice of a half reaches the follower", async () => {
  // k = 6 so a 1-bit region (about 30 servers) holds more servers than one lookup returns.
  const swarm = await swarmOf(60, 23, { k: 6 });
  const random = seededRandom(7);
  const follower = swarm.nodes[11]!;
  const bit = commonPrefixBits(follower.selfId, "8".padEnd(40, "0")) >= 1 ? "0" : "8";
  const inHalf = () => {
    const t = randomId(random);
    return (bit === "8" ? (parseInt(t[0]!, 16) | 8) : (parseInt(t[0]!, 16) & 7)).toString(16) +
      t.slice(1);
  };
  const old = [];
  for (let i = 0; i < 10; i++) old.push(await publish(swarm, swarm.nodes[i * 5]!, inHalf()));
  await swarm.clock.run(follower.follow(bit, 1));
  await swarm.clock.runUntilIdle({ untilMs: swarm.clock.now() + 10_000 });
  // Every server of the half holds the subscription (direct from small buckets, forwarded from
  // full ones), and no server outside it does.
  const key = regionKey(bit, 1);
  for (const n of swarm.live()) {
    if (n === follower) continue;
    const holds = n.subscriptions.all(swarm.clock.now())
      .some((s) => s.subscriber.id === follower.selfId && s.prefix === key && s.bits === 1);
    assert.equal(holds, inRegion(n.selfId, key, 1), `${n.selfId} holds the subscription`);
  }
  const fresh = [];
  for (let i = 0; i < 10; i++) fresh.push(await publish(swarm, swarm.nodes[i * 5 + 2]!, inHalf()));
  const got = swarm.delivered.get(follower.selfId)!;
  const missing = [...old, ...fresh].filter((n) =>
    !got.has(n.id) && n.origin.id !== follower.selfId
  );
  assert.equal(missing.length, 0, `${missing.length} of 20 missing`);
  swarm.stop();
});

Deno.test("subscriptions are signed: a forged one is refused and costs the sender a strike", async () => {
  const swarm = await swarmOf(12, 24);
  const [a, b] = [swarm.nodes[1]!, swarm.nodes[2]!];
  const body = {
    subscription: {
      subscriber: { id: b.selfId, public_key: b.contact.publicKey, url: b.url },
      prefix: "0".repeat(40),
      bits: 0,
      expires_at: Math.floor(swarm.clock.now() / 1000) + 60,
      sig: "00".repeat(64),
    },
    spread: true,
    backlog: true,
  };
  const r = await swarm.clock.run(
    a.call(swarm.nodes[3]!.contact, "subscribe", body).catch((e: Error) => e),
  );
  assert.ok(r instanceof Error, "a forged subscription must be refused");
  assert.equal(swarm.nodes[3]!.subscriptions.size, 0);
  swarm.stop();
});

Deno.test("followed regions are capped; the one asked for least recently goes first", async () => {
  const swarm = await swarmOf(6, 25, { maxFollowed: 20 });
  const node = swarm.nodes[0]!;
  await swarm.clock.run(node.follow("aaaa", 16));
  for (let i = 0; i < 40; i++) {
    await swarm.clock.run(node.follow(i.toString(16).padStart(4, "0"), 16));
  }
  const regions = node.following();
  assert.equal(regions.length, 20);
  assert.ok(!regions.some((r) => r.prefix.startsWith("aaaa")), "the stalest region was dropped");
  assert.ok(node.follows("0027" + "0".repeat(36)));
  assert.ok(!node.follows("0001" + "0".repeat(36)));
  swarm.stop();
});

Deno.test("republishing puts a notice back at the closest servers after a holder left", async () => {
  const swarm = await swarmOf(30, 26);
  const tag = randomId(seededRandom(9));
  const n = await publish(swarm, swarm.nodes[4]!, tag);
  const ranked = () =>
    swarm.live().sort((a, b) => compareDistance(tag, a.selfId, b.selfId)).slice(0, 3);
  const [gone] = ranked();
  swarm.kill(gone!);
  assert.equal(ranked().filter((x) => holds(x, n.id)).length, 2, "one holder left");
  await swarm.clock.run(Promise.all(swarm.live().map((x) => x.republishNotices())));
  await swarm.clock.runUntilIdle({ untilMs: swarm.clock.now() + 10_000 });
  assert.equal(ranked().filter((x) => holds(x, n.id)).length, 3, "back at three");
  swarm.stop();
});

Deno.test("regionShares: each sampled key counts for its r closest ids, as closestTo finds them", () => {
  const rand = seededRandom(3);
  const ids = Array.from({ length: 40 }, () => randomId(rand));
  const shares = regionShares(ids, 3, seededRandom(7));
  const keys = seededRandom(7);
  const counts = new Map<string, number>();
  for (let s = 0; s < REGION_SAMPLES; s++) {
    const key = randomId(keys);
    for (const c of closestTo(key, ids.map((id) => ({ id })), 3)) {
      counts.set(c.id, (counts.get(c.id) ?? 0) + 1);
    }
  }
  for (const id of ids) assert.equal(shares.get(id), (counts.get(id) ?? 0) / REGION_SAMPLES);
  const total = [...shares.values()].reduce((a, x) => a + x, 0);
  assert.ok(Math.abs(total - 3) < 1e-9);
});

Deno.test("XorIndex: the r closest ids by XOR, closest first, as closestTo ranks them", () => {
  const rand = seededRandom(11);
  // Half the ids share a 20-bit prefix, so the runs it narrows through split unevenly.
  const ids = Array.from(
    { length: 300 },
    (_, i) => (i % 2 === 0 ? "a5f3c" + randomId(rand).slice(5) : randomId(rand)) as NodeId,
  );
  const index = new XorIndex(ids);
  const keys: string[] = [
    ...ids.slice(0, 20),
    ...Array.from({ length: 500 }, () => randomId(rand)),
  ];
  keys.push("a5f3c" + "0".repeat(35), "f".repeat(40), "0".repeat(40));
  for (const key of keys) {
    for (const r of [1, 3, 20]) {
      const want = closestTo(key, ids.map((id) => ({ id })), r).map((c) => c.id);
      assert.deepEqual(index.closest(BigInt("0x" + key), r).map((i) => ids[i]), want, key);
    }
  }
  assert.deepEqual(new XorIndex(ids.slice(0, 2)).closest(0n, 3).length, 2);
});
