/**
 * The message store (SQLite or PostgreSQL through kysely).
 *
 * @module
 */
export * from "./store.ts";
export { type Dialect, type DialectMigration, MIGRATIONS } from "./migrations.ts";
export { openSqlite } from "./sqlite_dialect.ts";
export { SqliteWriteWorker } from "./sqlite_writer.ts";
