import assert from "node:assert/strict";
import type { WireRequest, WireResponse } from "./envelope.ts";
import { RttTransport } from "./rtt.ts";
import type { Transport } from "./transport.ts";

const REQ = {} as WireRequest;
const OK: WireResponse = { status: 200, headers: {}, body: new Uint8Array(0) };

Deno.test("RttTransport smooths per-peer RTT (RFC 6298 7/8 + 1/8), skips bulk RPCs and failures", async () => {
  let clock = 0;
  const delays: Record<string, number> = { "http://a": 40, "http://b": 10 };
  const inner: Transport = {
    send(url) {
      if (url === "http://down") return Promise.reject(new Error("unreachable"));
      clock += delays[url]!;
      return Promise.resolve(OK);
    },
  };
  const t = new RttTransport(inner, { now: () => clock, maxPeers: 2 });
  await t.send("http://a", "ping", REQ, 1000);
  assert.deepEqual(t.rtt("http://a"), { srttMs: 40, lastMs: 40, samples: 1 });
  delays["http://a"] = 120;
  await t.send("http://a", "find_node", REQ, 1000);
  assert.deepEqual(t.rtt("http://a"), { srttMs: 50, lastMs: 120, samples: 2 });
  delays["http://a"] = 5000;
  await t.send("http://a", "fetch", REQ, 1000);
  await t.send("http://a", "catch_up", REQ, 1000);
  assert.equal(t.rtt("http://a")!.samples, 2, "bulk RPCs are not timed");
  await assert.rejects(() => t.send("http://down", "ping", REQ, 1000));
  assert.equal(t.rtt("http://down"), undefined);
  // Bounded: a third peer pushes out the least recently measured.
  await t.send("http://b", "ping", REQ, 1000);
  t.record("http://c", 7);
  assert.equal(t.rtt("http://a"), undefined);
  assert.equal(t.rtt("http://b")!.srttMs, 10);
  assert.equal(t.rtt("http://c")!.srttMs, 7);
});
