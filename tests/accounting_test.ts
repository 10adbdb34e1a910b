/**
 * Every stored byte is counted once: two in-process nodes federate on 127.0.0.1, one keeps a
 * copy of the other's message (fetched for a wallet), the copy expires and is swept, the node
 * restarts, and at each step the writer's `used_bytes` equals what the database holds (sum of
 * stored payloads + per-row overhead).
 */
import assert from "node:assert/strict";
import { federationFeature } from "../node/dht/mod.ts";
import { ROW_OVERHEAD_BYTES } from "../node/store/mod.ts";
import { randomPayload, randomTag, testNode } from "../node/testing.ts";

const COMMON = [
  "--host",
  "127.0.0.1",
  "--dht-range-limits",
  "false",
  "--dht-private-peers", // loopback peers
  "true",
  "--replicate",
  "fetched",
];

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const TTL_SECONDS = 8;

Deno.test("kept copies, sweeps and restarts keep used_bytes equal to the stored bytes", async () => {
  const a = await testNode({ args: COMMON, listen: true, features: [federationFeature()] });
  const dataB = await Deno.makeTempDir({ prefix: "subspace-accounting-" });
  let b = await testNode({
    args: [...COMMON, "--bootstrap", a.url],
    dataDir: dataB,
    listen: true,
    features: [federationFeature()],
  });
  try {
    const stored = async () => await b.core.store.usedBytes();
    const tag = randomTag("ab");
    const payloadSizes = [100, 333, 1000];
    for (const [i, size] of payloadSizes.entries()) {
      const res = await fetch(`${a.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          tag: tag.slice(0, 38) + String(i).padStart(2, "0"),
          payload: randomPayload(size),
          // Long enough for B's first query (which pulls the region's backlog) on a busy machine.
          ttl_seconds: TTL_SECONDS,
        }),
      });
      assert.equal(res.status, 201, await res.text());
    }
    const lastPostAt = Date.now();
    // B hears the notices, then a wallet's query makes it fetch and keep the bodies.
    await until("B lists the three messages", async () => {
      const res = await fetch(`${b.url}/v1/messages?prefix=ab&bits=8&limit=10`);
      const body = await res.json();
      return body.messages?.length === 3 ? true : undefined;
    });
    const expected = payloadSizes.reduce((s, n) => s + n + ROW_OVERHEAD_BYTES, 0);
    // The database shows a commit as soon as it is durable; the writer counts it when the
    // writer thread's answer arrives a moment later.
    await until(
      "B keeps the three bodies, and its writer counted them",
      async () =>
        (await stored()) === expected && b.core.writer.usedBytes === expected ? true : undefined,
    );
    assert.equal(b.core.writer.usedBytes, expected, "the writer counted every kept body");
    assert.equal(await b.core.store.keptBytes(), 1433);

    // Expiry: the sweep subtracts exactly what it deletes.
    const left = lastPostAt + TTL_SECONDS * 1000 + 200 - Date.now();
    await new Promise((r) => setTimeout(r, Math.max(0, left)));
    await b.core.writer.sweep(Date.now());
    assert.equal(await stored(), 0);
    assert.equal(b.core.writer.usedBytes, 0);

    // A restart reads the same count from the database.
    await b.close().catch(() => {});
    b = await testNode({ args: COMMON, dataDir: dataB, features: [federationFeature()] });
    assert.equal(b.core.writer.usedBytes, await stored());
  } finally {
    await b.close();
    await a.close();
    await Deno.remove(dataB, { recursive: true }).catch(() => {});
  }
});
