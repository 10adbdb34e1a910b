/**
 * Console pages through the app's fetch handler, as a browser without JavaScript uses them:
 * every page renders, missing features say "not available", forms act (accounts, prices) on
 * the services the features publish, settings redact secrets.
 *
 * The Quotas and Pricing pages run here against small in-memory providers of
 * `QUOTA_CONSOLE`/`PRICING_CONSOLE`, so these tests are about the console alone; the same pages
 * over the real token and fee features are exercised by `console_fees_test.ts` and, in a
 * browser against a real node process, by `console_browser_test.ts`.
 */
import assert from "node:assert/strict";
import { consoleTestNode, csrfOf, providing } from "../node/console/testing.ts";
import {
  type AccountView,
  FieldError,
  NETWORK_CONSOLE,
  type NetworkView,
  PRICING_CONSOLE,
  type PricingSource,
  type PricingView,
  QUOTA_CONSOLE,
  type QuotaSource,
} from "../node/console/mod.ts";
import { postJson, randomPayload, randomTag } from "../node/testing.ts";

const PASSWORD = "console pages test password";

/** Accounts in memory: ids are the hex SHA-256 of the account number, as the issuer keeps them. */
function memoryQuota() {
  const accounts = new Map<string, AccountView>();
  const hashOf = async (id: string) =>
    /^[0-9a-f]{64}$/.test(id) ? id : new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id)),
    ).toHex();
  const find = async (id: string) => {
    const a = accounts.get(await hashOf(id));
    if (a === undefined) throw new RangeError("Account: no such account");
    return a;
  };
  const source: QuotaSource = {
    async accounts({ search, limit, offset }) {
      const all = [...accounts.values()].reverse();
      const hit = search === "" ? all : all.filter((a) => a.id.startsWith(search.toLowerCase()));
      const byNumber = search === "" ? undefined : accounts.get(await hashOf(search));
      const list = byNumber && !hit.includes(byNumber) ? [byNumber] : hit;
      return { accounts: list.slice(offset, offset + limit), total: list.length };
    },
    async createAccount() {
      const number = String(1_000_000 + accounts.size);
      const id = await hashOf(number);
      accounts.set(id, { id, createdAt: Date.now(), disabled: false, credit: 0, issuedTotal: 0 });
      return { ...accounts.get(id)!, id: number };
    },
    async credit(id, tokens) {
      (await find(id)).credit += tokens;
    },
    async setDisabled(id, disabled) {
      (await find(id)).disabled = disabled;
    },
    stats: (days) => ({
      daily: Array.from(
        { length: days },
        (_, i) => ({ day: `2026-01-${i + 1}`, issued: i, redeemed: 0 }),
      ),
      spentSetSize: 3,
      keys: [{
        id: "ab".repeat(32),
        createdAt: 0,
        rotatesAt: null,
        expiresAt: null,
        current: true,
      }],
    }),
  };
  return { source, accounts };
}

/** Prices in memory, refusing what the fee feature refuses (a bundle of zero tokens). */
function memoryPricing() {
  const pricing: PricingView = {
    tokensPerBundle: 100,
    bundlePriceSats: 1000,
    freeTokensPerPeriod: 50,
    periodSeconds: 86400,
    maxTtlSeconds: 7 * 86400,
    maxPayloadBytes: 65536,
    xpub: "",
    esploraUrl: "",
    confirmations: 1,
    addressType: "auto",
  };
  const source: PricingSource = {
    get: () => ({ ...pricing }),
    update(patch) {
      if (patch.tokensPerBundle !== undefined && patch.tokensPerBundle < 1) {
        throw new FieldError("tokensPerBundle", "tokens_per_bundle must be an integer ≥ 1");
      }
      Object.assign(pricing, patch);
    },
    invoices: () => [],
  };
  return { source, pricing };
}

async function loggedIn(opts: Parameters<typeof consoleTestNode>[0] = {}) {
  const t = await consoleTestNode(opts);
  const c = t.client();
  const r = await c.firstLogin(t.oneTimePassword, PASSWORD);
  assert.equal(r.status, 303);
  return { t, c };
}

Deno.test("pages of features this node does not run say 'not available'", async () => {
  const { t, c } = await loggedIn();
  try {
    for (
      const [path, what] of [
        ["/console/network", "federation"],
        ["/console/quotas", "the token issuer"],
        ["/console/pricing", "fees"],
      ] as const
    ) {
      const p = await c.page(path);
      assert.equal(p.status, 200, path);
      assert.match(p.html, new RegExp(`Not available: ${what}`), path);
      assert.equal(p.res.headers.get("cache-control"), "no-store");
      assert.match(p.res.headers.get("content-security-policy")!, /script-src 'self'/);
      assert.equal(p.res.headers.get("x-frame-options"), "DENY");
    }
    const post = await c.submit("/console/pricing", { bundlePriceSats: "5" });
    assert.equal(post.status, 303);
    assert.match((await c.page("/console/pricing")).html, /Fees are not running/);
  } finally {
    await t.close();
  }
});

Deno.test("overview shows the node, storage and counts, with SVG charts and live JSON", async () => {
  const { t, c } = await loggedIn({ args: ["--max-store-bytes", "1MiB"] });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await t.node.fetch(
        postJson("http://x", "/v1/messages", { tag: randomTag(), payload: randomPayload(100) }),
      );
      assert.equal(r.status, 201);
    }
    const got = await t.node.fetch(new Request(`http://x/v1/messages?prefix=&bits=0`));
    assert.equal((await got.json()).messages.length, 3);
    const p = await c.page("/console");
    assert.equal(p.status, 200);
    assert.match(p.html, /<h1>Overview<\/h1>/);
    assert.match(p.html, /Version<\/dt><dd>\d+\.\d+\.\d+/);
    assert.match(p.html, /of 1 MiB/);
    assert.match(p.html, /Accepted since start<\/dt><dd>3</);
    assert.match(p.html, /Delivered since start<\/dt><dd>3</);
    assert.equal(p.html.match(/<svg viewBox="0 0 640 180"/g)?.length, 3);
    assert.match(p.html, /data-island="OverviewLive"/);
    assert.match(
      p.html,
      /<script type="module" src="\/console\/static\/islands\.[0-9a-f]{12}\.js">/,
    );
    const day = await c.page("/console?window=day");
    assert.match(day.html, /aria-current="true">Last day/);
    const api = await c.request("/console/api/overview?window=hour");
    assert.equal(api.status, 200);
    const json = await api.json();
    assert.equal(json.window, "hour");
    assert.equal(json.acceptedTotal, 3);
    assert.equal(json.maxStoreBytes, 1024 * 1024);
    assert.equal(json.usedBytes, 3 * (100 + 52));
    assert.ok(Array.isArray(json.ingest) && json.ingest.length >= 1);
    const js = /src="(\/console\/static\/islands\.[0-9a-f]+\.js)"/.exec(p.html)![1]!;
    const bundle = await c.request(js);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get("content-type")!, /^text\/javascript/);
    assert.match(await bundle.text(), /data-island/);
  } finally {
    await t.close();
  }
});

Deno.test("quotas: create, find, credit, disable an account; tokens and keys shown", async () => {
  const quota = memoryQuota();
  const { t, c } = await loggedIn({
    features: [providing("quota", (core) => core.provide(QUOTA_CONSOLE, quota.source))],
  });
  try {
    const page = await c.page("/console/quotas");
    assert.match(page.html, /No accounts yet/);
    assert.match(page.html, /Spent set size/);
    assert.match(page.html, /<span class="badge badge-ok">current<\/span>/);
    const created = await c.post("/console/quotas", { _csrf: csrfOf(page.html), action: "create" });
    assert.equal(created.status, 303);
    const location = created.headers.get("location")!;
    const number = decodeURIComponent(/q=([^&]+)/.exec(location)![1]!);
    const found = await c.page(location);
    assert.match(found.html, new RegExp(`Created account ${number}`));
    assert.match(found.html, /1 account</);
    const hash = /data-account="([0-9a-f]{64})"/.exec(found.html)![1]!;

    const credit = await c.submit(location, { action: "credit", account: hash, tokens: "25" });
    assert.equal(credit.status, 303);
    const after = await c.page(location);
    assert.match(after.html, /Credited 25 tokens/);
    assert.match(after.html, /<td class="num">25<\/td>/);
    assert.equal(quota.accounts.get(hash)?.credit, 25);

    const bad = await c.submit(location, { action: "credit", account: hash, tokens: "-3" });
    assert.equal(bad.status, 303);
    assert.match(
      (await c.page(location)).html,
      /Tokens: expected a whole number, got &#39;-3&#39;|Tokens: expected a whole number, got '-3'/,
    );
    assert.equal(quota.accounts.get(hash)?.credit, 25, "a refused credit changes nothing");

    await c.submit(location, { action: "disable", account: hash });
    const disabled = await c.page(location);
    assert.match(disabled.html, /badge-bad">disabled/);
    assert.equal(quota.accounts.get(hash)?.disabled, true);
    // Search by hash prefix finds it too; nonsense finds nothing.
    assert.match((await c.page(`/console/quotas?q=${hash.slice(0, 8)}`)).html, /1 account</);
    assert.match((await c.page(`/console/quotas?q=zzz`)).html, /No account matches/);
  } finally {
    await t.close();
  }
});

Deno.test("pricing: a change reaches the fee feature at once; refusals show at their field", async () => {
  const fees = memoryPricing();
  const { t, c } = await loggedIn({
    features: [providing("fees", (core) => core.provide(PRICING_CONSOLE, fees.source))],
  });
  try {
    const before = { ...fees.pricing };
    const page = await c.page("/console/pricing");
    assert.match(page.html, /name="bundlePriceSats" value="1000"/);
    assert.match(page.html, /name="xpub" value=""/);
    assert.doesNotMatch(page.html, /name="xpub"[^>]*disabled/, "the xpub is editable");
    const r = await c.post("/console/pricing", {
      _csrf: csrfOf(page.html),
      bundlePriceSats: "4321",
      freeTokensPerPeriod: "7",
      maxTtlSeconds: "2d",
    });
    assert.equal(r.status, 303);
    const saved = await c.page("/console/pricing");
    assert.match(saved.html, /Saved: bundle price \(sats\), free tokens per period, longest ttl/);
    assert.match(saved.html, /name="bundlePriceSats" value="4321"/);
    assert.match(saved.html, /name="maxTtlSeconds" value="2d"/);
    assert.equal(fees.pricing.bundlePriceSats, 4321);
    assert.equal(fees.pricing.freeTokensPerPeriod, 7);
    assert.equal(fees.pricing.maxTtlSeconds, 2 * 86400);
    assert.equal(fees.pricing.tokensPerBundle, before.tokensPerBundle);
    // Refused values come back at their field (400, input kept) and change nothing.
    const zero = await c.submit("/console/pricing", { tokensPerBundle: "0" });
    assert.equal(zero.status, 400);
    const zeroHtml = await zero.text();
    assert.match(zeroHtml, /tokens_per_bundle must be an integer/);
    assert.match(zeroHtml, /name="tokensPerBundle" value="0"[^>]*aria-invalid="true"/);
    const soon = await c.submit("/console/pricing", { periodSeconds: "soon" });
    assert.equal(soon.status, 400);
    assert.match(await soon.text(), /Quota period: expected a duration/);
    assert.equal(fees.pricing.tokensPerBundle, before.tokensPerBundle);
    assert.equal(fees.pricing.periodSeconds, before.periodSeconds);
  } finally {
    await t.close();
  }
});

Deno.test("network page renders federation's view", async () => {
  const now = Date.now();
  const view: NetworkView = {
    nodeId: "ab".repeat(20),
    url: "http://127.0.0.1:9000",
    buckets: [{ index: 0, contacts: 3, capacity: 20 }, { index: 1, contacts: 0, capacity: 20 }],
    peers: [
      { id: "cd".repeat(20), url: "http://peer-a", bucket: 0, lastSeenAt: now - 5000, rttMs: 12.4 },
      { id: "ef".repeat(20), url: "http://peer-b", lastSeenAt: null, rttMs: null },
    ],
    counters: { "notices broadcast": 42, "bodies fetched": 7 },
  };
  const { t, c } = await loggedIn({
    features: [
      providing("federation", (core) => core.provide(NETWORK_CONSOLE, { view: () => view })),
    ],
  });
  try {
    const p = await c.page("/console/network");
    assert.equal(p.status, 200);
    assert.match(p.html, /abababababab/);
    assert.match(p.html, /<td class="num">3 \/ 20<\/td>/);
    assert.doesNotMatch(p.html, /0 \/ 20/, "empty buckets are left out");
    assert.match(p.html, /http:\/\/peer-a/);
    assert.match(p.html, /12 ms/);
    assert.match(p.html, /never/);
    assert.match(p.html, /Notices broadcast<\/dt><dd>42/);
  } finally {
    await t.close();
  }
});

Deno.test("settings shows the effective configuration with secrets redacted", async () => {
  const secret = "do-not-show-this-admin-token";
  const { t, c } = await loggedIn({ args: ["--admin-token", secret, "--max-wait", "30"] });
  try {
    const p = await c.page("/console/settings");
    assert.equal(p.status, 200);
    assert.doesNotMatch(p.html, new RegExp(secret));
    assert.match(p.html, /data-key="adminToken">.*?<code>\(redacted\)<\/code>/s);
    assert.match(p.html, /data-key="maxWait">.*?class="changed"><code>30s<\/code>/s);
    assert.match(p.html, /SUBSPACE_MAX_WAIT/);
    // In the forms' units, with where each value came from.
    assert.match(p.html, /data-key="maxWait">.*?data-source="flag"/s);
    assert.match(
      p.html,
      /data-key="maxStoreBytes">.*?<code>10GiB<\/code>.*?data-source="default"/s,
    );
    assert.match(p.html, /data-key="defaultTtl">.*?<code>7d<\/code>/s);
  } finally {
    await t.close();
  }
});
