import assert from "node:assert/strict";
import { consoleTestNode, providing } from "./testing.ts";
import {
  NETWORK_CONSOLE,
  type NetworkView,
  type PaymentHealthView,
  PRICING_CONSOLE,
  type PricingSource,
} from "./sources.ts";
import { peerUp } from "./health.ts";

const TOKEN = "health-unit-test-token";

Deno.test("peerUp: down after a failed request, up after an answer, unknown when silent", () => {
  const now = 10_000_000;
  const base = { id: "aa", url: "http://p", lastSeenAt: null, rttMs: null };
  assert.equal(peerUp({ ...base, lastOkAt: 1, lastErrorAt: 2 }, now), false);
  assert.equal(peerUp({ ...base, lastOkAt: 3, lastErrorAt: 2 }, now), true);
  assert.equal(peerUp({ ...base, lastSeenAt: now - 1000 }, now), true);
  assert.equal(peerUp(base, now), null);
});

Deno.test("health report: a failing payment backend, a peer down and then dropped", async () => {
  const view: NetworkView = {
    nodeId: "00".repeat(20),
    url: "http://127.0.0.1:1",
    buckets: [],
    peers: [{
      id: "bb".repeat(20),
      url: "http://peer.example",
      lastSeenAt: Date.now(),
      rttMs: 3,
      lastOkAt: Date.now() - 5000,
      lastErrorAt: Date.now(),
      lastError: "unreachable: Connection refused",
    }],
    counters: {},
  };
  const payments: PaymentHealthView = {
    backend: "http://esplora.example/api",
    lastSuccessAt: null,
    lastErrorAt: Date.now(),
    lastError: "Esplora /blocks/tip/height: HTTP 503",
    tipHeight: null,
    lagBlocks: null,
    pollIntervalMs: 30_000,
  };
  const pricing = {
    get: () => ({}),
    update: () => {},
    invoices: () => [],
    health: () => payments,
    status: () => ({ feesEnabled: true }),
  } as unknown as PricingSource;
  const t = await consoleTestNode({
    args: ["--admin-token", TOKEN],
    features: [
      providing("stand-ins", (core) => {
        core.provide(NETWORK_CONSOLE, { view: () => view });
        core.provide(PRICING_CONSOLE, pricing);
      }),
    ],
  });
  const health = async () => {
    const res = await t.node.fetch(
      new Request("http://127.0.0.1/admin/api/health", {
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
    );
    return { status: res.status, body: await res.json() };
  };
  try {
    const first = await health();
    assert.equal(first.status, 503);
    assert.equal(first.body.status, "fail");
    const check = (id: string) =>
      first.body.checks.find((c: { id: string }) => c.id === id) as {
        status: string;
        summary: string;
      };
    assert.equal(check("payments").status, "fail");
    assert.match(check("payments").summary, /HTTP 503.*last success never/);
    assert.equal(check("peers").status, "fail");
    assert.match(
      check("peers").summary,
      /http:\/\/peer\.example \(unreachable: Connection refused\)/,
    );
    assert.equal(check("disk").status, "ok");
    assert.ok(first.body.disk.freeBytes > 0, "statfs works here");
    assert.ok(first.body.disk.files.some((f: { name: string }) => f.name === "subspace.db"));

    // The routing table drops the peer: it is still reported, as dropped.
    view.peers = [];
    const second = await health();
    assert.equal(second.body.peers.down, 1);
    assert.match(second.body.peers.list[0].error, /dropped from the routing table/);

    // The backend answers again.
    payments.lastSuccessAt = Date.now() + 1;
    payments.tipHeight = 900_000;
    payments.lagBlocks = 0;
    const third = await health();
    assert.equal(
      third.body.checks.find((c: { id: string }) => c.id === "payments").status,
      "ok",
    );
    // Without credentials: refused like the rest of /admin.
    const anon = await t.node.fetch(new Request("http://127.0.0.1/admin/api/health"));
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
  } finally {
    await t.close();
  }
});
