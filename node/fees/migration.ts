/**
 * Tables of the fees feature, in its own database (`fees`: SQLite `<data>/fees.db`, or the
 * node's PostgreSQL database):
 *
 * - `fees_invoices`: invoices with the derived address (unique), the key it derives from
 *   (address indices are unique per key), the payment state, and whether the account has been
 *   credited (`credited`; paying and crediting are two steps in two databases, so a paid
 *   invoice not yet credited is credited again at the next poll, once, by its reference).
 * - `fees_settings`: the operator's prices and payment settings (`name` → JSON value).
 *
 * Migration 0002 copies what earlier releases kept in the quota database (`quota_invoices`
 * and the `pricing` and `payment` rows of `quota_settings`; on SQLite in `<data>/quota.db`)
 * into these tables, once. Nothing is deleted there: an operator can always go back.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";
import { DatabaseSync } from "node:sqlite";
import type { Dialect, DialectMigration } from "../store/mod.ts";

/** The fees tables for `dialect`. */
export function feesMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const blob = sql.raw(dialect === "postgres" ? "bytea" : "blob");
      await db.schema.createTable("fees_invoices")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_hash", blob, (c) => c.notNull())
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
        .addColumn("credited", "integer", (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint("fees_invoices_xpub_index", ["xpub", "address_index"])
        .execute();
      await db.schema.createIndex("fees_invoices_status").on("fees_invoices")
        .columns(["status", "expires_at"]).execute();
      await db.schema.createTable("fees_settings")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .execute();
    },
  };
}

type Row = Record<string, unknown>;

const LEGACY_SETTINGS = ["pricing", "payment"];

/** Rows of the quota database of earlier releases, or `undefined` when there is none. */
async function legacyRows(
  dialect: Dialect,
  db: Kysely<unknown>,
  sqliteFile: string | undefined,
): Promise<{ invoices: Row[]; settings: Row[] } | undefined> {
  if (dialect === "postgres") {
    const t = await sql<{ i: string | null; s: string | null }>`SELECT
      to_regclass('quota_invoices')::text AS i, to_regclass('quota_settings')::text AS s`
      .execute(db);
    const found = t.rows[0];
    if (found === undefined || found.i === null) return undefined;
    const invoices = (await sql<Row>`SELECT * FROM quota_invoices`.execute(db)).rows;
    const settings = found.s === null ? [] : (await sql<Row>`SELECT name, value FROM
      quota_settings WHERE name IN ('pricing', 'payment')`.execute(db)).rows;
    return { invoices, settings };
  }
  if (sqliteFile === undefined) return undefined;
  try {
    await Deno.stat(sqliteFile);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  const legacy = new DatabaseSync(sqliteFile);
  try {
    const tables = new Set(
      legacy.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
        .map((r) => String(r.name)),
    );
    if (!tables.has("quota_invoices")) return undefined;
    const invoices = legacy.prepare("SELECT * FROM quota_invoices").all() as Row[];
    const settings = tables.has("quota_settings")
      ? legacy.prepare(
        `SELECT name, value FROM quota_settings WHERE name IN (${
          LEGACY_SETTINGS.map(() => "?").join(", ")
        })`,
      ).all(...LEGACY_SETTINGS) as Row[]
      : [];
    return { invoices, settings };
  } finally {
    legacy.close();
  }
}

/**
 * Copies the invoices and fee settings of earlier releases from the quota database, once.
 * A paid invoice there was credited in the same transaction, so it arrives `credited`.
 */
export function legacyInvoicesMigration(sqliteFile: string | undefined): DialectMigration {
  return (dialect) => ({
    async up(untyped: Kysely<unknown>) {
      const rows = await legacyRows(dialect, untyped, sqliteFile);
      if (rows === undefined) return;
      // deno-lint-ignore no-explicit-any
      const db = untyped as Kysely<any>;
      for (let i = 0; i < rows.invoices.length; i += 200) {
        const chunk = rows.invoices.slice(i, i + 200).map((r) => ({
          id: String(r.id),
          account_hash: new Uint8Array(r.account_hash as Uint8Array),
          address: String(r.address),
          xpub: String(r.xpub ?? ""),
          address_index: Number(r.address_index),
          amount_sats: Number(r.amount_sats),
          tokens: Number(r.tokens),
          created_at: Number(r.created_at),
          expires_at: Number(r.expires_at),
          status: String(r.status),
          received_sats: Number(r.received_sats),
          paid_at: r.paid_at === null || r.paid_at === undefined ? null : Number(r.paid_at),
          credited: r.status === "paid" ? 1 : 0,
        }));
        await db.insertInto("fees_invoices").values(chunk)
          .onConflict((oc) => oc.column("id").doNothing()).execute();
      }
      for (const r of rows.settings) {
        await db.insertInto("fees_settings").values({
          name: String(r.name),
          value: String(r.value),
        })
          .onConflict((oc) => oc.column("name").doNothing()).execute();
      }
    },
  });
}

/**
 * The fees database's migrations, by name (for `core.openDatabase("fees", ...)`).
 * `legacyQuotaFile` is the quota database of earlier releases on SQLite (`<data>/quota.db`).
 */
export function feesMigrations(
  legacyQuotaFile: string | undefined,
): Record<string, DialectMigration> {
  return {
    "0001_fees": feesMigration,
    "0002_quota_invoices": legacyInvoicesMigration(legacyQuotaFile),
  };
}
