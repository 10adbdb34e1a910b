/**
 * A {@link NoticeStore} in SQL (`dht_notices`), in the federation's own database (on SQLite
 * `<data>/dht.db`, written by its writer thread so no fsync stalls the event loop). Writes are queued and committed in batches (one transaction every `flushMs`);
 * reads see queued notices too.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";
import type { SqliteWriteWorker } from "../store/mod.ts";
import type { Clock, TimerId } from "./clock.ts";
import { type Notice, noticeKey, noticeToJson, parseNotice } from "./notice.ts";
import type { AddNoticeResult, NoticePage, NoticeStore } from "./notice_store.ts";

interface DhtNoticesTable {
  key: string;
  id: string;
  origin: string;
  received_at: number;
  expires_at: number;
  notice: string;
}

/** The part of the database this store uses. */
export interface DhtDatabase {
  dht_notices: DhtNoticesTable;
}

/** Bytes a row costs beyond its text columns (numbers, index entries), for the cap. */
const ROW_BYTES = 64;

function rowBytes(r: DhtNoticesTable): number {
  return r.notice.length + r.key.length + r.id.length + ROW_BYTES;
}

const INSERT_SQL = "INSERT INTO dht_notices (key, id, origin, received_at, expires_at, notice) " +
  "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING";

/** Options of a {@link SqlNoticeStore}. */
export interface SqlNoticeStoreOptions {
  clock: Clock;
  /** Runs writes off the main thread (SQLite). */
  writer?: SqliteWriteWorker;
  /** Most unexpired notices held per origin. Default 100,000. */
  maxPerOrigin?: number;
  /** Longest a notice waits before its batch is written. Default 50 ms. */
  flushMs?: number;
  /** Cap on the bytes of unexpired notices held (rows as stored). Default 1 GiB. */
  maxBytes?: number;
}

/**
 * Notices in SQL.
 *
 * @example
 * ```ts
 * const fdb = await core.openDatabase("dht", { "0001_dht_notices": dhtNoticesMigration });
 * const notices = new SqlNoticeStore(fdb.db, { clock: systemClock, writer: fdb.writer });
 * await notices.init();
 * ```
 */
export class SqlNoticeStore implements NoticeStore {
  readonly maxPerOrigin: number;
  readonly flushMs: number;
  readonly maxBytes: number;
  #bytes = 0;
  #db: Kysely<DhtDatabase>;
  #writer: SqliteWriteWorker | undefined;
  #clock: Clock;
  #pending = new Map<string, DhtNoticesTable>();
  #perOrigin = new Map<string, number>();
  #timer: TimerId | null = null;
  #flushing: Promise<void> = Promise.resolve();

  /** A store on `db` (the federation's own database, which has `dht_notices`). */
  constructor(db: Kysely<DhtDatabase>, opts: SqlNoticeStoreOptions) {
    this.#db = db;
    this.#writer = opts.writer;
    this.#clock = opts.clock;
    this.maxPerOrigin = opts.maxPerOrigin ?? 100_000;
    this.flushMs = opts.flushMs ?? 50;
    this.maxBytes = opts.maxBytes ?? 1024 ** 3;
  }

  /** Bytes of unexpired notices held (as counted at the last sweep, plus those added since). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Loads per-origin counts. */
  async init(): Promise<void> {
    await this.#countOrigins();
  }

  async #countOrigins(): Promise<void> {
    const rows = await this.#db.selectFrom("dht_notices")
      .select((eb) => [
        "origin",
        eb.fn.countAll<string | number>().as("n"),
        sql<string | number>`sum(length(notice) + length(key) + length(id) + ${sql.lit(ROW_BYTES)})`
          .as("b"),
      ])
      .where("expires_at", ">", this.#clock.now())
      .groupBy("origin").execute();
    this.#perOrigin = new Map(rows.map((r) => [r.origin, Number(r.n)]));
    this.#bytes = rows.reduce((sum, r) => sum + Number(r.b ?? 0), 0);
    for (const p of this.#pending.values()) {
      this.#perOrigin.set(p.origin, (this.#perOrigin.get(p.origin) ?? 0) + 1);
      this.#bytes += rowBytes(p);
    }
  }

  /** See {@link NoticeStore.has}. */
  async has(key: string): Promise<boolean> {
    if (this.#pending.has(key)) return true;
    const r = await this.#db.selectFrom("dht_notices").select("key").where("key", "=", key)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** See {@link NoticeStore.add}. The caller checked {@link has}; repeats are ignored. */
  add(notice: Notice, receivedAtMs: number): AddNoticeResult {
    const key = noticeKey(notice);
    if (this.#pending.has(key)) return "duplicate";
    const origin = notice.origin.id;
    const count = this.#perOrigin.get(origin) ?? 0;
    if (count >= this.maxPerOrigin) return "over-cap";
    const row = {
      key,
      id: notice.id,
      origin,
      received_at: receivedAtMs,
      expires_at: notice.expiresAt * 1000,
      notice: JSON.stringify(noticeToJson(notice)),
    };
    if (this.#bytes + rowBytes(row) > this.maxBytes) return "over-cap";
    this.#bytes += rowBytes(row);
    this.#perOrigin.set(origin, count + 1);
    this.#pending.set(key, row);
    if (this.#timer === null) {
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = null;
        this.flush().catch(() => {});
      }, this.flushMs);
    }
    return "added";
  }

  /** Writes queued notices now. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.size === 0) return;
      const rows = [...this.#pending.values()];
      if (this.#writer !== undefined) {
        await this.#writer.batch(
          INSERT_SQL,
          rows.map((r) => [r.key, r.id, r.origin, r.received_at, r.expires_at, r.notice]),
        );
      } else {
        await this.#db.transaction().execute(async (trx) => {
          for (let i = 0; i < rows.length; i += 200) {
            await trx.insertInto("dht_notices").values(rows.slice(i, i + 200))
              .onConflict((oc) => oc.column("key").doNothing()).execute();
          }
        });
      }
      for (const r of rows) this.#pending.delete(r.key);
    });
    return this.#flushing;
  }

  /** See {@link NoticeStore.since}. Cursor: "<received_at>:<key>". */
  async since(sinceMs: number, after: string | null, limit: number, nowMs: number): Promise<
    NoticePage
  > {
    await this.flush();
    let q = this.#db.selectFrom("dht_notices").select(["key", "received_at", "notice"])
      .where("expires_at", ">", nowMs).where("received_at", ">=", sinceMs);
    const m = after === null ? null : /^(\d+):([0-9a-f:]+)$/.exec(after);
    if (m) {
      const at = Number(m[1]), key = m[2]!;
      q = q.where((eb) =>
        eb.or([
          eb("received_at", ">", at),
          eb.and([eb("received_at", "=", at), eb("key", ">", key)]),
        ])
      );
    }
    const rows = await q.orderBy("received_at").orderBy("key").limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const notices: Notice[] = [];
    for (const r of page) {
      try {
        notices.push(parseNotice(JSON.parse(r.notice)));
      } catch {
        // a damaged row is skipped
      }
    }
    const last = page[page.length - 1];
    return {
      notices,
      next: rows.length > limit && last ? `${Number(last.received_at)}:${last.key}` : null,
    };
  }

  /** Notices of message `id` (one per origin that announced it). */
  async byMessageId(id: string): Promise<Notice[]> {
    const out: Notice[] = [];
    for (const p of this.#pending.values()) {
      if (p.id === id) out.push(parseNotice(JSON.parse(p.notice)));
    }
    const rows = await this.#db.selectFrom("dht_notices").select("notice").where("id", "=", id)
      .limit(8).execute();
    for (const r of rows) {
      try {
        const n = parseNotice(JSON.parse(r.notice));
        if (!out.some((o) => noticeKey(o) === noticeKey(n))) out.push(n);
      } catch {
        // skip
      }
    }
    return out;
  }

  /** Deletes expired notices and recounts origins; returns how many were deleted. */
  async sweep(): Promise<number> {
    await this.flush();
    const now = this.#clock.now();
    let deleted: number;
    if (this.#writer !== undefined) {
      const out = await this.#writer.batch(
        "DELETE FROM dht_notices WHERE expires_at <= ? RETURNING key",
        [[now]],
      );
      deleted = out[0]?.length ?? 0;
    } else {
      const r = await this.#db.deleteFrom("dht_notices").where("expires_at", "<=", now)
        .executeTakeFirst();
      deleted = Number(r.numDeletedRows ?? 0);
    }
    await this.#countOrigins();
    return deleted;
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.flush();
  }
}
