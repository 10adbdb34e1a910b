/**
 * Hostile peers against real nodes on 127.0.0.1: a peer that signs lies (sizes, URLs, times),
 * probes with unsigned or skewed requests, and plants contacts. Each test asserts the honest
 * outcome: accounting stays exact, no request reaches a canary, honest peers behind the same
 * address are not cut off, and planted contacts never enter the routing table.
 */
import assert from "node:assert/strict";
import { FEDERATION, federationFeature, loadOrCreateIdentity } from "../node/dht/mod.ts";
import { NODE_IDENTITY, type RunningNode } from "../node/mod.ts";
import { ROW_OVERHEAD_BYTES } from "../node/store/mod.ts";
import { randomPayload, randomTag, testNode } from "../node/testing.ts";
import { HostilePeer, startCanary, startSybilServer, startTarpit } from "./_hostile.ts";
import { SHARED_ADDRESS_ARGS } from "./_node.ts";

const LOOPBACK = ["--host", "127.0.0.1", "--dht-range-limits", "false"];
const TEST_NET = [...LOOPBACK, "--dht-private-peers", "true"];

type Node = RunningNode & { dataDir: string };

async function federated(args: string[], dataDir?: string): Promise<Node> {
  return await testNode({
    args,
    listen: true,
    features: [federationFeature()],
    ...(dataDir === undefined ? {} : { dataDir }),
  });
}

function target(n: Node): { url: string; id: string } {
  return { url: n.url, id: n.core.service(NODE_IDENTITY)!.id };
}

function stats(n: Node) {
  return n.core.service(FEDERATION)!.node()!.stats;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function post(n: Node, tag: string, payload: string): Promise<string> {
  const res = await fetch(`${n.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tag, payload }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).id;
}

async function list(n: Node, prefix: string, bits: number, wait = 0) {
  const res = await fetch(`${n.url}/v1/messages?prefix=${prefix}&bits=${bits}&wait=${wait}`);
  return (await res.json()).messages as { id: string; payload: string | null }[];
}

function fakeId(i: number): string {
  return i.toString(16).padStart(64, "0");
}

Deno.test("a notice's URL never aims requests at another path or a private address", async () => {
  const canary = await startCanary();
  const strict = await federated(LOOPBACK); // default: private peer addresses refused
  const testNet = await federated(TEST_NET);
  try {
    const attacker = new HostilePeer(canary.url);
    for (const victim of [strict, testNet]) {
      // URLs that carry a path, an empty query or an empty fragment are refused when parsed.
      for (const url of [`${canary.url}/any/path#`, `${canary.url}/admin/api/accounts?`]) {
        const tag = randomTag("c0");
        const r = await attacker.sendNotices(
          target(victim),
          [
            attacker.notices([{ id: fakeId(1), tag, size: 10 }], canary.url)[0],
          ].map((n) => ({
            ...(n as object),
            origin: { ...(n as { origin: object }).origin, url },
          })),
        );
        assert.notEqual(r.status, 500);
      }
      // A bare canary URL as origin, and a wallet waiting for its tag, makes the node fetch.
      const tag = randomTag("c1");
      await attacker.sendNotices(
        target(victim),
        attacker.notices([{ id: fakeId(2), tag, size: 10 }]),
      );
      await list(victim, "c1", 8, 1);
      await fetch(`${victim.url}/v1/messages/${fakeId(2)}`).then((r) => r.body?.cancel());
      if (victim === strict) {
        assert.deepEqual(canary.requests, [], "the default policy sends nothing to loopback");
      }
    }
    assert.ok(canary.requests.length > 0, "the test network's node did fetch from the origin");
    const bad = canary.requests.filter((r) => r.method !== "POST" || !r.path.startsWith("/dht/"));
    assert.deepEqual(bad, [], "only POST /dht/<rpc> may ever reach a peer URL");
  } finally {
    await strict.close();
    await testNet.close();
    await canary.close();
  }
});

Deno.test("unsigned and skewed requests get an error, never a ban of the address", async () => {
  const victim = await federated(TEST_NET);
  const honest = await federated([...TEST_NET, "--bootstrap", victim.url]);
  try {
    const prober = new HostilePeer("http://127.0.0.1:9");
    for (let i = 0; i < 10; i++) {
      const r = await prober.rpc(target(victim), "ping", {}, { unsigned: true });
      assert.equal(r.status, 401);
    }
    const skewed = await prober.rpc(target(victim), "ping", {}, { skewMs: -90_000 });
    assert.equal(skewed.status, 401);
    assert.match(JSON.stringify(skewed.body), /our clock reads \d+/, "skew is reported");
    // The same address and the same identity are still served.
    assert.equal((await prober.rpc(target(victim), "ping", {})).status, 200);
    // An honest server on the same address keeps delivering.
    await until(
      "the honest node joins",
      () =>
        Promise.resolve(
          victim.core.service(FEDERATION)!.node()!.table.size > 0 ? true : undefined,
        ),
    );
    const tag = randomTag("d7");
    const id = await post(honest, tag, randomPayload(50));
    const got = await until("the victim delivers", async () => {
      const m = await list(victim, "d7", 8);
      return m.some((x) => x.id === id) ? m : undefined;
    });
    assert.ok(got.length >= 1);
  } finally {
    await honest.close();
    await victim.close();
  }
});

Deno.test("notices that lie about size or time are refused; fetched sizes are checked", async () => {
  const origin = await federated(TEST_NET);
  const victimDir = await Deno.makeTempDir({ prefix: "subspace-victim-" });
  let victim = await federated(TEST_NET, victimDir);
  try {
    // Real 100-byte messages at the origin; the origin's own key signs notices that lie.
    const liar = new HostilePeer(origin.url, await loadOrCreateIdentity(origin.dataDir));
    const tags = [randomTag("e1"), randomTag("e1"), randomTag("e1")];
    const ids = [];
    for (const t of tags) ids.push(await post(origin, t, randomPayload(100)));
    const before = stats(victim).noticesRejected;
    const huge = await liar.sendNotices(
      target(victim),
      liar.notices(ids.map((id, i) => ({ id, tag: tags[i]!, size: 4294967295 }))),
    );
    assert.equal(huge.status, 200);
    const future = await liar.sendNotices(
      target(victim),
      liar.notices([{
        id: fakeId(7),
        tag: randomTag("e1"),
        size: 10,
        createdAtMs: Date.now() + 10 * 365 * 86400_000,
      }]),
    );
    assert.equal(future.status, 200);
    assert.equal(stats(victim).noticesRejected - before, 4, "oversized and future notices refused");

    // A smaller lie passes the bound but not the fetch: the body that arrives is 100 bytes.
    const lie = await liar.sendNotices(
      target(victim),
      liar.notices(ids.map((id, i) => ({ id, tag: tags[i]!, size: 150 }))),
    );
    assert.equal(lie.status, 200);
    const shown = await list(victim, "e1", 8);
    assert.deepEqual(shown.filter((m) => m.payload !== null), [], "no lying notice is served");
    assert.equal(victim.core.writer.usedBytes, await victim.core.store.usedBytes());
    assert.equal(await victim.core.store.keptBytes(), 0);

    // Honest bodies are counted exactly, also after a restart.
    const mine = await post(victim, randomTag("e2"), randomPayload(100));
    assert.ok(mine);
    await victim.close();
    victim = await federated(TEST_NET, victimDir);
    assert.equal(victim.core.writer.usedBytes, 100 + ROW_OVERHEAD_BYTES);
  } finally {
    await victim.close();
    await origin.close();
    await Deno.remove(victimDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("contacts enter the routing table only after answering the node's own ping", async () => {
  const victim = await federated(TEST_NET);
  try {
    const dead = await startCanary(); // answers, but not as a DHT node
    const planted = Array.from(
      { length: 20 },
      (_, i) => new HostilePeer(i % 2 === 0 ? "http://127.0.0.1:9" : dead.url),
    );
    for (const p of planted) assert.equal((await p.rpc(target(victim), "ping", {})).status, 200);
    await new Promise((r) => setTimeout(r, 2500)); // the victim's checks time out or fail
    const table = victim.core.service(FEDERATION)!.node()!.table;
    for (const p of planted) {
      assert.equal(table.get(p.identity.id), undefined, "an unproven contact was added");
    }
    await dead.close();
  } finally {
    await victim.close();
  }
});

Deno.test("a tarpit origin never holds back an honest message to the same prefix", async () => {
  const tarpit = await startTarpit(10_000);
  const victim = await federated(TEST_NET);
  const honest = await federated([...TEST_NET, "--bootstrap", victim.url]);
  try {
    await until("the honest node joins", () =>
      Promise.resolve(
        victim.core.service(FEDERATION)!.node()!.table.size > 0 ? true : undefined,
      ));
    // The wallet's cursor before the flood.
    const first = await fetch(`${victim.url}/v1/messages?prefix=f5&bits=8`).then((r) => r.json());
    const attacker = new HostilePeer(tarpit.url);
    for (let b = 0; b < 3; b++) {
      const claims = Array.from({ length: 100 }, (_, i) => ({
        id: fakeId(10_000 + b * 100 + i),
        tag: randomTag("f5"),
        size: 100,
      }));
      const r = await attacker.sendNotices(target(victim), attacker.notices(claims));
      assert.equal(r.status, 200);
    }
    const waiting = (async () => {
      const t0 = Date.now();
      let cursor = first.cursor;
      for (;;) {
        const res = await fetch(
          `${victim.url}/v1/messages?prefix=f5&bits=8&wait=10&after=${cursor}`,
        );
        const page = await res.json();
        cursor = page.cursor;
        if (page.messages.length > 0) return { page, ms: Date.now() - t0 };
        if (Date.now() - t0 > 60_000) throw new Error("no message within 60 s");
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const id = await post(honest, randomTag("f5"), randomPayload(64));
    const { page, ms } = await waiting;
    assert.deepEqual(page.messages.map((m: { id: string }) => m.id), [id]);
    assert.ok(ms < 15_000, `the honest message took ${ms} ms`);
  } finally {
    await honest.close();
    await victim.close();
    await tarpit.close();
  }
});

Deno.test("provider records count only for servers that serve the body", async () => {
  const tarpit = await startTarpit(5_000);
  const victim = await federated(TEST_NET);
  const keeper = await federated(TEST_NET);
  try {
    const tag = randomTag("a9");
    const id = await post(keeper, tag, randomPayload(80));
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    const record = { message_id: id, tag, expires_at: expiresAt };
    const fakes = Array.from({ length: 20 }, () => new HostilePeer(tarpit.url));
    const answers = await Promise.all(
      fakes.map((f) => f.rpc(target(victim), "add_provider", record)),
    );
    for (const a of answers) assert.deepEqual(a.body, { stored: false });
    const real = new HostilePeer(keeper.url, await loadOrCreateIdentity(keeper.dataDir));
    assert.deepEqual((await real.rpc(target(victim), "add_provider", record)).body, {
      stored: true,
    });
    // A wrong tag for the same id is not a body the keeper serves.
    const wrong = await real.rpc(target(victim), "add_provider", {
      ...record,
      message_id: fakeId(99),
    });
    assert.deepEqual(wrong.body, { stored: false });
    const providers = victim.core.service(FEDERATION)!.node()!.providers.get(id, Date.now());
    assert.deepEqual(providers.map((p) => p.provider.url), [keeper.url]);
  } finally {
    await keeper.close();
    await victim.close();
    await tarpit.close();
  }
});

Deno.test("a late joiner catches up an origin's whole history, past the live budget", async () => {
  const origin = await federated(TEST_NET);
  try {
    const total = 15_000; // three times an origin's live burst (5,000)
    const tags: string[] = [];
    for (let i = 0; i < total; i += 100) {
      await Promise.all(Array.from({ length: 100 }, async () => {
        const tag = randomTag("b3");
        tags.push(tag);
        const res = await origin.fetch(
          new Request(`${origin.url}/v1/messages`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ tag, payload: randomPayload(16) }),
          }),
        );
        assert.equal(res.status, 201);
      }));
    }
    await new Promise((r) => setTimeout(r, 500)); // the origin's own notices are written
    // The joiner archives everything (--follow all), so every notice becomes a row there.
    const joiner = await federated([...TEST_NET, "--follow", "all", "--bootstrap", origin.url]);
    try {
      const got = await until(
        "the joiner holds every notice",
        async () => (await joiner.core.store.count()) >= total ? true : undefined,
        90_000,
      );
      assert.ok(got);
      assert.equal(await joiner.core.store.count(), total);
      const s = stats(joiner);
      assert.ok(s.catchUpPages + s.backlogNotices / 256 >= total / 500);
    } finally {
      await joiner.close();
    }
  } finally {
    await origin.close();
  }
});

Deno.test("a notice claiming a real id under another tag never hides the honest copy", async () => {
  const victim = await federated([...TEST_NET, "--follow", "all"]);
  const honest = await federated([...TEST_NET, "--bootstrap", victim.url]);
  const mallory = await federated(TEST_NET); // a reachable server that signs a lie
  try {
    await until("the honest node joins", () =>
      Promise.resolve(
        victim.core.service(FEDERATION)!.node()!.table.size > 0 ? true : undefined,
      ));
    const tag = randomTag("5a");
    const payload = randomPayload(120);
    const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
    const tagBytes = Uint8Array.from(tag.match(/../g)!.map((h) => parseInt(h, 16)));
    const idBytes = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new Uint8Array([...tagBytes, ...bytes])),
    );
    const id = Array.from(idBytes, (b) => b.toString(16).padStart(2, "0")).join("");
    // Mallory announces the real id first, under a tag in another prefix.
    const liar = new HostilePeer(mallory.url, await loadOrCreateIdentity(mallory.dataDir));
    const r = await liar.sendNotices(
      target(victim),
      liar.notices([{ id, tag: randomTag("e0"), size: bytes.length }]),
    );
    assert.equal(r.status, 200);
    await until(
      "the victim stores the lie",
      async () => (await victim.core.store.existing([idBytes])).length === 1 ? true : undefined,
    );
    // Then the real message is posted at the honest server and announced.
    assert.equal(await post(honest, tag, payload), id);
    const listed = await until("the honest copy is listed under its prefix", async () => {
      const m = await list(victim, "5a", 8);
      return m.some((x) => x.id === id) ? m : undefined;
    }).catch(async (e) => {
      const rows = await victim.core.store.existing([idBytes]);
      throw new Error(
        `${e.message}: victim ${JSON.stringify(stats(victim))}, honest ${
          JSON.stringify(stats(honest))
        }, rows ${JSON.stringify(rows.map((r) => [r.origin, r.payload === null]))}`,
      );
    });
    assert.equal(listed.find((x) => x.id === id)!.payload, payload);
    const one = await fetch(`${victim.url}/v1/messages/${id}`);
    assert.equal(one.status, 200);
    assert.equal((await one.json()).tag, tag);
    assert.deepEqual((await list(victim, "e0", 8)).filter((x) => x.id === id), []);
  } finally {
    await mallory.close();
    await honest.close();
    await victim.close();
  }
});

Deno.test("throwaway identities on one address share one budget; local POSTs keep working", async () => {
  // The wallet shares 127.0.0.1 with the flood here; on the internet it would not, so the
  // per-address HTTP limits are lifted and only the DHT's own budgets are under test.
  const victim = await federated([
    ...TEST_NET,
    ...SHARED_ADDRESS_ARGS,
  ]);
  const sybils = await startSybilServer();
  try {
    const peers = sybils.add(100);
    const t0 = Date.now();
    const flood = Promise.all(peers.map(async (p, i) => {
      const claims = Array.from({ length: 500 }, (_, j) => ({
        id: fakeId(1_000_000 + i * 1000 + j),
        tag: randomTag(),
        size: 100,
      }));
      return (await p.sendNotices(target(victim), p.notices(claims))).status;
    }));
    // A wallet keeps posting at the victim during the flood.
    const statuses: number[] = [];
    const posting = (async () => {
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${victim.url}/v1/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ tag: randomTag("77"), payload: randomPayload(64) }),
        });
        statuses.push(res.status);
        await res.body?.cancel();
      }
    })();
    await Promise.all([flood, posting]);
    await new Promise((r) => setTimeout(r, 2000)); // held notices are released or refused
    const seconds = (Date.now() - t0) / 1000;
    assert.deepEqual(statuses.filter((s) => s !== 201), [], "every local POST was stored");
    const st = stats(victim);
    // One range's budget (burst 10,000 + 2,000/s), and well under the 50,000 sent: each of the
    // 100 identities alone stays within its own per-origin budget.
    const budget = Math.min(10_000 + 2_000 * seconds, 25_000);
    assert.ok(
      st.noticesAccepted <= budget,
      `${st.noticesAccepted} notices from one range accepted in ${seconds} s (budget ${budget})`,
    );
    const refused = (await flood).filter((s) => s === 429).length;
    assert.ok(st.noticesRejected + refused > 0, "the flood ran into its budget");
  } finally {
    await victim.close();
    await sybils.close();
  }
});
