/**
 * The federation's tables.
 *
 * - `0001_dht_notices`: the first format, one JSON text per notice (about 1.7 KB on disk each).
 * - `0002_compact_notices`: notices in binary, clustered by tag so a region is one range scan,
 *   with each origin's contact and each group's signature stored once (`dht_origins`,
 *   `dht_groups`) and every row naming them by a 52-bit hash, so any process computes the same
 *   references without a lookup. Rows of the first format are copied over and the old table is
 *   dropped.
 * - `0003_shared_subscriptions`: subscriptions held here, shared by the processes on PostgreSQL.
 * - `0004_inline_single_signatures`: no change to the tables: from here on a notice signed alone
 *   keeps its signature in its row's `siblings` under an unsigned group of count 1, which a release
 *   before it would read as a proof; the migration's name makes such a release refuse the database.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";
import type { DialectMigration } from "../store/mod.ts";
import { parseNotice } from "./notice.ts";
import { noticeRows } from "./sql_notice_store.ts";

/** Creates `dht_notices` (the first format; replaced by 0002). */
export const dhtNoticesMigration: DialectMigration = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema.createTable("dht_notices")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("origin", "text", (c) => c.notNull())
      .addColumn("received_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("notice", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("dht_notices_received").on("dht_notices")
      .columns(["received_at", "key"]).execute();
    await db.schema.createIndex("dht_notices_id").on("dht_notices").column("id").execute();
    await db.schema.createIndex("dht_notices_expires").on("dht_notices").column("expires_at")
      .execute();
  },
});

/** Creates the compact tables and moves the notices of the first format into them. */
export const compactNoticesMigration: DialectMigration = (dialect) => ({
  async up(db: Kysely<unknown>) {
    const blob = sql.raw(dialect === "postgres" ? "bytea" : "blob");
    // On SQLite "integer primary key" is the rowid itself (no second index for the key).
    const key = dialect === "postgres" ? "bigint" : "integer";
    await db.schema.createTable("dht_origins")
      .addColumn("oid", key, (c) => c.primaryKey())
      .addColumn("node_id", "text", (c) => c.notNull())
      .addColumn("public_key", "text", (c) => c.notNull())
      .addColumn("url", "text", (c) => c.notNull())
      .execute();
    await db.schema.createTable("dht_groups")
      .addColumn("gid", key, (c) => c.primaryKey())
      .addColumn("oid", "bigint", (c) => c.notNull())
      .addColumn("sig", blob, (c) => c.notNull())
      .addColumn("count", "integer", (c) => c.notNull())
      .execute();
    let t = db.schema.createTable("dht_stored")
      .addColumn("tag", blob, (c) => c.notNull())
      .addColumn("id", blob, (c) => c.notNull())
      .addColumn("gid", "bigint", (c) => c.notNull())
      .addColumn("size", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("created_at_ms", "bigint", (c) => c.notNull())
      .addColumn("idx", "integer", (c) => c.notNull())
      .addColumn("siblings", blob)
      .addColumn("received_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("dht_stored_pk", ["tag", "id", "gid"]);
    if (dialect === "sqlite") t = t.modifyEnd(sql`without rowid`);
    await t.execute();
    // Copy the first format over, in pages.
    let after = "";
    for (;;) {
      const rows = await sql<{ key: string; received_at: string | number; notice: string }>`
        SELECT key, received_at, notice FROM dht_notices WHERE key > ${after}
        ORDER BY key LIMIT 1000`.execute(db);
      if (rows.rows.length === 0) break;
      const notices = [];
      for (const r of rows.rows) {
        try {
          notices.push({ notice: parseNotice(JSON.parse(r.notice)), at: Number(r.received_at) });
        } catch {
          // a damaged row is left behind
        }
      }
      const { origins, groups, stored } = noticeRows(notices);
      for (const o of origins) {
        await sql`INSERT INTO dht_origins (oid, node_id, public_key, url)
          VALUES (${o[0]}, ${o[1]}, ${o[2]}, ${o[3]}) ON CONFLICT DO NOTHING`.execute(db);
      }
      for (const g of groups) {
        await sql`INSERT INTO dht_groups (gid, oid, sig, count)
          VALUES (${g[0]}, ${g[1]}, ${g[2]}, ${g[3]}) ON CONFLICT DO NOTHING`.execute(db);
      }
      for (const s of stored) {
        await sql`INSERT INTO dht_stored
          (tag, id, gid, size, expires_at, created_at_ms, idx, siblings, received_at)
          VALUES (${s[0]}, ${s[1]}, ${s[2]}, ${s[3]}, ${s[4]}, ${s[5]}, ${s[6]}, ${s[7]}, ${s[8]})
          ON CONFLICT DO NOTHING`.execute(db);
      }
      after = rows.rows[rows.rows.length - 1]!.key;
    }
    await db.schema.dropTable("dht_notices").execute();
  },
});

/**
 * Subscriptions other servers hold here, shared by the processes of one server on PostgreSQL (a
 * subscription reaches one process; every process must push to it).
 */
export const sharedSubscriptionsMigration: DialectMigration = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema.createTable("dht_subscriptions")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("subscription", "text", (c) => c.notNull())
      .execute();
  },
});

/**
 * Marks the format where a notice signed alone keeps its signature in its own row (see
 * `sql_notice_store.ts`); rows stored before keep their group row and read as before.
 */
export const inlineSingleSignaturesMigration: DialectMigration = () => ({
  async up() {},
});

/** The federation's migrations, by name. */
export const DHT_MIGRATIONS = {
  "0001_dht_notices": dhtNoticesMigration,
  "0002_compact_notices": compactNoticesMigration,
  "0003_shared_subscriptions": sharedSubscriptionsMigration,
  "0004_inline_single_signatures": inlineSingleSignaturesMigration,
};
