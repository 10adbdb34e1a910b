import assert from "node:assert/strict";
import { HEADER, signRequest } from "./envelope.ts";
import { generateIdentity, secp256k1Scheme } from "./identity.ts";
import { randomId } from "./id.ts";
import { type Notice, noticeToJson, parseNotice, signNotice, signNotices } from "./notice.ts";
import { seededRandom } from "./random.ts";
import { messageIdOf } from "./rpc/fetch.ts";
import { Swarm } from "./testing.ts";
import { toHex } from "../../client/mod.ts";

const enc = new TextEncoder();

async function swarmOf(n: number, seed: number, node: Record<string, unknown> = {}) {
  const swarm = new Swarm({ seed, scheme: secp256k1Scheme, node });
  await swarm.grow(n, 10);
  return swarm;
}

Deno.test("lookups find every node of a small swarm (real signatures)", async () => {
  const swarm = await swarmOf(30, 1);
  const m = await swarm.measureLookups(30);
  assert.equal(m.found, 30);
  for (const n of swarm.nodes) assert.ok(n.table.size >= 20, `table of ${n.table.size}`);
  assert.ok(swarm.nodes.every((n) => n.stats.verifications > 0));
  swarm.stop();
});

// The tests below that say "every node" run the former design (placement "broadcast"), which
// the simulation benchmark compares with region placement; region placement has its own tests.
Deno.test("broadcast reaches every node; a body is fetched from the origin and checked", async () => {
  const swarm = await swarmOf(24, 2, { placement: "broadcast" });
  const [origin, reader] = [swarm.nodes[3]!, swarm.nodes[17]!];
  const tag = randomId(seededRandom(3));
  const payload = enc.encode("hello federation");
  const id = messageIdOf(tag, payload);
  // The origin serves its body through the fetch RPC.
  const bodies = new Map([[id, { tag, payload }]]);
  origin.bodies = { get: (k: string) => bodies.get(k) ?? null };
  const notice = await swarm.clock.run(origin.publish({
    id,
    tag,
    size: payload.length,
    expiresAt: Math.floor(swarm.clock.now() / 1000) + 3600,
    createdAtMs: swarm.clock.now(),
  }));
  await swarm.clock.runUntilIdle();
  for (const n of swarm.nodes) {
    if (n !== origin) assert.ok(swarm.delivered.get(n.selfId)!.has(id), `node ${n.selfId} missed`);
  }
  const body = await swarm.clock.run(reader.fetchBody(notice));
  assert.deepEqual(body, { tag, payload });
  // A lying holder: the body does not match the id, so it is refused.
  bodies.set(id, { tag, payload: enc.encode("forged") });
  assert.equal(await swarm.clock.run(reader.fetchBody(notice)), null);
  swarm.stop();
});

Deno.test("providers keep a message reachable after its origin is gone", async () => {
  const swarm = await swarmOf(24, 4);
  const [origin, keeper, reader] = [swarm.nodes[1]!, swarm.nodes[8]!, swarm.nodes[19]!];
  const tag = randomId(seededRandom(5));
  const payload = enc.encode("kept copy");
  const id = messageIdOf(tag, payload);
  const expiresAt = Math.floor(swarm.clock.now() / 1000) + 3600;
  keeper.bodies = { get: (k: string) => (k === id ? { tag, payload } : null) };
  const stored = await swarm.clock.run(keeper.addProvider(id, tag, expiresAt));
  assert.ok(stored >= 8, `stored at ${stored} nodes`);
  swarm.kill(origin);
  const fakeNotice = { id, tag, size: payload.length, origin: origin.contact };
  const found = await swarm.clock.run(reader.findProviders(id));
  assert.deepEqual(found.map((p) => p.provider.id), [keeper.selfId]);
  assert.deepEqual(await swarm.clock.run(reader.fetchBody(fakeNotice)), { tag, payload });
  swarm.stop();
});

Deno.test("a node that was offline catches up from its neighbours", async () => {
  const swarm = await swarmOf(20, 6, { placement: "broadcast" });
  const sleeper = swarm.nodes[5]!;
  swarm.net.unlisten(sleeper.url);
  const origin = swarm.nodes[9]!;
  const published: Notice[] = [];
  for (let i = 0; i < 5; i++) {
    published.push(
      await swarm.clock.run(origin.publish({
        id: toHex(new Uint8Array(32).fill(i + 1)),
        tag: randomId(seededRandom(i)),
        size: 10,
        expiresAt: Math.floor(swarm.clock.now() / 1000) + 3600,
        createdAtMs: swarm.clock.now(),
      })),
    );
  }
  await swarm.clock.runUntilIdle();
  assert.equal(swarm.delivered.get(sleeper.selfId)!.size, 0);
  swarm.net.listen(sleeper.url, (rpc, req, meta) => sleeper.handle(rpc, req, meta));
  const added = await swarm.clock.run(sleeper.catchUp(0));
  assert.equal(added, 5);
  for (const n of published) assert.ok(swarm.delivered.get(sleeper.selfId)!.has(n.id));
  swarm.stop();
});

Deno.test("bad notice signatures get a peer banned while honest traffic flows", async () => {
  const swarm = await swarmOf(12, 7, { placement: "broadcast" });
  const [victim, honest] = [swarm.nodes[2]!, swarm.nodes[4]!];
  const attacker = generateIdentity(secp256k1Scheme);
  const now = () => swarm.clock.now();
  const forged = (i: number) => {
    const n = signNotice(attacker, "mem://evil.sim", {
      id: toHex(new Uint8Array(32).fill(100 + i)),
      tag: "00".repeat(20),
      size: 1,
      expiresAt: Math.floor(now() / 1000) + 60,
      createdAtMs: now(),
    });
    return { ...noticeToJson(n), size: 2 }; // breaks the origin signature
  };
  let nonce = 0;
  const send = (notices: unknown[]) =>
    victim.handle(
      "notices",
      signRequest({
        identity: attacker,
        selfUrl: "mem://evil.sim",
        rpc: "notices",
        to: victim.selfId,
        body: enc.encode(JSON.stringify({ notices: notices.map((n) => ({ notice: n, tree: 0 })) })),
        nowMs: now(),
        nonce: (nonce++).toString(16).padStart(32, "0"),
      }),
      { remoteAddr: "evil.sim" },
    );
  const first = await send([forged(1)]);
  assert.equal(first.status, 200);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(first.body)).invalid, 1);
  await send([forged(2), forged(3)]);
  const banned = await send([forged(4)]);
  assert.equal(banned.status, 403);
  assert.equal(victim.stats.noticesAccepted, 0);
  // Replay of a signed request is refused even before the ban logic.
  const wire = signRequest({
    identity: generateIdentity(),
    selfUrl: "mem://other.sim",
    rpc: "ping",
    to: victim.selfId,
    body: enc.encode("{}"),
    nowMs: now(),
    nonce: "ff".repeat(16),
  });
  assert.equal((await victim.handle("ping", wire, { remoteAddr: "other.sim" })).status, 200);
  assert.equal((await victim.handle("ping", wire, { remoteAddr: "other.sim" })).status, 401);
  const unsigned = { ...wire, headers: { ...wire.headers } };
  delete unsigned.headers[HEADER.signature];
  assert.equal((await victim.handle("ping", unsigned, { remoteAddr: "other.sim" })).status, 401);
  // Honest traffic still flows.
  const n = await swarm.clock.run(honest.publish({
    id: "ab".repeat(32),
    tag: "cd".repeat(20),
    size: 3,
    expiresAt: Math.floor(now() / 1000) + 60,
    createdAtMs: now(),
  }));
  await swarm.clock.runUntilIdle();
  assert.ok(swarm.delivered.get(victim.selfId)!.has(n.id));
  swarm.stop();
});

Deno.test("a flood from one peer is throttled (429) by its notice budget", async () => {
  const swarm = await swarmOf(5, 8, {
    limits: { noticesPerSecondPerPeer: 10, noticesBurstPerPeer: 20 },
  });
  const victim = swarm.nodes[1]!;
  // A reachable origin (it answers the victim's ping), flooding on its own.
  const flooderNode = swarm.nodes[3]!;
  const flooder = flooderNode.identity;
  const floodUrl = flooderNode.url;
  const now = swarm.clock.now();
  const notices = Array.from(
    { length: 15 },
    (_, i) =>
      noticeToJson(signNotice(flooder, floodUrl, {
        id: toHex(new Uint8Array(32).fill(i)),
        tag: "00".repeat(20),
        size: 1,
        expiresAt: Math.floor(now / 1000) + 60,
        createdAtMs: now,
      })),
  );
  const statuses: number[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await victim.handle(
      "notices",
      signRequest({
        identity: flooder,
        selfUrl: floodUrl,
        rpc: "notices",
        to: victim.selfId,
        body: enc.encode(JSON.stringify({ notices: notices.map((n) => ({ notice: n, tree: 0 })) })),
        nowMs: now,
        nonce: i.toString(16).padStart(32, "0"),
      }),
      { remoteAddr: "flood.sim" },
    );
    statuses.push(res.status);
  }
  assert.deepEqual(statuses, [200, 429]);
  await swarm.clock.runUntilIdle(); // the origin's contact is verified, then its notices stored
  assert.equal(victim.stats.noticesAccepted, 15);
  swarm.stop();
});

Deno.test("publishMany signs a group once; it reaches every node and catch-up re-serves its proofs", async () => {
  const swarm = await swarmOf(16, 8, { placement: "broadcast" });
  const sleeper = swarm.nodes[6]!;
  swarm.net.unlisten(sleeper.url);
  const origin = swarm.nodes[11]!;
  const fields = Array.from({ length: 7 }, (_, i) => ({
    id: toHex(new Uint8Array(32).fill(40 + i)),
    tag: randomId(seededRandom(40 + i)),
    size: 10,
    expiresAt: Math.floor(swarm.clock.now() / 1000) + 3600,
    createdAtMs: swarm.clock.now(),
  }));
  const before = origin.stats.signatures;
  const group = await origin.publishMany(fields); // no timer runs: only the group is signed
  assert.equal(origin.stats.signatures - before, 1);
  assert.equal(new Set(group.map((n) => n.signature)).size, 1);
  assert.deepEqual(group.map((n) => n.proof.index), [0, 1, 2, 3, 4, 5, 6]);
  await swarm.clock.runUntilIdle();
  for (const n of swarm.nodes) {
    if (n === sleeper || n === origin) continue;
    for (const f of fields) assert.ok(swarm.delivered.get(n.selfId)!.has(f.id), n.selfId);
  }
  swarm.net.listen(sleeper.url, (rpc, req, meta) => sleeper.handle(rpc, req, meta));
  assert.equal(await swarm.clock.run(sleeper.catchUp(0)), 7);
  for (const f of fields) assert.ok(swarm.delivered.get(sleeper.selfId)!.has(f.id));
  swarm.stop();
});

Deno.test("a receiver verifies one signature per group; a bad proof is invalid", async () => {
  const swarm = await swarmOf(4, 9);
  const [receiver, peer, farNode] = [swarm.nodes[1]!, swarm.nodes[2]!, swarm.nodes[3]!];
  const far = farNode.identity;
  const now = swarm.clock.now();
  const group = signNotices(
    far,
    farNode.url,
    Array.from({ length: 6 }, (_, i) => ({
      id: toHex(new Uint8Array(32).fill(60 + i)),
      tag: "00".repeat(20),
      size: 1,
      expiresAt: Math.floor(now / 1000) + 60,
      createdAtMs: now,
    })),
  ).map((n) => parseNotice(JSON.parse(JSON.stringify(noticeToJson(n)))));
  const before = receiver.stats.verifications;
  for (const n of group.slice(0, 5)) {
    assert.equal(await receiver.ingestNotice(n, peer.contact, "catch-up"), "accepted");
  }
  assert.equal(receiver.stats.verifications - before, 1);
  const last = group[5]!;
  const badProof = { ...last, proof: { ...last.proof, index: (last.proof.index + 1) % 6 } };
  assert.equal(await receiver.ingestNotice(badProof, peer.contact, "catch-up"), "invalid");
  assert.equal(receiver.stats.noticesInvalid, 1);
  assert.equal(await receiver.ingestNotice(last, peer.contact, "catch-up"), "accepted");
  // Index 0 needs three siblings where index 5 has two: refused before any signature check.
  assert.equal(receiver.stats.verifications - before, 1);
  swarm.stop();
});
