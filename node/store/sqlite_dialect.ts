/**
 * A kysely `SqliteDialect` adapter over Deno's built-in `node:sqlite`, with a bounded cache of
 * prepared statements.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { SqliteDialect } from "kysely";

const MAX_CACHED_STATEMENTS = 256;

type Param = null | number | bigint | string | Uint8Array;

class Statement {
  readonly reader: boolean;
  #stmt: StatementSync;
  constructor(stmt: StatementSync) {
    this.#stmt = stmt;
    this.reader = stmt.columns().length > 0;
  }
  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#stmt.all(...(parameters as Param[]));
  }
  run(parameters: ReadonlyArray<unknown>) {
    return this.#stmt.run(...(parameters as Param[]));
  }
  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.#stmt.iterate(...(parameters as Param[])) as IterableIterator<unknown>;
  }
}

/** Wraps an open `DatabaseSync` in the shape kysely's `SqliteDialect` expects. */
export class NodeSqliteDatabase {
  /** The underlying connection. */
  readonly raw: DatabaseSync;
  #cache = new Map<string, Statement>();
  constructor(raw: DatabaseSync) {
    this.raw = raw;
  }
  prepare(sql: string): Statement {
    let stmt = this.#cache.get(sql);
    if (stmt === undefined) {
      stmt = new Statement(this.raw.prepare(sql));
      if (this.#cache.size >= MAX_CACHED_STATEMENTS) {
        this.#cache.delete(this.#cache.keys().next().value!);
      }
      this.#cache.set(sql, stmt);
    }
    return stmt;
  }
  close(): void {
    this.#cache.clear();
    if (this.raw.isOpen) this.raw.close();
  }
}

/**
 * Opens a SQLite file in WAL mode with full fsync on commit (an acknowledged write survives a
 * crash) and returns a kysely dialect for it.
 */
export function openSqlite(path: string): { dialect: SqliteDialect; database: NodeSqliteDatabase } {
  const raw = new DatabaseSync(path);
  raw.exec("PRAGMA journal_mode = WAL");
  raw.exec("PRAGMA synchronous = FULL");
  raw.exec("PRAGMA busy_timeout = 5000");
  // Checkpoints belong to the file's checkpointer thread (see sqlite_writer.ts), never to a
  // commit on the event loop.
  raw.exec("PRAGMA wal_autocheckpoint = 0");
  raw.exec("PRAGMA foreign_keys = ON");
  const database = new NodeSqliteDatabase(raw);
  return { dialect: new SqliteDialect({ database }), database };
}
