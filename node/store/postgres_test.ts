import assert from "node:assert/strict";
import { openStore } from "./store.ts";
import { storeConformance } from "./conformance.ts";
import { freshDatabase } from "./testing.ts";
import { postJson, randomPayload, randomTag, testNode } from "../testing.ts";

const PG_URL = Deno.env.get("SUBSPACE_TEST_PG_URL");

Deno.test({
  name: "PostgreSQL store conformance",
  ignore: PG_URL === undefined,
  async fn(t) {
    await storeConformance(t, async () => {
      const db = await freshDatabase();
      const store = await openStore({ url: db.url, dataDir: "/nonexistent" });
      return {
        store,
        async dispose() {
          await store.close();
          await db.drop();
        },
      };
    });
  },
});

Deno.test({
  name: "a node on PostgreSQL stores and serves messages",
  ignore: PG_URL === undefined,
  async fn() {
    const db = await freshDatabase();
    const node = await testNode({ args: ["--store", db.url] });
    try {
      assert.equal(node.core.store.dialect, "postgres");
      const tag = randomTag("cafe");
      const payload = randomPayload(64);
      const poll = node.fetch(new Request("http://n/v1/messages?prefix=cafe&bits=16&wait=10"));
      const res = await node.fetch(postJson("http://n", "/v1/messages", { tag, payload }));
      assert.equal(res.status, 201);
      const got = await (await poll).json();
      assert.equal(got.messages[0].payload, payload);
    } finally {
      await node.close();
      await db.drop();
    }
  },
});
