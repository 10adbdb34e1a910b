/**
 * The wallet library in a real browser: bundle `client/mod.ts` for the browser platform, load it
 * in Debian's chromium (playwright-core), and check there — with pure noble, no node:crypto —
 * an envelope test vector byte for byte, opening it, a libbitcoin address vector, a protobuf
 * payload round trip, and that the client picks the noble ECDH backend.
 */
import assert from "node:assert/strict";
import { hasChromium, launchChromium } from "./_browser.ts";

Deno.test({
  name: "client library runs in chromium with pure noble and matches the vectors",
  ignore: !hasChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "subspace-browser-" });
    const root = new URL("..", import.meta.url).pathname;
    const bundle = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "browser", "-o", `${dir}/client.js`, `${root}client/mod.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(bundle.code, 0, new TextDecoder().decode(bundle.stderr));
    const js = await Deno.readFile(`${dir}/client.js`);
    const envelopeVectors = await Deno.readTextFile(
      new URL("../testdata/envelope_vectors.json", import.meta.url),
    );
    const ac = new AbortController();
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: ac.signal,
      onListen: () => {},
    }, (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/client.js") {
        return new Response(js, { headers: { "content-type": "text/javascript" } });
      }
      if (path === "/vectors.json") return new Response(envelopeVectors);
      return new Response("<!doctype html><title>subspace</title>", {
        headers: { "content-type": "text/html" },
      });
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      const result = await page.evaluate(async () => {
        // deno-lint-ignore no-explicit-any
        const m: any = await import("/client.js");
        const { vectors } = await (await fetch("/vectors.json")).json();
        const v = vectors[0];
        const queue = [m.fromHex(v.random_ephemeral_secret), m.fromHex(v.random_tag)];
        const sealed = m.seal(
          {
            scanPubkey: m.fromHex(v.scan_pubkey),
            prefix: m.fromHex(v.prefix),
            prefixBits: v.prefix_bits,
          },
          m.fromHex(v.message),
          { random: () => queue.shift() },
        );
        const opener = new m.EnvelopeOpener({
          scanSecret: m.fromHex(v.scan_secret),
          scanPubkey: m.fromHex(v.scan_pubkey),
        });
        const opened = opener.open(sealed.tag, sealed.envelope);
        const addr = m.decodeStealthAddress(
          "vJmwY32eS5VDC2C4GaZyXt7i4iCjzSMZ1XSd6KbkA7QbGE492akT2eZZMjCwWDqKRSYhnSA8Bgp78KeAYFVCi8ke5mELdoYMBNep7L",
        );
        const payload = m.decodePayload(m.encodePayload({
          type: "text",
          createdTime: 5,
          memo: "m",
          body: m.utf8.encode("browser"),
        }));
        const client = await m.SubspaceClient.create();
        return {
          hasDeno: typeof (globalThis as { Deno?: unknown }).Deno !== "undefined",
          tag: m.toHex(sealed.tag),
          envelope: m.toHex(sealed.envelope),
          expectTag: v.tag,
          expectEnvelope: v.envelope,
          opened: m.toHex(opened),
          message: v.message,
          scan: m.toHex(addr.scanPubkey),
          text: new TextDecoder().decode(payload.body),
          ecdh: client.ecdhName,
        };
      });
      assert.deepEqual(errors, []);
      assert.equal(result.hasDeno, false);
      assert.equal(result.tag, result.expectTag);
      assert.equal(result.envelope, result.expectEnvelope);
      assert.equal(result.opened, result.message);
      assert.equal(
        result.scan,
        "031bab84e687e36514eeaf5a017c30d32c1f59dd4ea6629da7970ca374513dd006",
      );
      assert.equal(result.text, "browser");
      assert.equal(result.ecdh, "noble");
    } finally {
      await browser.close();
      ac.abort();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
