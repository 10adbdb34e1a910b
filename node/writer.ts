/**
 * The single writer: every insert (local POSTs and messages learned from peers) is queued here
 * and written in group commits — one transaction, one fsync, for everything that arrived while
 * the previous commit ran. A submit resolves only after its commit is durable. After each commit
 * the listeners (long-poll hub, federation) hear about the newly inserted messages.
 *
 * The commits are pipelined where the store allows it ({@linkcode Store.maxWritesInFlight}):
 * each macrotask's submits go to the store at once, without waiting for the commit in flight,
 * so the SQLite writer thread finds the next group waiting the moment its fsync ends and joins
 * every group that arrived meanwhile into one transaction. Waiting for each reply before sending
 * the next batch left that thread idle about half the time (the reply, the answers to the
 * clients and the next hand-off all happened between two commits) and cut ingest to about a
 * quarter of what the engine does alone. Batches are counted in the order they were handed over
 * (PostgreSQL may finish them out of order), so counters, `lastSeq` and the listeners see
 * commits in sequence order.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { diskFullError, isDiskFullError } from "./data_dir.ts";
import { HttpError } from "./errors.ts";
import type { Logger } from "./log.ts";
import {
  chargedBytes,
  type InsertOutcome,
  type NewMessage,
  type PayloadFill,
  type Store,
  type StoredMessage,
} from "./store/mod.ts";

interface PendingFill {
  fill: PayloadFill;
  resolve: (filled: boolean) => void;
  reject: (e: unknown) => void;
}

interface Pending {
  message: NewMessage;
  resolve: (o: InsertOutcome) => void;
  reject: (e: unknown) => void;
}

/** The share of the writer queue that rows learned from peers may occupy. */
export const REMOTE_QUEUE_SHARE = 0.5;

/** Options for {@linkcode Writer}. */
export interface WriterOptions {
  store: Store;
  log: Logger;
  /** Most messages per commit. */
  maxBatch: number;
  /** Most messages waiting; past it submits fail with 503. */
  maxQueue: number;
  /** Storage cap in bytes; past it submits fail with 507. */
  maxStoreBytes: number;
  /** Bytes already stored when the writer starts. */
  usedBytes: number;
  /** The highest sequence number stored when the writer starts. */
  lastSeq: number;
  /** Rows stored when the writer starts. */
  storedCount: number;
}

/**
 * Called after commits with the messages they newly inserted (oldest first); commits that
 * settle together are heard in one call.
 */
export type CommitListener = (inserted: readonly StoredMessage[]) => void;

/** Group-committing single writer. */
export class Writer {
  #opts: WriterOptions;
  #queue: Pending[] = [];
  #fills: PendingFill[] = [];
  #queuedBytes = 0;
  #usedBytes: number;
  #lastSeq: number;
  #storedCount: number;
  /** Commits handed to the store and not yet answered. */
  #inFlight = new Set<Promise<void>>();
  #maxInFlight: number;
  /** Inserted messages not yet handed to the listeners (see `#tell`). */
  #heard: StoredMessage[] = [];
  #telling = false;
  /** Settles once the latest commit handed to the store has been counted. */
  #lastCommit: Promise<void> = Promise.resolve();
  #scheduled = false;
  #closed = false;
  #listeners: CommitListener[] = [];
  /** Commits performed and messages they wrote, for metrics. */
  readonly stats = {
    commits: 0,
    inserted: 0,
    duplicates: 0,
    lastBatch: 0,
    /** Times the disk filled up (each episode ends with a successful commit). */
    diskFullEpisodes: 0,
    /** Messages and bodies refused with 507 because the disk was full. */
    diskFullRefusals: 0,
  };
  #diskFull = false;

  constructor(opts: WriterOptions) {
    this.#opts = opts;
    this.#usedBytes = opts.usedBytes;
    this.#lastSeq = opts.lastSeq;
    this.#storedCount = opts.storedCount;
    this.#maxInFlight = Math.max(1, opts.store.maxWritesInFlight ?? 1);
  }

  /** Rows stored (messages and notices), kept current by commits and sweeps. */
  get storedCount(): number {
    return this.#storedCount;
  }

  /**
   * The highest sequence number readers may see: every row up to it is committed (cursors
   * beyond it are unknown). With several processes on one PostgreSQL database it is the shared
   * watermark (`store/pg_shared.ts`), which also covers the other processes' commits.
   */
  get lastSeq(): number {
    return this.#opts.store.shared?.watermark ?? this.#lastSeq;
  }

  /**
   * Brings {@linkcode lastSeq} up to date with every commit this process has heard of, here or
   * in the other processes on the database (see `store/pg_shared.ts`); readers call it before
   * they query; `force` reads the database even when nothing was heard. At once with one
   * process. Returns whether there are other processes to hear from.
   */
  async refreshLastSeq(force = false): Promise<boolean> {
    const shared = this.#opts.store.shared;
    if (shared === undefined) return false;
    await (force ? shared.refresh() : shared.fresh());
    return true;
  }

  /**
   * Replaces the byte and row counts with the database's (several processes write one
   * database; each counts only its own commits in between).
   */
  resync(counts: { usedBytes: number; storedCount: number }): void {
    this.#usedBytes = counts.usedBytes;
    this.#storedCount = counts.storedCount;
  }

  /** Bytes charged for stored payloads. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Messages and fills waiting to be committed. */
  get queueLength(): number {
    return this.#queue.length + this.#fills.length;
  }

  /** Adds a listener called after every commit. */
  onCommit(listener: CommitListener): void {
    this.#listeners.push(listener);
  }

  /** True when a message of `bytes` charged bytes would fit under the storage cap now. */
  hasRoom(bytes: number): boolean {
    return this.#usedBytes + this.#queuedBytes + bytes <= this.#opts.maxStoreBytes;
  }

  /**
   * Queues a message and resolves once it is durably committed (or was already stored).
   * Throws 503 when the queue is full (for `remote` rows: its remote share), 507 when the store
   * is full.
   */
  async submit(message: NewMessage, opts: { remote?: boolean } = {}): Promise<InsertOutcome> {
    if (this.#closed) {
      throw new HttpError(503, "The node is shutting down", { headers: { "retry-after": "5" } });
    }
    // Rows learned from peers may fill only part of the queue: local POSTs always find room.
    const room = opts.remote ? this.#opts.maxQueue * REMOTE_QUEUE_SHARE : this.#opts.maxQueue;
    if (this.#queue.length >= room) {
      throw new HttpError(503, "The write queue is full; retry shortly", {
        headers: { "retry-after": "1" },
      });
    }
    const bytes = chargedBytes(message);
    if (!this.hasRoom(bytes)) {
      const [earlier] = await this.#opts.store.existing([message.id]);
      if (earlier !== undefined) return { message: earlier, inserted: false };
      throw new HttpError(507, "The node's storage is full; try another server or later");
    }
    this.#queuedBytes += bytes;
    const p = new Promise<InsertOutcome>((resolve, reject) => {
      this.#queue.push({ message, resolve, reject });
    });
    this.#schedule();
    return await p;
  }

  /**
   * Fills in the body of a row held as a notice (a copy kept from another server), in the next
   * commit. Resolves true when it was filled and counted; false when the row is gone, already
   * has its body, or its size does not match; throws 503/507 like {@linkcode submit}.
   */
  async fill(fill: PayloadFill): Promise<boolean> {
    if (this.#closed) {
      throw new HttpError(503, "The node is shutting down", { headers: { "retry-after": "5" } });
    }
    if (this.queueLength >= this.#opts.maxQueue) {
      throw new HttpError(503, "The write queue is full; retry shortly", {
        headers: { "retry-after": "1" },
      });
    }
    const bytes = chargedBytes(fill);
    if (!this.hasRoom(bytes)) {
      throw new HttpError(507, "The node's storage is full; try another server or later");
    }
    this.#queuedBytes += bytes;
    const p = new Promise<boolean>((resolve, reject) => {
      this.#fills.push({ fill, resolve, reject });
    });
    this.#schedule();
    return await p;
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight.size >= this.#maxInFlight) return;
    this.#scheduled = true;
    // After this turn's I/O, so that every request already read joins the commit. Not a
    // setTimeout: a zero timer waits for the next timer tick (1–4 ms here), which every
    // commit paid on top of its fsync.
    setImmediate(() => {
      this.#scheduled = false;
      while (this.queueLength > 0 && this.#inFlight.size < this.#maxInFlight) {
        const flushing: Promise<void> = this.#flush().finally(() => {
          this.#inFlight.delete(flushing);
          if (this.queueLength > 0) this.#schedule();
        });
        this.#inFlight.add(flushing);
      }
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0, this.#opts.maxBatch);
    const fills = this.#fills.splice(0, this.#opts.maxBatch);
    // Both go to the store now (it keeps their order); neither waits for the other's reply.
    const filling = fills.length > 0 ? this.#flushFills(fills) : undefined;
    if (batch.length > 0) await this.#commit(batch);
    await filling;
  }

  async #commit(batch: Pending[]): Promise<void> {
    let bytes = 0;
    for (const p of batch) bytes += chargedBytes(p.message);
    // Commits may finish out of order (PostgreSQL); they are counted and heard in order.
    const previous = this.#lastCommit;
    const done = Promise.withResolvers<void>();
    this.#lastCommit = done.promise;
    try {
      const outcomes = await this.#opts.store.insertBatch(batch.map((p) => p.message));
      await previous;
      const inserted: StoredMessage[] = [];
      let spent = 0;
      for (const o of outcomes) {
        if (o.spent) spent++;
        if (o.inserted) {
          inserted.push(o.message);
          this.#usedBytes += chargedBytes(o.message);
          if (o.message.seq > this.#lastSeq) this.#lastSeq = o.message.seq;
          this.#storedCount++;
        }
      }
      this.#queuedBytes -= bytes;
      this.stats.commits++;
      this.stats.inserted += inserted.length;
      this.stats.duplicates += outcomes.length - inserted.length - spent;
      this.stats.lastBatch = batch.length;
      this.#tell(inserted);
      batch.forEach((p, i) => p.resolve(outcomes[i]!));
      this.#resumed();
    } catch (err) {
      await previous;
      this.#queuedBytes -= bytes;
      const e = this.#failure(err, "commit failed", "messages", batch.length);
      for (const p of batch) p.reject(e);
    } finally {
      done.resolve();
    }
  }

  /**
   * Hands newly inserted messages to the listeners once the commits that settled in this turn
   * are all counted: batches that shared one store transaction reach the listeners together
   * (federation signs one notice group per call).
   */
  #tell(inserted: StoredMessage[]): void {
    if (inserted.length === 0) return;
    this.#heard.push(...inserted);
    if (this.#telling) return;
    this.#telling = true;
    setImmediate(() => {
      this.#telling = false;
      const heard = this.#heard;
      this.#heard = [];
      for (const l of this.#listeners) {
        try {
          l(heard);
        } catch (err) {
          this.#opts.log.error("commit listener failed", { err });
        }
      }
    });
  }

  async #flushFills(fills: PendingFill[]): Promise<void> {
    let bytes = 0;
    for (const f of fills) bytes += chargedBytes(f.fill);
    try {
      const filled = await this.#opts.store.fillPayloads(fills.map((f) => f.fill));
      this.#queuedBytes -= bytes;
      fills.forEach((f, i) => {
        if (filled[i]) this.#usedBytes += chargedBytes(f.fill);
        f.resolve(filled[i] === true);
      });
    } catch (err) {
      this.#queuedBytes -= bytes;
      const e = this.#failure(err, "filling bodies failed", "bodies", fills.length);
      for (const f of fills) f.reject(e);
      return;
    }
    this.#resumed();
  }

  /**
   * A failed commit: a full disk becomes 507 with `Retry-After`, logged once per episode (until
   * a commit succeeds again); anything else is logged and passed on.
   */
  #failure(err: unknown, what: string, unit: string, count: number): unknown {
    if (!isDiskFullError(err)) {
      this.#opts.log.error(what, { err, [unit]: count });
      return err;
    }
    this.stats.diskFullRefusals += count;
    if (!this.#diskFull) {
      this.#diskFull = true;
      this.stats.diskFullEpisodes++;
      this.#opts.log.error("the disk is full: refusing writes with 507 until space returns", {
        err: (err as Error).message ?? String(err),
      });
    }
    return diskFullError();
  }

  #resumed(): void {
    if (!this.#diskFull) return;
    this.#diskFull = false;
    this.#opts.log.info("the disk has room again: writes resumed");
  }

  /** True between a commit that failed on a full disk and the next one that succeeds. */
  get diskFull(): boolean {
    return this.#diskFull;
  }

  /**
   * Deletes a notice row (payload `null`) of `id` under `tag`, so that a notice proven right by
   * its body can take its place with {@linkcode submit}. Notices hold no charged bytes.
   */
  async dropNotice(id: Uint8Array, tag: Uint8Array): Promise<boolean> {
    const dropped = await this.#opts.store.dropNotice(id, tag);
    if (dropped) this.#storedCount--;
    return dropped;
  }

  /** Deletes expired messages and returns how many. */
  async sweep(now: number): Promise<number> {
    const { count, bytes } = await this.#opts.store.deleteExpired(now);
    this.#usedBytes -= bytes;
    this.#storedCount -= count;
    return count;
  }

  /** Stops taking submits and waits until everything queued is committed. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.queueLength > 0 || this.#inFlight.size > 0 || this.#scheduled || this.#telling) {
      if (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
      else await new Promise((r) => setTimeout(r, 1));
    }
  }
}
