/**
 * Persistence of accounts, credits and settings over the quota feature's own
 * database (SQLite `quota.db` or the node's PostgreSQL database). Every state change is one
 * statement, a compare-and-swap or one transaction, so two nodes sharing one PostgreSQL
 * database (or concurrent requests) cannot double-spend a token or over-draw an account.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";
import { JOB_LOCK_CLASS, jobKey, type SqliteWriteWorker, type Store } from "../store/mod.ts";

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

/** `quota_spent` row (earlier releases; the nonces now live in the message store). */
export interface SpentTable {
  nonce: Uint8Array;
  expires_at: number;
}

/** `quota_credits` row. */
export interface CreditsTable {
  reference: string;
  account_hash: Uint8Array;
  tokens: number;
  created_at: number;
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
  quota_settings: SettingsTable;
  quota_credits: CreditsTable;
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

/**
 * The quota tables, over the feature's database (and, on SQLite, its writer thread for the
 * hot inserts of spent nonces).
 *
 * @example
 * ```ts ignore
 * const fdb = await core.openDatabase("quota", QUOTA_MIGRATIONS, { writerThread: true });
 * const qs = new QuotaStore(fdb.db, fdb.writer);
 * await qs.createAccount(hash, Date.now(), "signup");
 * ```
 */
export class QuotaStore {
  readonly #db: Kysely<QuotaDatabase>;
  readonly #writer: SqliteWriteWorker | undefined;
  // deno-lint-ignore no-explicit-any
  constructor(db: Kysely<any>, writer?: SqliteWriteWorker) {
    this.#db = db as Kysely<QuotaDatabase>;
    this.#writer = writer;
  }

  // ----- accounts

  /** Creates an account; false when the hash already exists. */
  async createAccount(accountHash: Uint8Array, now: number, origin: string): Promise<boolean> {
    const r = await this.#db.insertInto("quota_accounts")
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
    const r = await this.#db.selectFrom("quota_accounts").selectAll()
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
      const r = await this.#db.updateTable("quota_accounts")
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
    const r = await this.#db.updateTable("quota_accounts")
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
    const r = await this.#db.updateTable("quota_accounts")
      .set({ disabled: disabled ? 1 : 0 })
      .where("account_hash", "=", accountHash)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Adds `tokens` of credit for `reference` once: a second call with the same reference
   * changes nothing and answers true again. False when the account is unknown (nothing is
   * recorded, so a retry after the account exists credits it).
   */
  async creditOnce(
    accountHash: Uint8Array,
    tokens: number,
    reference: string,
    now: number,
  ): Promise<boolean> {
    return await this.#db.transaction().execute(async (trx) => {
      const r = await trx.insertInto("quota_credits")
        .values({ reference, account_hash: accountHash, tokens, created_at: now })
        .onConflict((oc) => oc.column("reference").doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1) return true;
      const u = await trx.updateTable("quota_accounts")
        .set((eb) => ({ credit: eb("credit", "+", tokens) }))
        .where("account_hash", "=", accountHash)
        .executeTakeFirst();
      if (Number(u.numUpdatedRows) === 1) return true;
      await trx.deleteFrom("quota_credits").where("reference", "=", reference).execute();
      return false;
    });
  }

  /**
   * Accounts newest first, optionally only those whose hash starts with `hashPrefix` (whole
   * bytes) or equals `hash`; with the total that match.
   */
  async listAccounts(q: {
    hash?: Uint8Array;
    hashPrefix?: Uint8Array;
    limit: number;
    offset: number;
  }): Promise<{ accounts: Account[]; total: number }> {
    let query = this.#db.selectFrom("quota_accounts");
    if (q.hash !== undefined) query = query.where("account_hash", "=", q.hash);
    if (q.hashPrefix !== undefined) {
      const lo = new Uint8Array(32);
      lo.set(q.hashPrefix.subarray(0, 32));
      const hi = new Uint8Array(32).fill(0xff);
      hi.set(q.hashPrefix.subarray(0, 32));
      query = query.where("account_hash", ">=", lo).where("account_hash", "<=", hi);
    }
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy("created_at", "desc").limit(q.limit).offset(q.offset).execute(),
      query.select(sql<string | number>`count(*)`.as("n")).executeTakeFirstOrThrow(),
    ]);
    return { accounts: rows.map((r) => toAccount(r as unknown as Row)), total: Number(count.n) };
  }

  /** Number of accounts, and of disabled ones. */
  async accountStats(): Promise<{ accounts: number; disabled: number; credit: number }> {
    const r = await this.#db.selectFrom("quota_accounts")
      .select([
        sql<string | number>`count(*)`.as("n"),
        sql<string | number | null>`sum(disabled)`.as("d"),
        sql<string | number | null>`sum(credit)`.as("c"),
      ])
      .executeTakeFirstOrThrow();
    return { accounts: Number(r.n), disabled: Number(r.d ?? 0), credit: Number(r.c ?? 0) };
  }

  // ----- spent nonces of earlier releases

  /**
   * Moves the spent nonces earlier releases kept in `quota_spent` into the message store's
   * `spent_nonces` (where a POST's spend rides in its message's commit), in pages: each page is
   * recorded there before it is deleted here, so a crash in between leaves a copy in both, never
   * in neither. Returns how many moved.
   */
  async moveSpentTo(spent: Pick<Store, "insertSpent">, pageRows = 5000): Promise<number> {
    let moved = 0;
    for (;;) {
      const rows = await this.#db.selectFrom("quota_spent").select(["nonce", "expires_at"])
        .limit(pageRows).execute();
      if (rows.length === 0) return moved;
      await spent.insertSpent(
        rows.map((r) => ({ nonce: new Uint8Array(r.nonce), expiresAt: Number(r.expires_at) })),
      );
      await this.#db.deleteFrom("quota_spent")
        .where("nonce", "in", rows.map((r) => r.nonce)).execute();
      moved += rows.length;
    }
  }

  // ----- settings

  /** A setting's JSON value, or `undefined`. */
  async getSetting<T>(name: string): Promise<T | undefined> {
    const r = await this.#db.selectFrom("quota_settings").select("value").where("name", "=", name)
      .executeTakeFirst();
    return r === undefined ? undefined : JSON.parse(r.value) as T;
  }

  /**
   * Reads a setting, lets `fn` compute its next value and writes it (unless `fn` returns
   * `undefined`), in one transaction that holds an advisory lock on the name, so processes
   * sharing a PostgreSQL database take turns (PostgreSQL only; one process owns a SQLite file).
   */
  async updateSettingExclusive<T>(
    name: string,
    fn: (value: T | undefined) => Promise<T | undefined>,
  ): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${JOB_LOCK_CLASS}, ${
        jobKey(`quota_settings:${name}`)
      })`
        .execute(trx);
      const r = await trx.selectFrom("quota_settings").select("value").where("name", "=", name)
        .executeTakeFirst();
      const next = await fn(r === undefined ? undefined : JSON.parse(r.value) as T);
      if (next === undefined) return;
      const text = JSON.stringify(next);
      await trx.insertInto("quota_settings").values({ name, value: text })
        .onConflict((oc) => oc.column("name").doUpdateSet({ value: text }))
        .execute();
    });
  }

  /** Sets a setting to a JSON value. */
  async setSetting(name: string, value: unknown): Promise<void> {
    const text = JSON.stringify(value);
    await this.#db.insertInto("quota_settings").values({ name, value: text })
      .onConflict((oc) => oc.column("name").doUpdateSet({ value: text }))
      .execute();
  }
}
