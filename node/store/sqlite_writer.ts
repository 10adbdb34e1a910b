/**
 * The SQLite write path runs on its own thread: a worker with its own connection performs each
 * group commit (and its fsync), so the event loop keeps reading requests while the disk syncs.
 * Besides message inserts it runs generic statement batches for other hot writes.
 * The worker's source is embedded as a string (a blob-URL module), so the one-file bundle needs
 * no file from the source tree.
 *
 * @module
 */
import type { InsertOutcome, NewMessage, StoredMessage } from "./store.ts";

const WORKER_SOURCE = `
import { DatabaseSync } from "node:sqlite";
let db;
const statements = new Map();
function prepare(sql) {
  let s = statements.get(sql);
  if (s === undefined) {
    if (statements.size >= 64) statements.clear();
    s = db.prepare(sql);
    statements.set(sql, s);
  }
  return s;
}
function open(path) {
  db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA busy_timeout = 10000");
}
function transaction(fn) {
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (err) {
    try { db.exec("ROLLBACK"); } catch { /* already rolled back */ }
    throw err;
  }
}
function insertBatch(messages) {
  const insert = prepare("INSERT INTO messages (id, tag, payload, size, received_at, expires_at, origin) " +
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING seq");
  const select = prepare("SELECT * FROM messages WHERE id = ?");
  return transaction(() => messages.map((m) => {
    const row = insert.get(m.id, m.tag, m.payload, m.size, m.receivedAt, m.expiresAt, m.origin);
    return row !== undefined
      ? { inserted: true, seq: Number(row.seq) }
      : { inserted: false, row: select.get(m.id) };
  }));
}
function batch({ sql, rows }) {
  const stmt = prepare(sql);
  return transaction(() => rows.map((params) => stmt.all(...params)));
}
self.onmessage = (e) => {
  const { id, op, arg } = e.data;
  try {
    let result;
    if (op === "open") result = open(arg);
    else if (op === "insertBatch") result = insertBatch(arg);
    else if (op === "batch") result = batch(arg);
    else if (op === "close") { db?.close(); result = null; }
    self.postMessage({ id, result });
  } catch (err) {
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};
`;

type Reply = { id: number; result?: unknown; error?: string };
type WorkerRow = {
  inserted: boolean;
  seq?: number;
  row?: {
    seq: number;
    id: Uint8Array;
    tag: Uint8Array;
    payload: Uint8Array | null;
    size: number;
    received_at: number;
    expires_at: number;
    origin: string | null;
  };
};

/** A dedicated writer thread for one SQLite file. */
export class SqliteWriteWorker {
  #worker: Worker;
  #url: string;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor() {
    this.#url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    this.#worker = new Worker(this.#url, { type: "module" });
    this.#worker.onmessage = (e: MessageEvent<Reply>) => {
      const p = this.#pending.get(e.data.id);
      if (!p) return;
      this.#pending.delete(e.data.id);
      if (e.data.error !== undefined) p.reject(new Error(`SQLite writer: ${e.data.error}`));
      else p.resolve(e.data.result);
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      for (const p of this.#pending.values()) {
        p.reject(new Error(`SQLite writer died: ${e.message}`));
      }
      this.#pending.clear();
    };
  }

  /** Starts a writer thread on the (already migrated) database at `path`. */
  static async open(path: string): Promise<SqliteWriteWorker> {
    const w = new SqliteWriteWorker();
    await w.#call("open", path);
    return w;
  }

  #call(op: string, arg?: unknown): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, op, arg });
    });
  }

  /** Inserts a batch in one transaction (one fsync) on the writer thread. */
  async insertBatch(messages: readonly NewMessage[]): Promise<InsertOutcome[]> {
    const rows = await this.#call("insertBatch", messages) as WorkerRow[];
    return rows.map((r, i): InsertOutcome => {
      const m = messages[i]!;
      if (r.inserted) {
        const message: StoredMessage = {
          seq: r.seq!,
          id: m.id,
          tag: m.tag,
          payload: m.payload,
          size: m.size,
          receivedAt: m.receivedAt,
          expiresAt: m.expiresAt,
          origin: m.origin,
        };
        return { message, inserted: true };
      }
      const row = r.row!;
      return {
        inserted: false,
        message: {
          seq: Number(row.seq),
          id: new Uint8Array(row.id),
          tag: new Uint8Array(row.tag),
          payload: row.payload === null ? null : new Uint8Array(row.payload),
          size: Number(row.size),
          receivedAt: Number(row.received_at),
          expiresAt: Number(row.expires_at),
          origin: row.origin,
        },
      };
    });
  }

  /**
   * Runs one statement once per parameter row, all in one transaction (one fsync), and returns
   * each run's result rows. For other tables' hot writes (e.g. the spent-token set).
   */
  async batch(
    sql: string,
    rows: readonly (readonly (null | number | string | Uint8Array)[])[],
  ): Promise<Record<string, unknown>[][]> {
    return await this.#call("batch", { sql, rows }) as Record<string, unknown>[][];
  }

  /** Closes the connection and ends the thread. */
  async close(): Promise<void> {
    try {
      await this.#call("close");
    } finally {
      this.#worker.terminate();
      URL.revokeObjectURL(this.#url);
    }
  }
}
