/**
 * Tables of the token issuer and the fee market (issue 5), for SQLite and PostgreSQL:
 *
 * - `quota_accounts`: accounts by the SHA-256 of their number (a leaked database does not hand
 *   out usable account numbers), free quota used in the current period, bought credit.
 * - `quota_spent`: spent token nonces, `UNIQUE` (the primary key), kept until their issuer key
 *   expires. One insert decides a redemption, so a token is accepted exactly once.
 * - `quota_invoices`: invoices with the derived address (unique) and payment state.
 * - `quota_settings`: operator prices, payment settings and counters (`name` → JSON value).
 *
 * Migration 0002 adds `quota_invoices.xpub` (the key an invoice address derives from) and makes
 * address indices unique per key instead of overall, so an operator who changes the xpub
 * starts the new key at index 0 (wallets scan a gap of about 20 unused addresses).
 *
 * @module
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

/** Which SQL engine a migration runs on. */
type Dialect = "sqlite" | "postgres";

/** The quota migration for `dialect`. */
export function quotaMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const blob = sql.raw(dialect === "postgres" ? "bytea" : "blob");
      await db.schema.createTable("quota_accounts")
        .addColumn("account_hash", blob, (c) => c.primaryKey())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("credit", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("period_start", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("period_used", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("issued_total", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("origin", "text", (c) => c.notNull().defaultTo("signup"))
        .execute();
      await db.schema.createTable("quota_spent")
        .addColumn("nonce", blob, (c) => c.primaryKey())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("quota_spent_expires_at").on("quota_spent")
        .column("expires_at").execute();
      await db.schema.createTable("quota_invoices")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_hash", blob, (c) => c.notNull())
        .addColumn("address", "text", (c) => c.notNull().unique())
        .addColumn("address_index", "bigint", (c) => c.notNull().unique())
        .addColumn("amount_sats", "bigint", (c) => c.notNull())
        .addColumn("tokens", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("received_sats", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("paid_at", "bigint")
        .execute();
      await db.schema.createIndex("quota_invoices_status").on("quota_invoices")
        .columns(["status", "expires_at"]).execute();
      await db.schema.createTable("quota_settings")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .execute();
    },
  };
}

/**
 * Invoice address indices per xpub: adds `quota_invoices.xpub` ("" for invoices made before;
 * the plugin assigns them to the key in force at the first start) and replaces the unique
 * index on `address_index` by one on `(xpub, address_index)`. SQLite cannot drop a column's
 * UNIQUE constraint, so there the table is rebuilt.
 */
export function invoiceXpubMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (dialect === "postgres") {
        await sql`ALTER TABLE quota_invoices ADD COLUMN xpub text NOT NULL DEFAULT ''`.execute(db);
        await sql`ALTER TABLE quota_invoices DROP CONSTRAINT IF EXISTS quota_invoices_address_index_key`
          .execute(db);
        await sql`ALTER TABLE quota_invoices ADD CONSTRAINT quota_invoices_xpub_index UNIQUE (xpub, address_index)`
          .execute(db);
        return;
      }
      await db.schema.createTable("quota_invoices_v2")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_hash", "blob", (c) => c.notNull())
        .addColumn("address", "text", (c) => c.notNull().unique())
        .addColumn("xpub", "text", (c) => c.notNull().defaultTo(""))
        .addColumn("address_index", "bigint", (c) => c.notNull())
        .addColumn("amount_sats", "bigint", (c) => c.notNull())
        .addColumn("tokens", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("received_sats", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("paid_at", "bigint")
        .addUniqueConstraint("quota_invoices_xpub_index", ["xpub", "address_index"])
        .execute();
      await sql`INSERT INTO quota_invoices_v2 (id, account_hash, address, xpub, address_index,
          amount_sats, tokens, created_at, expires_at, status, received_sats, paid_at)
        SELECT id, account_hash, address, '', address_index, amount_sats, tokens, created_at,
          expires_at, status, received_sats, paid_at FROM quota_invoices`.execute(db);
      await db.schema.dropTable("quota_invoices").execute();
      await db.schema.alterTable("quota_invoices_v2").renameTo("quota_invoices").execute();
      await db.schema.createIndex("quota_invoices_status").on("quota_invoices")
        .columns(["status", "expires_at"]).execute();
    },
  };
}
