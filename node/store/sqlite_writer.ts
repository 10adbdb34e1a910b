/**
 * The SQLite write path runs on its own thread: a worker with its own connection performs each
 * group commit (and its fsync), so the event loop keeps reading requests while the disk syncs.
 * Besides message inserts it runs generic statement batches for other hot writes.
 * The worker's source is embedded as a string (a blob-URL module), so the one-file bundle needs
 * no file from the source tree.
 *
 * @module
 */
import type { InsertOutcome, NewMessage } from "./store.ts";
import { type MessageRow, spentOutcome, storedAs, toMessage } from "./row.ts";

/** How often the checkpointer thread copies the write-ahead log into the database file. */
export const CHECKPOINT_INTERVAL_MS = 250;
/** WAL frames (pages) past which the checkpointer restarts the log (about 64 MiB). */
export const MAX_WAL_FRAMES = 16384;

/**
 * Numbers per message in a packed insert: id, tag and payload lengths, size, two times, and the
 * nonce's length (-1 for none) and expiry.
 */
const PACKED_FIELDS = 8;

/** Records one spent nonce; returns a row only when it is new (SQLite, on the writer thread). */
export const SPEND_SQL = "INSERT INTO spent_nonces (nonce, expires_at) VALUES (?, ?) " +
  "ON CONFLICT (nonce) DO NOTHING RETURNING nonce";

const WORKER_SOURCE = `
import { DatabaseSync } from "node:sqlite";
import { receiveMessageOnPort } from "node:worker_threads";
let db;
let port;
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
// Message inserts arrive packed (see packMessages) and are committed in groups: every request
// queued for this thread when it turns to the port goes into one transaction, so the thread
// starts the next commit (and its fsync) as soon as one ends with everything that arrived
// meanwhile, and with no wait when it was idle. A request is answered only once the
// transaction holding it is durable.
function insertRows(packed) {
  const nums = new Float64Array(packed.nums);
  const bytes = new Uint8Array(packed.bytes);
  const origins = packed.origins;
  const insert = prepare("INSERT INTO messages (id, tag, payload, size, received_at, expires_at, origin) " +
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING seq");
  const select = prepare("SELECT * FROM messages WHERE id = ?");
  const n = origins.length;
  const seqs = new Float64Array(n);
  const earlier = [];
  let off = 0;
  for (let i = 0; i < n; i++) {
    const f = i * ${PACKED_FIELDS};
    const idLen = nums[f], tagLen = nums[f + 1], payloadLen = nums[f + 2], nonceLen = nums[f + 6];
    const id = bytes.subarray(off, off += idLen);
    const tag = bytes.subarray(off, off += tagLen);
    const payload = payloadLen < 0 ? null : bytes.subarray(off, off += payloadLen);
    if (nonceLen >= 0) {
      // The nonce that pays for the message, in the same transaction: spent before, no message.
      const nonce = bytes.subarray(off, off += nonceLen);
      if (spend().get(nonce, nums[f + 7]) === undefined) {
        seqs[i] = -1;
        continue;
      }
    }
    const row = insert.get(id, tag, payload, nums[f + 3], nums[f + 4], nums[f + 5], origins[i]);
    if (row !== undefined) seqs[i] = Number(row.seq);
    else earlier.push([i, select.get(id)]);
  }
  return { seqs, earlier };
}
function spend() {
  return prepare(${JSON.stringify(SPEND_SQL)});
}
function commitInserts(requests) {
  if (requests.length === 0) return;
  let results;
  try {
    results = transaction(() => requests.map((r) => insertRows(r.arg)));
  } catch (err) {
    // One bad request must not fail the others that shared its transaction: alone, each
    // commits or fails on its own.
    if (requests.length > 1) {
      for (const r of requests) commitInserts([r]);
      return;
    }
    port.postMessage({ id: requests[0].id, error: String(err?.message ?? err) });
    return;
  }
  // One reply for the whole transaction: the main thread settles all its batches in one turn.
  port.postMessage(
    { replies: requests.map((r, i) => ({ id: r.id, result: results[i] })) },
    results.map((r) => r.seqs.buffer),
  );
}
function batch({ sql, rows }) {
  const stmt = prepare(sql);
  return transaction(() => rows.map((params) => stmt.all(...params)));
}
function run({ id, op, arg }) {
  try {
    let result;
    if (op === "open") result = open(arg);
    else if (op === "batch") result = batch(arg);
    else if (op === "close") { clearInterval(checkpointTimer); db?.close(); result = null; }
    port.postMessage({ id, result });
  } catch (err) {
    port.postMessage({ id, error: String(err?.message ?? err) });
  }
}
// Takes every request queued on the port; other operations keep their place in line behind
// the inserts sent before them.
function drain(first) {
  let inserts = [];
  for (let m = first; m !== undefined; m = receiveMessageOnPort(port)?.message) {
    if (m.op === "insert") inserts.push(m);
    else {
      commitInserts(inserts);
      inserts = [];
      run(m);
    }
  }
  commitInserts(inserts);
}
self.onmessage = (e) => {
  port = e.data.port;
  port.onmessage = (m) => drain(m.data);
};
`;

type Reply = { id: number; result?: unknown; error?: string };
type Replies = Reply | { replies: Reply[] };
type InsertReply = { seqs: Float64Array; earlier: [number, MessageRow][] };

/**
 * Packs messages into two buffers that move to the writer thread without a copy: the bytes of
 * every id, tag and payload back to back, and per message its lengths (payload -1 for none),
 * size and times. Cloning the messages instead costs the event loop about a tenth of its time
 * at full ingest (one object graph and one buffer per field).
 */
function packMessages(messages: readonly NewMessage[]) {
  let total = 0;
  for (const m of messages) {
    total += m.id.length + m.tag.length + (m.payload?.length ?? 0) + (m.spend?.nonce.length ?? 0);
  }
  const bytes = new Uint8Array(total);
  const nums = new Float64Array(messages.length * PACKED_FIELDS);
  const origins: (string | null)[] = new Array(messages.length);
  let off = 0;
  messages.forEach((m, i) => {
    bytes.set(m.id, off);
    off += m.id.length;
    bytes.set(m.tag, off);
    off += m.tag.length;
    if (m.payload !== null) {
      bytes.set(m.payload, off);
      off += m.payload.length;
    }
    if (m.spend !== undefined) {
      bytes.set(m.spend.nonce, off);
      off += m.spend.nonce.length;
    }
    nums.set([
      m.id.length,
      m.tag.length,
      m.payload?.length ?? -1,
      m.size,
      m.receivedAt,
      m.expiresAt,
      m.spend?.nonce.length ?? -1,
      m.spend?.expiresAt ?? 0,
    ], i * PACKED_FIELDS);
    origins[i] = m.origin;
  });
  // Bare ArrayBuffers: the thread takes its requests with receiveMessageOnPort, which walks
  // a message's values (every element of a typed array) and would cost it a sixth of its time.
  return {
    arg: { nums: nums.buffer, bytes: bytes.buffer, origins },
    transfer: [bytes.buffer, nums.buffer],
  };
}

/** A dedicated writer thread for one SQLite file. */
export class SqliteWriteWorker {
  #worker: Worker;
  /** Every request and reply travels here (see the worker's `drain`). */
  #port: MessagePort;
  #url: string;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor() {
    this.#url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    this.#worker = new Worker(this.#url, { type: "module" });
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker.postMessage({ port: port2 }, [port2]);
    const settle = (r: Reply) => {
      const p = this.#pending.get(r.id);
      if (!p) return;
      this.#pending.delete(r.id);
      if (r.error !== undefined) p.reject(new Error(`SQLite writer: ${r.error}`));
      else p.resolve(r.result);
    };
    this.#port.onmessage = (e: MessageEvent<Replies>) => {
      if ("replies" in e.data) e.data.replies.forEach(settle);
      else settle(e.data);
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

  #call(op: string, arg?: unknown, transfer: Transferable[] = []): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#port.postMessage({ id, op, arg }, transfer);
    });
  }

  /**
   * Inserts a batch on the writer thread and resolves once the transaction holding it is
   * durable. Batches sent while a commit runs share the next transaction (one fsync); each
   * batch is atomic and they commit in the order they were sent, so callers may send the next
   * batch without waiting for this one.
   */
  async insertBatch(messages: readonly NewMessage[]): Promise<InsertOutcome[]> {
    const { arg, transfer } = packMessages(messages);
    const { seqs, earlier } = await this.#call("insert", arg, transfer) as InsertReply;
    const outcomes = messages.map((m, i): InsertOutcome =>
      seqs[i] === -1 ? spentOutcome(m) : { message: storedAs(m, seqs[i]!), inserted: true }
    );
    for (const [i, row] of earlier) outcomes[i] = { message: toMessage(row), inserted: false };
    return outcomes;
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
      this.#port.close();
      this.#worker.terminate();
      URL.revokeObjectURL(this.#url);
    }
  }
}
