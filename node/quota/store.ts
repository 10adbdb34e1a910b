/**
 * Persistence of accounts, spent nonces, invoices and settings over the node's kysely handle
 * (SQLite or PostgreSQL). Every state change is one statement or a compare-and-swap, so two
 * nodes sharing one PostgreSQL database (or concurrent requests) cannot double-spend a token or
 * over-draw an account.
 *
 * @module
 */
import { Kysely, sql } from "kysely";
import { type Migration, Migrator } from "kysely/migration";
import { join } from "node:path";
import { openSqlite, SqliteWriteWorker } from "../store/mod.ts";
import { invoiceXpubMigration, quotaMigration } from "./migration.ts";
import { toHex } from "../../client/mod.ts";

/** A quota database handle and how to release it. */
export interface QuotaDatabaseHandle {
  // deno-lint-ignore no-explicit-any
  db: Kysely<any>;
  /** SQLite only: a writer thread for hot inserts (spent nonces), so fsync stays off the event loop. */
  writer?: SqliteWriteWorker;
  close(): Promise<void>;
}

/**
 * Opens (and migrates) the quota tables next to the node's store. On PostgreSQL they live in
 * the node's database (its pool; row locks keep writers apart). On SQLite they live in their own
 * file, `<data>/quota.db`: SQLite has one writer per file, and the message writer thread holds
 * that lock for its group commits, so sharing the file would make every redemption wait for
 * (and block the event loop behind) the message commits.
 */
export async function openQuotaDatabase(
  // deno-lint-ignore no-explicit-any
  store: { dialect: "sqlite" | "postgres"; db: Kysely<any> },
  dataDir: string,
): Promise<QuotaDatabaseHandle> {
  // deno-lint-ignore no-explicit-any
  let db: Kysely<any>;
  let close = () => Promise.resolve();
  let writer: SqliteWriteWorker | undefined;
  if (store.dialect === "postgres") {
    db = store.db;
  } else {
    await Deno.mkdir(dataDir, { recursive: true });
    db = new Kysely({ dialect: openSqlite(join(dataDir, "quota.db")).dialect });
    close = async () => {
      await writer?.close();
      await db.destroy();
    };
  }
  const migrator = new Migrator({
    db,
    provider: {
      getMigrations: () =>
        Promise.resolve(
          {
            "0001_quota": quotaMigration(store.dialect),
            "0002_invoice_xpub": invoiceXpubMigration(store.dialect),
          } as Record<string, Migration>,
        ),
    },
    migrationTableName: "quota_migration",
    migrationLockTableName: "quota_migration_lock",
  });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await close();
    throw new Error(`Cannot migrate the quota tables: ${(error as Error).message}`);
  }
  if (store.dialect === "sqlite") writer = await SqliteWriteWorker.open(join(dataDir, "quota.db"));
  return writer ? { db, writer, close } : { db, close };
}

/** `quota_accounts` row. */
export interface AccountsTable {
  account_hash: Uint8Array;
  created_at: number;
  disabled: number;
  credit: number;
  period_start: number;
  period_used: number;
  issued_total: number;
  origin: string;
}

/** `quota_spent` row. */
export interface SpentTable {
  nonce: Uint8Array;
  expires_at: number;
}

/** `quota_invoices` row. */
export interface InvoicesTable {
  id: string;
  account_hash: Uint8Array;
  address: string;
  /** The key the address derives from ("" for invoices older than migration 0002). */
  xpub: string;
  address_index: number;
  amount_sats: number;
  tokens: number;
  created_at: number;
  expires_at: number;
  status: string;
  received_sats: number;
  paid_at: number | null;
}

/** `quota_settings` row. */
export interface SettingsTable {
  name: string;
  value: string;
}

/** The tables this module keeps. */
export interface QuotaDatabase {
  quota_accounts: AccountsTable;
  quota_spent: SpentTable;
  quota_invoices: InvoicesTable;
  quota_settings: SettingsTable;
}

/** An account's state. Times are Unix ms. */
export interface Account {
  accountHash: Uint8Array;
  createdAt: number;
  disabled: boolean;
  /** Bought or granted tokens not yet issued. */
  credit: number;
  /** Start of the period `periodUsed` counts. */
  periodStart: number;
  /** Free tokens issued in that period. */
  periodUsed: number;
  issuedTotal: number;
  /** `signup` or `admin`. */
  origin: string;
}

/** The free-quota rule applied at issuance. */
export interface QuotaPolicy {
  /** Free tokens per account per period. */
  freeTokens: number;
  /** Period length in ms (periods are aligned to the Unix epoch). */
  periodMs: number;
}

/** How an issuance was paid for. */
export interface Reservation {
  fromFree: number;
  fromCredit: number;
  /** Free tokens left in this period after the reservation. */
  freeLeft: number;
  /** Credit left after the reservation. */
  creditLeft: number;
}

/** Why tokens cannot be issued to an account. */
export class AccountError extends Error {
  /** `unknown`, `disabled` or `insufficient`. */
  readonly code: "unknown" | "disabled" | "insufficient";
  /** Tokens available when `code` is `insufficient`. */
  readonly available: number;
  constructor(code: "unknown" | "disabled" | "insufficient", message: string, available = 0) {
    super(message);
    this.name = "AccountError";
    this.code = code;
    this.available = available;
  }
}

/** Free tokens left for an account at `now`, and when its period ends. */
export function freeLeft(
  a: Pick<Account, "periodStart" | "periodUsed">,
  policy: QuotaPolicy,
  now: number,
): { freeLeft: number; periodStart: number; periodEnd: number } {
  const periodStart = Math.floor(now / policy.periodMs) * policy.periodMs;
  const used = a.periodStart === periodStart ? a.periodUsed : 0;
  return {
    freeLeft: Math.max(0, policy.freeTokens - used),
    periodStart,
    periodEnd: periodStart + policy.periodMs,
  };
}

type Row = Record<string, unknown>;
const num = (v: unknown) => Number(v);

function toAccount(r: Row): Account {
  return {
    accountHash: new Uint8Array(r.account_hash as Uint8Array),
    createdAt: num(r.created_at),
    disabled: num(r.disabled) !== 0,
    credit: num(r.credit),
    periodStart: num(r.period_start),
    periodUsed: num(r.period_used),
    issuedTotal: num(r.issued_total),
    origin: String(r.origin),
  };
}

/** An invoice as stored. Times are Unix ms. */
export interface Invoice {
  id: string;
  accountHash: Uint8Array;
  address: string;
  /** The extended public key the address derives from (indices count per key). */
  xpub: string;
  addressIndex: number;
  amountSats: number;
  tokens: number;
  createdAt: number;
  expiresAt: number;
  /** `pending`, `paid` or `expired`. */
  status: "pending" | "paid" | "expired";
  receivedSats: number;
  paidAt: number | null;
}

function toInvoice(r: Row): Invoice {
  return {
    id: String(r.id),
    accountHash: new Uint8Array(r.account_hash as Uint8Array),
    address: String(r.address),
    xpub: String(r.xpub ?? ""),
    addressIndex: num(r.address_index),
    amountSats: num(r.amount_sats),
    tokens: num(r.tokens),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
    status: r.status as Invoice["status"],
    receivedSats: num(r.received_sats),
    paidAt: r.paid_at === null || r.paid_at === undefined ? null : num(r.paid_at),
  };
}

/**
 * The quota tables. Construct it over the node store's kysely handle.
 *
 * @example
 * ```ts
 * const qs = new QuotaStore(ctx.store.db);
 * await qs.createAccount(hash, Date.now(), "signup");
 * ```
 */
export class QuotaStore {
  readonly db: Kysely<QuotaDatabase>;
  #writer: SqliteWriteWorker | undefined;
  // deno-lint-ignore no-explicit-any
  constructor(db: Kysely<any>, writer?: SqliteWriteWorker) {
    this.db = db as Kysely<QuotaDatabase>;
    this.#writer = writer;
  }

  // ----- accounts

  /** Creates an account; false when the hash already exists. */
  async createAccount(accountHash: Uint8Array, now: number, origin: string): Promise<boolean> {
    const r = await this.db.insertInto("quota_accounts")
      .values({
        account_hash: accountHash,
        created_at: now,
        disabled: 0,
        credit: 0,
        period_start: 0,
        period_used: 0,
        issued_total: 0,
        origin,
      })
      .onConflict((oc) => oc.column("account_hash").doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** One account, or `undefined`. */
  async getAccount(accountHash: Uint8Array): Promise<Account | undefined> {
    const r = await this.db.selectFrom("quota_accounts").selectAll()
      .where("account_hash", "=", accountHash).executeTakeFirst();
    return r === undefined ? undefined : toAccount(r as unknown as Row);
  }

  /**
   * Takes `n` tokens from an account: free quota of the current period first, then credit.
   * All or nothing, by compare-and-swap (retried when a concurrent request changed the row).
   * @throws {AccountError} unknown, disabled, or not enough tokens (with how many there are).
   */
  async reserve(
    accountHash: Uint8Array,
    n: number,
    now: number,
    policy: QuotaPolicy,
  ): Promise<Reservation> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const a = await this.getAccount(accountHash);
      if (a === undefined) throw new AccountError("unknown", "Unknown account");
      if (a.disabled) throw new AccountError("disabled", "This account is disabled");
      const f = freeLeft(a, policy, now);
      const fromFree = Math.min(n, f.freeLeft);
      const fromCredit = n - fromFree;
      if (fromCredit > a.credit) {
        throw new AccountError(
          "insufficient",
          `Not enough tokens: asked for ${n}, ${f.freeLeft + a.credit} available`,
          f.freeLeft + a.credit,
        );
      }
      const usedBefore = a.periodStart === f.periodStart ? a.periodUsed : 0;
      const r = await this.db.updateTable("quota_accounts")
        .set({
          period_start: f.periodStart,
          period_used: usedBefore + fromFree,
          credit: a.credit - fromCredit,
          issued_total: a.issuedTotal + n,
        })
        .where("account_hash", "=", accountHash)
        .where("period_start", "=", a.periodStart)
        .where("period_used", "=", a.periodUsed)
        .where("credit", "=", a.credit)
        .where("disabled", "=", 0)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) {
        return {
          fromFree,
          fromCredit,
          freeLeft: f.freeLeft - fromFree,
          creditLeft: a.credit - fromCredit,
        };
      }
    }
    throw new Error("Cannot reserve tokens: the account is too busy; retry");
  }

  /** Gives back tokens reserved by {@linkcode reserve} that could not be issued. */
  async refund(accountHash: Uint8Array, r: Reservation): Promise<void> {
    // Refunded as credit, which never expires; simpler than rewinding the period counter.
    await this.credit(accountHash, r.fromFree + r.fromCredit, -(r.fromFree + r.fromCredit));
  }

  /** Adds `tokens` of credit (and `issuedDelta` to the issued counter); false if unknown. */
  async credit(accountHash: Uint8Array, tokens: number, issuedDelta = 0): Promise<boolean> {
    const r = await this.db.updateTable("quota_accounts")
      .set((eb) => ({
        credit: eb("credit", "+", tokens),
        issued_total: eb("issued_total", "+", issuedDelta),
      }))
      .where("account_hash", "=", accountHash)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Disables or enables an account; false if unknown. */
  async setDisabled(accountHash: Uint8Array, disabled: boolean): Promise<boolean> {
    const r = await this.db.updateTable("quota_accounts")
      .set({ disabled: disabled ? 1 : 0 })
      .where("account_hash", "=", accountHash)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Number of accounts, and of disabled ones. */
  async accountStats(): Promise<{ accounts: number; disabled: number; credit: number }> {
    const r = await this.db.selectFrom("quota_accounts")
      .select([
        sql<string | number>`count(*)`.as("n"),
        sql<string | number | null>`sum(disabled)`.as("d"),
        sql<string | number | null>`sum(credit)`.as("c"),
      ])
      .executeTakeFirstOrThrow();
    return { accounts: Number(r.n), disabled: Number(r.d ?? 0), credit: Number(r.c ?? 0) };
  }

  // ----- spent nonces

  /**
   * Inserts spent nonces in one statement; returns the hex of those that were new. A nonce
   * already present is not returned: its token was spent before.
   */
  async insertSpent(
    rows: readonly { nonce: Uint8Array; expiresAt: number }[],
  ): Promise<Set<string>> {
    const fresh = new Set<string>();
    if (this.#writer) {
      const out = await this.#writer.batch(
        "INSERT INTO quota_spent (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING RETURNING nonce",
        rows.map((r) => [r.nonce, r.expiresAt]),
      );
      for (const run of out) {
        for (const r of run) fresh.add(toHex(new Uint8Array(r.nonce as Uint8Array)));
      }
      return fresh;
    }
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const out = await this.db.insertInto("quota_spent")
        .values(chunk.map((r) => ({ nonce: r.nonce, expires_at: r.expiresAt })))
        .onConflict((oc) => oc.column("nonce").doNothing())
        .returning("nonce")
        .execute();
      for (const r of out) fresh.add(toHex(new Uint8Array(r.nonce)));
    }
    return fresh;
  }

  /** Deletes nonces whose key has expired; returns how many. */
  async deleteExpiredSpent(now: number): Promise<number> {
    const r = await this.db.deleteFrom("quota_spent").where("expires_at", "<=", now)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Number of spent nonces kept. */
  async spentCount(): Promise<number> {
    const r = await this.db.selectFrom("quota_spent").select(sql<string | number>`count(*)`.as("n"))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // ----- settings

  /** A setting's JSON value, or `undefined`. */
  async getSetting<T>(name: string): Promise<T | undefined> {
    const r = await this.db.selectFrom("quota_settings").select("value").where("name", "=", name)
      .executeTakeFirst();
    return r === undefined ? undefined : JSON.parse(r.value) as T;
  }

  /** Sets a setting to a JSON value. */
  async setSetting(name: string, value: unknown): Promise<void> {
    const text = JSON.stringify(value);
    await this.db.insertInto("quota_settings").values({ name, value: text })
      .onConflict((oc) => oc.column("name").doUpdateSet({ value: text }))
      .execute();
  }

  // ----- invoices

  /** The next unused address index of `xpub` (one past the highest used with that key). */
  async nextAddressIndex(xpub: string): Promise<number> {
    const r = await this.db.selectFrom("quota_invoices")
      .select(sql<string | number | null>`max(address_index)`.as("m"))
      .where("xpub", "=", xpub).executeTakeFirstOrThrow();
    return r.m === null || r.m === undefined ? 0 : Number(r.m) + 1;
  }

  /**
   * Assigns invoices made before address indices were kept per key (xpub "") to `xpub`, the
   * key that was in force then, unless that key already has invoices of its own. Returns how
   * many were assigned.
   */
  async adoptLegacyInvoices(xpub: string): Promise<number> {
    if (xpub === "") return 0;
    const own = await this.db.selectFrom("quota_invoices").select("id")
      .where("xpub", "=", xpub).limit(1).executeTakeFirst();
    if (own !== undefined) return 0;
    const r = await this.db.updateTable("quota_invoices").set({ xpub })
      .where("xpub", "=", "").executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Inserts an invoice; false when its address or its key's index is taken (retry with the next). */
  async insertInvoice(inv: Invoice): Promise<boolean> {
    try {
      await this.db.insertInto("quota_invoices").values({
        id: inv.id,
        account_hash: inv.accountHash,
        address: inv.address,
        xpub: inv.xpub,
        address_index: inv.addressIndex,
        amount_sats: inv.amountSats,
        tokens: inv.tokens,
        created_at: inv.createdAt,
        expires_at: inv.expiresAt,
        status: inv.status,
        received_sats: inv.receivedSats,
        paid_at: inv.paidAt,
      }).execute();
      return true;
    } catch (err) {
      if (/unique|duplicate/i.test((err as Error).message)) return false;
      throw err;
    }
  }

  /** One invoice by id. */
  async getInvoice(id: string): Promise<Invoice | undefined> {
    const r = await this.db.selectFrom("quota_invoices").selectAll().where("id", "=", id)
      .executeTakeFirst();
    return r === undefined ? undefined : toInvoice(r as unknown as Row);
  }

  /** Invoices still being watched: pending and created after `watchSince`. */
  async watchedInvoices(watchSince: number, limit = 1000): Promise<Invoice[]> {
    const rows = await this.db.selectFrom("quota_invoices").selectAll()
      .where("status", "=", "pending").where("expires_at", ">", watchSince)
      .orderBy("created_at").limit(limit).execute();
    return rows.map((r) => toInvoice(r as unknown as Row));
  }

  /** Records the amount seen so far for a pending invoice. */
  async setReceived(id: string, receivedSats: number): Promise<void> {
    await this.db.updateTable("quota_invoices").set({ received_sats: receivedSats })
      .where("id", "=", id).where("status", "=", "pending").execute();
  }

  /**
   * Marks a pending invoice paid and credits its account, in one transaction; false when it
   * was no longer pending (another poller got there first), so credit is given once.
   */
  async markPaid(id: string, receivedSats: number, now: number): Promise<boolean> {
    return await this.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable("quota_invoices")
        .set({ status: "paid", received_sats: receivedSats, paid_at: now })
        .where("id", "=", id).where("status", "=", "pending")
        .returning(["account_hash", "tokens"])
        .executeTakeFirst();
      if (r === undefined) return false;
      await trx.updateTable("quota_accounts")
        .set((eb) => ({ credit: eb("credit", "+", Number(r.tokens)) }))
        .where("account_hash", "=", r.account_hash)
        .execute();
      return true;
    });
  }

  /** Marks pending invoices past `before` expired; returns how many. */
  async expireInvoices(before: number): Promise<number> {
    const r = await this.db.updateTable("quota_invoices").set({ status: "expired" })
      .where("status", "=", "pending").where("expires_at", "<=", before).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
