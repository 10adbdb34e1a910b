/**
 * Send to one server, read from another: two real nodes joined through `--bootstrap`; the
 * wallet posts to A and reads its inbox from B only (the message reaches B by the federation's
 * notice broadcast and body fetch).
 */
import assert from "node:assert/strict";
import { startNode } from "./_node.ts";
import {
  addressForKeys,
  encodeStealthAddress,
  fromHex,
  keysFromSecrets,
  SubspaceClient,
  utf8,
} from "../client/mod.ts";

Deno.test("send to one node, watch another (federated)", async () => {
  const a = await startNode({ args: ["--quota", "open"] });
  const b = await startNode({ args: ["--quota", "open", "--bootstrap", a.url] });
  try {
    const keys = keysFromSecrets(fromHex("d1".repeat(32)), fromHex("d2".repeat(32)), "mainnet");
    const address = addressForKeys(keys, { prefixBits: 5 });
    const client = await SubspaceClient.create({ retry: { attempts: 2, baseDelayMs: 100 } });
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 30_000);
    const watch = client.watch({ ...keys, prefix: address.prefix, prefixBits: 5 }, {
      servers: [b.url],
      waitSeconds: 5,
      signal: stop.signal,
    });
    const first = watch.next();
    const sent = await client.send(a.url, encodeStealthAddress(address), {
      type: "text",
      createdTime: Math.floor(Date.now() / 1000),
      memo: "",
      body: utf8.encode("posted to A, read from B"),
    });
    const got = await first;
    clearTimeout(timer);
    stop.abort();
    await watch.return(undefined);
    assert.equal(got.done, false, "the message did not reach B within 30 s");
    assert.equal(got.value!.id, sent.id);
    assert.equal(got.value!.server, b.url.replace(/\/$/, ""));
    assert.equal(new TextDecoder().decode(got.value!.payload.body), "posted to A, read from B");
  } finally {
    await b.stop();
    await a.stop();
  }
});
