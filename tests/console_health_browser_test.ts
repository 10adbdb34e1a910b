/**
 * The health banner in a real browser (Chromium) against real node processes: a node whose
 * payment backend is unreachable shows "payment detection failing" on every console page (and
 * in `GET /admin/api/health` and `subspace_health_status`), and once its only peer is killed
 * the Network page shows the peer down and the banner says so.
 *
 * Skipped (with a message) when `/usr/bin/chromium` is missing.
 */
import assert from "node:assert/strict";
import { startNode } from "./_node.ts";
import { hasChromium, launchChromium } from "./_browser.ts";

const PASSWORD = "health test operator password";
const ADMIN = "health-test-admin-token";
const ZPUB =
  "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";

/** Polls `f` every 250 ms until it returns a value, for at most `ms`. */
async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function health(url: string) {
  const res = await fetch(`${url}/admin/api/health`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  return { status: res.status, body: await res.json() };
}

Deno.test({
  name: "health banner in Chromium: unreachable payment backend, then a dead peer",
  ignore: !hasChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // Port 9 on loopback: nothing listens, so every request is refused.
    const node = await startNode({
      args: [
        "--fee-xpub",
        ZPUB,
        "--bundle-price-sats",
        "1000",
        "--esplora-url",
        "http://127.0.0.1:9/api",
        "--esplora-poll-interval",
        "1",
        "--admin-token",
        ADMIN,
      ],
    });
    const peer = await startNode({ args: ["--bootstrap", node.url] });
    const browser = await launchChromium();
    try {
      // The API says what is wrong, with a 503 for scripts.
      const broken = await until("the payment check to fail", async () => {
        const h = await health(node.url);
        const c = h.body.checks.find((c: { id: string }) => c.id === "payments");
        return c?.status === "fail" ? h : undefined;
      });
      assert.equal(broken.status, 503);
      assert.equal(broken.body.payments.backend, "http://127.0.0.1:9/api");
      assert.equal(broken.body.payments.lastSuccessAt, null);
      assert.ok(broken.body.payments.lastError, "the backend's error is reported");
      const metrics = await (await fetch(`${node.url}/metrics`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })).text();
      assert.match(metrics, /^subspace_health_status\{check="payments"\} 2$/m);
      assert.match(metrics, /^subspace_payment_backend_last_success_timestamp_seconds 0$/m);
      // Without credentials the health endpoint is refused like the rest of /admin.
      assert.equal(
        await fetch(`${node.url}/admin/api/health`).then(async (r) => {
          await r.body?.cancel();
          return r.status;
        }),
        401,
      );

      // Log in (one-time password, then a real one).
      const line = node.logs.find((l) => l.includes("one-time console password"));
      const oneTime = JSON.parse(line!).password as string;
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${node.url}/console/login`);
      await page.fill('input[name="password"]', oneTime);
      await page.click('button[type="submit"]');
      await page.waitForURL(/\/console\/password$/);
      await page.fill('input[name="password"]', PASSWORD);
      await page.fill('input[name="confirm"]', PASSWORD);
      await page.click('form.stack button[type="submit"]');
      await page.waitForURL(/\/console$/);

      // Every page carries the banner; the Pricing page no longer looks healthy.
      for (const path of ["/console", "/console/pricing", "/console/settings"]) {
        await page.goto(`${node.url}${path}`);
        const item = await page.waitForSelector(
          '.health-banner li[data-check="payments"][data-status="fail"]',
        );
        assert.match(await item.textContent() ?? "", /Payment backend .* is failing/);
      }
      assert.match(await page.textContent(".health-banner") ?? "", /Payments are not detected/);
      await page.goto(`${node.url}/console`);
      assert.match(
        await page.textContent('#health li[data-check="payments"]') ?? "",
        /fail.*Payment detection/s,
      );

      // The peer is up, then killed: the node's next request to it fails and shows.
      await until("the peer to be up", async () => {
        const h = await health(node.url);
        return h.body.peers?.up === 1 ? true : undefined;
      });
      await peer.kill();
      const down = await until("the peer to be down", async () => {
        // A message makes the node announce to its peers; the dead one does not answer.
        const r = await fetch(`${node.url}/v1/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            tag: crypto.getRandomValues(new Uint8Array(20)).toHex(),
            payload: "aGVsbG8=",
          }),
        });
        await r.body?.cancel();
        const h = await health(node.url);
        return h.body.peers?.down === 1 ? h : undefined;
      });
      assert.equal(down.body.peers.list[0].url, peer.url);
      assert.ok(down.body.peers.list[0].error, "the peer's failure is reported");
      await page.goto(`${node.url}/console/network`);
      // The peer may be down in the routing table, or already dropped from it after more
      // failures; either way the banner names it.
      const row = await page.$(`tr[data-peer="${peer.url}"]`);
      if (row !== null) assert.equal(await row.getAttribute("data-up"), "false");
      assert.match(
        await page.textContent('.health-banner li[data-check="peers"]') ?? "",
        new RegExp(`1 of 1 peers do not answer: ${peer.url.replace(/\./g, "\\.")}`),
      );
      await context.close();
    } finally {
      await browser.close();
      await peer.stop();
      await Deno.remove(peer.dataDir, { recursive: true }).catch(() => {});
      await node.stop();
      await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
    }
  },
});
