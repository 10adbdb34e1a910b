/**
 * The SQLite write path runs on its own thread: a worker with its own connection performs each
 * group commit (and its fsync), so the event loop keeps reading requests while the disk syncs.
 * The worker's source is embedded as a string (a blob-URL module), so the one-file bundle needs
 * no file from the source tree.
 *
 * @module
 */
import type { InsertOutcome, NewMessage, StoredMessage } from "./store.ts";

const WORKER_SOURCE = `
import { DatabaseSync } from "node:sqlite";
let db, insert, select;
function open(path) {
  db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA busy_timeout = 10000");
  insert = db.prepare("INSERT INTO messages (id, tag, payload, size, received_at, expires_at, origin) " +
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING seq");
  select = db.prepare("SELECT * FROM messages WHERE id = ?");
}
function insertBatch(messages) {
  const out = [];
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const m of messages) {
      const row = insert.get(m.id, m.tag, m.payload, m.size, m.receivedAt, m.expiresAt, m.origin);
      if (row !== undefined) out.push({ inserted: true, seq: Number(row.seq) });
      else out.push({ inserted: false, row: select.get(m.id) });
    }
    db.exec("COMMIT");
  } catch (err) {
    try { db.exec("ROLLBACK"); } catch { /* already rolled back */ }
    throw err;
  }
  return out;
}
self.onmessage = (e) => {
  const { id, op, arg } = e.data;
  try {
    let result;
    if (op === "open") result = open(arg);
    else if (op === "insertBatch") result = insertBatch(arg);
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
