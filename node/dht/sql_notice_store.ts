/**
 * A {@link NoticeStore} in SQL, in the federation's own database (on SQLite `<data>/dht.db`,
 * written by its writer thread so no fsync stalls the event loop). Writes are queued and
 * committed in batches (one transaction every `flushMs`); reads see queued notices too.
 *
 * Layout (`migration.ts`, `0002_compact_notices`): a notice is a binary row of `dht_stored`
 * clustered by `(tag, id, gid)`, so a region is one range scan and no secondary index is kept;
 * the origin's contact and the group's signature live once in `dht_origins` and `dht_groups`,
 * named by 52-bit hashes (`oid`, `gid`) that every writer computes the same way. A notice signed
 * alone keeps its signature in its row's `siblings` (under one unsigned group of count 1 per
 * origin), and this server's own notices are kept unsigned (count 0) and signed when read.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";
import type { SqliteWriteWorker } from "../store/mod.ts";
import type { Clock, TimerId } from "./clock.ts";
import type { Contact } from "./contact.ts";
import { sha256 } from "./_hash.ts";
import { MAX_NOTICE_GROUP, type Notice, type NoticeFields, noticeKey } from "./notice.ts";
import type { AddNoticeResult, NoticePage, NoticeStore } from "./notice_store.ts";
import { regionBounds } from "./region.ts";
import { fromHex, toHex } from "../../client/mod.ts";

type Param = null | number | string | Uint8Array;

/** Bytes a stored row costs beyond its siblings (key, numbers, B-tree cell), for the cap. */
const ROW_BYTES = 110;

const enc = new TextEncoder();

/** A 52-bit integer name for `parts` (the first bits of their SHA-256). */
function hash52(...parts: string[]): number {
  const h = sha256(enc.encode(parts.join("\n")));
  return (h[0]! * 2 ** 44) + (h[1]! * 2 ** 36) + (h[2]! * 2 ** 28) + (h[3]! * 2 ** 20) +
    (h[4]! * 2 ** 12) + (h[5]! * 2 ** 4) + (h[6]! >> 4);
}

// The names are hashes; notices of one group (and origin) arrive together, so recent ones are
// remembered rather than hashed again for every notice.
const recentRefs = new Map<string, number>();
function cachedRef(key: string, make: () => number): number {
  let v = recentRefs.get(key);
  if (v === undefined) {
    v = make();
    if (recentRefs.size >= 4096) recentRefs.delete(recentRefs.keys().next().value!);
    recentRefs.set(key, v);
  }
  return v;
}

function originRef(c: Contact): number {
  return cachedRef(
    `o\n${c.id}\n${c.publicKey}\n${c.url}`,
    () => hash52("origin", c.id, c.publicKey, c.url),
  );
}

function groupRef(oid: number, signature: string): number {
  return cachedRef(`g\n${oid}\n${signature}`, () => hash52("group", String(oid), signature));
}

/**
 * The rows that store `notices` (origins and groups once each): used by the store and by the
 * migration that converts the first format.
 */
export function noticeRows(
  notices: readonly { notice: Notice; at: number }[],
  selfId?: string,
): {
  origins: Param[][];
  groups: Param[][];
  stored: Param[][];
} {
  const origins = new Map<number, Param[]>();
  const groups = new Map<number, Param[]>();
  const stored: Param[][] = [];
  for (const { notice: n, at } of notices) {
    const oid = originRef(n.origin);
    // This server's own notices are kept unsigned (count 0) and signed again when read. A notice
    // signed alone (a group of one, the common case at low load) keeps its signature in its own
    // row, under one unsigned group per origin, rather than a group row per notice.
    const own = n.origin.id === selfId;
    const single = !own && n.proof.count === 1;
    const gid = groupRef(oid, own ? "" : single ? "single" : n.signature);
    if (!origins.has(oid)) origins.set(oid, [oid, n.origin.id, n.origin.publicKey, n.origin.url]);
    if (!groups.has(gid)) {
      groups.set(gid, [
        gid,
        oid,
        own || single ? new Uint8Array(0) : fromHex(n.signature),
        own ? 0 : n.proof.count,
      ]);
    }
    const sib = single
      ? fromHex(n.signature)
      : own || n.proof.siblings.length === 0
      ? null
      : fromHex(n.proof.siblings.join(""));
    stored.push([
      fromHex(n.tag),
      fromHex(n.id),
      gid,
      n.size,
      n.expiresAt,
      n.createdAtMs,
      own ? 0 : n.proof.index,
      sib,
      at,
    ]);
  }
  return { origins: [...origins.values()], groups: [...groups.values()], stored };
}

const INSERT_ORIGIN = "INSERT INTO dht_origins (oid, node_id, public_key, url) " +
  "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
const INSERT_GROUP = "INSERT INTO dht_groups (gid, oid, sig, count) VALUES (?, ?, ?, ?) " +
  "ON CONFLICT DO NOTHING";
const INSERT_STORED = "INSERT INTO dht_stored " +
  "(tag, id, gid, size, expires_at, created_at_ms, idx, siblings, received_at) " +
  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

interface Row {
  tag: Uint8Array;
  id: Uint8Array;
  gid: number | string;
  size: number | string;
  expires_at: number | string;
  created_at_ms: number | string;
  idx: number;
  siblings: Uint8Array | null;
  received_at: number | string;
  sig: Uint8Array;
  count: number;
  node_id: string;
  public_key: string;
  url: string;
}

const SELECT = sql`SELECT s.tag, s.id, s.gid, s.size, s.expires_at, s.created_at_ms, s.idx,
  s.siblings, s.received_at, g.sig, g.count, o.node_id, o.public_key, o.url
  FROM dht_stored s JOIN dht_groups g ON g.gid = s.gid JOIN dht_origins o ON o.oid = g.oid`;

function bytesOf(v: Uint8Array | null): Uint8Array {
  return v === null ? new Uint8Array(0) : new Uint8Array(v);
}

function toNotice(r: Row): Notice {
  const sig = bytesOf(r.sig);
  // A group of one without a group signature: the row holds the notice's own signature.
  const inline = Number(r.count) === 1 && sig.length === 0;
  const sib = inline ? "" : toHex(bytesOf(r.siblings));
  const siblings: string[] = [];
  for (let i = 0; i < sib.length; i += 64) siblings.push(sib.slice(i, i + 64));
  return {
    id: toHex(bytesOf(r.id)),
    tag: toHex(bytesOf(r.tag)),
    size: Number(r.size),
    expiresAt: Number(r.expires_at),
    createdAtMs: Number(r.created_at_ms),
    origin: { id: r.node_id as Contact["id"], publicKey: r.public_key, url: r.url },
    signature: toHex(inline ? bytesOf(r.siblings) : sig),
    proof: { index: Number(r.idx), count: Number(r.count), siblings },
  };
}

function rowBytes(n: Notice, selfId: string | undefined): number {
  if (n.origin.id === selfId) return ROW_BYTES;
  return ROW_BYTES + (n.proof.count === 1 ? n.signature.length / 2 : 32 * n.proof.siblings.length);
}

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
  /**
   * This server, which signs its own notices again whenever they are read: they are stored
   * without signature and proof (a third of a signed row), since the signer is at hand.
   */
  self?: { id: string; sign(fields: readonly NoticeFields[]): Notice[] };
}

/**
 * Notices in SQL.
 *
 * @example
 * ```ts
 * const fdb = await core.openDatabase("dht", DHT_MIGRATIONS);
 * const notices = new SqlNoticeStore(fdb.db, { clock: systemClock, writer: fdb.writer });
 * await notices.init();
 * ```
 */
export class SqlNoticeStore implements NoticeStore {
  readonly maxPerOrigin: number;
  readonly flushMs: number;
  readonly maxBytes: number;
  #bytes = 0;
  // deno-lint-ignore no-explicit-any
  #db: Kysely<any>;
  #writer: SqliteWriteWorker | undefined;
  #clock: Clock;
  #pending = new Map<string, { notice: Notice; at: number }>();
  #perOrigin = new Map<string, number>();
  #timer: TimerId | null = null;
  #flushing: Promise<void> = Promise.resolve();
  #self: SqlNoticeStoreOptions["self"];

  /** A store on `db` (the federation's own database, migrated with `DHT_MIGRATIONS`). */
  // deno-lint-ignore no-explicit-any
  constructor(db: Kysely<any>, opts: SqlNoticeStoreOptions) {
    this.#db = db;
    this.#writer = opts.writer;
    this.#clock = opts.clock;
    this.maxPerOrigin = opts.maxPerOrigin ?? 100_000;
    this.flushMs = opts.flushMs ?? 50;
    this.maxBytes = opts.maxBytes ?? 1024 ** 3;
    this.#self = opts.self;
  }

  /**
   * The notices of `rows`, in order: this server's own (stored unsigned) signed again, in
   * groups; unsigned rows of another identity (a key replaced since) are left out.
   */
  #notices(rows: readonly Row[]): Notice[] {
    const out: (Notice | undefined)[] = rows.map((r) =>
      Number(r.count) === 0 ? undefined : toNotice(r)
    );
    const own: number[] = [];
    rows.forEach((r, i) => {
      if (out[i] === undefined && r.node_id === this.#self?.id) own.push(i);
    });
    for (let i = 0; i < own.length; i += MAX_NOTICE_GROUP) {
      const chunk = own.slice(i, i + MAX_NOTICE_GROUP);
      const signed = this.#self!.sign(chunk.map((j) => {
        const n = toNotice(rows[j]!);
        return {
          id: n.id,
          tag: n.tag,
          size: n.size,
          expiresAt: n.expiresAt,
          createdAtMs: n.createdAtMs,
        };
      }));
      chunk.forEach((j, k) => out[j] = signed[k]);
    }
    return out.filter((n): n is Notice => n !== undefined);
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
    const nowS = Math.floor(this.#clock.now() / 1000);
    const rows = await sql<{ node_id: string; n: string | number; b: string | number | null }>`
      SELECT o.node_id, count(*) AS n,
        sum(${sql.lit(ROW_BYTES)} + coalesce(length(s.siblings), 0)) AS b
      FROM dht_stored s JOIN dht_groups g ON g.gid = s.gid JOIN dht_origins o ON o.oid = g.oid
      WHERE s.expires_at > ${nowS} GROUP BY o.node_id`.execute(this.#db);
    this.#perOrigin = new Map(rows.rows.map((r) => [r.node_id, Number(r.n)]));
    this.#bytes = rows.rows.reduce((sum, r) => sum + Number(r.b ?? 0), 0);
    for (const p of this.#pending.values()) {
      const o = p.notice.origin.id;
      this.#perOrigin.set(o, (this.#perOrigin.get(o) ?? 0) + 1);
      this.#bytes += rowBytes(p.notice, this.#self?.id);
    }
  }

  /** See {@link NoticeStore.has}. */
  async has(key: string, tag?: string): Promise<boolean> {
    if (this.#pending.has(key)) return true;
    if (tag === undefined) return false;
    const [id, origin] = key.split(":");
    return (await this.byMessage(id!, tag)).some((n) => n.origin.id === origin);
  }

  /** See {@link NoticeStore.add}. The caller checked {@link has}; repeats are ignored. */
  add(notice: Notice, receivedAtMs: number): AddNoticeResult {
    const key = noticeKey(notice);
    if (this.#pending.has(key)) return "duplicate";
    const origin = notice.origin.id;
    const count = this.#perOrigin.get(origin) ?? 0;
    if (count >= this.maxPerOrigin) return "over-cap";
    const bytes = rowBytes(notice, this.#self?.id);
    if (this.#bytes + bytes > this.maxBytes) return "over-cap";
    this.#bytes += bytes;
    this.#perOrigin.set(origin, count + 1);
    this.#pending.set(key, { notice, at: receivedAtMs });
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
      const entries = [...this.#pending];
      const { origins, groups, stored } = noticeRows(entries.map(([, v]) => v), this.#self?.id);
      if (this.#writer !== undefined) {
        await this.#writer.batch(INSERT_ORIGIN, origins);
        await this.#writer.batch(INSERT_GROUP, groups);
        await this.#writer.batch(INSERT_STORED, stored);
      } else {
        await this.#db.transaction().execute(async (trx) => {
          const origin = (o: Param[]) => ({
            oid: o[0],
            node_id: o[1],
            public_key: o[2],
            url: o[3],
          });
          const group = (g: Param[]) => ({ gid: g[0], oid: g[1], sig: g[2], count: g[3] });
          const cols = [
            "tag",
            "id",
            "gid",
            "size",
            "expires_at",
            "created_at_ms",
            "idx",
            "siblings",
            "received_at",
          ];
          const row = (r: Param[]) => Object.fromEntries(cols.map((c, i) => [c, r[i]]));
          for (
            const [table, rows, shape] of [
              ["dht_origins", origins, origin],
              ["dht_groups", groups, group],
              ["dht_stored", stored, row],
            ] as const
          ) {
            for (let i = 0; i < rows.length; i += 200) {
              await trx.insertInto(table).values(rows.slice(i, i + 200).map(shape))
                .onConflict((oc) => oc.doNothing()).execute();
            }
          }
        });
      }
      for (const [k] of entries) this.#pending.delete(k);
    });
    return this.#flushing;
  }

  /** See {@link NoticeStore.since}: a scan in receipt order (asked for only by catch-up). */
  async since(sinceMs: number, after: string | null, limit: number, nowMs: number): Promise<
    NoticePage
  > {
    await this.flush();
    const m = after === null ? null : /^(\d+):([0-9a-f]{40}):([0-9a-f]{64}):(\d+)$/.exec(after);
    const nowS = Math.floor(nowMs / 1000);
    const cursor = m
      ? sql`AND (s.received_at, s.tag, s.id, s.gid) > (${Number(m[1])}, ${fromHex(m[2]!)},
          ${fromHex(m[3]!)}, ${Number(m[4])})`
      : sql``;
    const rows = await sql<Row>`${SELECT} WHERE s.expires_at > ${nowS}
      AND s.received_at >= ${sinceMs} ${cursor}
      ORDER BY s.received_at, s.tag, s.id, s.gid LIMIT ${limit + 1}`.execute(this.#db);
    const page = rows.rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      notices: this.#notices(page),
      next: rows.rows.length > limit && last
        ? `${Number(last.received_at)}:${toHex(bytesOf(last.tag))}:${toHex(bytesOf(last.id))}:${
          Number(last.gid)
        }`
        : null,
    };
  }

  /** See {@link NoticeStore.region}. Cursor: "<tag>:<id>:<gid>". */
  async region(
    prefix: string,
    bits: number,
    after: string | null,
    limit: number,
    nowMs: number,
  ): Promise<NoticePage> {
    await this.flush();
    const { lo, hi } = regionBounds(prefix, bits);
    const m = after === null ? null : /^([0-9a-f]{40}):([0-9a-f]{64}):(\d+)$/.exec(after);
    const nowS = Math.floor(nowMs / 1000);
    const cursor = m
      ? sql`AND (s.tag, s.id, s.gid) > (${fromHex(m[1]!)}, ${fromHex(m[2]!)}, ${Number(m[3])})`
      : sql``;
    const rows = await sql<Row>`${SELECT} WHERE s.tag >= ${fromHex(lo)} AND s.tag <= ${
      fromHex(hi)
    } AND s.expires_at > ${nowS} ${cursor} ORDER BY s.tag, s.id, s.gid LIMIT ${limit + 1}`
      .execute(this.#db);
    const page = rows.rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      notices: this.#notices(page),
      next: rows.rows.length > limit && last
        ? `${toHex(bytesOf(last.tag))}:${toHex(bytesOf(last.id))}:${Number(last.gid)}`
        : null,
    };
  }

  /** Notices of message `id` under `tag` (one per origin that announced it). */
  async byMessage(id: string, tag: string): Promise<Notice[]> {
    const out: Notice[] = [];
    for (const p of this.#pending.values()) {
      if (p.notice.id === id && p.notice.tag === tag) out.push(p.notice);
    }
    const rows = await sql<Row>`${SELECT} WHERE s.tag = ${fromHex(tag)} AND s.id = ${
      fromHex(id)
    } LIMIT 8`.execute(this.#db);
    for (const n of this.#notices(rows.rows)) {
      if (!out.some((o) => noticeKey(o) === noticeKey(n))) out.push(n);
    }
    return out;
  }

  /** Deletes expired notices (and groups and origins left without any); returns how many. */
  async sweep(): Promise<number> {
    await this.flush();
    const nowS = Math.floor(this.#clock.now() / 1000);
    const statements = [
      "DELETE FROM dht_stored WHERE expires_at <= ?",
      "DELETE FROM dht_groups WHERE NOT EXISTS " +
      "(SELECT 1 FROM dht_stored s WHERE s.gid = dht_groups.gid)",
      "DELETE FROM dht_origins WHERE NOT EXISTS " +
      "(SELECT 1 FROM dht_groups g WHERE g.oid = dht_origins.oid)",
    ];
    const before = await this.#count();
    if (this.#writer !== undefined) {
      await this.#writer.batch(statements[0]!, [[nowS]]);
      await this.#writer.batch(statements[1]!, [[]]);
      await this.#writer.batch(statements[2]!, [[]]);
    } else {
      await sql`DELETE FROM dht_stored WHERE expires_at <= ${nowS}`.execute(this.#db);
      await sql.raw(statements[1]!).execute(this.#db);
      await sql.raw(statements[2]!).execute(this.#db);
    }
    const deleted = before - await this.#count();
    await this.#countOrigins();
    return deleted;
  }

  async #count(): Promise<number> {
    const r = await sql<{ n: string | number }>`SELECT count(*) AS n FROM dht_stored`
      .execute(this.#db);
    return Number(r.rows[0]?.n ?? 0);
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.flush();
  }
}
