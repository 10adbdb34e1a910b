/**
 * The node's data folder (`--data`): who may use it, who may read it, and whether what is in it
 * can be used.
 *
 * - **One process per folder**: {@linkcode openDataDir} holds an exclusive lock on `<data>/LOCK`
 *   (which records the holder's pid) while the node runs; the kernel drops it when the process
 *   ends, however it ends. A second node on the same folder gets a {@linkcode DataDirLockedError}.
 * - **Private files**: the process's umask becomes 077, so everything created under the folder
 *   (SQLite's `-wal` and `-shm` files included) is 0600 and folders 0700; files found looser are
 *   tightened, and the node logs which.
 * - **Usable files**: every database (`*.db`), `node.key`, `issuer-keys.json` and `dht.json` is
 *   checked before anything opens it. A file that cannot be used stops the node with a
 *   {@linkcode DataFileError}: one line naming the file, what is wrong and what to do. The node
 *   never starts afresh over a damaged file.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { Buffer } from "node:buffer";
import { createPrivateKey } from "node:crypto";
import { join } from "node:path";
import process from "node:process";
import { HttpError } from "./errors.ts";
import type { Logger } from "./log.ts";

/** File name of the lock inside the data folder. */
export const LOCK_FILE = "LOCK";

/**
 * A file in the data folder that cannot be used. `message` is the one line to print: the file,
 * what is wrong, and what to do.
 */
export class DataFileError extends Error {
  /** Path of the file. */
  readonly file: string;
  /** What is wrong with it. */
  readonly problem: string;
  /** What the operator can do. */
  readonly remedy: string;
  constructor(file: string, problem: string, remedy: string) {
    super(`Cannot use ${file}: ${problem}. ${remedy}`);
    this.name = "DataFileError";
    this.file = file;
    this.problem = problem;
    this.remedy = remedy;
  }
}

/** Another process holds the data folder. */
export class DataDirLockedError extends Error {
  readonly dir: string;
  /** The holder's pid as recorded in the lock file, if readable. */
  readonly pid: number | undefined;
  constructor(dir: string, pid: number | undefined) {
    super(
      `Cannot use data folder ${dir}: another node${
        pid === undefined ? "" : ` (pid ${pid})`
      } is running on it. Stop that node, or give this one another --data folder.`,
    );
    this.name = "DataDirLockedError";
    this.dir = dir;
    this.pid = pid;
  }
}

/** The data folder holds no node (for commands that must not create one). */
export class NotADataDirError extends Error {
  readonly dir: string;
  constructor(dir: string, why: string) {
    super(
      `${dir} is not a Subspace data folder (${why}). Check --data, or start the node once with that folder to create it.`,
    );
    this.name = "NotADataDirError";
    this.dir = dir;
  }
}

/** True for the errors {@linkcode openDataDir} and the database openers throw for the operator. */
export function isDataDirError(
  err: unknown,
): err is DataFileError | DataDirLockedError | NotADataDirError {
  return err instanceof DataFileError || err instanceof DataDirLockedError ||
    err instanceof NotADataDirError;
}

/** The data folder, held by this process. */
export interface DataDir {
  readonly path: string;
  /** Files whose modes were tightened at open (relative names). */
  readonly tightened: readonly string[];
  /** Releases the lock (also released when the process ends). */
  release(): void;
}

/** Options for {@linkcode openDataDir}. */
export interface OpenDataDirOptions {
  log?: Logger;
  /** Milliseconds to wait for the lock before deciding another process holds it. */
  lockWaitMs?: number;
}

/**
 * Creates the folder if needed (0700), makes new files private (umask 077), takes the lock,
 * tightens loose modes and checks every known file. Throws {@linkcode DataDirLockedError} or
 * {@linkcode DataFileError} with a message fit to print as is.
 *
 * @example
 * ```ts ignore
 * const dataDir = await openDataDir("./data", { log });
 * // ... run the node ...
 * dataDir.release();
 * ```
 */
export async function openDataDir(dir: string, opts: OpenDataDirOptions = {}): Promise<DataDir> {
  try {
    process.umask(0o077);
  } catch { /* no umask on this platform */ }
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new DataFileError(dir, `cannot create the folder (${message(err)})`, "Check --data.");
  }
  const info = await Deno.stat(dir);
  if (!info.isDirectory) {
    throw new DataFileError(dir, "it is not a folder", "Give --data a folder, or move it away.");
  }
  const lock = await lockDataDir(dir, opts.lockWaitMs ?? 300);
  try {
    const tightened = await tightenModes(dir);
    if (tightened.length > 0) {
      opts.log?.warn("tightened file modes in the data folder (others could read them)", {
        dir,
        files: tightened,
      });
    }
    await checkDataFiles(dir);
    return { path: dir, tightened, release: () => lock.close() };
  } catch (err) {
    lock.close();
    throw err;
  }
}

async function lockDataDir(dir: string, waitMs: number): Promise<Deno.FsFile> {
  const path = join(dir, LOCK_FILE);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (err) {
    throw new DataFileError(path, `cannot open the lock file (${message(err)})`, "Check --data.");
  }
  // Deno's lock waits; a lock not granted at once is held by another process (the wait goes on
  // in a blocking thread until the process exits, which it is about to).
  const got = await Promise.race([
    file.lock(true).then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), waitMs)),
  ]);
  if (!got) {
    let pid: number | undefined;
    try {
      const n = Number((await Deno.readTextFile(path)).trim());
      if (Number.isSafeInteger(n) && n > 0) pid = n;
    } catch { /* unreadable: no pid to name */ }
    throw new DataDirLockedError(dir, pid);
  }
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  return file;
}

/** Sets files under `dir` that group or others may access to 0600 (folders 0700). */
async function tightenModes(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  const self = await Deno.stat(dir);
  if (prefix === "" && self.mode !== null && (self.mode & 0o077) !== 0) {
    await Deno.chmod(dir, 0o700);
    out.push(".");
  }
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    if (e.isSymlink) continue;
    const st = await Deno.stat(path);
    if (st.mode === null) continue;
    if ((st.mode & 0o077) !== 0) {
      await Deno.chmod(path, e.isDirectory ? 0o700 : 0o600);
      out.push(rel);
    }
    if (e.isDirectory) out.push(...await tightenModes(path, rel));
  }
  return out;
}

const RESTORE = "Restore it from a backup, or move it away to start";
const SQLITE_HEADER = "SQLite format 3\0";

/**
 * Checks every file the node reads from the folder: each `*.db` is a SQLite database whose
 * schema can be read, `node.key` holds 64 hex characters, `issuer-keys.json` holds issuer keys,
 * `dht.json` is a JSON object. Throws a {@linkcode DataFileError} for the first unusable one.
 */
export async function checkDataFiles(dir: string): Promise<void> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile || e.isSymlink) names.push(e.name);
  names.sort();
  for (const name of names) {
    const path = join(dir, name);
    if (name.endsWith(".db")) await checkSqlite(path);
    else if (name === "node.key") await checkNodeKey(path);
    else if (name === "issuer-keys.json") await checkIssuerKeys(path);
    else if (name === "dht.json") {
      await checkJsonObject(
        path,
        "the routing table is lost; the node rejoins through --bootstrap",
      );
    }
  }
}

async function readFile(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    throw new DataFileError(
      path,
      `cannot read it (${message(err)})`,
      "Fix its owner and permissions (the node's user must read and write it).",
    );
  }
}

async function checkSqlite(path: string): Promise<void> {
  const bytes = await readHead(path, 100);
  if (bytes.length === 0) return; // An empty file is an empty database.
  const fresh = path.endsWith("subspace.db")
    ? "with an empty message store"
    : "that feature afresh";
  if (bytes.length < 100 || new TextDecoder().decode(bytes.subarray(0, 16)) !== SQLITE_HEADER) {
    throw new DataFileError(path, "it is not a SQLite database", `${RESTORE} ${fresh}.`);
  }
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    db.prepare("SELECT count(*) FROM sqlite_schema").get();
  } catch (err) {
    throw new DataFileError(
      path,
      `the database is damaged (${message(err)})`,
      `${RESTORE} ${fresh}.`,
    );
  } finally {
    try {
      db?.close();
    } catch { /* not open */ }
  }
}

async function readHead(path: string, n: number): Promise<Uint8Array> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch (err) {
    throw new DataFileError(
      path,
      `cannot read it (${message(err)})`,
      "Fix its owner and permissions (the node's user must read and write it).",
    );
  }
  try {
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = await f.read(buf.subarray(got));
      if (r === null) break;
      got += r;
    }
    return buf.subarray(0, got);
  } finally {
    f.close();
  }
}

async function checkNodeKey(path: string): Promise<void> {
  const text = new TextDecoder().decode(await readFile(path)).trim();
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new DataFileError(
      path,
      "it does not hold a node key (expected 64 hex characters)",
      "Restore it from a backup, or move it away to start with a new node identity (peers will see a new node).",
    );
  }
}

async function checkIssuerKeys(path: string): Promise<void> {
  const remedy =
    "Restore it from a backup, or move it away to start with new issuer keys (tokens already handed out stop working).";
  let file: unknown;
  try {
    file = JSON.parse(new TextDecoder().decode(await readFile(path)));
  } catch (err) {
    if (err instanceof DataFileError) throw err;
    throw new DataFileError(path, "it is not valid JSON", remedy);
  }
  const f = file as { version?: unknown; keys?: unknown };
  if (typeof f !== "object" || f === null || f.version !== 1 || !Array.isArray(f.keys)) {
    throw new DataFileError(path, "it does not hold issuer keys (unknown format)", remedy);
  }
  for (const [i, k] of (f.keys as { pkcs8?: unknown }[]).entries()) {
    try {
      if (typeof k?.pkcs8 !== "string") throw new TypeError("no pkcs8");
      createPrivateKey({
        key: Buffer.from(Uint8Array.fromBase64(k.pkcs8, { alphabet: "base64url" })),
        format: "der",
        type: "pkcs8",
      });
    } catch {
      throw new DataFileError(path, `issuer key ${i} cannot be read`, remedy);
    }
  }
}

async function checkJsonObject(path: string, lost: string): Promise<void> {
  let obj: unknown;
  try {
    obj = JSON.parse(new TextDecoder().decode(await readFile(path)));
  } catch (err) {
    if (err instanceof DataFileError) throw err;
    obj = undefined;
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new DataFileError(
      path,
      "it is not a JSON object",
      `Restore it from a backup, or move it away (${lost}).`,
    );
  }
}

/**
 * Turns SQLite's "file is not a database" / "database disk image is malformed" (and their
 * codes) raised while opening or migrating `path` into a {@linkcode DataFileError} naming it;
 * `undefined` for other errors.
 */
export function damagedDatabaseError(path: string, err: unknown): DataFileError | undefined {
  const text = message(err);
  if (!/not a database|malformed|SQLITE_CORRUPT|SQLITE_NOTADB/i.test(text)) return undefined;
  const fresh = path.endsWith("subspace.db")
    ? "with an empty message store"
    : "that feature afresh";
  return new DataFileError(path, `the database is damaged (${text})`, `${RESTORE} ${fresh}.`);
}

/** True when `err` says the disk (or the database's quota) is full: SQLite, PostgreSQL or the OS. */
export function isDiskFullError(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown } | undefined;
  if (e?.code === "53100" || e?.code === "ENOSPC") return true;
  return /database or disk is full|SQLITE_FULL|no space left on device|os error 28|could not extend file|disk_full/i
    .test(message(err));
}

/** The 507 a write gets while the disk is full (problem+json, `Retry-After: 60`). */
export function diskFullError(): HttpError {
  return new HttpError(507, "The node's disk is full; try another server or later", {
    headers: { "retry-after": "60" },
  });
}

/**
 * Refuses a folder that holds no node (no `subspace.db` and no `node.key`), for commands that
 * must not create one there (`admin`). With `store` set (PostgreSQL) the database is elsewhere
 * and only the folder's existence is required.
 */
export async function assertNodeDataDir(dir: string, opts: { store?: string } = {}): Promise<void> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(dir);
  } catch {
    throw new NotADataDirError(dir, "it does not exist");
  }
  if (!st.isDirectory) throw new NotADataDirError(dir, "it is not a folder");
  if (opts.store !== undefined) return;
  for (const name of ["subspace.db", "node.key"]) {
    try {
      await Deno.stat(join(dir, name));
      return;
    } catch { /* look for the next */ }
  }
  throw new NotADataDirError(dir, "it holds no subspace.db or node.key");
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
