import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { postJson, randomPayload, randomTag, testNode } from "../testing.ts";

const BASE = "http://node.test";

Deno.test("POST then GET by prefix, by id, idempotent repeat", async () => {
  const node = await testNode();
  try {
    const tag = randomTag("abcd");
    const payload = randomPayload(100);
    const res = await node.fetch(postJson(BASE, "/v1/messages", { tag, payload, ttl_seconds: 60 }));
    assert.equal(res.status, 201);
    const body = await res.json();
    const expectId = sha256(
      new Uint8Array([...Uint8Array.fromHex(tag), ...Uint8Array.fromBase64(payload)]),
    ).toHex();
    assert.equal(body.id, expectId);
    const nowS = Date.now() / 1000;
    assert.ok(Math.abs(body.expires_at - (nowS + 60)) < 5);

    const again = await node.fetch(
      postJson(BASE, "/v1/messages", { tag, payload, ttl_seconds: 60 }),
    );
    assert.equal(again.status, 201);
    assert.deepEqual(await again.json(), body);
    assert.equal(await node.core.store.count(), 1);

    const list = await (await node.fetch(new Request(`${BASE}/v1/messages?prefix=abcd&bits=16`)))
      .json();
    assert.equal(list.messages.length, 1);
    assert.equal(list.messages[0].id, expectId);
    assert.equal(list.messages[0].payload, payload);
    assert.equal(list.messages[0].tag, tag);

    const other = await (await node.fetch(new Request(`${BASE}/v1/messages?prefix=abce&bits=16`)))
      .json();
    assert.equal(other.messages.length, 0);

    const after = await (await node.fetch(
      new Request(`${BASE}/v1/messages?prefix=abcd&bits=16&after=${list.cursor}`),
    )).json();
    assert.equal(after.messages.length, 0);
    assert.equal(after.cursor, list.cursor);

    const one = await node.fetch(new Request(`${BASE}/v1/messages/${expectId}`));
    assert.equal(one.status, 200);
    assert.equal((await one.json()).payload, payload);
  } finally {
    await node.close();
  }
});

Deno.test("prefix queries select exactly the tags under the prefix, for every bit length", async () => {
  const node = await testNode();
  try {
    const tags = Array.from({ length: 60 }, () => randomTag());
    tags.push("ffffffff" + randomTag().slice(8), "00000000" + randomTag().slice(8));
    for (const tag of tags) {
      const res = await node.fetch(
        postJson(BASE, "/v1/messages", { tag, payload: randomPayload(8) }),
      );
      assert.equal(res.status, 201);
    }
    for (const probe of [tags[0]!, tags[60]!, tags[61]!]) {
      for (const bits of [0, 1, 3, 4, 7, 8, 9, 15, 16, 23, 24, 31, 32]) {
        const prefix = probe.slice(0, Math.ceil(bits / 8) * 2);
        const want = tags.filter((t) => {
          const a = BigInt("0x" + t.slice(0, 8)) >> BigInt(32 - bits);
          const b = BigInt("0x" + probe.slice(0, 8)) >> BigInt(32 - bits);
          return a === b;
        }).sort();
        const got: string[] = [];
        let cursor = "";
        for (;;) {
          const res = await node.fetch(
            new Request(
              `${BASE}/v1/messages?prefix=${prefix}&bits=${bits}&limit=7&after=${cursor}`,
            ),
          );
          assert.equal(res.status, 200);
          const page = await res.json();
          got.push(...page.messages.map((m: { tag: string }) => m.tag));
          cursor = page.cursor;
          if (page.messages.length === 0) break;
        }
        assert.deepEqual(got.sort(), want, `bits=${bits} prefix=${prefix}`);
      }
    }
  } finally {
    await node.close();
  }
});

Deno.test("long poll wakes when a matching message is committed, not for others", async () => {
  const node = await testNode();
  try {
    const poll = node.fetch(new Request(`${BASE}/v1/messages?prefix=1234&bits=16&wait=30`));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(node.core.hub.size, 1);
    await node.fetch(
      postJson(BASE, "/v1/messages", { tag: randomTag("9999"), payload: randomPayload(4) }),
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(node.core.hub.size, 1, "a non-matching message must not end the poll");
    const tag = randomTag("1234");
    const t0 = performance.now();
    await node.fetch(postJson(BASE, "/v1/messages", { tag, payload: randomPayload(4) }));
    const res = await poll;
    assert.ok(performance.now() - t0 < 5000);
    const body = await res.json();
    assert.equal(body.messages.length, 1);
    assert.equal(body.messages[0].tag, tag);
    assert.equal(node.core.hub.size, 0);
  } finally {
    await node.close();
  }
});

Deno.test("long poll returns empty after its wait; too many waiters get 503 Retry-After", async () => {
  const node = await testNode({ args: ["--max-waiters", "2"] });
  try {
    const t0 = performance.now();
    const res = await node.fetch(new Request(`${BASE}/v1/messages?prefix=ab&bits=8&wait=1`));
    assert.ok(performance.now() - t0 >= 900);
    assert.deepEqual((await res.json()).messages, []);
    const a = node.fetch(new Request(`${BASE}/v1/messages?prefix=ab&bits=8&wait=2`));
    const b = node.fetch(new Request(`${BASE}/v1/messages?prefix=ab&bits=8&wait=2`));
    await new Promise((r) => setTimeout(r, 50));
    const c = await node.fetch(new Request(`${BASE}/v1/messages?prefix=ab&bits=8&wait=2`));
    assert.equal(c.status, 503);
    assert.equal(c.headers.get("retry-after"), "2");
    assert.equal(c.headers.get("content-type"), "application/problem+json");
    await c.body?.cancel();
    await (await a).body?.cancel();
    await (await b).body?.cancel();
  } finally {
    await node.close();
  }
});

Deno.test("storage cap: 507 when full, stored messages kept, repeats still idempotent", async () => {
  const node = await testNode({ args: ["--max-store-bytes", "1000"] });
  try {
    const first = { tag: randomTag(), payload: randomPayload(500) };
    assert.equal((await node.fetch(postJson(BASE, "/v1/messages", first))).status, 201);
    const second = await node.fetch(
      postJson(BASE, "/v1/messages", { tag: randomTag(), payload: randomPayload(500) }),
    );
    assert.equal(second.status, 507);
    assert.equal(second.headers.get("content-type"), "application/problem+json");
    await second.body?.cancel();
    assert.equal((await node.fetch(postJson(BASE, "/v1/messages", first))).status, 201);
    assert.equal(await node.core.store.count(), 1);
  } finally {
    await node.close();
  }
});

Deno.test("expired messages are not served and are swept", async () => {
  const node = await testNode();
  try {
    const tag = randomTag("77");
    assert.equal(
      (await node.fetch(
        postJson(BASE, "/v1/messages", { tag, payload: randomPayload(10), ttl_seconds: 1 }),
      )).status,
      201,
    );
    const real = node.core.now;
    node.core.now = () => real() + 2000;
    const list = await (await node.fetch(new Request(`${BASE}/v1/messages?prefix=77&bits=8`)))
      .json();
    assert.equal(list.messages.length, 0);
    assert.equal(await node.core.writer.sweep(node.core.now()), 1);
    assert.equal(await node.core.store.count(), 0);
    assert.equal(node.core.writer.usedBytes, 0);
  } finally {
    await node.close();
  }
});

const TAG = "ab".repeat(20);
const PAYLOAD = "aGVsbG8=";
type Case = [name: string, req: () => Request, status: number, field: string];
const post = (body: unknown, headers?: Record<string, string>) => () =>
  postJson(BASE, "/v1/messages", body, headers);
const get = (qs: string) => () => new Request(`${BASE}/v1/messages${qs}`);
const BAD_INPUTS: Case[] = [
  ["tag not hex", post({ tag: "zz".repeat(20), payload: PAYLOAD }), 400, "tag"],
  ["tag too short", post({ tag: "ab".repeat(6), payload: PAYLOAD }), 400, "tag"],
  ["tag too long", post({ tag: "ab".repeat(21), payload: PAYLOAD }), 400, "tag"],
  ["tag missing", post({ payload: PAYLOAD }), 400, "tag"],
  ["tag a number", post({ tag: 5, payload: PAYLOAD }), 400, "tag"],
  ["payload bad base64", post({ tag: TAG, payload: "a*b=" }), 400, "payload"],
  ["payload unpadded", post({ tag: TAG, payload: "aGVsbG8" }), 400, "payload"],
  ["payload missing", post({ tag: TAG }), 400, "payload"],
  ["payload empty", post({ tag: TAG, payload: "" }), 400, "payload"],
  ["payload too large", post({ tag: TAG, payload: randomPayload(65537) }), 413, "payload"],
  ["body far too large", post({ tag: TAG, payload: "A".repeat(200_000) }), 413, "payload"],
  ["ttl zero", post({ tag: TAG, payload: PAYLOAD, ttl_seconds: 0 }), 400, "ttl_seconds"],
  [
    "ttl too long",
    post({ tag: TAG, payload: PAYLOAD, ttl_seconds: 28 * 86400 + 1 }),
    400,
    "ttl_seconds",
  ],
  ["ttl fractional", post({ tag: TAG, payload: PAYLOAD, ttl_seconds: 1.5 }), 400, "ttl_seconds"],
  ["ttl a string", post({ tag: TAG, payload: PAYLOAD, ttl_seconds: "60" }), 400, "ttl_seconds"],
  ["unknown field", post({ tag: TAG, payload: PAYLOAD, sender: "me" }), 400, "sender"],
  ["bad JSON", post("{not json"), 400, "body"],
  ["JSON array", post("[1,2]"), 400, "body"],
  [
    "wrong content type",
    post({ tag: TAG, payload: PAYLOAD }, { "content-type": "text/plain" }),
    415,
    "content-type",
  ],
  ["bits negative", get("?prefix=&bits=-1"), 400, "bits"],
  ["bits too large", get("?prefix=ab&bits=33"), 400, "bits"],
  ["bits not a number", get("?prefix=ab&bits=eight"), 400, "bits"],
  ["prefix not hex", get("?prefix=xyz&bits=8"), 400, "prefix"],
  ["prefix longer than bits allow", get("?prefix=abcd&bits=8"), 400, "prefix"],
  ["prefix shorter than bits", get("?prefix=ab&bits=16"), 400, "prefix"],
  ["unknown cursor", get("?prefix=ab&bits=8&after=nonsense"), 400, "after"],
  ["cursor from the future", get("?prefix=ab&bits=8&after=czzzz"), 400, "after"],
  ["limit zero", get("?prefix=ab&bits=8&limit=0"), 400, "limit"],
  ["limit too large", get("?prefix=ab&bits=8&limit=1001"), 400, "limit"],
  ["wait too long", get("?prefix=ab&bits=8&wait=61"), 400, "wait"],
  ["unknown parameter", get("?prefix=ab&bits=8&since=1"), 400, "since"],
  ["id not hex", () => new Request(`${BASE}/v1/messages/${"x".repeat(64)}`), 400, "id"],
  ["id wrong length", () => new Request(`${BASE}/v1/messages/abcd`), 400, "id"],
  ["id unknown", () => new Request(`${BASE}/v1/messages/${"0".repeat(64)}`), 404, "id"],
];

Deno.test("every bad input gets a 4xx problem+json naming the field", async (t) => {
  const node = await testNode();
  try {
    for (const [name, req, status, field] of BAD_INPUTS) {
      await t.step(name, async () => {
        const res = await node.fetch(req());
        assert.equal(res.status, status);
        assert.equal(res.headers.get("content-type"), "application/problem+json");
        const body = await res.json();
        assert.equal(body.status, status);
        assert.equal(body.field, field);
        assert.equal(typeof body.detail, "string");
      });
    }
    assert.equal(await node.core.store.count(), 0, "no bad input stored anything");
    const res = await node.fetch(new Request(`${BASE}/nope`));
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
  } finally {
    await node.close();
  }
});

Deno.test("info, healthz and openapi describe the node", async () => {
  const node = await testNode({ args: ["--max-payload-bytes", "1000"] });
  try {
    const info = await (await node.fetch(new Request(`${BASE}/v1/info`))).json();
    assert.equal(info.software, "subspace");
    assert.equal(info.limits.max_payload_bytes, 1000);
    assert.equal(info.quota, "open");
    assert.deepEqual(await (await node.fetch(new Request(`${BASE}/healthz`))).json(), { ok: true });
    const api = await (await node.fetch(new Request(`${BASE}/openapi.json`))).json();
    assert.equal(api.openapi, "3.1.0");
    for (const path of ["/v1/messages", "/v1/messages/{id}", "/v1/info"]) {
      assert.ok(api.paths[path], path);
    }
  } finally {
    await node.close();
  }
});

Deno.test("a missing body rides in the cursor and never holds later messages back", async () => {
  const { advance, BODY_RETRY_WINDOW_MS } = await import("./messages.ts");
  const { MAX_PENDING_IN_CURSOR } = await import("../wire.ts");
  const m = (seq: number, receivedAt: number, payload: Uint8Array | null) => ({
    seq,
    id: new Uint8Array(32),
    tag: new Uint8Array(20),
    payload,
    size: 1,
    receivedAt,
    expiresAt: 1e13,
    origin: payload ? null : "ab",
  });
  const now = 1e12;
  const body = new Uint8Array([1]);
  const found = [m(1, now, body), m(2, now - 1000, null), m(3, now, body)];
  const page = advance(found, [found[0]!, found[2]!], { seq: 0, pending: [] }, now);
  assert.deepEqual(page.messages.map((x) => x.seq), [1, 3], "the later message is delivered");
  assert.deepEqual(page.cursor, { seq: 3, pending: [2] }, "the missing one is kept for later");
  // Next time the pending one has its body: it is delivered and leaves the cursor.
  const retry = advance([m(2, now - 500, body)], [m(2, now - 500, body)], page.cursor, now);
  assert.deepEqual(retry.messages.map((x) => x.seq), [2]);
  assert.deepEqual(retry.cursor, { seq: 3, pending: [] });
  // Too old to wait for: dropped.
  const old = [m(1, now, body), m(2, now - BODY_RETRY_WINDOW_MS - 1, null), m(3, now, body)];
  const moved = advance(old, [old[0]!, old[2]!], { seq: 0, pending: [] }, now);
  assert.deepEqual(moved.cursor, { seq: 3, pending: [] });
  // A full pending list stops the cursor before the next missing body, so none is skipped.
  const many = Array.from({ length: MAX_PENDING_IN_CURSOR + 2 }, (_, i) => m(i + 1, now, null));
  const full = advance(many, [], { seq: 0, pending: [] }, now);
  assert.equal(full.cursor.pending.length, MAX_PENDING_IN_CURSOR);
  assert.equal(full.cursor.seq, MAX_PENDING_IN_CURSOR);
});

Deno.test("cursors round-trip and foreign ones are refused", async () => {
  const { decodeCursor, encodeCursor } = await import("../wire.ts");
  const c = { seq: 1000, pending: [3, 999] };
  assert.deepEqual(decodeCursor(encodeCursor(c), 1000), c);
  for (const bad of ["x1", "c", "c1.2", "c10.3.2", "cz".repeat(20), "c1..2"]) {
    assert.throws(() => decodeCursor(bad, 1e6), /cursor/i, bad);
  }
});
