/**
 * Every schema migration, by name (applied in name order). Each feature adds its own entry;
 * migrations must work on SQLite and PostgreSQL (use {@linkcode Dialect} to branch).
 *
 * @module
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

/** Which SQL engine a migration runs on. */
export type Dialect = "sqlite" | "postgres";

/** A migration that knows its dialect. */
export type DialectMigration = (dialect: Dialect) => Migration;

const messages: DialectMigration = (dialect) => ({
  async up(db: Kysely<unknown>) {
    const blob = dialect === "postgres" ? "bytea" : "blob";
    await db.schema.createTable("messages")
      .addColumn(
        "seq",
        dialect === "postgres" ? "bigserial" : "integer",
        (c) => dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn("id", sql.raw(blob), (c) => c.notNull().unique())
      .addColumn("tag", sql.raw(blob), (c) => c.notNull())
      .addColumn("payload", sql.raw(blob))
      .addColumn("size", "integer", (c) => c.notNull())
      .addColumn("received_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("origin", "text")
      .execute();
    await db.schema.createIndex("messages_tag_seq").on("messages").columns(["tag", "seq"])
      .execute();
    await db.schema.createIndex("messages_expires_at").on("messages").column("expires_at")
      .execute();
  },
});

/**
 * Formerly the console's tables. The console now has its own database (`CONSOLE_MIGRATIONS` in
 * `node/console/`), but kysely refuses to run when a migration it has applied is gone, so the
 * name stays and `up` does nothing: fresh databases get no console tables here. Older SQLite
 * nodes keep the unused tables in `subspace.db`; see "Upgrading" in `docs/ARCHITECTURE.md`.
 */
const formerConsoleTables: DialectMigration = () => ({
  up: () => Promise.resolve(),
});

/**
 * Values every node process on one PostgreSQL database must agree on (the DHT node key, the
 * saved routing table): `shared_values`, name → text (`pg_shared.ts`). SQLite keeps such values
 * in files of the data folder, so there it does nothing.
 */
const sharedValues: DialectMigration = (dialect) => ({
  async up(db: Kysely<unknown>) {
    if (dialect !== "postgres") return;
    await db.schema.createTable("shared_values")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("value", "text", (c) => c.notNull())
      .execute();
  },
});

/**
 * Spent one-time nonces (a token's, when a message is paid with one): `spent_nonces`, nonce →
 * expiry. They live with the messages so that the insert of a paid message and the spend of its
 * token are one transaction (one fsync). The quota feature's `quota_spent` held them before and
 * is copied here once (`node/quota/quota_feature.ts`).
 */
const spentNonces: DialectMigration = (dialect) => ({
  async up(db: Kysely<unknown>) {
    await db.schema.createTable("spent_nonces")
      .addColumn("nonce", sql.raw(dialect === "postgres" ? "bytea" : "blob"), (c) => c.primaryKey())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("spent_nonces_expires_at").on("spent_nonces")
      .column("expires_at").execute();
  },
});

/** All migrations, keyed so that name order is application order. */
export const MIGRATIONS: Record<string, DialectMigration> = {
  "0001_messages": messages,
  "0006_console": formerConsoleTables,
  "0007_shared_values": sharedValues,
  "0008_spent_nonces": spentNonces,
};
