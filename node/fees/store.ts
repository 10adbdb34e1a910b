/**
 * Persistence of invoices and fee settings over the fees feature's own database. Each state
 * change is one statement or a compare-and-swap on the status, so two pollers (or two nodes
 * sharing one PostgreSQL database) mark an invoice paid once.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";

/** `fees_invoices` row. */
export interface InvoicesTable {
  id: string;
  account_hash: Uint8Array;
  address: string;
  /** The key the address derives from ("" for invoices older than per-key indices). */
  xpub: string;
  address_index: number;
  amount_sats: number;
  tokens: number;
  created_at: number;
  expires_at: number;
  status: string;
  received_sats: number;
  paid_at: number | null;
  /** 1 once the account has been credited for a paid invoice. */
  credited: number;
}

/** `fees_settings` row. */
export interface SettingsTable {
  name: string;
  value: string;
}

/** The tables this module keeps. */
export interface FeesDatabase {
  fees_invoices: InvoicesTable;
  fees_settings: SettingsTable;
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

type Row = Record<string, unknown>;
const num = (v: unknown) => Number(v);

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
 * The fees tables.
 *
 * @example
 * ```ts ignore
 * const fdb = await core.openDatabase("fees", feesMigrations(join(config.data, "quota.db")));
 * const fees = new FeesStore(fdb.db);
 * await fees.getInvoice(id);
 * ```
 */
export class FeesStore {
  readonly #db: Kysely<FeesDatabase>;
  // deno-lint-ignore no-explicit-any
  constructor(db: Kysely<any>) {
    this.#db = db as Kysely<FeesDatabase>;
  }

  // ----- settings

  /** A setting's JSON value, or `undefined`. */
  async getSetting<T>(name: string): Promise<T | undefined> {
    const r = await this.#db.selectFrom("fees_settings").select("value").where("name", "=", name)
      .executeTakeFirst();
    return r === undefined ? undefined : JSON.parse(r.value) as T;
  }

  /** Sets a setting to a JSON value. */
  async setSetting(name: string, value: unknown): Promise<void> {
    const text = JSON.stringify(value);
    await this.#db.insertInto("fees_settings").values({ name, value: text })
      .onConflict((oc) => oc.column("name").doUpdateSet({ value: text }))
      .execute();
  }

  // ----- invoices

  /** The next unused address index of `xpub` (one past the highest used with that key). */
  async nextAddressIndex(xpub: string): Promise<number> {
    const r = await this.#db.selectFrom("fees_invoices")
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
    const own = await this.#db.selectFrom("fees_invoices").select("id")
      .where("xpub", "=", xpub).limit(1).executeTakeFirst();
    if (own !== undefined) return 0;
    const r = await this.#db.updateTable("fees_invoices").set({ xpub })
      .where("xpub", "=", "").executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Inserts an invoice; false when its address or its key's index is taken (retry with the next). */
  async insertInvoice(inv: Invoice): Promise<boolean> {
    try {
      await this.#db.insertInto("fees_invoices").values({
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
        credited: 0,
      }).execute();
      return true;
    } catch (err) {
      if (/unique|duplicate/i.test((err as Error).message)) return false;
      throw err;
    }
  }

  /** One invoice by id. */
  async getInvoice(id: string): Promise<Invoice | undefined> {
    const r = await this.#db.selectFrom("fees_invoices").selectAll().where("id", "=", id)
      .executeTakeFirst();
    return r === undefined ? undefined : toInvoice(r as unknown as Row);
  }

  /** The newest invoices first. */
  async listInvoices(limit: number): Promise<Invoice[]> {
    const rows = await this.#db.selectFrom("fees_invoices").selectAll()
      .orderBy("created_at", "desc").limit(limit).execute();
    return rows.map((r) => toInvoice(r as unknown as Row));
  }

  /** Invoice counts by status. */
  async invoiceCounts(): Promise<Record<string, number>> {
    const rows = await this.#db.selectFrom("fees_invoices")
      .select(["status", sql<string | number>`count(*)`.as("n")])
      .groupBy("status").execute();
    return Object.fromEntries(rows.map((r) => [String(r.status), Number(r.n)]));
  }

  /** Invoices still being watched: pending and created after `watchSince`. */
  async watchedInvoices(watchSince: number, limit = 1000): Promise<Invoice[]> {
    const rows = await this.#db.selectFrom("fees_invoices").selectAll()
      .where("status", "=", "pending").where("expires_at", ">", watchSince)
      .orderBy("created_at").limit(limit).execute();
    return rows.map((r) => toInvoice(r as unknown as Row));
  }

  /** Records the amount seen so far for a pending invoice. */
  async setReceived(id: string, receivedSats: number): Promise<void> {
    await this.#db.updateTable("fees_invoices").set({ received_sats: receivedSats })
      .where("id", "=", id).where("status", "=", "pending").execute();
  }

  /**
   * Marks a pending invoice paid; false when it was no longer pending (another poller got
   * there first). Crediting the account follows ({@linkcode markCredited}).
   */
  async markPaid(id: string, receivedSats: number, now: number): Promise<boolean> {
    const r = await this.#db.updateTable("fees_invoices")
      .set({ status: "paid", received_sats: receivedSats, paid_at: now })
      .where("id", "=", id).where("status", "=", "pending")
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Records that the account of a paid invoice has been credited. */
  async markCredited(id: string): Promise<void> {
    await this.#db.updateTable("fees_invoices").set({ credited: 1 })
      .where("id", "=", id).where("status", "=", "paid").execute();
  }

  /** Paid invoices whose account has not been credited yet (a crash between the two steps). */
  async uncreditedInvoices(limit = 1000): Promise<Invoice[]> {
    const rows = await this.#db.selectFrom("fees_invoices").selectAll()
      .where("status", "=", "paid").where("credited", "=", 0)
      .orderBy("paid_at").limit(limit).execute();
    return rows.map((r) => toInvoice(r as unknown as Row));
  }

  /** Marks pending invoices past `before` expired; returns how many. */
  async expireInvoices(before: number): Promise<number> {
    const r = await this.#db.updateTable("fees_invoices").set({ status: "expired" })
      .where("status", "=", "pending").where("expires_at", "<=", before).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
