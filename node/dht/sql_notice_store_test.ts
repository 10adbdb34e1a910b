import assert from "node:assert/strict";
import pg from "pg";
import { DatabaseSync } from "node:sqlite";
import { systemClock } from "./clock.ts";
import { generateIdentity, secp256k1Scheme } from "./identity.ts";
import { DHT_MIGRATIONS, dhtNoticesMigration } from "./migration.ts";
import { type Notice, noticeKey, noticeToJson, signNotices, verifyNotice } from "./notice.ts";
import { regionKey } from "./region.ts";
import { SqlNoticeStore } from "./sql_notice_store.ts";
import { openStore } from "../store/mod.ts";
import { toHex } from "../../client/mod.ts";

const PG_URL = Deno.env.get("SUBSPACE_TEST_PG_URL");

function group(n: number, prefix: string, url = "https://a.example"): Notice[] {
  const me = generateIdentity(secp256k1Scheme);
  const nowS = Math.floor(Date.now() / 1000);
  return signNotices(
    me,
    url,
    Array.from({ length: n }, (_, i) => ({
      id: toHex(crypto.getRandomValues(new Uint8Array(32))),
      tag: prefix + toHex(crypto.getRandomValues(new Uint8Array(20))).slice(prefix.length),
      size: 100 + i,
      expiresAt: nowS + (i === 0 ? -10 : 3600),
      createdAtMs: Date.now(),
    })),
  );
}

/** `n` notices of one origin, each signed alone (a group of one: the common case at low load). */
function singles(n: number, prefix: string): Notice[] {
  const me = generateIdentity(secp256k1Scheme);
  const nowS = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, (_, i) =>
    signNotices(me, "https://single.example", [{
      id: toHex(crypto.getRandomValues(new Uint8Array(32))),
      tag: prefix + toHex(crypto.getRandomValues(new Uint8Array(20))).slice(prefix.length),
      size: 200 + i,
      expiresAt: nowS + 3600,
      createdAtMs: Date.now(),
    }])[0]!);
}

/** The message store in `dir` and the federation's database beside it, migrated. */
async function openDht(dir: string) {
  const store = await openStore({ dataDir: dir });
  const fdb = await store.openFeatureDatabase({
    dataDir: dir,
    name: "dht",
    migrations: DHT_MIGRATIONS,
    writerThread: true,
  });
  return { store, fdb };
}

/** `extra`: unexpired and expired notices the store already holds. */
async function exercise(notices: SqlNoticeStore, extra = { live: 0, expired: 0 }) {
  const a = group(9, "ab");
  const b = group(5, "cd");
  const c = singles(3, "ab");
  for (const n of [...a, ...b, ...c]) assert.equal(notices.add(n, Date.now()), "added");
  assert.equal(notices.add(a[1]!, Date.now()), "duplicate");
  await notices.flush();
  // A region in pages of 3: every unexpired notice once, verifiable as read back.
  const seen: Notice[] = [];
  let after: string | null = null;
  for (;;) {
    const p = await notices.region(regionKey("ab", 8), 8, after, 3, Date.now());
    seen.push(...p.notices);
    if (p.next === null) break;
    after = p.next;
  }
  assert.deepEqual(
    seen.map(noticeKey).sort(),
    [...a.slice(1), ...c].map(noticeKey).sort(),
    "the expired notice is not served",
  );
  for (const n of seen) {
    assert.ok(verifyNotice(n, secp256k1Scheme), "a stored notice verifies as read back");
    assert.deepEqual(noticeToJson(n), noticeToJson([...a, ...c].find((x) => x.id === n.id)!));
  }
  assert.equal(
    (await notices.region(regionKey("c", 4), 4, null, 100, Date.now())).notices.length,
    4,
  );
  assert.equal((await notices.byMessage(a[2]!.id, a[2]!.tag)).length, 1);
  assert.ok(await notices.has(noticeKey(a[3]!), a[3]!.tag));
  assert.ok(!await notices.has(noticeKey(a[3]!), b[1]!.tag));
  const since = await notices.since(0, null, 100, Date.now());
  assert.equal(since.notices.length, 15 + extra.live);
  assert.equal(await notices.sweep(), 2 + extra.expired, "the expired notices are swept");
}

Deno.test("SQLite notice store: region pages, lookups, sweep; rows of the first format move over", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A database at the first format with one notice in it.
    const old = group(2, "ee");
    const store0 = await openStore({ dataDir: dir });
    const f0 = await store0.openFeatureDatabase({
      dataDir: dir,
      name: "dht",
      migrations: { "0001_dht_notices": dhtNoticesMigration },
    });
    await f0.db.insertInto("dht_notices").values(old.map((n) => ({
      key: noticeKey(n),
      id: n.id,
      origin: n.origin.id,
      received_at: Date.now(),
      expires_at: n.expiresAt * 1000,
      notice: JSON.stringify(noticeToJson(n)),
    }))).execute();
    await f0.close();
    await store0.close();

    const { store, fdb } = await openDht(dir);
    const notices = new SqlNoticeStore(fdb.db, { clock: systemClock, writer: fdb.writer! });
    await notices.init();
    const moved = await notices.region(regionKey("ee", 8), 8, null, 10, Date.now());
    assert.deepEqual(moved.notices.map(noticeKey), [noticeKey(old[1]!)]);
    await exercise(notices, { live: 1, expired: 1 });
    await notices.close();
    await fdb.close();
    await store.close();
    const raw = new DatabaseSync(`${dir}/dht.db`);
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
      .map((r) => r.name);
    raw.close();
    assert.ok(!tables.includes("dht_notices"), "the first format's table is dropped");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "PostgreSQL notice store: region pages, lookups, sweep",
  ignore: PG_URL === undefined,
  async fn() {
    const name = "subspace_test_" + crypto.randomUUID().replaceAll("-", "");
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(PG_URL!);
    url.pathname = "/" + name;
    try {
      const store = await openStore({ url: url.toString(), dataDir: "/nonexistent" });
      const fdb = await store.openFeatureDatabase({
        dataDir: "/nonexistent",
        name: "dht",
        migrations: DHT_MIGRATIONS,
      });
      const notices = new SqlNoticeStore(fdb.db, { clock: systemClock });
      await notices.init();
      await exercise(notices);
      await notices.close();
      await fdb.close();
      await store.close();
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  },
});

Deno.test("SQLite notice store: this server's own notices are kept unsigned and signed when read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "subspace-own-notices-" });
  const { store, fdb } = await openDht(dir);
  const me = generateIdentity(secp256k1Scheme);
  let signed = 0;
  const notices = new SqlNoticeStore(fdb.db, {
    clock: systemClock,
    writer: fdb.writer!,
    self: {
      id: me.id,
      sign: (fields) => (signed++, signNotices(me, "https://me.example", fields)),
    },
  });
  try {
    await notices.init();
    const nowS = Math.floor(Date.now() / 1000);
    const fields = Array.from({ length: 6 }, () => ({
      id: toHex(crypto.getRandomValues(new Uint8Array(32))),
      tag: "ab" + toHex(crypto.getRandomValues(new Uint8Array(20))).slice(2),
      size: 100,
      expiresAt: nowS + 3600,
      createdAtMs: Date.now(),
    }));
    const own = signNotices(me, "https://me.example", fields);
    const theirs = group(4, "ab");
    const alone = singles(3, "ab");
    for (const n of [...own, ...theirs, ...alone]) {
      assert.equal(notices.add(n, Date.now()), "added");
    }
    await notices.flush();
    // At rest: no signature, no proof for our own; the others' as they came.
    const db = new DatabaseSync(`${dir}/dht.db`);
    const rows = db.prepare(
      "SELECT o.node_id, length(g.sig) AS sig, g.count, s.siblings FROM dht_stored s " +
        "JOIN dht_groups g ON g.gid = s.gid JOIN dht_origins o ON o.oid = g.oid",
    ).all() as { node_id: string; sig: number; count: number; siblings: Uint8Array | null }[];
    db.close();
    const mine = rows.filter((r) => r.node_id === me.id);
    assert.equal(mine.length, 6);
    assert.ok(mine.every((r) => r.sig === 0 && r.count === 0 && r.siblings === null));
    const grouped = rows.filter((r) => r.node_id === theirs[0]!.origin.id);
    assert.ok(grouped.every((r) => r.sig > 0 && r.count === 4));
    // Signed alone: the signature in the row, one unsigned group for the origin's singles.
    const single = rows.filter((r) => r.node_id === alone[0]!.origin.id);
    assert.equal(single.length, 3);
    assert.ok(single.every((r) => r.sig === 0 && r.count === 1 && r.siblings?.length === 64));
    // Read back: every notice verifies; ours were signed again, in one group per read.
    const page = await notices.region(regionKey("ab", 8), 8, null, 100, Date.now());
    assert.equal(page.notices.length, 12, "6 of ours, 3 unexpired of a group, 3 signed alone");
    assert.ok(page.notices.every((n) => verifyNotice(n, secp256k1Scheme)));
    assert.equal(signed, 1);
    const back = page.notices.filter((n) => n.origin.id === me.id);
    assert.deepEqual(back.map((n) => n.id).sort(), fields.map((f) => f.id).sort());
    assert.equal((await notices.byMessage(fields[0]!.id, fields[0]!.tag)).length, 1);
  } finally {
    await notices.close();
    await fdb.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
