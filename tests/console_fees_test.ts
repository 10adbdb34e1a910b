/**
 * Payment settings edited at run time, as an operator does it in the console without
 * JavaScript (forms with CSRF tokens through the app's fetch handler) and as a script does it
 * through `PUT /admin/api/pricing`: a new xpub applies to the next invoice (address indices
 * count per key), a new Esplora URL to the next poll (a fake Esplora server on 127.0.0.1),
 * refused values come back as form errors at their field, and the settings outlive a restart.
 */
import assert from "node:assert/strict";
import { consoleTestNode, csrfOf } from "../node/console/testing.ts";
import { feesFeature, parseXpub } from "../node/fees/mod.ts";
import { generateIssuerKey, quotaFeature } from "../node/quota/mod.ts";
import { loadConfig } from "../node/config.ts";
import { createLogger } from "../node/log.ts";
import { startNode } from "../node/mod.ts";
import { postJson } from "../node/testing.ts";
import { fakeEsplora } from "./_esplora.ts";

const PASSWORD = "console fees test password";
const ADMIN = "console-fees-admin-token";
const KEY = await generateIssuerKey();

// BIP84 test vector (mainnet zpub) and SLIP-132's xpub (BIP44) and vpub (testnet) of one seed.
const ZPUB =
  "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
const XPUB =
  "xpub6BosfCnifzxcFwrSzQiqu2DBVTshkCXacvNsWGYJVVhhawA7d4R5WSWGFNbi8Aw6ZRc1brxMyWMzG3DSSSSoekkudhUd9yLb6qx39T9nMdj";
const VPUB =
  "vpub5Y6cjg78GGuNLsaPhmYsiw4gYX3HoQiRBiSwDaBXKUafCt9bNwWQiitDk5VZ5BVxYnQdwoTyXSs2JHRPAgjAvtbBrf8ZhDYe2jWAqvZVnsc";
const XPRV =
  "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";

const FLAGS = [
  "--fee-xpub",
  ZPUB,
  "--fee-network",
  "mainnet",
  "--bundle-price-sats",
  "1000",
  "--admin-token",
  ADMIN,
  "--esplora-poll-interval",
  "1s",
];

const features = () => [quotaFeature({ generateKey: () => Promise.resolve(KEY) }), feesFeature()];
const adminHeaders = { authorization: `Bearer ${ADMIN}` };

/** `GET /admin/api/pricing`: every pricing and payment setting in force. */
async function adminPricing(fetchFn: (r: Request) => Promise<Response>) {
  const r = await fetchFn(new Request("http://x/admin/api/pricing", { headers: adminHeaders }));
  assert.equal(r.status, 200);
  return await r.json();
}

/** Waits until `check` holds (the poller runs every second), for at most `ms`. */
async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!await check()) {
    if (Date.now() > end) throw new Error("Timed out waiting for the invoice poller");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The attributes of the `<input name=...>` tag in a page. */
function inputTag(html: string, name: string): string {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html);
  assert.ok(m, `no input ${name}`);
  return m[0];
}

Deno.test("console: change the xpub, backend and confirmations; new invoices follow at once", async () => {
  const fake = fakeEsplora();
  const t = await consoleTestNode({ args: FLAGS, features: features() });
  const c = t.client();
  const f = (r: Request) => t.node.fetch(r);
  try {
    assert.equal((await c.firstLogin(t.oneTimePassword, PASSWORD)).status, 303);
    const created = await f(
      new Request("http://x/admin/api/accounts", { method: "POST", headers: adminHeaders }),
    );
    assert.equal(created.status, 201);
    const { account } = await created.json();
    const auth = { authorization: `Bearer ${account}` };
    const invoice = async () => {
      const r = await t.node.fetch(postJson("http://x", "/v1/invoices", { bundles: 1 }, auth));
      return { status: r.status, body: await r.json() };
    };
    const zpub = parseXpub(ZPUB);
    const xpub = parseXpub(XPUB);

    // Two invoices under the start-up key use its indices 0 and 1.
    assert.equal((await invoice()).body.address, zpub.address(0));
    assert.equal((await invoice()).body.address, zpub.address(1));

    // The form shows the settings editable, and the address the next invoice gets.
    let page = await c.page("/console/pricing");
    assert.equal(page.status, 200);
    assert.match(inputTag(page.html, "xpub"), new RegExp(`value="${ZPUB}"`));
    assert.doesNotMatch(inputTag(page.html, "xpub"), /disabled/);
    assert.match(inputTag(page.html, "esploraUrl"), /value=""/);
    assert.match(inputTag(page.html, "confirmations"), /value="1"/);
    assert.match(page.html, new RegExp(`${zpub.address(2)} \\(#2\\)`));

    // Refused values: the form comes back (400) with the input kept and the message at the field.
    const refused = async (fields: Record<string, string>, field: string, message: RegExp) => {
      const { html } = await c.page("/console/pricing");
      const r = await c.post("/console/pricing", { _csrf: csrfOf(html), ...fields });
      assert.equal(r.status, 400, JSON.stringify(fields));
      const body = await r.text();
      const tag = inputTag(body, field);
      assert.match(tag, /aria-invalid="true"/, field);
      assert.match(body, new RegExp(`<small class="field-error" id="${field}-error">`));
      assert.match(body, message);
      assert.match(body, /class="flash flash-error"/);
      return tag;
    };
    const kept = await refused({ xpub: "zpub-not-a-key" }, "xpub", /Cannot parse xpub/);
    assert.match(kept, /value="zpub-not-a-key"/);
    await refused({ xpub: XPRV }, "xpub", /is a private key/);
    await refused({ xpub: VPUB }, "xpub", /Cannot use a testnet key \(vpub\) on mainnet/);
    await refused(
      { esploraUrl: "ftp://esplora.example/api" },
      "esploraUrl",
      /must start with http:\/\/ or https:\/\//,
    );
    await refused({ esploraUrl: "not a url" }, "esploraUrl", /Cannot parse Esplora URL/);
    await refused({ confirmations: "101" }, "confirmations", /confirmations must be an integer/);
    await refused({ confirmations: "many" }, "confirmations", /expected a whole number/);
    const unchanged = await adminPricing(f);
    assert.equal(unchanged.xpub, ZPUB, "refused forms change nothing");
    assert.equal(unchanged.esplora_url, "");

    // A wrong CSRF token changes nothing either.
    const forged = await c.post("/console/pricing", { _csrf: "forged", xpub: XPUB });
    assert.equal(forged.status, 403);
    assert.equal((await adminPricing(f)).xpub, ZPUB);

    // Save a new key, the fake backend and 0 confirmations.
    page = await c.page("/console/pricing");
    const saved = await c.post("/console/pricing", {
      _csrf: csrfOf(page.html),
      xpub: XPUB,
      esploraUrl: fake.url + "/",
      confirmations: "0",
    });
    assert.equal(saved.status, 303);
    page = await c.page(saved.headers.get("location")!);
    assert.match(
      page.html,
      /Saved: extended public key \(xpub\), payment backend \(esplora api url\), confirmations/,
    );
    assert.match(inputTag(page.html, "esploraUrl"), new RegExp(`value="${fake.url}"`));
    const pricing = await (await t.node.fetch(new Request("http://x/v1/pricing"))).json();
    assert.equal(pricing.confirmations, 0);
    assert.equal(pricing.fees_enabled, true);
    assert.equal(JSON.stringify(pricing).includes(XPUB), false, "wallets never see the xpub");

    // The next invoice derives from the new key, at that key's index 0.
    const third = (await invoice()).body;
    assert.equal(third.address, xpub.address(0));
    assert.equal(third.address, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA");
    assert.equal(third.confirmations_required, 0);

    // The poller asks the new backend; a mempool payment (0 confirmations) pays the invoice.
    fake.state.txs.push({ txid: "ab".repeat(32), to: third.address, value: 1000 });
    await eventually(async () => {
      const r = await f(new Request(`http://x/v1/invoices/${third.id}`));
      return (await r.json()).status === "paid";
    });
    assert.ok(fake.state.requests.includes(`/api/address/${third.address}/txs`));
    for (const earlier of [zpub.address(0), zpub.address(1)]) {
      assert.ok(fake.state.requests.includes(`/api/address/${earlier}/txs`), "all 3 watched");
    }
    const credited = await (await f(
      new Request(`http://x/admin/api/accounts/${account}`, { headers: adminHeaders }),
    )).json();
    assert.equal(credited.credit, third.tokens);

    // The Pricing page lists the invoices with their status, key and index.
    page = await c.page("/console/pricing");
    const row = new RegExp(`data-invoice="${third.id}".*?</tr>`, "s").exec(page.html)?.[0] ?? "";
    assert.match(row, /badge-ok">paid/);
    assert.match(row, /#0/);
    assert.match(page.html, /2 pending · 1 paid · 0 expired/);
    assert.match(page.html, new RegExp(`${xpub.address(1)} \\(#1\\)`));

    // The admin API takes the same settings (and refuses bad ones, naming the field).
    const put = (body: unknown) =>
      t.node.fetch(
        new Request("http://x/admin/api/pricing", {
          method: "PUT",
          headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
          body: JSON.stringify(body),
        }),
      );
    const bad = await put({ esplora_url: "javascript:alert(1)", bundle_price_sats: 7 });
    assert.equal(bad.status, 400);
    const problem = await bad.json();
    assert.equal(problem.field, "esplora_url");
    assert.match(problem.detail, /must start with http:\/\/ or https:\/\//);
    assert.equal(
      (await adminPricing(f)).bundle_price_sats,
      1000,
      "nothing applies when one field is refused",
    );
    const good = await put({ xpub: ZPUB, confirmations: 3 });
    assert.equal(good.status, 200);
    const json = await good.json();
    assert.equal(json.xpub, ZPUB);
    assert.equal(json.esplora_url, fake.url);
    assert.equal(json.confirmations, 3);
    // Back on the first key, indices continue where that key stopped.
    assert.equal((await invoice()).body.address, zpub.address(2));

    // An empty xpub turns fees off.
    page = await c.page("/console/pricing");
    await c.post("/console/pricing", { _csrf: csrfOf(page.html), xpub: "" });
    assert.equal((await invoice()).status, 404);
    assert.match((await c.page("/console/pricing")).html, /badge-bad">off/);
  } finally {
    await t.close();
    await fake.close();
  }
});

Deno.test("payment settings saved at run time outlive a restart and win over the flags", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "subspace-fees-restart-" });
  const start = () =>
    startNode(
      loadConfig({ args: ["--data", dataDir, "--port", "0", ...FLAGS], env: {} }),
      {
        listen: false,
        log: createLogger({ component: "node", level: "error", sink: () => {} }),
        features: features(),
      },
    );
  try {
    let node = await start();
    const put = await node.fetch(
      new Request("http://x/admin/api/pricing", {
        method: "PUT",
        headers: { ...adminHeaders, "content-type": "application/json" },
        body: JSON.stringify({
          xpub: XPUB,
          esplora_url: "https://esplora.example/api",
          confirmations: 2,
        }),
      }),
    );
    assert.equal(put.status, 200);
    await put.body?.cancel();
    await node.close();
    node = await start();
    try {
      const saved = await adminPricing((r) => node.fetch(r));
      assert.deepEqual(
        { xpub: saved.xpub, esplora_url: saved.esplora_url, confirmations: saved.confirmations },
        { xpub: XPUB, esplora_url: "https://esplora.example/api", confirmations: 2 },
      );
      const pricing = await (await node.fetch(new Request("http://x/v1/pricing"))).json();
      assert.equal(pricing.confirmations, 2);
    } finally {
      await node.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
