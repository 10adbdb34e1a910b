import assert from "node:assert/strict";
import { FakeServer } from "./testing.ts";
import {
  addressForKeys,
  encodeStealthAddress,
  type InboxMessage,
  keysFromSecrets,
  MemoryCursorStore,
  type Payload,
  SubspaceClient,
  SubspaceHttpError,
  type WatchIdentity,
} from "./mod.ts";
import { fromBase64, fromHex, toBase64, toHex, utf8 } from "./bytes.ts";

const alice = keysFromSecrets(fromHex("a1".repeat(32)), fromHex("a2".repeat(32)), "mainnet");
const bob = keysFromSecrets(fromHex("b1".repeat(32)), fromHex("b2".repeat(32)), "mainnet");
const aliceAddr = addressForKeys(alice, { prefixBits: 4, prefix: fromHex("50") });
// Bob publishes the same 4-bit prefix, so his messages land in Alice's scan range.
const bobAddr = addressForKeys(bob, { prefixBits: 4, prefix: fromHex("50") });
const aliceId: WatchIdentity = { ...alice, prefix: aliceAddr.prefix, prefixBits: 4 };

function text(s: string): Payload {
  return { type: "text", createdTime: 1_700_000_000, memo: "", body: utf8.encode(s) };
}

async function collect(it: AsyncIterable<InboxMessage>): Promise<InboxMessage[]> {
  const out: InboxMessage[] = [];
  for await (const m of it) out.push(m);
  return out;
}

const fastRetry = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

Deno.test("send then read back: only our messages are yielded, cursor is persisted", async () => {
  const server = new FakeServer();
  const client = await SubspaceClient.create({ fetch: server.fetch, retry: fastRetry });
  const sent = await client.send("http://a.test", encodeStealthAddress(aliceAddr), text("hi"), {
    signWith: bob.spendSecret,
  });
  await client.send("http://a.test", bobAddr, text("for bob"));
  await client.send("http://a.test", bobAddr, text("for bob 2"));
  assert.equal(server.messages.length, 3);
  const cursors = new MemoryCursorStore();
  let lastProgress = { scanned: 0, matched: 0 };
  const got = await collect(client.watch(aliceId, {
    servers: ["http://a.test/"],
    cursors,
    follow: false,
    onProgress: (p) => lastProgress = p,
  }));
  assert.equal(got.length, 1);
  assert.equal(got[0]!.id, sent.id);
  assert.equal(new TextDecoder().decode(got[0]!.payload.body), "hi");
  assert.deepEqual(got[0]!.sender, { present: true, valid: true, matchesReplyTo: false });
  assert.equal(got[0]!.server, "http://a.test");
  assert.equal(lastProgress.scanned, 3);
  assert.equal(lastProgress.matched, 1);
  assert.equal(cursors.get("http://a.test"), "3");
  // Resuming from the cursor yields nothing new; fromStart reads everything again.
  assert.equal(
    (await collect(client.watch(aliceId, { servers: ["http://a.test"], cursors, follow: false })))
      .length,
    0,
  );
  assert.equal(
    (await collect(
      client.watch(aliceId, {
        servers: ["http://a.test"],
        cursors,
        follow: false,
        fromStart: true,
      }),
    )).length,
    1,
  );
  // The prefix went to the server as ceil(bits/8) bytes of hex.
  assert.ok(server.requests.some((r) => r.url.startsWith("/v1/messages?prefix=50&bits=4")));
});

Deno.test("several servers: send to one, watch several, each message once", async () => {
  const a = new FakeServer();
  const b = new FakeServer();
  const route = (req: Request) => (new URL(req.url).host === "a.test" ? a : b).fetch(req);
  const client = new SubspaceClient({ fetch: route, retry: fastRetry });
  const one = await client.send("http://a.test", aliceAddr, text("via a"));
  await client.send("http://b.test", aliceAddr, text("via b"));
  // The same message stored on both servers (as federation would do).
  const copy = a.messages[0]!;
  b.insert(copy.tag, copy.payload);
  const got = await collect(
    client.watch(aliceId, { servers: ["http://a.test", "http://b.test"], follow: false }),
  );
  assert.deepEqual(
    got.map((m) => new TextDecoder().decode(m.payload.body)).sort(),
    ["via a", "via b"],
  );
  assert.equal(got.filter((m) => m.id === one.id).length, 1);
});

Deno.test("retries transient failures with backoff, not client errors", async () => {
  const server = new FakeServer();
  const client = new SubspaceClient({ fetch: server.fetch, retry: fastRetry });
  server.failures = [503, 429];
  await client.send("http://a.test", aliceAddr, text("after retries"));
  assert.equal(server.messages.length, 1);
  assert.equal(server.requests.length, 3);
  server.failures = [400];
  await assert.rejects(
    () => client.send("http://a.test", aliceAddr, text("bad")),
    (e) => e instanceof SubspaceHttpError && e.status === 400 && /injected failure/.test(e.message),
  );
  server.failures = [500, 500, 500];
  await assert.rejects(
    () => client.send("http://a.test", aliceAddr, text("down")),
    (e) => e instanceof SubspaceHttpError && e.status === 500,
  );
  let calls = 0;
  const flaky = new SubspaceClient({
    fetch: (
      req,
    ) => (calls++ < 2 ? Promise.reject(new TypeError("connection reset")) : server.fetch(req)),
    retry: fastRetry,
  });
  await flaky.send("http://a.test", aliceAddr, text("network blip"));
  assert.equal(calls, 3);
});

Deno.test("authorization provider is asked for every POST and not for GET", async () => {
  const server = new FakeServer();
  const asked: string[] = [];
  const client = new SubspaceClient({
    fetch: server.fetch,
    authorization: ({ server, tag }) => {
      asked.push(server);
      assert.equal(tag.length, 20);
      return "PrivateToken token=abc";
    },
  });
  await client.send("http://a.test", aliceAddr, text("paid"));
  await collect(client.watch(aliceId, { servers: ["http://a.test"], follow: false }));
  assert.deepEqual(asked, ["http://a.test"]);
  const post = server.requests.find((r) => r.method === "POST")!;
  assert.equal(post.authorization, "PrivateToken token=abc");
  assert.ok(
    server.requests.filter((r) => r.method === "GET").every((r) => r.authorization === null),
  );
});

Deno.test("follow mode long-polls, yields new messages and stops on abort", async () => {
  const server = new FakeServer();
  const client = await SubspaceClient.create({ fetch: server.fetch });
  const stop = new AbortController();
  const it = client.watch(aliceId, {
    servers: ["http://a.test"],
    waitSeconds: 5,
    signal: stop.signal,
  });
  setTimeout(() => client.send("http://a.test", aliceAddr, text("live")), 50);
  const first = await it.next();
  assert.equal(first.done, false);
  assert.equal(new TextDecoder().decode(first.value!.payload.body), "live");
  assert.ok(server.requests.some((r) => r.url.includes("wait=5")));
  stop.abort();
  const end = await it.next();
  assert.equal(end.done, true);
});

Deno.test("tampered or mislabeled envelopes are reported, never yielded", async () => {
  const server = new FakeServer();
  const client = new SubspaceClient({ fetch: server.fetch });
  await client.send("http://a.test", aliceAddr, text("original"));
  const m = server.messages[0]!;
  const env = fromBase64(m.payload);
  env[100]! ^= 1;
  server.insert(m.tag, toBase64(env));
  // Correct envelope served under a wrong id.
  server.messages.push({ ...m, id: "00".repeat(32) });
  const errors: string[] = [];
  const got = await collect(client.watch(aliceId, {
    servers: ["http://a.test"],
    follow: false,
    onError: (e) => errors.push(e.message),
  }));
  assert.equal(got.length, 1);
  assert.equal(errors.length, 2);
  assert.match(errors.join("\n"), /failed authentication/);
  assert.match(errors.join("\n"), /does not match its content/);
  assert.equal(toHex(fromHex(got[0]!.id)), m.id);
});

Deno.test("bad server URLs and non-transient errors end a one-shot watch", async () => {
  const client = new SubspaceClient({ fetch: new FakeServer().fetch });
  await assert.rejects(() => client.watch(aliceId, { servers: ["ftp://x"] }).next(), RangeError);
  await assert.rejects(
    () => client.send("not a url", aliceAddr, text("x")),
    /Cannot parse server URL/,
  );
  const failing = new SubspaceClient({
    fetch: () => Promise.resolve(Response.json({ detail: "nope" }, { status: 403 })),
  });
  await assert.rejects(
    () => collect(failing.watch(aliceId, { servers: ["http://a.test"], follow: false })),
    /403 nope/,
  );
});

Deno.test("getMessage fetches one message by id and decrypts it", async () => {
  const server = new FakeServer();
  const client = new SubspaceClient({ fetch: server.fetch });
  const sent = await client.send("http://a.test", aliceAddr, text("by id"));
  const wire = await client.getMessage("http://a.test", sent.id);
  assert.ok(wire !== undefined);
  const m = client.decrypt(client.opener(alice), alice.scanPubkey, wire);
  assert.equal(new TextDecoder().decode(m!.payload.body), "by id");
  assert.equal(await client.getMessage("http://a.test", "00".repeat(32)), undefined);
  await assert.rejects(() => client.getMessage("http://a.test", "xyz"), /message id/);
});
