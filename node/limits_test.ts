import assert from "node:assert/strict";
import { Hono } from "hono";
import { clientLimits } from "./limits.ts";
import { HttpError } from "./errors.ts";

function app(now: () => number, opts: { maxPerClient?: number; maxTotal?: number } = {}) {
  const limits = clientLimits({
    ratePerSecond: 5,
    burst: 10,
    maxPerClient: opts.maxPerClient ?? 100,
    maxTotal: opts.maxTotal ?? 1000,
    address: (c) => c.req.header("x-test-address"),
    now,
  });
  const release: (() => void)[] = [];
  const a = new Hono();
  a.onError((err) =>
    err instanceof HttpError
      ? new Response(err.message, { status: err.status, headers: err.headers })
      : new Response("boom", { status: 500 })
  );
  a.use("*", limits);
  a.get("/", (c) => c.text("ok"));
  a.get("/slow", () => new Promise<Response>((r) => release.push(() => r(new Response("ok")))));
  const get = (address: string | undefined, path = "/") =>
    a.request(path, { headers: address === undefined ? {} : { "x-test-address": address } });
  return { limits, get, release };
}

Deno.test("clientLimits: burst then 429 with Retry-After, per client, IPv6 by /64", async () => {
  let now = 0;
  const { limits, get } = app(() => now);
  const statuses = [];
  for (let i = 0; i < 12; i++) statuses.push((await get("192.0.2.1")).status);
  assert.deepEqual(statuses, [...Array(10).fill(200), 429, 429]);
  const refused = await get("192.0.2.1");
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.equal((await get("192.0.2.2")).status, 200, "other clients are unaffected");
  now += 1000; // five more
  for (let i = 0; i < 5; i++) assert.equal((await get("192.0.2.1")).status, 200);
  assert.equal((await get("192.0.2.1")).status, 429);
  for (let i = 0; i < 10; i++) assert.equal((await get(`2001:db8:0:7::${i}`)).status, 200);
  assert.equal((await get("2001:db8:0:7::ffff")).status, 429, "the /64 shares one budget");
  assert.equal((await get(undefined)).status, 200, "in-process calls are not limited");
  assert.equal(limits.stats.rateLimited, 5);
});

Deno.test("clientLimits: in-flight caps per client and in total", async () => {
  const { limits, get, release } = app(() => 0, { maxPerClient: 2, maxTotal: 3 });
  const a1 = get("192.0.2.1", "/slow");
  const a2 = get("192.0.2.1", "/slow");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal((await get("192.0.2.1")).status, 429);
  const b1 = get("192.0.2.2", "/slow");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(limits.stats.inFlight, 3);
  assert.equal((await get("192.0.2.3")).status, 503);
  for (const r of release.splice(0)) r();
  assert.deepEqual((await Promise.all([a1, a2, b1])).map((r) => r.status), [200, 200, 200]);
  assert.equal(limits.stats.inFlight, 0);
  assert.equal((await get("192.0.2.1")).status, 200, "the count went back down");
  assert.equal(limits.stats.overCapacity, 2);
});
