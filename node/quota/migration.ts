/**
 * Tables of the token issuer, for SQLite and PostgreSQL:
 *
 * - `quota_accounts`: accounts by the SHA-256 of their number (a leaked database does not hand
 *   out usable account numbers), free quota used in the current period, bought credit.
 * - `quota_spent`: spent token nonces of earlier releases. They now live in the message store's
 *   `spent_nonces` (so a POST's spend rides in its message's commit); the feature moves any rows
 *   found here there at start.
 * - `quota_settings`: the operator's free quota and the per-day token tally (`name` → JSON).
 * - `quota_credits` (0003): every credit given by reference (e.g. `invoice:<id>`), so a payment
 *   credits its account once even when the payer retries after a crash.
 * - `quota_captchas` (0004): outstanding captchas, used only on PostgreSQL (processes share them).
 *
 * Migrations 0001 and 0002 also made `quota_invoices` (invoices, with the key each address
 * derives from since 0002). Invoices now belong to the fees feature, which copies
 * the rows into its own database once; the table is left in place, never written again, so an
 * upgrade cannot lose an invoice. The migration names stay as they were, so databases made by
 * earlier releases migrate on.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";
import type { Dialect, DialectMigration } from "../store/mod.ts";

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
 * the key in force at the first start adopts them) and replaces the unique
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

/** Credits given by reference (`quota_credits`), so a reference credits its account once. */
export function creditRefsMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const blob = sql.raw(dialect === "postgres" ? "bytea" : "blob");
      await db.schema.createTable("quota_credits")
        .addColumn("reference", "text", (c) => c.primaryKey())
        .addColumn("account_hash", blob, (c) => c.notNull())
        .addColumn("tokens", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
    },
  };
}

/**
 * Outstanding captchas (`quota_captchas`), for several processes on one PostgreSQL database:
 * a captcha drawn by one is answered at another. A SQLite node keeps them in memory.
 */
export function captchasMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable("quota_captchas")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("answer_hash", "text", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("address", "text")
        .execute();
      await db.schema.createIndex("quota_captchas_expires_at").on("quota_captchas")
        .column("expires_at").execute();
      await db.schema.createIndex("quota_captchas_address").on("quota_captchas")
        .columns(["address", "expires_at"]).execute();
    },
  };
}

/** The quota database's migrations, by name (for `core.openDatabase("quota", ...)`). */
export const QUOTA_MIGRATIONS: Readonly<Record<string, DialectMigration>> = {
  "0001_quota": quotaMigration,
  "0002_invoice_xpub": invoiceXpubMigration,
  "0003_credit_refs": creditRefsMigration,
  "0004_captchas": captchasMigration,
};
