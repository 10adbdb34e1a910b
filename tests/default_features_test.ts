/**
 * `startNode` builds exactly the node its configuration describes: with the default
 * `--quota tokens` and no feature that charges tokens it refuses to start (it never runs open
 * by accident), and with the standard features an unpaid POST is refused.
 */
import assert from "node:assert/strict";
import { standardFeatures } from "../features.ts";
import { createLogger, loadConfig, MissingFeatureError, startNode } from "../node/mod.ts";
import { postJson, randomPayload, randomTag } from "../node/testing.ts";

const quiet = () => createLogger({ component: "node", level: "error", sink: () => {} });

async function withDataDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "subspace-default-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test("the default config without a token feature refuses to start", async () => {
  await withDataDir(async (dir) => {
    const config = loadConfig({ args: ["--data", dir, "--port", "0"], env: {} });
    assert.equal(config.quota, "tokens");
    await assert.rejects(
      startNode(config, { listen: false, log: quiet() }),
      (err) => err instanceof MissingFeatureError && /--quota tokens/.test(err.message),
    );
  });
});

Deno.test("the default config with the standard features refuses an unpaid POST", async () => {
  await withDataDir(async (dir) => {
    const config = loadConfig({ args: ["--data", dir, "--port", "0"], env: {} });
    const node = await startNode(config, {
      listen: false,
      log: quiet(),
      features: standardFeatures(),
    });
    try {
      const res = await node.fetch(
        postJson("http://node", "/v1/messages", { tag: randomTag(), payload: randomPayload(10) }),
      );
      assert.equal(res.status, 401);
      assert.match(res.headers.get("www-authenticate") ?? "", /^PrivateToken /);
      await res.body?.cancel();
      assert.equal(node.core.writer.storedCount, 0);
    } finally {
      await node.close();
    }
  });
});
