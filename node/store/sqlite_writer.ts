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
import { type MessageRow, toMessage } from "./row.ts";

/** How often the checkpointer thread copies the write-ahead log into the database file. */
export const CHECKPOINT_INTERVAL_MS = 250;
/** WAL frames (pages) past which the checkpointer restarts the log (about 64 MiB). */
export const MAX_WAL_FRAMES = 16384;

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
let checkpointTimer;
function open({ path, checkpointMs }) {
  db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA busy_timeout = 10000");
  // No connection checkpoints on commit; a dedicated checkpointer thread does it.
  db.exec("PRAGMA wal_autocheckpoint = 0");
  if (checkpointMs) checkpointTimer = setInterval(checkpoint, checkpointMs);
}
// Copy committed WAL frames into the database file without blocking writers (PASSIVE). If the
// log still grew past the bound (writers never paused), wait for a moment to restart it.
function checkpoint() {
  try {
    const r = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get();
    if (r !== undefined && Number(r.log) > ${MAX_WAL_FRAMES}) db.exec("PRAGMA wal_checkpoint(RESTART)");
  } catch { /* busy: try again next time */ }
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
    else if (op === "close") { clearInterval(checkpointTimer); db?.close(); result = null; }
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
  row?: MessageRow;
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

  #checkpointer: SqliteWriteWorker | undefined;

  /**
   * Starts a writer thread on the (already migrated) database at `path` and, unless
   * `checkpoint` is false (another writer of the same file has one), a checkpointer thread:
   * no connection checkpoints on commit, so neither the writer's commits nor the event loop
   * ever wait for the log to be copied into the database file.
   */
  static async open(
    path: string,
    opts: { checkpoint?: boolean } = {},
  ): Promise<SqliteWriteWorker> {
    const w = new SqliteWriteWorker();
    await w.#call("open", { path });
    if (opts.checkpoint !== false) {
      const c = new SqliteWriteWorker();
      await c.#call("open", { path, checkpointMs: CHECKPOINT_INTERVAL_MS });
      w.#checkpointer = c;
    }
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
      return { inserted: false, message: toMessage(r.row!) };
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
      await this.#checkpointer?.close();
      await this.#call("close");
    } finally {
      this.#worker.terminate();
      URL.revokeObjectURL(this.#url);
    }
  }
}
