import assert from "node:assert/strict";
import pg from "pg";
import { openStore, type Store } from "../store/mod.ts";
import { ConsoleState } from "./state.ts";

/** Set by `.ci/run` (a PostgreSQL server on 127.0.0.1); without it the PostgreSQL run is skipped. */
const PG_URL = Deno.env.get("SUBSPACE_TEST_PG_URL");

async function sqliteStore(): Promise<{ store: Store; dispose(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "subspace-console-state-" });
  const store = await openStore({ dataDir: dir });
  return {
    store,
    async dispose() {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function postgresStore(): Promise<{ store: Store; dispose(): Promise<void> }> {
  const name = "subspace_console_" + crypto.randomUUID().replaceAll("-", "");
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL!);
  url.pathname = "/" + name;
  const store = await openStore({ url: url.toString(), dataDir: "/nonexistent" });
  return {
    store,
    async dispose() {
      await store.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

for (
  const [dialect, open, ignore] of [
    ["SQLite", sqliteStore, false],
    ["PostgreSQL", postgresStore, PG_URL === undefined],
  ] as const
) {
  Deno.test({
    name: `ConsoleState on ${dialect}: password, sessions, settings, samples`,
    ignore,
    async fn() {
      const { store, dispose } = await open();
      try {
        const s = new ConsoleState(store);
        assert.equal(await s.getPassword(), undefined);
        await s.setPassword("scrypt$hash-one", true, 1000);
        assert.deepEqual(await s.getPassword(), {
          hash: "scrypt$hash-one",
          oneTime: true,
          updatedAt: 1000,
        });
        // A one-time password is consumed once, and only if it is still the stored one.
        assert.equal(await s.consumeOneTimePassword("scrypt$other"), false);
        assert.equal(await s.consumeOneTimePassword("scrypt$hash-one"), true);
        assert.equal(await s.consumeOneTimePassword("scrypt$hash-one"), false);
        assert.equal(await s.getPassword(), undefined);

        const session = {
          id: "a".repeat(64),
          csrf: "csrf-token",
          mustChangePassword: true,
          createdAt: 5000,
          expiresAt: 9000,
        };
        await s.createSession(session);
        await s.createSession({ ...session, id: "b".repeat(64), mustChangePassword: false });
        assert.deepEqual(await s.getSession(session.id, 8999), session);
        assert.equal(await s.getSession(session.id, 9000), undefined, "expired");
        await s.deleteSession("b".repeat(64));
        assert.equal(await s.getSession("b".repeat(64), 6000), undefined);
        // Setting an operator password ends every session.
        await s.setPassword("scrypt$operator", false, 2000);
        assert.equal(await s.getSession(session.id, 6000), undefined);
        assert.equal((await s.getPassword())?.oneTime, false);
        await s.createSession(session);
        await s.sweepSessions(10_000);
        assert.equal(await s.deleteAllSessions(), 0);

        assert.equal(await s.getSetting("x"), undefined);
        await s.setSetting("x", { "2024-01-01": { issued: 3 } }, 1);
        await s.setSetting("x", { "2024-01-01": { issued: 4 } }, 2);
        assert.deepEqual(await s.getSetting("x"), { "2024-01-01": { issued: 4 } });

        for (let i = 0; i < 5; i++) {
          await s.addSample({
            at: 60_000 * i,
            ingestPerSecond: i + 0.5,
            deliveryPerSecond: i / 4,
            usedBytes: 2 ** 40 + i,
            storedMessages: i * 10,
          });
        }
        await s.addSample({
          at: 0,
          ingestPerSecond: 9.25,
          deliveryPerSecond: 0,
          usedBytes: 1,
          storedMessages: 1,
        });
        const all = await s.samplesSince(0);
        assert.equal(all.length, 5);
        assert.equal(all[0]!.ingestPerSecond, 9.25, "a repeated timestamp replaces the sample");
        assert.equal(all[4]!.usedBytes, 2 ** 40 + 4, "bigint round trip");
        assert.equal(all[3]!.deliveryPerSecond, 0.75, "real round trip");
        await s.pruneSamples(120_000);
        assert.deepEqual((await s.samplesSince(0)).map((x) => x.at), [120_000, 180_000, 240_000]);
      } finally {
        await dispose();
      }
    },
  });
}
