/**
 * Opens a feature's own database with its own migrations, the one way every feature does it.
 *
 * - SQLite: the file `<data>/<name>.db` (WAL, `synchronous = FULL`), apart from `subspace.db`:
 *   SQLite has one writer per file and the message writer thread holds that lock for its group
 *   commits, so a feature sharing the file would wait for (and block the event loop behind) them.
 *   With `writerThread`, hot inserts can run on a writer thread of that file.
 * - PostgreSQL: the node's own database and pool (row locks keep writers apart), with the
 *   migration bookkeeping in `<name>_migration` so each feature migrates on its own.
 *
 * @module
 */
import { Kysely } from "kysely";
import { type Migration, Migrator } from "kysely/migration";
import { join } from "node:path";
import type { Dialect, DialectMigration } from "./migrations.ts";
import { openSqlite } from "./sqlite_dialect.ts";
import { damagedDatabaseError } from "../data_dir.ts";
import { SqliteWriteWorker } from "./sqlite_writer.ts";

/** An open feature database. */
export interface FeatureDatabaseHandle {
  readonly dialect: Dialect;
  // deno-lint-ignore no-explicit-any
  readonly db: Kysely<any>;
  readonly writer?: SqliteWriteWorker;
  readonly location: string;
  close(): Promise<void>;
}

/** Options for {@linkcode openFeatureDatabase}. */
export interface OpenFeatureDatabaseOptions {
  /** The store's engine and (PostgreSQL) handle to share. */
  // deno-lint-ignore no-explicit-any
  store: { readonly dialect: Dialect; readonly db: Kysely<any>; readonly location: string };
  dataDir: string;
  /** Feature name: `[a-z][a-z0-9_]*`, used for the file and the migration table. */
  name: string;
  migrations: Record<string, DialectMigration>;
  writerThread?: boolean;
}

/**
 * Opens and migrates a feature database.
 *
 * @example
 * ```ts ignore
 * const fdb = await openFeatureDatabase({ store, dataDir: "./data", name: "quota", migrations });
 * await fdb.close();
 * ```
 */
export async function openFeatureDatabase(
  opts: OpenFeatureDatabaseOptions,
): Promise<FeatureDatabaseHandle> {
  const { store, name } = opts;
  if (!/^[a-z][a-z0-9_]*$/.test(name)) {
    throw new TypeError(`Cannot open a feature database: bad name "${name}"`);
  }
  // deno-lint-ignore no-explicit-any
  let db: Kysely<any> = store.db;
  let location = store.location;
  let ownDb = false;
  if (store.dialect === "sqlite") {
    await Deno.mkdir(opts.dataDir, { recursive: true });
    location = join(opts.dataDir, `${name}.db`);
    try {
      db = new Kysely({ dialect: openSqlite(location).dialect });
    } catch (err) {
      throw damagedDatabaseError(location, err) ?? err;
    }
    ownDb = true;
  }
  const migrations: Record<string, Migration> = {};
  for (const [k, m] of Object.entries(opts.migrations)) migrations[k] = m(store.dialect);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: `${name}_migration`,
    migrationLockTableName: `${name}_migration_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    if (ownDb) await db.destroy();
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    const damaged = damagedDatabaseError(location, error);
    if (damaged !== undefined && store.dialect === "sqlite") throw damaged;
    throw new Error(
      `Cannot migrate the ${name} database ${location} (${failed}): ${(error as Error).message}`,
    );
  }
  const writer = opts.writerThread && store.dialect === "sqlite"
    ? await SqliteWriteWorker.open(location)
    : undefined;
  const close = async () => {
    await writer?.close();
    if (ownDb) await db.destroy();
  };
  return writer === undefined
    ? { dialect: store.dialect, db, location, close }
    : { dialect: store.dialect, db, location, writer, close };
}
