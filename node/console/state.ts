/**
 * What the console keeps in its own database (SQLite `<data>/console.db`, or its tables in the
 * node's PostgreSQL database): the operator password hash, login sessions (only a SHA-256 of
 * each session token is stored) and chart samples. The tables come from
 * {@linkcode CONSOLE_MIGRATIONS}.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";
import type { DialectMigration, Store } from "../store/mod.ts";
import { toHex } from "../../client/mod.ts";

type SettingsTable = {
  name: string;
  value: string;
  updated_at: number;
};
type SessionsTable = {
  id: string;
  csrf: string;
  must_change_password: number;
  created_at: number;
  expires_at: number;
};
type SamplesTable = {
  at: number;
  ingest_per_second: number;
  delivery_per_second: number;
  used_bytes: number;
  stored_messages: number;
};
/** The console's tables. */
export type ConsoleTables = {
  console_settings: SettingsTable;
  console_sessions: SessionsTable;
  console_samples: SamplesTable;
};

/** The operator password as stored. */
export interface StoredPassword {
  /** `scrypt$...` hash (see `password.ts`). */
  hash: string;
  /** True for a generated password that is good for one login only. */
  oneTime: boolean;
  /** Unix ms when it was set. */
  updatedAt: number;
}

/** A login session. `id` is the hex SHA-256 of the cookie value. */
export interface SessionRecord {
  id: string;
  /** The session's CSRF token (compared with every form's `_csrf` field). */
  csrf: string;
  /** Logged in with the one-time password: only the password form is allowed. */
  mustChangePassword: boolean;
  createdAt: number;
  expiresAt: number;
}

/** One chart sample. */
export interface Sample {
  /** Unix ms. */
  at: number;
  ingestPerSecond: number;
  deliveryPerSecond: number;
  usedBytes: number;
  storedMessages: number;
}

const PASSWORD_KEY = "operator_password";

/** Hex SHA-256 of a session token (the database never sees the token itself). */
export async function sessionId(token: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return toHex(new Uint8Array(d));
}

/**
 * The console's tables. `ifNotExists`: on PostgreSQL, nodes from before the console had its
 * own migrations have these tables already (created by the core), and keep using them.
 */
const consoleTables: DialectMigration = (dialect) => ({
  async up(db: Kysely<unknown>) {
    const real = dialect === "postgres" ? "double precision" : "real";
    await db.schema.createTable("console_settings").ifNotExists()
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("value", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createTable("console_sessions").ifNotExists()
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("csrf", "text", (c) => c.notNull())
      .addColumn("must_change_password", "integer", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createTable("console_samples").ifNotExists()
      .addColumn("at", "bigint", (c) => c.primaryKey())
      .addColumn("ingest_per_second", sql.raw(real), (c) => c.notNull())
      .addColumn("delivery_per_second", sql.raw(real), (c) => c.notNull())
      .addColumn("used_bytes", "bigint", (c) => c.notNull())
      .addColumn("stored_messages", "bigint", (c) => c.notNull())
      .execute();
  },
});

/** The console database's migrations, by name (applied in name order). */
export const CONSOLE_MIGRATIONS: Record<string, DialectMigration> = {
  "0001_console": consoleTables,
};

/**
 * Opens the console's database next to a store without a running node (the `admin` command).
 *
 * @example
 * ```ts ignore
 * const { state, close } = await openConsoleState(store, "./data");
 * await state.deleteAllSessions();
 * await close();
 * ```
 */
export async function openConsoleState(
  store: Pick<Store, "openFeatureDatabase">,
  dataDir: string,
): Promise<{ state: ConsoleState; close(): Promise<void> }> {
  const handle = await store.openFeatureDatabase({
    dataDir,
    name: "console",
    migrations: CONSOLE_MIGRATIONS,
  });
  return { state: new ConsoleState(handle.db), close: () => handle.close() };
}

/** Console state over the console's database. */
export class ConsoleState {
  readonly #db: Kysely<ConsoleTables>;
  /** `db` is the console's database, migrated with {@linkcode CONSOLE_MIGRATIONS}. */
  constructor(db: Kysely<ConsoleTables>) {
    this.#db = db;
  }

  /** The stored operator password, if any. */
  async getPassword(): Promise<StoredPassword | undefined> {
    const row = await this.#db.selectFrom("console_settings").selectAll()
      .where("name", "=", PASSWORD_KEY).executeTakeFirst();
    if (row === undefined) return undefined;
    const v = JSON.parse(row.value) as { hash: string; oneTime: boolean };
    return { hash: v.hash, oneTime: v.oneTime, updatedAt: Number(row.updated_at) };
  }

  /**
   * Stores a password hash. Setting an operator (not one-time) password also ends every session,
   * so a changed password locks out whoever knew the old one.
   */
  async setPassword(hash: string, oneTime: boolean, now: number): Promise<void> {
    const value = JSON.stringify({ hash, oneTime });
    await this.#db.transaction().execute(async (trx) => {
      await trx.insertInto("console_settings")
        .values({ name: PASSWORD_KEY, value, updated_at: now })
        .onConflict((oc) => oc.column("name").doUpdateSet({ value, updated_at: now }))
        .execute();
      await trx.deleteFrom("console_sessions").execute();
    });
  }

  /**
   * Replaces a one-time password by nothing once it has been used, but only if it is still
   * the stored one (two racing logins cannot both use it). True when this call consumed it.
   */
  async consumeOneTimePassword(hash: string): Promise<boolean> {
    const value = JSON.stringify({ hash, oneTime: true });
    const r = await this.#db.deleteFrom("console_settings")
      .where("name", "=", PASSWORD_KEY).where("value", "=", value).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  /** A JSON setting of the console (e.g. daily token tallies). */
  async getSetting<T>(name: string): Promise<T | undefined> {
    const row = await this.#db.selectFrom("console_settings").select("value")
      .where("name", "=", name).executeTakeFirst();
    return row === undefined ? undefined : JSON.parse(row.value) as T;
  }

  /** Stores a JSON setting. */
  async setSetting(name: string, value: unknown, now: number): Promise<void> {
    const text = JSON.stringify(value);
    await this.#db.insertInto("console_settings")
      .values({ name, value: text, updated_at: now })
      .onConflict((oc) => oc.column("name").doUpdateSet({ value: text, updated_at: now }))
      .execute();
  }

  /** Stores a new session. */
  async createSession(s: SessionRecord): Promise<void> {
    await this.#db.insertInto("console_sessions").values({
      id: s.id,
      csrf: s.csrf,
      must_change_password: s.mustChangePassword ? 1 : 0,
      created_at: s.createdAt,
      expires_at: s.expiresAt,
    }).execute();
  }

  /** A live session by id (expired ones are not returned). */
  async getSession(id: string, now: number): Promise<SessionRecord | undefined> {
    const r = await this.#db.selectFrom("console_sessions").selectAll()
      .where("id", "=", id).where("expires_at", ">", now).executeTakeFirst();
    if (r === undefined) return undefined;
    return {
      id: r.id,
      csrf: r.csrf,
      mustChangePassword: Number(r.must_change_password) === 1,
      createdAt: Number(r.created_at),
      expiresAt: Number(r.expires_at),
    };
  }

  /** Ends one session. */
  async deleteSession(id: string): Promise<void> {
    await this.#db.deleteFrom("console_sessions").where("id", "=", id).execute();
  }

  /** Ends every session; returns how many there were. */
  async deleteAllSessions(): Promise<number> {
    const r = await this.#db.deleteFrom("console_sessions").executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Deletes expired sessions. */
  async sweepSessions(now: number): Promise<void> {
    await this.#db.deleteFrom("console_sessions").where("expires_at", "<=", now).execute();
  }

  /** Appends a sample (a repeated timestamp replaces the earlier one). */
  async addSample(s: Sample): Promise<void> {
    const values = {
      at: s.at,
      ingest_per_second: s.ingestPerSecond,
      delivery_per_second: s.deliveryPerSecond,
      used_bytes: s.usedBytes,
      stored_messages: s.storedMessages,
    };
    await this.#db.insertInto("console_samples").values(values)
      .onConflict((oc) => oc.column("at").doUpdateSet(values)).execute();
  }

  /** Samples with `at >= since`, oldest first. */
  async samplesSince(since: number): Promise<Sample[]> {
    const rows = await this.#db.selectFrom("console_samples").selectAll()
      .where("at", ">=", since).orderBy("at").execute();
    return rows.map((r) => ({
      at: Number(r.at),
      ingestPerSecond: Number(r.ingest_per_second),
      deliveryPerSecond: Number(r.delivery_per_second),
      usedBytes: Number(r.used_bytes),
      storedMessages: Number(r.stored_messages),
    }));
  }

  /** Deletes samples older than `before`. */
  async pruneSamples(before: number): Promise<void> {
    await this.#db.deleteFrom("console_samples").where("at", "<", before).execute();
  }
}
