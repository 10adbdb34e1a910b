import assert from "node:assert/strict";
import pg from "pg";
import { openStore } from "./store.ts";
import { storeConformance } from "./conformance.ts";
import { postJson, randomPayload, randomTag, testNode } from "../testing.ts";

/** Set by `.ci/run` (a PostgreSQL server on 127.0.0.1); without it these tests are skipped. */
const PG_URL = Deno.env.get("SUBSPACE_TEST_PG_URL");

/** Creates a fresh database on the test server and returns its URL and a dropper. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = "subspace_test_" + crypto.randomUUID().replaceAll("-", "");
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL!);
  url.pathname = "/" + name;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

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
