/**
 * The console in a real browser (Chromium through playwright-core) against a real node
 * process: first login with the one-time password, the overview with rendered and live
 * charts, a price change that shows in `/v1/pricing`, a new xpub and payment backend set in the
 * Pricing form (a bad xpub refused at its field; the next invoice derives from the new key and
 * is paid through a fake Esplora server), creating and crediting an account, peer latency on
 * the Network page, refusals without a session or with a wrong CSRF token. Takes a screenshot
 * of each page: into a temporary folder that is removed afterwards, or, when
 * `SUBSPACE_SCREENSHOTS=1` (`deno task screenshots`), into `docs/screenshots/`, so an ordinary
 * test run leaves the working tree as it was.
 *
 * Skipped (with a message) when `/usr/bin/chromium` is missing: `apt-get install -y chromium`.
 */
import assert from "node:assert/strict";
import { parseXpub } from "../node/fees/mod.ts";
import { fakeEsplora } from "./_esplora.ts";
import { startNode } from "./_node.ts";
import { hasChromium, launchChromium } from "./_browser.ts";

/** Refresh the committed screenshots only when asked to. */
const REFRESH_SCREENSHOTS = Deno.env.get("SUBSPACE_SCREENSHOTS") === "1";
const PASSWORD = "browser test operator password";
const ADMIN = "browser-test-admin-token";
// BIP84 test vector (zpub) and SLIP-132's BIP44 xpub of the same seed (both mainnet).
const ZPUB =
  "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
const XPUB =
  "xpub6BosfCnifzxcFwrSzQiqu2DBVTshkCXacvNsWGYJVVhhawA7d4R5WSWGFNbi8Aw6ZRc1brxMyWMzG3DSSSSoekkudhUd9yLb6qx39T9nMdj";

Deno.test({
  name: "console in Chromium: login, overview chart, pricing, accounts, refusals, screenshots",
  ignore: !hasChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const esplora = fakeEsplora();
    const node = await startNode({
      args: [
        "--console-sample-interval",
        "1",
        "--fee-xpub",
        ZPUB,
        "--fee-network",
        "mainnet",
        "--admin-token",
        ADMIN,
        "--esplora-poll-interval",
        "1",
      ],
    });
    // A second node joins through the first, so the Network page has a peer to show.
    const peer = startNode({ args: ["--bootstrap", node.url] });
    const browser = await launchChromium();
    const shots = REFRESH_SCREENSHOTS
      ? new URL("../docs/screenshots/", import.meta.url)
      : new URL(`file://${await Deno.makeTempDir({ prefix: "subspace-screenshots-" })}/`);
    try {
      await Deno.mkdir(shots, { recursive: true });
      const line = node.logs.find((l) => l.includes("one-time console password"));
      assert.ok(line, "the node logs a one-time password on first start");
      const oneTime = JSON.parse(line!).password as string;
      assert.equal(node.logs.filter((l) => l.includes(oneTime)).length, 1, "printed once");

      // Some traffic for the charts: messages posted and read over a few seconds.
      const traffic = (async () => {
        for (let round = 0; round < 4; round++) {
          for (let i = 0; i < 5 + round * 5; i++) {
            const tag = crypto.getRandomValues(new Uint8Array(20)).toHex();
            const payload = crypto.getRandomValues(new Uint8Array(2000)).toBase64();
            const r = await fetch(`${node.url}/v1/messages`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ tag, payload }),
            });
            assert.equal(r.status, 201);
            await r.body?.cancel();
          }
          const g = await fetch(`${node.url}/v1/messages?prefix=&bits=0&limit=50`);
          await g.body?.cancel();
          await new Promise((r) => setTimeout(r, 1100));
        }
      })();

      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));

      // Without a session: the console sends us to the login page.
      await page.goto(`${node.url}/console/pricing`);
      assert.match(page.url(), /\/console\/login\?next=%2Fconsole%2Fpricing$/);
      await page.screenshot({ path: new URL("login.png", shots).pathname });

      // First login with the one-time password: set the operator password.
      await page.fill('input[name="password"]', oneTime);
      await page.click('button[type="submit"]');
      await page.waitForURL(/\/console\/password$/);
      await page.fill('input[name="password"]', PASSWORD);
      await page.fill('input[name="confirm"]', PASSWORD);
      await page.click('form.stack button[type="submit"]');
      await page.waitForURL(/\/console$/);
      assert.match(await page.textContent(".flash") ?? "", /Password changed/);

      // Overview: charts render, and the island goes live and redraws with new samples.
      await traffic;
      await page.goto(`${node.url}/console`);
      await page.waitForSelector('.overview-live[data-live="on"]', { timeout: 15_000 });
      await page.waitForFunction(
        () => document.querySelectorAll(".chart svg path.line").length >= 2,
        undefined,
        { timeout: 15_000 },
      );
      const charts = await page.$$eval(".chart svg", (els) => els.length);
      assert.equal(charts, 3);
      const accepted = await page.textContent(".stats div:nth-child(3) dd");
      assert.equal(accepted, "50");
      // The Health section comes first: bring the chart into view before hovering it.
      await page.$eval(".chart svg", (e) => e.scrollIntoView({ block: "center" }));
      const box = (await (await page.$(".chart svg"))!.boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.95, box.y + box.height * 0.4);
      assert.match(await page.textContent(".chart .chart-value") ?? "", / at \d\d:\d\d:\d\dZ$/);
      await page.mouse.move(0, 0);
      await page.screenshot({ path: new URL("overview.png", shots).pathname, fullPage: true });

      // Pricing: change the bundle price; /v1/pricing shows it at once.
      await page.click('nav a[href="/console/pricing"]');
      await page.fill('input[name="bundlePriceSats"]', "2500");
      await page.fill('input[name="tokensPerBundle"]', "500");
      await page.click('form button[type="submit"]:has-text("Save prices")');
      await page.waitForSelector(".flash-ok");
      assert.match(
        await page.textContent(".flash-ok") ?? "",
        /Saved: tokens per bundle, bundle price/,
      );
      const pricing = await (await fetch(`${node.url}/v1/pricing`)).json();
      assert.equal(pricing.bundle_price_sats, 2500);
      assert.equal(pricing.tokens_per_bundle, 500);

      // An account buys a bundle under the start-up key (index 0 of the zpub).
      const acct = await (await fetch(`${node.url}/admin/api/accounts`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}` },
      })).json();
      const buy = async () => {
        const r = await fetch(`${node.url}/v1/invoices`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${acct.account}` },
          body: JSON.stringify({ bundles: 1 }),
        });
        assert.equal(r.status, 201);
        return await r.json();
      };
      assert.equal((await buy()).address, parseXpub(ZPUB).address(0));

      // Payment settings: a bad xpub is refused at its field, the typed value kept.
      await page.goto(`${node.url}/console/pricing`);
      await page.fill('input[name="xpub"]', "xpub-this-is-not-a-key");
      await page.click('button:has-text("Save payment settings")');
      await page.waitForSelector("small.field-error#xpub-error");
      assert.match(await page.textContent("#xpub-error") ?? "", /Cannot parse xpub/);
      assert.equal(await page.getAttribute('input[name="xpub"]', "aria-invalid"), "true");
      assert.equal(await page.inputValue('input[name="xpub"]'), "xpub-this-is-not-a-key");
      assert.equal((await (await fetch(`${node.url}/v1/pricing`)).json()).fees_enabled, true);

      // A new key, the (fake) Esplora backend and 0 confirmations: in effect at once.
      await page.fill('input[name="xpub"]', XPUB);
      await page.fill('input[name="esploraUrl"]', esplora.url);
      await page.fill('input[name="confirmations"]', "0");
      await page.click('button:has-text("Save payment settings")');
      await page.waitForSelector(".flash-ok");
      assert.match(await page.textContent(".flash-ok") ?? "", /Saved: extended public key/);
      const fresh = await buy();
      assert.equal(fresh.address, parseXpub(XPUB).address(0), "new key, its index 0");
      assert.equal(fresh.confirmations_required, 0);
      await buy(); // one more, left unpaid
      // The node's poller asks the new backend and sees the payment.
      esplora.state.txs.push({ txid: "cd".repeat(32), to: fresh.address, value: 2500 });
      for (let i = 0; i < 60; i++) {
        const inv = await (await fetch(`${node.url}/v1/invoices/${fresh.id}`)).json();
        if (inv.status === "paid") break;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(esplora.state.requests.includes(`/api/address/${fresh.address}/txs`));
      await page.goto(`${node.url}/console/pricing`);
      await page.waitForSelector(`tr[data-invoice="${fresh.id}"] .badge-ok`);
      assert.match(await page.textContent("#invoices p.muted") ?? "", /2 pending · 1 paid/);
      await page.screenshot({ path: new URL("pricing.png", shots).pathname, fullPage: true });

      // Quotas: create an account and credit it.
      await page.click('nav a[href="/console/quotas"]');
      await page.click('button:has-text("Create account")');
      await page.waitForSelector(".flash-ok");
      const created = await page.textContent(".flash-ok") ?? "";
      const number = /Created account (\S+)\./.exec(created)?.[1];
      assert.ok(number, created);
      await page.fill('tr[data-account] input[name="tokens"]', "50");
      await page.click('tr[data-account] button:has-text("Credit")');
      await page.waitForSelector(".flash-ok:has-text('Credited 50 tokens')");
      assert.equal((await page.textContent("tr[data-account] td.num"))?.trim(), "50");
      // A second account made in the console.
      await page.goto(`${node.url}/console/quotas`);
      await page.click('button:has-text("Create account")');
      await page.goto(`${node.url}/console/quotas`);
      // Two made here and the one that bought tokens above.
      assert.equal(await page.$$eval("tr[data-account]", (r) => r.length), 3);
      await page.screenshot({ path: new URL("quotas.png", shots).pathname, fullPage: true });

      await page.click('nav a[href="/console/network"]');
      await peer;
      for (let i = 0; i < 40 && await page.$("td code[title]") === null; i++) {
        await new Promise((r) => setTimeout(r, 250));
        await page.reload();
      }
      assert.ok(await page.$("td code[title]"), "the peer shows on the Network page");
      // Its latency: the peer answered our pings and lookups, so it has a smoothed RTT.
      for (let i = 0; i < 40 && !/\d+ ms/.test(await page.textContent("table") ?? ""); i++) {
        await new Promise((r) => setTimeout(r, 250));
        await page.reload();
      }
      assert.match(await page.textContent(".grid2 .card:nth-child(2) tbody") ?? "", /\d+ ms/);
      assert.match(
        await page.textContent('section:has(h2:has-text("This node")) .facts') ?? "",
        /Bodies fetched/,
      );
      await page.screenshot({ path: new URL("network.png", shots).pathname, fullPage: true });
      await page.click('nav a[href="/console/settings"]');
      assert.match(await page.textContent("h1") ?? "", /Settings/);
      await page.screenshot({ path: new URL("settings.png", shots).pathname, fullPage: true });

      // A wrong CSRF token is refused and changes nothing.
      await page.click('nav a[href="/console/pricing"]');
      await page.$eval(
        'form[action="/console/pricing"] input[name="_csrf"]',
        (el) => (el as HTMLInputElement).value = "forged-token",
      );
      await page.fill('input[name="bundlePriceSats"]', "1");
      const [refused] = await Promise.all([
        page.waitForResponse((r) =>
          r.url().endsWith("/console/pricing") && r.request().method() === "POST"
        ),
        page.click('form button[type="submit"]:has-text("Save prices")'),
      ]);
      assert.equal(refused.status(), 403);
      await page.waitForSelector(".flash-error");
      assert.match(await page.textContent(".flash-error") ?? "", /security token/);
      assert.equal((await (await fetch(`${node.url}/v1/pricing`)).json()).bundle_price_sats, 2500);

      // Another browser without the session cookie is refused everywhere.
      const stranger = await browser.newContext();
      const p2 = await stranger.newPage();
      await p2.goto(`${node.url}/console/quotas`);
      assert.match(p2.url(), /\/console\/login/);
      const metrics = await p2.request.get(`${node.url}/metrics`);
      assert.equal(metrics.status(), 401);
      const admin = await p2.request.get(`${node.url}/admin/api/pricing`);
      assert.equal(admin.status(), 401);
      // ... while the operator's session reads /metrics.
      const own = await page.request.get(`${node.url}/metrics`);
      assert.equal(own.status(), 200);
      assert.match(await own.text(), /subspace_messages_accepted_total 50/);
      await stranger.close();

      assert.deepEqual(errors, [], "no script errors in the page");
      await context.close();
    } finally {
      await browser.close();
      if (!REFRESH_SCREENSHOTS) await Deno.remove(shots, { recursive: true }).catch(() => {});
      const p = await peer.catch(() => undefined);
      await p?.stop();
      if (p) await Deno.remove(p.dataDir, { recursive: true }).catch(() => {});
      await node.stop();
      await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
      await esplora.close();
    }
  },
});
