import assert from "node:assert/strict";
import { fakeIssuer, FakeServer } from "./testing.ts";
import {
  addressForKeys,
  answerTokenChallenge,
  decodeToken,
  encodeStealthAddress,
  fetchCaptcha,
  fetchPricing,
  fetchTokens,
  keysFromSecrets,
  MemoryTokenStore,
  parseAccountNumber,
  type Payload,
  signup,
  SubspaceClient,
  SubspaceHttpError,
  tokenAuthorization,
} from "./mod.ts";
import { fromHex, utf8 } from "./bytes.ts";

const SERVER = "http://issuer.test:8080";
const bob = keysFromSecrets(fromHex("b1".repeat(32)), fromHex("b2".repeat(32)), "mainnet");
const bobAddr = encodeStealthAddress(addressForKeys(bob, { prefixBits: 4, prefix: fromHex("50") }));
const hi: Payload = { type: "text", createdTime: 1_700_000_000, memo: "", body: utf8.encode("hi") };
const fastRetry = { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 };

Deno.test("signup: captcha, answer, account; a wrong answer is the server's 400", async () => {
  const server = new FakeServer(await fakeIssuer());
  const http = { fetch: server.fetch };
  assert.equal((await fetchCaptcha(SERVER, http)).svg, "<svg/>");
  const account = await signup(SERVER, (c) => {
    assert.equal(c.id, "captcha-1");
    return " right\n";
  }, http);
  assert.deepEqual(account, {
    account: "0123456789abcdef0123456789abcdef",
    freeTokens: 10,
    quotaPeriodSeconds: 86400,
  });
  assert.equal(parseAccountNumber(account.account).length, 16);
  await assert.rejects(
    signup(SERVER, () => "wrong", http),
    (e) => e instanceof SubspaceHttpError && e.status === 400 && /Wrong answer/.test(e.message),
  );
  await assert.rejects(signup(SERVER, () => "  ", http), RangeError);
});

Deno.test("fetchTokens: blinded requests in batches, finalized against the reference signer", async () => {
  const issuer = await fakeIssuer(7);
  const server = new FakeServer(issuer);
  const store = new MemoryTokenStore();
  const got = await fetchTokens(SERVER, {
    account: issuer.account,
    count: 5,
    batchSize: 2,
    store,
    fetch: server.fetch,
  });
  assert.equal(got.tokens.length, 5);
  assert.equal(got.freeRemaining, 2);
  assert.equal(server.requests.filter((r) => r.url === "/v1/tokens").length, 3);
  assert.equal(store.tokens.get("http://issuer.test:8080")?.length, 5);
  const nonces = new Set(got.tokens.map((t) => decodeToken(t).nonce.join(",")));
  assert.equal(nonces.size, 5);
  // Over the quota: the issuer's 429 comes through.
  await assert.rejects(
    fetchTokens(SERVER, { account: issuer.account, count: 3, fetch: server.fetch }),
    (e) => e instanceof SubspaceHttpError && e.status === 429,
  );
  await assert.rejects(
    fetchTokens(SERVER, { account: "00".repeat(16), count: 1, fetch: server.fetch }),
    (e) => e instanceof SubspaceHttpError && e.status === 401,
  );
  await assert.rejects(fetchTokens(SERVER, { account: issuer.account, count: 0 }), RangeError);
});

Deno.test("spending: one token per post; refused without; the store drains", async () => {
  const issuer = await fakeIssuer();
  const server = new FakeServer(issuer);
  const store = new MemoryTokenStore();
  await fetchTokens(SERVER, { account: issuer.account, count: 2, store, fetch: server.fetch });
  const client = new SubspaceClient({
    fetch: server.fetch,
    authorization: tokenAuthorization(store),
    retry: fastRetry,
  });
  await client.send(SERVER, bobAddr, hi);
  await client.send(SERVER, bobAddr, hi);
  assert.equal(issuer.redeemed, 2);
  assert.equal(store.tokens.get("http://issuer.test:8080")?.length, 0);
  await assert.rejects(
    client.send(SERVER, bobAddr, hi),
    (e) => e instanceof SubspaceHttpError && e.status === 401,
  );
  assert.equal(server.messages.length, 2);
});

Deno.test("spending: a 401 PrivateToken challenge is answered once with a token made for it", async () => {
  const issuer = await fakeIssuer();
  const server = new FakeServer(issuer);
  const store = new MemoryTokenStore();
  await fetchTokens(SERVER, { account: issuer.account, count: 2, store, fetch: server.fetch });
  // A token for another issuer sits first in line: offered, refused, then the challenge picks
  // the one that fits.
  const other = await fakeIssuer();
  const otherServer = new FakeServer(other);
  const foreign = await fetchTokens(SERVER, {
    account: other.account,
    count: 1,
    fetch: otherServer.fetch,
  });
  store.giveBack(SERVER, foreign.tokens[0]!);
  const client = new SubspaceClient({ fetch: server.fetch, tokens: store, retry: fastRetry });
  await client.send(SERVER, bobAddr, hi);
  assert.equal(issuer.redeemed, 1);
  const posts = server.requests.filter((r) => r.method === "POST" && r.url === "/v1/messages");
  assert.equal(posts.length, 2);
  assert.notEqual(posts[0]!.authorization, posts[1]!.authorization);
  assert.equal(store.tokens.get("http://issuer.test:8080")?.length, 1);

  // No fitting token: answerTokenChallenge says so and leaves the store alone.
  const lone = new MemoryTokenStore();
  lone.add(SERVER, foreign.tokens);
  const res = await server.fetch(new Request(`${SERVER}/v1/messages`, { method: "POST" }));
  const header = res.headers.get("www-authenticate")!;
  assert.equal(await answerTokenChallenge(lone, SERVER, header), undefined);
  assert.equal(lone.tokens.get("http://issuer.test:8080")?.length, 1);
  assert.equal(await answerTokenChallenge(lone, SERVER, "Bearer realm=x"), undefined);
});

Deno.test("token calls honour the proxy option: a dead proxy fails them, never a direct request", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const proxy = `socks5://127.0.0.1:${port}`;
  await assert.rejects(
    fetchPricing(SERVER, { proxy }),
    /cannot reach issuer.test:8080 through the proxy: .*127.0.0.1:\d+ refused/,
  );
  await assert.rejects(fetchCaptcha(SERVER, { proxy }), /cannot reach/);
});

Deno.test("spending: one token serves a post's retries; one the server never answered goes back", async () => {
  const issuer = await fakeIssuer();
  const server = new FakeServer(issuer);
  const store = new MemoryTokenStore();
  await fetchTokens(SERVER, { account: issuer.account, count: 2, store, fetch: server.fetch });
  const client = new SubspaceClient({ fetch: server.fetch, tokens: store, retry: fastRetry });
  await client.info(SERVER); // read once per client; the failure below is the post's
  server.failures.push(503);
  await client.send(SERVER, bobAddr, hi);
  const posts = server.requests.filter((r) => r.method === "POST" && r.url === "/v1/messages");
  assert.equal(posts.length, 2);
  assert.equal(posts[0]!.authorization, posts[1]!.authorization, "the retry reuses the token");
  assert.equal(store.tokens.get("http://issuer.test:8080")?.length, 1);

  const unreachable = new SubspaceClient({
    fetch: () => Promise.reject(new TypeError("connection refused")),
    tokens: store,
    retry: fastRetry,
  });
  await assert.rejects(unreachable.send(SERVER, bobAddr, hi), /connection refused/);
  assert.equal(store.tokens.get("http://issuer.test:8080")?.length, 1, "put back");
  await client.send(SERVER, bobAddr, hi);
  assert.equal(issuer.redeemed, 2);
  assert.equal(store.tokens.get("http://issuer.test:8080")?.length, 0);
});
