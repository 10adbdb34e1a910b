import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { loadConfig } from "../config.ts";
import { createLogger } from "../log.ts";
import { startNode } from "../mod.ts";
import { QUOTA_POLICY } from "../services.ts";
import { postJson, randomPayload, randomTag, testNode } from "../testing.ts";
import { adminAccount, tokensFrom } from "./_testing.ts";
import { generateIssuerKey } from "./issuer_keys.ts";
import { quotaFeature } from "./quota_feature.ts";
import { ACCOUNT_CREDIT, FREE_QUOTA } from "./services.ts";
import { accountHash, parseAccountNumber } from "./tokens.ts";
import {
  formatAuthorization,
  parseWwwAuthenticate,
  TOKEN_REQUEST_MEDIA_TYPE,
  TOKEN_RESPONSE_MEDIA_TYPE,
  TOKEN_TYPE_BLIND_RSA,
} from "../../client/mod.ts";
import { publicVerif, TokenChallenge as RefChallenge } from "@cloudflare/privacypass-ts";

const KEY = await generateIssuerKey();
const ADMIN = "admin-secret-for-tests";
const BASE = "http://node.test";

function node(extra: string[] = []) {
  return testNode({
    args: ["--quota", "tokens", "--admin-token", ADMIN, "--free-tokens", "3", ...extra],
    features: [quotaFeature({ generateKey: () => Promise.resolve(KEY), captchaText: "k3xq7" })],
  });
}

const tokensFor = (f: (r: Request) => Promise<Response>, account: string, n: number) =>
  tokensFrom(f, BASE, account, n);

Deno.test("quota feature: captcha signup, tokens, posting spends one token", async () => {
  const n = await node();
  try {
    const f = (r: Request) => n.fetch(r);
    assert.equal((await (await f(new Request(BASE + "/v1/info"))).json()).quota, "tokens");
    const cap = await (await f(new Request(BASE + "/v1/captcha"))).json();
    assert.match(cap.svg, /^<svg/);
    const wrong = await f(postJson(BASE, "/v1/accounts", { captcha_id: cap.id, answer: "nope" }));
    assert.equal(wrong.status, 400);
    assert.equal((await wrong.json()).field, "answer");
    const used = await f(postJson(BASE, "/v1/accounts", { captcha_id: cap.id, answer: "k3xq7" }));
    assert.equal(used.status, 400, "a captcha answers once");
    await used.body?.cancel();
    const cap2 = await (await f(new Request(BASE + "/v1/captcha"))).json();
    const ok = await f(postJson(BASE, "/v1/accounts", { captcha_id: cap2.id, answer: "K3XQ7" }));
    assert.equal(ok.status, 201);
    const { account, free_tokens } = await ok.json();
    assert.match(account, /^[0-9a-f]{32}$/);
    assert.equal(free_tokens, 3);

    const tokens = await tokensFor(f, account, 3);
    const state = await (await f(
      new Request(BASE + "/v1/account", { headers: { authorization: `Bearer ${account}` } }),
    )).json();
    assert.equal(state.free_remaining, 0);
    // Out of quota: 402 pointing at the pricing.
    const more = await f(
      postJson(BASE, "/v1/tokens", { token_requests: ["AAIA"] }, {
        authorization: `Bearer ${account}`,
      }),
    );
    assert.equal(more.status, 400); // malformed request is refused before the quota check
    await more.body?.cancel();

    const post = (token?: Uint8Array) =>
      f(postJson(
        BASE,
        "/v1/messages",
        { tag: randomTag(), payload: randomPayload(16) },
        token ? { authorization: formatAuthorization(token) } : {},
      ));
    const r1 = await post(tokens[0]);
    assert.equal(r1.status, 201);
    await r1.body?.cancel();
    const again = await post(tokens[0]);
    assert.equal(again.status, 401);
    assert.match((await again.json()).detail, /already spent/);
    assert.ok(again.headers.get("www-authenticate")?.startsWith("PrivateToken challenge="));
    const forged = tokens[1]!.slice();
    forged[200]! ^= 1;
    const r2 = await post(forged);
    assert.equal(r2.status, 401);
    assert.match((await r2.json()).detail, /signature/);
    const r3 = await post(tokens[1]);
    assert.equal(r3.status, 201);
    await r3.body?.cancel();
  } finally {
    await n.close();
  }
});

Deno.test("quota feature: RFC 9578 single request with the @cloudflare/privacypass-ts client", async () => {
  const n = await node();
  try {
    const f = (r: Request) => n.fetch(r);
    const admin = { authorization: `Bearer ${ADMIN}` };
    const created = await f(
      new Request(BASE + "/admin/api/accounts", { method: "POST", headers: admin }),
    );
    assert.equal(created.status, 201);
    const { account } = await created.json();

    // The client learns the challenge and key from the 401, as RFC 9577 describes.
    const unauth = await f(
      postJson(BASE, "/v1/messages", { tag: randomTag(), payload: randomPayload(8) }),
    );
    const [www] = parseWwwAuthenticate(unauth.headers.get("www-authenticate")!);
    await unauth.body?.cancel();
    const client = new publicVerif.Client(publicVerif.BlindRSAMode.PSS);
    const request = await client.createTokenRequest(
      RefChallenge.deserialize(www!.challenge),
      www!.tokenKey,
    );
    const res = await f(
      new Request(BASE + "/v1/tokens", {
        method: "POST",
        headers: { "content-type": TOKEN_REQUEST_MEDIA_TYPE, authorization: `Bearer ${account}` },
        body: request.serialize() as Uint8Array<ArrayBuffer>,
      }),
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), TOKEN_RESPONSE_MEDIA_TYPE);
    const token = await client.finalize(
      client.deserializeTokenResponse(new Uint8Array(await res.arrayBuffer())),
    );
    const posted = await f(
      postJson(BASE, "/v1/messages", { tag: randomTag(), payload: randomPayload(8) }, {
        authorization: formatAuthorization(token.serialize()),
      }),
    );
    assert.equal(posted.status, 201);
    await posted.body?.cancel();
    assert.equal(token.authInput.tokenType, TOKEN_TYPE_BLIND_RSA);
  } finally {
    await n.close();
  }
});

Deno.test("quota feature: a spent token stays spent after a restart; earlier releases' nonces move", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "subspace-spent-" });
  const start = () =>
    testNode({
      dataDir,
      args: ["--quota", "tokens", "--admin-token", ADMIN, "--free-tokens", "3"],
      features: [quotaFeature({ generateKey: () => Promise.resolve(KEY), captchaText: "k3xq7" })],
    });
  const post = (n: { fetch(r: Request): Promise<Response> }, token: Uint8Array) =>
    n.fetch(postJson(BASE, "/v1/messages", { tag: randomTag(), payload: randomPayload(16) }, {
      authorization: formatAuthorization(token),
    }));
  try {
    let n = await start();
    let tokens: Uint8Array[];
    try {
      const f = (r: Request) => n.fetch(r);
      tokens = await tokensFor(f, await adminAccount(f, BASE, ADMIN), 3);
      const r = await post(n, tokens[0]!);
      assert.equal(r.status, 201);
      await r.body?.cancel();
    } finally {
      await n.close();
    }
    // An earlier release kept spent nonces in quota.db: token 1 was spent there.
    const legacy = new DatabaseSync(`${dataDir}/quota.db`);
    legacy.prepare("INSERT INTO quota_spent (nonce, expires_at) VALUES (?, ?)")
      .run(tokens[1]!.slice(2, 34), Date.now() + 86_400_000);
    legacy.close();

    n = await start();
    try {
      for (const spent of [tokens[0]!, tokens[1]!]) {
        const again = await post(n, spent);
        assert.equal(again.status, 401);
        assert.match((await again.json()).detail, /already spent/);
      }
      const fresh = await post(n, tokens[2]!);
      assert.equal(fresh.status, 201);
      await fresh.body?.cancel();
      const kept = await (await n.fetch(
        new Request(BASE + "/admin/api/tokens", { headers: { authorization: `Bearer ${ADMIN}` } }),
      )).json();
      assert.equal(kept.spent_kept, 3);
    } finally {
      await n.close();
    }
    const check = new DatabaseSync(`${dataDir}/quota.db`);
    const left = check.prepare("SELECT count(*) AS n FROM quota_spent").get() as { n: number };
    check.close();
    assert.equal(left.n, 0, "the old table was emptied");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("quota feature: admin API credits and disables; 402 when exhausted", async () => {
  const n = await node();
  try {
    const f = (r: Request) => n.fetch(r);
    const admin = { authorization: `Bearer ${ADMIN}` };
    const noAuth = await f(new Request(BASE + "/admin/api/accounts", { method: "POST" }));
    assert.equal(noAuth.status, 401);
    await noAuth.body?.cancel();
    const account = await adminAccount(f, BASE, ADMIN);
    await tokensFor(f, account, 3);
    const refused = await f(
      postJson(BASE, "/v1/tokens", { token_requests: [] }, { authorization: `Bearer ${account}` }),
    );
    assert.equal(refused.status, 400);
    await refused.body?.cancel();
    await assert.rejects(() => tokensFor(f, account, 1), /402/);
    const credited = await f(
      postJson(BASE, `/admin/api/accounts/${account}/credit`, { tokens: 2 }, admin),
    );
    assert.equal((await credited.json()).credit, 2);
    assert.equal((await tokensFor(f, account, 2)).length, 2);
    const dis = await f(
      new Request(BASE + `/admin/api/accounts/${account}/disable`, {
        method: "POST",
        headers: admin,
      }),
    );
    assert.equal((await dis.json()).disabled, true);
    await assert.rejects(() => tokensFor(f, account, 1), /403/);

    const dir = await f(new Request(BASE + "/.well-known/private-token-issuer-directory"));
    assert.equal(dir.headers.get("content-type"), "application/private-token-issuer-directory");
    assert.equal((await dir.json())["issuer-request-uri"], "/v1/tokens");
  } finally {
    await n.close();
  }
});

Deno.test("quota feature: signup page and signup rate limit", async () => {
  const n = await node(["--signups-per-hour", "2"]);
  try {
    const f = (r: Request) => n.fetch(r);
    const page = await f(new Request(BASE + "/signup"));
    const html = await page.text();
    assert.match(html, /<form method="post" action="\/signup">/);
    const id = /name="captcha_id" value="([0-9a-f]+)"/.exec(html)![1]!;
    const done = await f(
      new Request(BASE + "/signup", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ captcha_id: id, answer: "k3xq7" }),
      }),
    );
    assert.equal(done.status, 201);
    assert.match(await done.text(), /id="account">[0-9a-f]{32}</);
    const wrong = await f(
      new Request(BASE + "/signup", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ captcha_id: id, answer: "k3xq7" }),
      }),
    );
    assert.equal(wrong.status, 400);
    assert.match(await wrong.text(), /class="error"/);
    const limited = await f(postJson(BASE, "/v1/accounts", { captcha_id: "x", answer: "y" }));
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    await limited.body?.cancel();
  } finally {
    await n.close();
  }
});

Deno.test("quota feature: the default config charges a token per POST (401 without one)", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "subspace-quota-default-" });
  const config = loadConfig({ args: ["--data", dataDir, "--port", "0"], env: {} });
  assert.equal(config.quota, "tokens", "tokens is the default");
  const n = await startNode(config, {
    listen: false,
    log: createLogger({ component: "node", level: "error", sink: () => {} }),
    features: [quotaFeature({ generateKey: () => Promise.resolve(KEY) })],
  });
  try {
    const res = await n.fetch(
      postJson(BASE, "/v1/messages", { tag: randomTag(), payload: randomPayload(8) }),
    );
    assert.equal(res.status, 401);
    assert.ok(res.headers.get("www-authenticate")?.startsWith("PrivateToken challenge="));
    assert.equal((await res.json()).field, "authorization");
    assert.ok(n.core.service(QUOTA_POLICY) !== undefined);
  } finally {
    await n.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("quota feature: with --quota open it charges nothing but still signs up and issues", async () => {
  const n = await testNode({
    args: ["--quota", "open", "--free-tokens", "2"],
    features: [quotaFeature({ generateKey: () => Promise.resolve(KEY), captchaText: "k3xq7" })],
  });
  try {
    const f = (r: Request) => n.fetch(r);
    assert.equal(n.core.service(QUOTA_POLICY), undefined);
    const posted = await f(
      postJson(BASE, "/v1/messages", { tag: randomTag(), payload: randomPayload(8) }),
    );
    assert.equal(posted.status, 201);
    await posted.body?.cancel();
    const cap = await (await f(new Request(BASE + "/v1/captcha"))).json();
    const ok = await f(postJson(BASE, "/v1/accounts", { captcha_id: cap.id, answer: "k3xq7" }));
    assert.equal(ok.status, 201);
    assert.equal((await ok.json()).free_tokens, 2);
  } finally {
    await n.close();
  }
});

Deno.test("quota feature: ACCOUNT_CREDIT credits once per reference; FREE_QUOTA validates, saves", async () => {
  const n = await node();
  try {
    const f = (r: Request) => n.fetch(r);
    const admin = { authorization: `Bearer ${ADMIN}` };
    const account = await adminAccount(f, BASE, ADMIN);
    const hash = accountHash(parseAccountNumber(account));
    const credit = n.core.service(ACCOUNT_CREDIT)!;
    assert.equal(await credit.exists(hash), true);
    assert.equal(await credit.exists(new Uint8Array(32)), false);
    assert.equal(await credit.credit(hash, 5, "invoice:a"), true);
    assert.equal(await credit.credit(hash, 5, "invoice:a"), true, "a repeat answers true");
    assert.equal(await credit.credit(hash, 2, "invoice:b"), true);
    assert.equal(await credit.credit(new Uint8Array(32), 2, "invoice:c"), false);
    const state = await (await f(
      new Request(BASE + `/admin/api/accounts/${account}`, { headers: admin }),
    )).json();
    assert.equal(state.credit, 7, "5 once, plus 2");

    const free = n.core.service(FREE_QUOTA)!;
    assert.deepEqual(free.current(), { freeTokens: 3, periodSeconds: 86400 });
    assert.throws(() => free.check({ free_tokens: -1 }), /free_tokens must be an integer/);
    assert.throws(() => free.check({ quota_period_seconds: 5 }), /quota_period_seconds/);
    assert.deepEqual(free.check({ free_tokens: 9 }).freeTokens, 9);
    assert.equal(free.current().freeTokens, 3, "check applies nothing");
    await free.update({ free_tokens: 9 });
    const info = await (await f(new Request(BASE + "/v1/info"))).json();
    assert.equal(info.tokens.free_tokens, 9);
    assert.equal(
      (await (await f(
        new Request(BASE + "/v1/account", { headers: { authorization: `Bearer ${account}` } }),
      )).json()).free_remaining,
      9,
    );
  } finally {
    await n.close();
  }
});
