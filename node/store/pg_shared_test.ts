import assert from "node:assert/strict";
import pg from "pg";
import { openStore, type Store } from "./store.ts";
import { jobKey, markSql, SESSION_NAME } from "./pg_shared.ts";
import { freshDatabase } from "./testing.ts";
import { fromHex } from "../../client/mod.ts";

const PG_URL = Deno.env.get("SUBSPACE_TEST_PG_URL");

function message(tagHex: string, n: number) {
  const payload = new TextEncoder().encode(`m${n}`);
  const id = crypto.getRandomValues(new Uint8Array(32));
  return {
    id,
    tag: fromHex(tagHex.padEnd(40, "0")),
    payload,
    size: payload.length,
    receivedAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
    origin: null,
  };
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test({
  name: "PostgreSQL watermark: a slow transaction holds readers below its rows in every process",
  ignore: PG_URL === undefined,
  async fn() {
    const db = await freshDatabase();
    const a = await openStore({ url: db.url, dataDir: "/nonexistent" });
    const b = await openStore({ url: db.url, dataDir: "/nonexistent" });
    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    const heard: string[] = [];
    b.shared!.onVisible((tags) => {
      if (tags !== "all") { for (const t of tags) heard.push(String(t[0])); }
    });
    try {
      await a.insertBatch([message("01", 1)]);
      await until("b sees the first row", () => b.shared!.watermark >= 1);
      // A slow writer: publishes its mark, draws a number, and keeps its transaction open.
      const sequence = (await slow.query("SELECT pg_get_serial_sequence('messages','seq') AS s"))
        .rows[0].s;
      await slow.query("BEGIN");
      await slow.query(markSql(sequence));
      const m = message("02", 2);
      const slowSeq = Number(
        (await slow.query(
          "INSERT INTO messages (id, tag, payload, size, received_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING seq",
          [m.id, m.tag, m.payload, m.size, m.receivedAt, m.expiresAt],
        )).rows[0].seq,
      );
      // Fast writers in both processes commit later numbers.
      const [fastA] = await a.insertBatch([message("03", 3)]);
      const [fastB] = await b.insertBatch([message("04", 4)]);
      assert.ok(fastA!.message.seq > slowSeq && fastB!.message.seq > slowSeq);
      await a.shared!.refresh();
      await b.shared!.refresh();
      for (const s of [a, b] as Store[]) {
        assert.equal(s.shared!.watermark, slowSeq - 1, "the watermark stops below the slow row");
        const rows = await s.query({
          lo: new Uint8Array(20),
          hi: new Uint8Array(20).fill(255),
          all: true,
          afterSeq: 0,
          maxSeq: s.shared!.watermark,
          limit: 100,
          now: Date.now(),
        });
        assert.deepEqual(rows.map((r) => r.seq), [1]);
      }
      await slow.query("COMMIT");
      // The slow commit sends no notification here (a raw client); the fallback poll finds it.
      await until(
        "b's watermark passes every row",
        () => b.shared!.watermark >= fastB!.message.seq,
      );
      await until("b's hub hears the three rows", () => heard.length >= 4);
      assert.deepEqual(heard, ["1", "2", "3", "4"]);
    } finally {
      await slow.end();
      await a.close();
      await b.close();
      await db.drop();
    }
  },
});

Deno.test({
  name: "PostgreSQL job locks: one process leads a job; another takes over when it closes",
  ignore: PG_URL === undefined,
  async fn() {
    const db = await freshDatabase();
    const a = await openStore({ url: db.url, dataDir: "/nonexistent" });
    const b = await openStore({ url: db.url, dataDir: "/nonexistent" });
    try {
      assert.equal(await a.leads("sweeper"), true);
      assert.equal(await a.leads("sweeper"), true);
      assert.equal(await b.leads("sweeper"), false);
      assert.equal(await b.leads("rotation"), true);
      assert.equal(await a.leads("rotation"), false);
      await a.close();
      assert.equal(await b.leads("sweeper"), true);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  },
});

Deno.test("jobKey is a stable 31-bit hash", () => {
  assert.equal(jobKey("sweeper"), jobKey("sweeper"));
  assert.notEqual(jobKey("sweeper"), jobKey("rotation"));
  for (const n of ["", "a", "sweeper", "x".repeat(100)]) {
    assert.ok(jobKey(n) >= 0 && jobKey(n) < 2 ** 31);
  }
});

Deno.test({
  name:
    "PostgreSQL session lost: the watermark keeps rising by polling, the session and jobs come back",
  ignore: PG_URL === undefined,
  async fn() {
    const db = await freshDatabase();
    const a = await openStore({ url: db.url, dataDir: "/nonexistent" });
    const b = await openStore({ url: db.url, dataDir: "/nonexistent" });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const heard: number[] = [];
    b.shared!.onVisible((tags) => {
      if (tags !== "all") heard.push(tags.length);
    });
    try {
      assert.equal(await b.leads("sweeper"), true);
      assert.equal(b.shared!.listening, true);
      // Both sessions are killed; b's is the one that matters (a's notifications go nowhere).
      const killed = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
        [SESSION_NAME],
      );
      assert.equal(killed.rowCount, 2);
      await until("b notices", () => !b.shared!.listening);
      assert.deepEqual(b.shared!.jobs, [], "a lost session holds no jobs");
      const [m] = await a.insertBatch([message("05", 5)]);
      await until("b's watermark rises", () => b.shared!.watermark >= m!.message.seq);
      await until("b hears the row", () => heard.reduce((x, y) => x + y, 0) >= 1);
      await until("b reconnects", () => b.shared!.listening);
      assert.equal(await b.leads("sweeper"), true);
      // Notifications work again.
      const [m2] = await a.insertBatch([message("06", 6)]);
      await until("b sees the next row", () => b.shared!.watermark >= m2!.message.seq);
      assert.ok(b.shared!.stats.reconnects >= 1);
    } finally {
      await admin.end();
      await a.close();
      await b.close();
      await db.drop();
    }
  },
});

Deno.test({
  name: "PostgreSQL alone on a database: no notifications until another process joins",
  ignore: PG_URL === undefined,
  async fn() {
    const db = await freshDatabase();
    const a = await openStore({ url: db.url, dataDir: "/nonexistent" });
    let b: Store | undefined;
    try {
      assert.equal(a.shared!.alone, true);
      await a.insertBatch([message("07", 7)]);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(a.shared!.stats.notificationsSent, 0);
      b = await openStore({ url: db.url, dataDir: "/nonexistent" });
      assert.equal(b.shared!.alone, false);
      await until("a hears b join", () => !a.shared!.alone);
      const [m] = await a.insertBatch([message("08", 8)]);
      await until("b hears a's commit", () => b!.shared!.stats.notificationsHeard > 0);
      await until("b's watermark", () => b!.shared!.watermark >= m!.message.seq);
    } finally {
      await a.close();
      await b?.close();
      await db.drop();
    }
  },
});
