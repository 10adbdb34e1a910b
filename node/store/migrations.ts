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

/** Console (issue 6): operator settings such as the password hash, sessions, chart samples. */
const consoleTables: DialectMigration = (dialect) => ({
  async up(db: Kysely<unknown>) {
    const real = dialect === "postgres" ? "double precision" : "real";
    await db.schema.createTable("console_settings")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("value", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createTable("console_sessions")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("csrf", "text", (c) => c.notNull())
      .addColumn("must_change_password", "integer", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createTable("console_samples")
      .addColumn("at", "bigint", (c) => c.primaryKey())
      .addColumn("ingest_per_second", sql.raw(real), (c) => c.notNull())
      .addColumn("delivery_per_second", sql.raw(real), (c) => c.notNull())
      .addColumn("used_bytes", "bigint", (c) => c.notNull())
      .addColumn("stored_messages", "bigint", (c) => c.notNull())
      .execute();
  },
});

/** All migrations, keyed so that name order is application order. */
export const MIGRATIONS: Record<string, DialectMigration> = {
  "0001_messages": messages,
  "0006_console": consoleTables,
};
