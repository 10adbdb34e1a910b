import assert from "node:assert/strict";
import pg from "pg";
import { openStore, type Store } from "../store/mod.ts";
import { DatabaseSync } from "node:sqlite";
import { openConsoleState } from "./state.ts";

/** Set by `.ci/run` (a PostgreSQL server on 127.0.0.1); without it the PostgreSQL run is skipped. */
const PG_URL = Deno.env.get("SUBSPACE_TEST_PG_URL");

type Opened = {
  store: Store;
  dataDir: string;
  /** Runs SQL on the node's own database, beside the store (not through it). */
  query(text: string): Promise<Record<string, unknown>[]>;
  dispose(): Promise<void>;
};

async function sqliteStore(): Promise<Opened> {
  const dir = await Deno.makeTempDir({ prefix: "subspace-console-state-" });
  const store = await openStore({ dataDir: dir });
  return {
    store,
    dataDir: dir,
    query(text) {
      const db = new DatabaseSync(`${dir}/subspace.db`);
      try {
        return Promise.resolve(db.prepare(text).all() as Record<string, unknown>[]);
      } finally {
        db.close();
      }
    },
    async dispose() {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function postgresStore(): Promise<Opened> {
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
    dataDir: "/nonexistent",
    async query(text) {
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      try {
        return (await c.query(text)).rows;
      } finally {
        await c.end();
      }
    },
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
      const { store, dataDir, dispose } = await open();
      const opened = await openConsoleState(store, dataDir);
      try {
        const s = opened.state;
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
        await opened.close();
        await dispose();
      }
    },
  });

  Deno.test({
    name: `console database on ${dialect}: apart from the core's tables, reopened as it was`,
    ignore,
    async fn() {
      const { store, dataDir, query, dispose } = await open();
      try {
        const tables = async () =>
          (await query(
            dialect === "SQLite"
              ? "SELECT name FROM sqlite_master WHERE type = 'table'"
              : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'",
          )).map((r) => String(r.name));
        assert.ok((await tables()).includes("messages"));
        assert.ok(!(await tables()).some((t) => t.startsWith("console_")), "the core has none");
        const first = await openConsoleState(store, dataDir);
        await first.state.setPassword("scrypt$kept", false, 7);
        await first.close();
        const again = await openConsoleState(store, dataDir);
        assert.equal((await again.state.getPassword())?.hash, "scrypt$kept");
        await again.close();
        if (dialect === "SQLite") {
          assert.ok(!(await tables()).some((t) => t.startsWith("console_")));
          await Deno.stat(`${dataDir}/console.db`);
        }
      } finally {
        await dispose();
      }
    },
  });
}

Deno.test({
  name: "console database on PostgreSQL: tables an older node created in the core stay in use",
  ignore: PG_URL === undefined,
  async fn() {
    const { store, dataDir, query, dispose } = await postgresStore();
    try {
      // What the core's former console migration left behind, with a password set.
      await query(`CREATE TABLE console_settings (name text PRIMARY KEY, value text NOT NULL,
        updated_at bigint NOT NULL)`);
      await query(`CREATE TABLE console_sessions (id text PRIMARY KEY, csrf text NOT NULL,
        must_change_password integer NOT NULL, created_at bigint NOT NULL,
        expires_at bigint NOT NULL)`);
      await query(`INSERT INTO console_settings VALUES ('operator_password',
        '{"hash":"scrypt$old","oneTime":false}', 5)`);
      const opened = await openConsoleState(store, dataDir);
      try {
        assert.deepEqual(await opened.state.getPassword(), {
          hash: "scrypt$old",
          oneTime: false,
          updatedAt: 5,
        });
        await opened.state.addSample({
          at: 1,
          ingestPerSecond: 0,
          deliveryPerSecond: 0,
          usedBytes: 0,
          storedMessages: 0,
        });
      } finally {
        await opened.close();
      }
    } finally {
      await dispose();
    }
  },
});
