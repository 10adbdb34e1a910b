/**
 * What a new operator and a visitor see, in a real browser (Chromium) against a real node
 * process:
 *
 * - the public page at `/` without JavaScript: what the server is, limits and prices from
 *   `/v1/info` and `/v1/pricing`, how to sign up, the API document, the operator's contact,
 *   and the favicon;
 * - the address type chosen in the console for an `xpub` exported from a native segwit
 *   account (as Ledger and Trezor export it): the preview shows the wallet's first receive
 *   address before anything is saved, and invoices use it after saving;
 * - Settings shows a price changed in the console, with the source "console", in the forms'
 *   units;
 * - every console page at 360 px wide: no horizontal overflow, every navigation item and
 *   "Log out" on screen and working.
 *
 * Skipped (with a message) when `/usr/bin/chromium` is missing.
 */
import assert from "node:assert/strict";
import { HDKey } from "@scure/bip32";
import { startNode } from "./_node.ts";
import { hasChromium, launchChromium } from "./_browser.ts";

const PASSWORD = "operator browser test password";
// The BIP84 test vector's account key, and the same key with the plain xpub prefix.
const ZPUB =
  "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
const FIRST_BIP84_ADDRESS = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";

function asXpub(zpub: string): string {
  const k = HDKey.fromExtendedKey(zpub, { public: 0x04b24746, private: 0 });
  return new HDKey({
    versions: { public: 0x0488b21e, private: 0x0488ade4 },
    depth: k.depth,
    index: k.index,
    parentFingerprint: k.parentFingerprint,
    chainCode: k.chainCode!,
    publicKey: k.publicKey!,
  }).publicExtendedKey;
}

Deno.test({
  name: "operator in Chromium: landing page, address type, settings sources, 360 px layout",
  ignore: !hasChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const node = await startNode({
      args: [
        "--quota",
        "tokens",
        "--operator-contact",
        "ops@example.org",
        "--bundle-price-sats",
        "1500",
        "--fee-network",
        "mainnet",
        "--max-ttl",
        "14d",
      ],
    });
    const browser = await launchChromium();
    try {
      // --- The public page, without JavaScript ---------------------------------------------
      const visitor = await browser.newContext({ javaScriptEnabled: false });
      const v = await visitor.newPage();
      const res = await v.goto(`${node.url}/`);
      assert.equal(res?.status(), 200);
      assert.match(res!.headers()["content-type"]!, /^text\/html/);
      const text = await v.textContent("main") ?? "";
      assert.match(text, /store-and-forward channel for Bitcoin wallets/);
      const info = await (await fetch(`${node.url}/v1/info`)).json();
      const pricing = await (await fetch(`${node.url}/v1/pricing`)).json();
      assert.match(await v.textContent("#limits") ?? "", /Largest message64KiB/);
      assert.equal(info.limits.max_payload_bytes, 65536);
      assert.match(await v.textContent("#limits") ?? "", /at most14d|at most 14d/);
      assert.match(
        await v.textContent("#pricing") ?? "",
        new RegExp(`${pricing.free_tokens} messages per account every 1d`),
      );
      assert.match(await v.textContent("#pricing") ?? "", /not sold here/, "no xpub yet");
      assert.match(await v.textContent("#signup") ?? "", /subspace signup --server http/);
      assert.equal(await v.getAttribute('a[href="/openapi.json"]', "href"), "/openapi.json");
      assert.equal(await v.getAttribute("#operator a", "href"), "mailto:ops@example.org");
      const icon = await v.request.get(`${node.url}/favicon.ico`);
      assert.equal(icon.status(), 200);
      assert.equal(icon.headers()["content-type"], "image/svg+xml");
      assert.match(await icon.text(), /^<svg /);
      await visitor.close();

      // --- Log in --------------------------------------------------------------------------
      const line = node.logs.find((l) => l.includes("one-time console password"));
      const oneTime = JSON.parse(line!).password as string;
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`${node.url}/console/login`);
      await page.fill('input[name="password"]', oneTime);
      await page.click('button[type="submit"]');
      await page.waitForURL(/\/console\/password$/);
      await page.fill('input[name="password"]', PASSWORD);
      await page.fill('input[name="confirm"]', PASSWORD);
      await page.click('form.stack button[type="submit"]');
      await page.waitForURL(/\/console$/);

      // --- Address type: an xpub of a native segwit account ---------------------------------
      const xpub = asXpub(ZPUB);
      await page.goto(`${node.url}/console/pricing`);
      assert.equal(await page.inputValue('select[name="addressType"]'), "auto");
      assert.match(
        await page.textContent("details.explain") ?? "",
        /export every account key with the xpub prefix/,
      );
      await page.fill('input[name="xpub"]', xpub);
      await page.click('button:has-text("Preview addresses")');
      await page.waitForSelector("#preview");
      assert.match(await page.textContent("#preview") ?? "", /p2pkh/);
      assert.match((await page.textContent("#preview li code"))!, /^1/, "auto: legacy");
      // Nothing saved by a preview.
      assert.equal((await (await fetch(`${node.url}/v1/pricing`)).json()).fees_enabled, false);
      assert.equal(await page.inputValue('input[name="xpub"]'), xpub, "typed key kept");
      await page.selectOption('select[name="addressType"]', "p2wpkh");
      await page.click('button:has-text("Preview addresses")');
      await page.waitForSelector("#preview");
      assert.equal(await page.textContent("#preview li code"), FIRST_BIP84_ADDRESS);
      assert.match(await page.textContent("#preview") ?? "", /the key's prefix implies p2pkh/);
      await page.screenshot({ path: await shot("pricing-address-type.png"), fullPage: true });
      await page.click('button:has-text("Save payment settings")');
      await page.waitForSelector(".flash-ok");
      assert.equal(await page.inputValue('select[name="addressType"]'), "p2wpkh");
      assert.match(
        await page.textContent(".next-address") ?? "",
        new RegExp(`^${FIRST_BIP84_ADDRESS} \\(#0\\)`),
      );
      assert.equal((await (await fetch(`${node.url}/v1/pricing`)).json()).fees_enabled, true);

      // --- Settings shows a price changed in the console -----------------------------------
      await page.fill('input[name="bundlePriceSats"]', "2100");
      await page.click('form button[type="submit"]:has-text("Save prices")');
      await page.waitForSelector(".flash-ok");
      await page.goto(`${node.url}/console/settings`);
      const price = 'tr[data-key="bundlePriceSats"]';
      assert.equal(await page.textContent(`${price} td:nth-child(2) code`), "2100");
      assert.equal(await page.getAttribute(`${price} td.source`, "data-source"), "console");
      const type = 'tr[data-key="feeAddressType"]';
      assert.equal(await page.textContent(`${type} td:nth-child(2) code`), "p2wpkh");
      assert.equal(await page.getAttribute(`${type} td.source`, "data-source"), "console");
      const ttl = 'tr[data-key="maxTtl"]';
      assert.equal(await page.textContent(`${ttl} td:nth-child(2) code`), "14d");
      assert.equal(await page.getAttribute(`${ttl} td.source`, "data-source"), "flag");
      assert.equal(
        await page.textContent('tr[data-key="maxStoreBytes"] td:nth-child(2) code'),
        "10GiB",
      );

      // --- 360 px: no horizontal overflow, every nav item reachable ------------------------
      const cookies = await context.cookies();
      const narrow = await browser.newContext({ viewport: { width: 360, height: 740 } });
      await narrow.addCookies(cookies);
      const m = await narrow.newPage();
      m.on("pageerror", (e) => errors.push(String(e)));
      await m.goto(`${node.url}/console`);
      const navs = await m.$$eval("nav a", (as) => as.map((a) => a.getAttribute("href")!));
      assert.equal(navs.length, 5);
      for (const href of [...navs, "/"]) {
        await m.goto(`${node.url}${href}`);
        const width = await m.evaluate(() => document.documentElement.scrollWidth);
        const wide = await m.evaluate(() =>
          [...document.querySelectorAll("body *")].filter((e) =>
            e.getBoundingClientRect().right > 361 && !e.closest(".table-wrap")
          ).slice(0, 5).map((e) =>
            `${e.tagName}.${e.className}: ${e.getBoundingClientRect().right}`
          )
        );
        assert.ok(width <= 360, `${href} is ${width} px wide at 360 px: ${wide.join("; ")}`);
        if (href === "/") continue;
        for (const sel of [...navs.map((n) => `nav a[href="${n}"]`), ".logout button"]) {
          const box = await m.locator(sel).boundingBox();
          assert.ok(box !== null, `${sel} is shown on ${href}`);
          assert.ok(box.x >= 0 && box.x + box.width <= 360, `${sel} is on screen on ${href}`);
        }
      }
      for (const href of navs) {
        await m.goto(`${node.url}/console`);
        await m.click(`nav a[href="${href}"]`);
        await m.waitForURL(new RegExp(`${href.replace(/\//g, "\\/")}$`));
      }
      await m.goto(`${node.url}/console/settings`);
      await m.screenshot({ path: await shot("settings-360.png"), fullPage: false });
      await m.click(".logout button");
      await m.waitForURL(/\/console\/login$/);
      await narrow.close();

      assert.deepEqual(errors, [], "no script errors");
      await context.close();
    } finally {
      await browser.close();
      for (const f of temporary) await Deno.remove(f).catch(() => {});
      await node.stop();
      await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
    }
  },
});

const temporary: string[] = [];

/** Where a screenshot goes: docs/screenshots/ with SUBSPACE_SCREENSHOTS=1, else a temp file. */
async function shot(name: string): Promise<string> {
  if (Deno.env.get("SUBSPACE_SCREENSHOTS") === "1") {
    return new URL(`../docs/screenshots/${name}`, import.meta.url).pathname;
  }
  const path = await Deno.makeTempFile({ suffix: `-${name}` });
  temporary.push(path);
  return path;
}
