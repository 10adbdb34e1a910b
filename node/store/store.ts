/**
 * The message store: one implementation over kysely that runs on embedded SQLite (default) and
 * PostgreSQL. Messages are rows keyed by a local sequence number (the cursor order) with a
 * `(tag, seq)` index, so a prefix query is a range scan. Rows may lack a payload: those are
 * notices of messages held elsewhere (federation).
 *
 * @module
 */
import { type Generated, Kysely, PostgresDialect, sql } from "kysely";
import { type Migration, Migrator } from "kysely/migration";
import pg from "pg";
import { join } from "node:path";
import { type Dialect, MIGRATIONS } from "./migrations.ts";
import { openSqlite } from "./sqlite_dialect.ts";
import { damagedDatabaseError } from "../data_dir.ts";
import { SPEND_SQL, SqliteWriteWorker } from "./sqlite_writer.ts";
import { type MessageRow, spentOutcome, storedAs, toMessage } from "./row.ts";
import {
  type FeatureDatabaseHandle,
  openFeatureDatabase,
  type OpenFeatureDatabaseOptions,
} from "./feature_db.ts";
import { toHex } from "../../client/mod.ts";
import { connectionConfig, markSql, PgShared, type SharedLog } from "./pg_shared.ts";

/** The `messages` table. */
export interface MessagesTable {
  seq: Generated<number>;
  id: Uint8Array;
  tag: Uint8Array;
  payload: Uint8Array | null;
  size: number;
  received_at: number;
  expires_at: number;
  origin: string | null;
}

/** The `spent_nonces` table. */
export interface SpentNoncesTable {
  nonce: Uint8Array;
  expires_at: number;
}

/** Tables known to the core; features extend the database through their own migrations. */
export interface Database {
  messages: MessagesTable;
  spent_nonces: SpentNoncesTable;
}

/** A message as stored. Times are Unix milliseconds. */
export interface StoredMessage {
  seq: number;
  id: Uint8Array;
  tag: Uint8Array;
  /** `null` when only a notice of the message is held here (the body is elsewhere). */
  payload: Uint8Array | null;
  size: number;
  receivedAt: number;
  expiresAt: number;
  /** Node id of the server the message was inserted at; `null` when inserted here. */
  origin: string | null;
}

/** A message to insert. */
export interface NewMessage {
  id: Uint8Array;
  tag: Uint8Array;
  payload: Uint8Array | null;
  size: number;
  receivedAt: number;
  expiresAt: number;
  origin: string | null;
  /**
   * A one-time nonce that pays for the message (a token's), recorded in the same transaction:
   * when it was spent before, the message is not stored and its outcome says `spent`.
   */
  spend?: Spend;
}

/** A one-time nonce to record as spent, kept until `expiresAt` (Unix ms). */
export interface Spend {
  nonce: Uint8Array;
  expiresAt: number;
}

/** Outcome of inserting one message. */
export interface InsertOutcome {
  /**
   * The message as stored (the earlier copy when it was already there; as given, with `seq` 0,
   * when its nonce was spent).
   */
  message: StoredMessage;
  /** False when the id was already stored (idempotent repeat) or the nonce was spent. */
  inserted: boolean;
  /** True when the message's {@linkcode NewMessage.spend} nonce was spent before: not stored. */
  spent?: boolean;
}

/** A body for a row held as a notice. */
export interface PayloadFill {
  id: Uint8Array;
  payload: Uint8Array;
}

/** A tag range query. `lo` and `hi` are inclusive 20-byte bounds. */
export interface RangeQuery {
  lo: Uint8Array;
  hi: Uint8Array;
  /** True when the range is the whole tag space (bits = 0): no tag condition is needed. */
  all: boolean;
  afterSeq: number;
  /**
   * Rows past this sequence number are left out: pass the writer's `lastSeq`, so that a row
   * committed ahead of an earlier batch still being committed (concurrent PostgreSQL
   * transactions) is not returned before it, and no cursor moves past the earlier one.
   */
  maxSeq?: number;
  limit: number;
  /** Unix ms; expired messages are not returned. */
  now: number;
  /**
   * Which index to walk: the tag index (reads every row under the prefix) or sequence order
   * from the cursor (reads rows after the cursor until `limit` match). Engines with table
   * statistics (PostgreSQL) may ignore it. Default `"tag"`.
   */
  scan?: "tag" | "seq";
}

/**
 * Picks the cheaper scan for a prefix query: walking the tag index touches about
 * `rows · 2^-bits` rows, walking sequence order from the cursor touches
 * `min(rows after cursor, limit · 2^bits)`.
 */
export function chooseScan(
  bits: number,
  lastSeq: number,
  afterSeq: number,
  limit: number,
): "tag" | "seq" {
  const byTag = lastSeq / 2 ** bits;
  const bySeq = Math.min(lastSeq - afterSeq, limit * 2 ** bits);
  return bySeq < byTag ? "seq" : "tag";
}

/** Bytes charged per stored body on top of its payload: the id (32) and the tag (20). */
export const ROW_OVERHEAD_BYTES = 52;

/** Bytes a message is charged against `--max-store-bytes`: payload plus id and tag. */
export function chargedBytes(m: { payload: Uint8Array | null }): number {
  return m.payload === null ? 0 : m.payload.length + ROW_OVERHEAD_BYTES;
}

/** The store interface; the conformance suite runs every implementation. */
export interface Store {
  /** The SQL engine. */
  readonly dialect: Dialect;
  /** Where it lives: the SQLite file, or the PostgreSQL URL without credentials. */
  readonly location: string;
  /**
   * How many writes ({@linkcode insertBatch}, {@linkcode fillPayloads}) the writer may have
   * outstanding at once. Writes complete, and their rows become visible, in the order they were
   * called; an engine that cannot promise that (concurrent PostgreSQL transactions commit in
   * any order, so a reader could pass a sequence number still being committed) says 1.
   * Absent means 1.
   */
  readonly maxWritesInFlight?: number;
  /**
   * PostgreSQL: the coordination with other node processes on the same database (the
   * visibility watermark, cross-process wake-ups, background-job locks; see `pg_shared.ts`).
   */
  readonly shared?: PgShared;
  /**
   * True while this process should run the background job `name` (the sweeper, key rotation,
   * invoice polling, ...): always on SQLite (one process per data folder); on PostgreSQL for
   * exactly one of the processes sharing the database. Call it on every tick of the job.
   */
  leads(name: string): Promise<boolean>;
  /** Inserts a batch in one transaction (one fsync); ids already stored are left as they are. */
  insertBatch(messages: readonly NewMessage[]): Promise<InsertOutcome[]>;
  /**
   * Fills in the payloads of rows held as notices (payload `null`), in one transaction. A row is
   * filled only when its payload is still missing and its `size` equals the payload's length;
   * returns, per fill, whether it was. Call it through the writer, which counts the bytes.
   */
  fillPayloads(fills: readonly PayloadFill[]): Promise<boolean[]>;
  /**
   * Deletes the row of `id` if it is a notice (payload `null`) under `tag`; true if it did. For
   * replacing a notice whose tag a fetched body proved wrong. Call it through the writer.
   */
  dropNotice(id: Uint8Array, tag: Uint8Array): Promise<boolean>;
  /** Unexpired copies of other servers' messages held here with their body, newest first. */
  keptCopies(now: number, limit: number): Promise<StoredMessage[]>;
  /** Payload bytes of other servers' messages held here. */
  keptBytes(): Promise<number>;
  /** Opens a feature's own database (see `feature_db.ts`). */
  openFeatureDatabase(
    opts: Omit<OpenFeatureDatabaseOptions, "store">,
  ): Promise<FeatureDatabaseHandle>;
  /** Messages in the range with `seq > afterSeq`, oldest first. */
  query(q: RangeQuery): Promise<StoredMessage[]>;
  /** The unexpired messages among the given sequence numbers, oldest first. */
  bySeqs(seqs: readonly number[], now: number): Promise<StoredMessage[]>;
  /** One message by id (expired ones are not returned). */
  get(id: Uint8Array, now: number): Promise<StoredMessage | undefined>;
  /** Ids among `ids` that are stored. */
  existing(ids: readonly Uint8Array[]): Promise<StoredMessage[]>;
  /** Deletes expired messages; returns how many and the bytes freed. */
  deleteExpired(now: number): Promise<{ count: number; bytes: number }>;
  /**
   * Records spent nonces in one transaction (one fsync; on SQLite through the writer thread, in
   * order with the message commits); returns the hex of those that were new.
   */
  insertSpent(spends: readonly Spend[]): Promise<Set<string>>;
  /** Deletes spent nonces whose expiry has passed; returns how many. */
  deleteExpiredSpent(now: number): Promise<number>;
  /** Number of spent nonces kept. */
  spentCount(): Promise<number>;
  /** Total bytes charged for stored payloads. */
  usedBytes(): Promise<number>;
  /** Number of stored rows (with or without payload). */
  count(): Promise<number>;
  /** The highest sequence number handed out (0 when empty). */
  maxSeq(): Promise<number>;
  /** Closes the connection(s). */
  close(): Promise<void>;
}

/** PostgreSQL batches the writer may have in flight (each holds a pool connection). */
const PG_WRITES_IN_FLIGHT = 4;

/**
 * Rows per insert statement: 7 parameters each stay under PostgreSQL's 65535 bind parameters.
 */
const INSERT_CHUNK_ROWS = 4000;

const INSERT_COLUMNS =
  "INSERT INTO messages (id, tag, payload, size, received_at, expires_at, origin) VALUES ";
const insertTexts = new Map<number, string>();

/**
 * The insert statement for `rows` rows, built once per row count: the batch insert is the one
 * statement on the ingest path, and composing it through the query builder cost more main-thread
 * time per row than sending it.
 */
function insertText(rows: number): string {
  let text = insertTexts.get(rows);
  if (text === undefined) {
    const values = [];
    for (let r = 0; r < rows; r++) {
      const b = r * 7;
      values.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7})`);
    }
    text = INSERT_COLUMNS + values.join(", ") + " ON CONFLICT (id) DO NOTHING RETURNING seq, id";
    if (insertTexts.size < 256) insertTexts.set(rows, text);
  }
  return text;
}

/** Rows per spent-nonce insert statement. */
const SPENT_CHUNK_ROWS = 4000;

/**
 * Records `spends` on `db` (a pool, or a client inside the caller's transaction); returns the hex
 * of the new ones. Sorted by nonce, so concurrent batches of several processes take the index
 * locks in one order and cannot deadlock on each other.
 */
async function insertSpentOn(
  db: pg.Pool | pg.PoolClient,
  spends: readonly Spend[],
): Promise<Set<string>> {
  const fresh = new Set<string>();
  const sorted = spends.map((s) => ({ key: toHex(s.nonce), s }))
    .sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  for (let i = 0; i < sorted.length; i += SPENT_CHUNK_ROWS) {
    const chunk = sorted.slice(i, i + SPENT_CHUNK_ROWS);
    const values: unknown[] = [];
    const rows: string[] = [];
    for (const { s } of chunk) {
      rows.push(`($${values.length + 1}, $${values.length + 2})`);
      values.push(s.nonce, s.expiresAt);
    }
    const r = await db.query<{ nonce: Uint8Array }>(
      `INSERT INTO spent_nonces (nonce, expires_at) VALUES ${rows.join(", ")} ` +
        "ON CONFLICT (nonce) DO NOTHING RETURNING nonce",
      values,
    );
    for (const row of r.rows) fresh.add(toHex(row.nonce));
  }
  return fresh;
}

/**
 * The indexes of the messages whose nonce was spent before (or earlier in the same batch), after
 * recording the others' nonces: the first of several messages carrying one nonce pays with it.
 */
async function spendAll(
  client: pg.PoolClient,
  messages: readonly NewMessage[],
): Promise<Set<number>> {
  const spent = new Set<number>();
  const first = new Map<string, number>();
  messages.forEach((m, i) => {
    if (m.spend === undefined) return;
    const key = toHex(m.spend.nonce);
    if (first.has(key)) spent.add(i);
    else first.set(key, i);
  });
  if (first.size === 0) return spent;
  const fresh = await insertSpentOn(client, [...first.values()].map((i) => messages[i]!.spend!));
  for (const [key, i] of first) if (!fresh.has(key)) spent.add(i);
  return spent;
}

/**
 * Inserts `messages` on `client` (inside the caller's transaction; ids already stored are left
 * alone) and returns the new sequence numbers by id. Returns only those: echoing whole rows back
 * would send every payload over the connection a second time.
 */
async function insertRows(
  client: pg.PoolClient,
  messages: readonly NewMessage[],
): Promise<Map<string, number>> {
  const seqById = new Map<string, number>();
  for (let i = 0; i < messages.length; i += INSERT_CHUNK_ROWS) {
    const chunk = messages.slice(i, i + INSERT_CHUNK_ROWS);
    const values: unknown[] = [];
    for (const m of chunk) {
      values.push(m.id, m.tag, m.payload, m.size, m.receivedAt, m.expiresAt, m.origin);
    }
    const r = await client.query<{ seq: number; id: Uint8Array }>(
      insertText(chunk.length),
      values,
    );
    for (const row of r.rows) seqById.set(toHex(row.id), Number(row.seq));
  }
  return seqById;
}

/**
 * The outcome of each of `messages` in input order, given the sequence numbers the insert drew
 * (`seqById`), the stored rows of the rest (`earlier`, filled in here with the new ones) and the
 * indexes of those whose nonce was spent: a message given twice in one batch is inserted once.
 */
function outcomesOf(
  messages: readonly NewMessage[],
  seqById: Map<string, number>,
  earlier: Map<string, StoredMessage>,
  spent: ReadonlySet<number> = new Set(),
): InsertOutcome[] {
  const claimed = new Set<string>();
  return messages.map((m, i) => {
    const key = toHex(m.id);
    const seq = seqById.get(key);
    if (spent.has(i)) return spentOutcome(m);
    if (seq !== undefined && !claimed.has(key)) {
      claimed.add(key);
      const message = storedAs(m, seq);
      earlier.set(key, message);
      return { message, inserted: true };
    }
    const message = earlier.get(key);
    if (message === undefined) throw new Error("inserted message vanished");
    return { message, inserted: false };
  });
}

class KyselyStore implements Store {
  readonly dialect: Dialect;
  readonly db: Kysely<Database>;
  readonly location: string;
  readonly shared?: PgShared;
  /** PostgreSQL: the statement that opens a batch transaction and publishes its mark. */
  #begin = "BEGIN";
  #pool: pg.Pool | undefined;
  constructor(
    dialect: Dialect,
    db: Kysely<Database>,
    location: string,
    shared?: { coordinator: PgShared; sequence: string; pool: pg.Pool },
  ) {
    this.dialect = dialect;
    this.db = db;
    this.location = location;
    if (shared !== undefined) {
      this.shared = shared.coordinator;
      this.#pool = shared.pool;
      this.#begin = `BEGIN; ${markSql(shared.sequence)}`;
    }
  }

  leads(name: string): Promise<boolean> {
    return this.shared?.leads(name) ?? Promise.resolve(true);
  }

  openFeatureDatabase(
    opts: Omit<OpenFeatureDatabaseOptions, "store">,
  ): Promise<FeatureDatabaseHandle> {
    return openFeatureDatabase({ ...opts, store: this });
  }

  async fillPayloads(fills: readonly PayloadFill[]): Promise<boolean[]> {
    if (fills.length === 0) return [];
    return await this.db.transaction().execute(async (trx) => {
      const out: boolean[] = [];
      for (const f of fills) {
        const r = await trx.updateTable("messages").set({ payload: f.payload })
          .where("id", "=", f.id).where("payload", "is", null)
          .where("size", "=", f.payload.length).executeTakeFirst();
        out.push(Number(r.numUpdatedRows) > 0);
      }
      return out;
    });
  }

  async dropNotice(id: Uint8Array, tag: Uint8Array): Promise<boolean> {
    const r = await this.db.deleteFrom("messages").where("id", "=", id).where("tag", "=", tag)
      .where("payload", "is", null).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async keptCopies(now: number, limit: number): Promise<StoredMessage[]> {
    const rows = await this.db.selectFrom("messages").selectAll()
      .where("origin", "is not", null).where("payload", "is not", null)
      .where("expires_at", ">", now).orderBy("seq", "desc").limit(limit).execute();
    return rows.map((r) => toMessage(r as MessageRow));
  }

  async keptBytes(): Promise<number> {
    const r = await this.db.selectFrom("messages")
      .select(sql<string | number>`coalesce(sum(size), 0)`.as("b"))
      .where("origin", "is not", null).where("payload", "is not", null)
      .executeTakeFirstOrThrow();
    return Number(r.b);
  }

  /**
   * PostgreSQL: up to this many batches are in flight on their own connections, so that one
   * batch's commit (its WAL flush) overlaps the next batch's insert and the server's group
   * commit can join their flushes. See {@linkcode insertBatch} for how order is kept.
   */
  readonly maxWritesInFlight: number = PG_WRITES_IN_FLIGHT;
  /** Settles when the latest batch's rows are inserted (its sequence numbers drawn). */
  #drawn: Promise<void> = Promise.resolve();

  /**
   * Inserts a batch in its own transaction. Batches draw their sequence numbers one after
   * another, in call order (each insert statement waits for the previous batch's insert, not
   * its commit), so sequence numbers rise with call order even though the commits overlap and
   * may finish in any order; the writer counts them in call order and readers stop at its
   * `lastSeq` ({@linkcode RangeQuery.maxSeq}). Each transaction first publishes its mark, and
   * after the commit the other processes are told (`pg_shared.ts`): with several processes
   * readers stop at the shared watermark instead.
   */
  async insertBatch(messages: readonly NewMessage[]): Promise<InsertOutcome[]> {
    if (messages.length === 0) return [];
    const pool = this.#pool;
    if (pool === undefined) throw new Error("insertBatch: this store has no PostgreSQL pool");
    const previous = this.#drawn;
    const drawn = Promise.withResolvers<void>();
    this.#drawn = drawn.promise;
    let seqById: Map<string, number>;
    let spent: Set<number>;
    try {
      // Three round trips per batch: BEGIN with the mark (one simple query), the insert, COMMIT.
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query(this.#begin);
        try {
          await previous;
          spent = await spendAll(client, messages);
          seqById = await insertRows(
            client,
            spent.size === 0 ? messages : messages.filter((_, i) => !spent.has(i)),
          );
        } finally {
          drawn.resolve();
        }
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch((e: Error) => broken = e);
        throw err;
      } finally {
        client.release(broken);
      }
    } finally {
      drawn.resolve();
    }
    const earlier = new Map<string, StoredMessage>();
    const missing = messages.filter((m, i) => !spent.has(i) && !seqById.has(toHex(m.id)));
    if (missing.length > 0) {
      for (const m of await this.existing(missing.map((m) => m.id))) earlier.set(toHex(m.id), m);
    }
    const outcomes = outcomesOf(messages, seqById, earlier, spent);
    if (this.shared !== undefined) {
      let max = 0;
      for (const o of outcomes) if (o.inserted && o.message.seq > max) max = o.message.seq;
      if (max > 0) this.shared.committed(max);
    }
    return outcomes;
  }

  async query(q: RangeQuery): Promise<StoredMessage[]> {
    let qb = this.db.selectFrom("messages").selectAll()
      .where("seq", ">", q.afterSeq)
      .where("expires_at", ">", q.now);
    if (q.maxSeq !== undefined) qb = qb.where("seq", "<=", q.maxSeq);
    if (!q.all) {
      // SQLite: a unary plus keeps the planner off the tag index when sequence order is cheaper.
      const tag = q.scan === "seq" && this.dialect === "sqlite"
        ? sql<Uint8Array>`+tag`
        : sql<Uint8Array>`tag`;
      qb = qb.where(tag, ">=", q.lo).where(tag, "<=", q.hi);
    }
    const rows = await qb.orderBy("seq").limit(q.limit).execute();
    return rows.map((r) => toMessage(r as MessageRow));
  }

  async bySeqs(seqs: readonly number[], now: number): Promise<StoredMessage[]> {
    if (seqs.length === 0) return [];
    const rows = await this.db.selectFrom("messages").selectAll().where("seq", "in", [...seqs])
      .where("expires_at", ">", now).orderBy("seq").execute();
    return rows.map((r) => toMessage(r as MessageRow));
  }

  async get(id: Uint8Array, now: number): Promise<StoredMessage | undefined> {
    const r = await this.db.selectFrom("messages").selectAll().where("id", "=", id)
      .where("expires_at", ">", now).executeTakeFirst();
    return r === undefined ? undefined : toMessage(r as MessageRow);
  }

  async existing(ids: readonly Uint8Array[]): Promise<StoredMessage[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom("messages").selectAll().where("id", "in", [...ids])
      .execute();
    return rows.map((r) => toMessage(r as MessageRow));
  }

  async deleteExpired(now: number): Promise<{ count: number; bytes: number }> {
    const rows = await this.db.deleteFrom("messages").where("expires_at", "<=", now)
      .returning(["payload"]).execute();
    let bytes = 0;
    for (const r of rows) bytes += chargedBytes(r);
    return { count: rows.length, bytes };
  }

  async insertSpent(spends: readonly Spend[]): Promise<Set<string>> {
    if (spends.length === 0) return new Set();
    if (this.#pool === undefined) throw new Error("insertSpent: this store has no PostgreSQL pool");
    return await insertSpentOn(this.#pool, spends);
  }

  async deleteExpiredSpent(now: number): Promise<number> {
    const r = await this.db.deleteFrom("spent_nonces").where("expires_at", "<=", now)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async spentCount(): Promise<number> {
    const r = await this.db.selectFrom("spent_nonces")
      .select(sql<string | number>`count(*)`.as("n")).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async usedBytes(): Promise<number> {
    const r = await this.db.selectFrom("messages")
      .select(
        sql<string | number>`coalesce(sum(size + ${sql.lit(ROW_OVERHEAD_BYTES)}), 0)`.as("bytes"),
      )
      .where("payload", "is not", null).executeTakeFirstOrThrow();
    return Number(r.bytes);
  }

  async count(): Promise<number> {
    const r = await this.db.selectFrom("messages")
      .select((eb) => eb.fn.countAll<string | number>().as("n")).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async maxSeq(): Promise<number> {
    const r = await this.db.selectFrom("messages")
      .select(sql<string | number | null>`max(seq)`.as("m")).executeTakeFirstOrThrow();
    return Number(r.m ?? 0);
  }

  async close(): Promise<void> {
    await this.shared?.close();
    await this.db.destroy();
  }
}

async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const migrations: Record<string, Migration> = {};
  for (const [name, m] of Object.entries(MIGRATIONS)) migrations[name] = m(dialect);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`Cannot migrate the database (${failed}): ${(error as Error).message}`);
  }
}

/** Options for {@linkcode openStore}. */
export interface OpenStoreOptions {
  /** A `postgres://` URL; when absent an embedded SQLite file is used. */
  url?: string | undefined;
  /** Data folder for the SQLite file (`subspace.db`). */
  dataDir: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /** PostgreSQL: where the coordination with other processes logs (jobs taken, session lost). */
  log?: SharedLog;
}

let pgTypesSet = false;

/**
 * Opens (and migrates) the store.
 *
 * @example
 * ```ts
 * const store = await openStore({ dataDir: "./data" });
 * await store.close();
 * ```
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.url !== undefined) {
    if (!pgTypesSet) {
      // int8 (20) → number: sequence numbers and Unix-ms times fit in 2^53.
      pg.types.setTypeParser(20, (v: string) => Number(v));
      pgTypesSet = true;
    }
    const pool = new pg.Pool({ ...connectionConfig(opts.url), max: opts.poolSize ?? 8 });
    // An idle connection the server closed (a restart, a terminated backend): the pool drops it
    // and opens another when needed. Without a listener the error would end the process.
    pool.on(
      "error",
      (err) => opts.log?.warn("a database connection was closed", { err: err.message }),
    );
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      await migrate(db, "postgres");
    } catch (err) {
      await db.destroy();
      throw err;
    }
    const u = new URL(opts.url);
    u.username = "";
    u.password = "";
    try {
      const sequence = String(
        (await pool.query("SELECT pg_get_serial_sequence('messages', 'seq') AS s")).rows[0].s,
      );
      const coordinator = await PgShared.open({
        pool,
        url: opts.url,
        sequence,
        ...(opts.log ? { log: opts.log } : {}),
      });
      return new KyselyStore("postgres", db, u.toString(), { coordinator, sequence, pool });
    } catch (err) {
      await db.destroy();
      throw err;
    }
  }
  await Deno.mkdir(opts.dataDir, { recursive: true });
  const path = join(opts.dataDir, "subspace.db");
  let db: Kysely<Database> | undefined;
  try {
    db = new Kysely<Database>({ dialect: openSqlite(path).dialect });
    await migrate(db, "sqlite");
  } catch (err) {
    await db?.destroy().catch(() => {});
    throw damagedDatabaseError(path, err) ?? err;
  }
  return new SqliteStore(db, path, await SqliteWriteWorker.open(path));
}

/** SQLite: reads on this thread, message inserts on a writer thread (see `sqlite_writer.ts`). */
class SqliteStore extends KyselyStore {
  /** The writer thread commits in arrival order; this bounds the batches queued for it. */
  override readonly maxWritesInFlight = 64;
  #writer: SqliteWriteWorker;
  constructor(db: Kysely<Database>, path: string, writer: SqliteWriteWorker) {
    super("sqlite", db, path);
    this.#writer = writer;
  }
  override insertBatch(messages: readonly NewMessage[]): Promise<InsertOutcome[]> {
    return messages.length === 0 ? Promise.resolve([]) : this.#writer.insertBatch(messages);
  }
  override async fillPayloads(fills: readonly PayloadFill[]): Promise<boolean[]> {
    if (fills.length === 0) return [];
    const results = await this.#writer.batch(
      "UPDATE messages SET payload = ? WHERE id = ? AND payload IS NULL AND size = ? RETURNING seq",
      fills.map((f) => [f.payload, f.id, f.payload.length]),
    );
    return results.map((rows) => rows.length > 0);
  }
  override async insertSpent(spends: readonly Spend[]): Promise<Set<string>> {
    const fresh = new Set<string>();
    if (spends.length === 0) return fresh;
    const runs = await this.#writer.batch(
      SPEND_SQL,
      spends.map((s) => [s.nonce, s.expiresAt]),
    );
    for (const run of runs) {
      for (const r of run) fresh.add(toHex(new Uint8Array(r.nonce as Uint8Array)));
    }
    return fresh;
  }
  override async dropNotice(id: Uint8Array, tag: Uint8Array): Promise<boolean> {
    const [rows] = await this.#writer.batch(
      "DELETE FROM messages WHERE id = ? AND tag = ? AND payload IS NULL RETURNING seq",
      [[id, tag]],
    );
    return (rows?.length ?? 0) > 0;
  }
  override async close(): Promise<void> {
    await this.#writer.close();
    await super.close();
  }
}
