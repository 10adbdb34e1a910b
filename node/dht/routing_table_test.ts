import assert from "node:assert/strict";
import type { Contact } from "./contact.ts";
import { generateIdentity } from "./identity.ts";
import { simulationScheme } from "./testing.ts";
import { bucketIndex, compareDistance, type NodeId, randomId, randomIdInBucket } from "./id.ts";
import { seededRandom } from "./random.ts";
import { RoutingTable } from "./routing_table.ts";

const ids = Array.from({ length: 600 }, () => generateIdentity(simulationScheme));
const contacts: Contact[] = ids.map((x, i) => ({
  id: x.id,
  publicKey: x.publicKeyHex,
  url: `http://10.${i % 7}.${i % 5}.${i % 250}:8080`,
}));
const rangeOf = (c: Contact) => c.url.split(".").slice(0, 3).join(".");

function checkInvariants(t: RoutingTable, self: NodeId): void {
  const seen = new Set<string>();
  const perRange = new Map<string, number>();
  for (let i = 0; i < 160; i++) {
    const b = t.bucket(i);
    assert.ok(b.length <= t.k, `bucket ${i} holds ${b.length} > k`);
    assert.ok(t.replacements(i).length <= t.replacementSize);
    const inBucket = new Map<string, number>();
    for (const e of b) {
      assert.equal(bucketIndex(self, e.contact.id), i);
      assert.ok(!seen.has(e.contact.id), "duplicate contact");
      seen.add(e.contact.id);
      inBucket.set(e.rangeKey, (inBucket.get(e.rangeKey) ?? 0) + 1);
      perRange.set(e.rangeKey, (perRange.get(e.rangeKey) ?? 0) + 1);
    }
    if (t.rangeLimits) {
      for (const n of inBucket.values()) assert.ok(n <= t.rangeLimits.perBucket);
    }
  }
  if (t.rangeLimits) { for (const n of perRange.values()) assert.ok(n <= t.rangeLimits.perTable); }
  assert.equal(seen.size, t.size);
  assert.ok(!seen.has(self));
}

Deno.test("property: random operations keep bucket, range and uniqueness bounds", () => {
  const r = seededRandom(5);
  for (const limits of [null, { perBucket: 2, perTable: 10 }]) {
    const self = randomId(r);
    const t = new RoutingTable(self, { k: 8, rangeLimits: limits });
    for (let step = 0; step < 3000; step++) {
      const c = contacts[Math.floor(r() * contacts.length)]!;
      const op = r();
      if (op < 0.7) {
        const res = t.observe(c, rangeOf(c), step);
        if (res.kind === "replacement" && res.ping) t.pingResult(res.ping.id, r() < 0.5, step);
      } else if (op < 0.9) t.failed(c.id);
      else t.remove(c.id);
      if (step % 100 === 0) checkInvariants(t, self);
    }
    checkInvariants(t, self);
  }
});

Deno.test("property: closest() equals a brute-force sort", () => {
  const r = seededRandom(6);
  const self = randomId(r);
  const t = new RoutingTable(self, { rangeLimits: null });
  for (const c of contacts) t.observe(c, rangeOf(c), 0);
  for (let i = 0; i < 50; i++) {
    const target = randomId(r);
    const expected = t.contacts().sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, 20);
    assert.deepEqual(t.closest(target, 20).map((c) => c.id), expected.map((c) => c.id));
  }
  // Targets near the table's own id (deep buckets first), its own id, other counts, a filter.
  const near = Array.from({ length: 40 }, (_, i) => randomIdInBucket(self, i * 4, r));
  const skip = (c: Contact) => c.id.endsWith("7");
  for (const target of [...near, self, ...t.contacts().slice(0, 10).map((c) => c.id)]) {
    for (const n of [1, 7, 20, 1000]) {
      const sorted = t.contacts().sort((a, b) => compareDistance(target, a.id, b.id));
      assert.deepEqual(
        t.closest(target, n).map((c) => c.id),
        sorted.slice(0, n).map((c) => c.id),
      );
      assert.deepEqual(
        t.closest(target, n, skip).map((c) => c.id),
        sorted.filter((c) => !skip(c)).slice(0, n).map((c) => c.id),
      );
    }
  }
  assert.deepEqual(t.closest(self, 0), []);
});

Deno.test("a full bucket asks for a liveness check and keeps the live contact", () => {
  const r = seededRandom(7);
  const self = ids[0]!.id;
  const t = new RoutingTable(self, { k: 2, rangeLimits: null });
  // Three contacts in the same bucket (159: differ in the top bit).
  const same = contacts.filter((c) => bucketIndex(self, c.id) === 159).slice(0, 4);
  assert.equal(t.observe(same[0]!, "a", 1).kind, "added");
  assert.equal(t.observe(same[1]!, "b", 2).kind, "added");
  const res = t.observe(same[2]!, "c", 3);
  assert.equal(res.kind, "replacement");
  assert.equal(res.kind === "replacement" && res.ping?.id, same[0]!.id); // least recently seen
  // A second newcomer while the check is pending does not trigger another ping.
  const res2 = t.observe(same[3]!, "d", 4);
  assert.deepEqual(res2, { kind: "replacement", ping: null });
  // The old contact answered: it stays, newcomers wait.
  assert.equal(t.pingResult(same[0]!.id, true, 5), null);
  assert.ok(t.has(same[0]!.id) && !t.has(same[2]!.id));
  // Next check: same[1] is now least recently seen and dead: replaced by the newest newcomer.
  const res3 = t.observe(same[2]!, "c", 6);
  assert.equal(res3.kind === "replacement" && res3.ping?.id, same[1]!.id);
  assert.equal(t.pingResult(same[1]!.id, false, 7)?.id, same[2]!.id);
  assert.ok(!t.has(same[1]!.id));
  void r;
});

Deno.test("failures evict only when a replacement exists (or after many failures)", () => {
  const self = ids[0]!.id;
  const t = new RoutingTable(self, { k: 1, rangeLimits: null, maxFailures: 2 });
  const same = contacts.filter((c) => bucketIndex(self, c.id) === 159).slice(0, 2);
  t.observe(same[0]!, "a", 0);
  assert.equal(t.failed(same[0]!.id), false);
  assert.equal(t.failed(same[0]!.id), false); // no replacement: kept
  t.observe(same[1]!, "b", 1); // goes to the cache, and the failing entry makes room
  assert.ok(t.has(same[1]!.id));
  assert.ok(!t.has(same[0]!.id));
  for (let i = 0; i < 5; i++) t.failed(same[1]!.id);
  assert.ok(t.has(same[1]!.id));
  t.failed(same[1]!.id);
  assert.ok(!t.has(same[1]!.id)); // 3 * maxFailures
});

Deno.test("range limits refuse a flood of ids from one /24", () => {
  const r = seededRandom(8);
  const self = randomId(r);
  const t = new RoutingTable(self, { rangeLimits: { perBucket: 2, perTable: 10 } });
  let added = 0;
  for (const c of contacts) if (t.observe(c, "ip4:10.0.0", 0).kind === "added") added++;
  assert.equal(added, 10);
});

Deno.test("snapshot round trip keeps contacts and refresh times; foreign snapshots refused", () => {
  const r = seededRandom(9);
  const self = randomId(r);
  const t = new RoutingTable(self, { rangeLimits: null });
  for (const c of contacts.slice(0, 200)) t.observe(c, rangeOf(c), 42);
  t.markRefreshed(159, 1234);
  const json = JSON.parse(JSON.stringify(t.toJSON()));
  const back = RoutingTable.fromJSON(self, json, { rangeLimits: null });
  assert.deepEqual(back.contacts().map((c) => c.id).sort(), t.contacts().map((c) => c.id).sort());
  assert.deepEqual(back.toJSON(), t.toJSON());
  assert.throws(() => RoutingTable.fromJSON(randomId(r), json), /another node id/);
  assert.throws(() => RoutingTable.fromJSON(self, { version: 2 }), /version 1/);
});

Deno.test("buckets due for refresh span from the lowest non-empty bucket up", () => {
  const r = seededRandom(10);
  const self = randomId(r);
  const t = new RoutingTable(self, { rangeLimits: null });
  assert.deepEqual(t.bucketsDueForRefresh(0, 1000), []);
  const c = contacts[0]!;
  const near = { ...c, id: randomIdInBucket(self, 150, r) };
  t.observe(near, "x", 0);
  assert.deepEqual(
    t.bucketsDueForRefresh(5000, 1000),
    Array.from({ length: 10 }, (_, i) => 150 + i),
  );
  t.markRefreshed(155, 4500);
  assert.ok(!t.bucketsDueForRefresh(5000, 1000).includes(155));
});
