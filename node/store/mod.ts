/**
 * The message store (SQLite or PostgreSQL through kysely), and the opener of feature databases.
 *
 * @module
 */
export * from "./store.ts";
export { type Dialect, type DialectMigration } from "./migrations.ts";
export {
  type FeatureDatabaseHandle,
  openFeatureDatabase,
  type OpenFeatureDatabaseOptions,
} from "./feature_db.ts";
export { openSqlite } from "./sqlite_dialect.ts";
export { SqliteWriteWorker } from "./sqlite_writer.ts";
export { JOB_LOCK_CLASS, jobKey, PgShared } from "./pg_shared.ts";
