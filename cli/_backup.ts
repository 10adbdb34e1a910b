/**
 * Backups of a node's data folder while the node runs, and their restore.
 *
 * A backup is one tar file (POSIX ustar, readable by `tar -xf`) holding a consistent copy of
 * every SQLite database of the folder (SQLite's online backup API, all pages in one step: one
 * read snapshot, so every transaction committed before it started and none after, never a torn
 * page; in WAL mode a reader does not block the node's writer, and a step that copies
 * everything at once is never restarted by the node's writes), and the small key and state
 * files (`node.key`,
 * `issuer-keys.json`, `dht.json`) as they are. Each database is consistent on its own; they
 * are copied one after another, so a token issued or an invoice paid during the backup may be
 * in one database's copy and not another's.
 *
 * PostgreSQL databases are not copied here: use `pg_dump` (docs/operations.md).
 *
 * @module
 */
import { backup, DatabaseSync } from "node:sqlite";

/** Files of the data folder that are never backed up (the lock, SQLite's journals). */
const SKIP = /^(LOCK|.*\.db-(wal|shm|journal)|.*\.tmp)$/;
/** Largest file copied as it is (keys and state are small; anything bigger is not ours). */
const MAX_PLAIN_FILE_BYTES = 64 * 1024 * 1024;
/** How long a database copy waits for a lock before it fails. */
const BUSY_TIMEOUT_MS = 10_000;

/** One file of a backup. */
export interface BackupEntry {
  name: string;
  bytes: number;
  /** `sqlite`: copied with SQLite's online backup; `file`: copied as it is. */
  kind: "sqlite" | "file";
}

/**
 * Writes a backup of `dataDir` to `to` (through `to.tmp`, renamed at the end; mode 0600, since
 * it holds the node's keys). Returns what it holds.
 *
 * @throws {Error} when a database cannot be read or the file cannot be written.
 */
export async function backupDataDir(dataDir: string, to: string): Promise<BackupEntry[]> {
  const work = await Deno.makeTempDir({ prefix: "subspace-backup-" });
  const entries: BackupEntry[] = [];
  try {
    const names: string[] = [];
    for await (const e of Deno.readDir(dataDir)) {
      if (e.isFile && !SKIP.test(e.name)) names.push(e.name);
    }
    names.sort();
    for (const name of names) {
      const src = `${dataDir}/${name}`;
      const dst = `${work}/${name}`;
      if (name.endsWith(".db")) {
        const db = new DatabaseSync(src);
        try {
          db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
          // `VACUUM INTO` would do too, but Deno's SQLite allows no attached databases.
          await backup(db, dst, { rate: -1 });
        } finally {
          db.close();
        }
        entries.push({ name, bytes: (await Deno.stat(dst)).size, kind: "sqlite" });
      } else {
        const size = (await Deno.stat(src)).size;
        if (size > MAX_PLAIN_FILE_BYTES) continue;
        await Deno.copyFile(src, dst);
        entries.push({ name, bytes: size, kind: "file" });
      }
    }
    const tmp = `${to}.tmp`;
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
    try {
      for (const e of entries) {
        await writeAll(file, tarHeader(e.name, e.bytes));
        const src = await Deno.open(`${work}/${e.name}`);
        let copied = 0;
        try {
          const buf = new Uint8Array(1 << 20);
          for (let n; (n = await src.read(buf)) !== null;) {
            await writeAll(file, buf.subarray(0, n));
            copied += n;
          }
        } finally {
          src.close();
        }
        if (copied !== e.bytes) throw new Error(`${e.name} changed while it was copied`);
        const pad = (512 - (e.bytes % 512)) % 512;
        if (pad > 0) await writeAll(file, new Uint8Array(pad));
      }
      await writeAll(file, new Uint8Array(1024)); // two zero blocks end the archive
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, to);
    return entries;
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/**
 * Unpacks a backup into `dataDir`, which must not exist or be empty (a restore never mixes
 * with another node's files). Returns the names restored.
 *
 * @throws {Error} when the folder is not empty or the file is not a backup.
 */
export async function restoreDataDir(from: string, dataDir: string): Promise<string[]> {
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  for await (const e of Deno.readDir(dataDir)) {
    throw new Error(`${dataDir} is not empty (it holds ${e.name}); restore into a new folder`);
  }
  const tar = await Deno.open(from);
  const names: string[] = [];
  try {
    const h = new Uint8Array(512);
    for (let off = 0;; off += 512) {
      if (!await readFull(tar, h)) throw new Error(`${from} is truncated`);
      if (h.every((b) => b === 0)) break;
      const name = cString(h.subarray(0, 100));
      const size = readSize(h.subarray(124, 136));
      const sum = parseInt(cString(h.subarray(148, 156)).trim(), 8);
      if (!Number.isSafeInteger(size) || size < 0 || checksum(h) !== sum) {
        throw new Error(`${from} is not a Subspace backup (bad tar header at byte ${off})`);
      }
      if (!/^[\w.-]+$/.test(name) || name.startsWith(".")) {
        throw new Error(`${from}: refusing the entry '${name.slice(0, 60)}'`);
      }
      const out = await Deno.open(`${dataDir}/${name}`, {
        write: true,
        createNew: true,
        mode: 0o600,
      });
      try {
        const padded = Math.ceil(size / 512) * 512;
        const buf = new Uint8Array(1 << 20);
        for (let left = padded; left > 0;) {
          const chunk = buf.subarray(0, Math.min(buf.length, left));
          if (!await readFull(tar, chunk)) throw new Error(`${from} is truncated`);
          const keep = Math.max(0, Math.min(chunk.length, size - (padded - left)));
          await writeAll(out, chunk.subarray(0, keep));
          left -= chunk.length;
        }
        await out.sync();
      } finally {
        out.close();
      }
      names.push(name);
      off += Math.ceil(size / 512) * 512;
    }
  } finally {
    tar.close();
  }
  if (names.length === 0) throw new Error(`${from} holds no files`);
  return names;
}

/** Fills `buf` from `f`; false at the end of the file before it is full. */
async function readFull(f: Deno.FsFile, buf: Uint8Array): Promise<boolean> {
  for (let off = 0; off < buf.length;) {
    const n = await f.read(buf.subarray(off));
    if (n === null) return false;
    off += n;
  }
  return true;
}

/** A ustar size field: octal, or GNU base-256 (first byte 0x80) past 8 GiB. */
function readSize(f: Uint8Array): number {
  if ((f[0]! & 0x80) !== 0) {
    let n = 0;
    for (let i = 1; i < f.length; i++) n = n * 256 + f[i]!;
    return n;
  }
  return parseInt(cString(f).trim() || "0", 8);
}

async function writeAll(f: Deno.FsFile, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await f.write(data.subarray(off));
}

const enc = new TextEncoder();

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end === -1 ? b : b.subarray(0, end));
}

function checksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum;
}

/** A ustar header for a regular file `name` of `size` bytes (mode 0600, mtime now). */
function tarHeader(name: string, size: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (off: number, len: number, text: string) =>
    h.set(enc.encode(text).subarray(0, len), off);
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, "0") + "\0";
  put(0, 100, name);
  put(100, 8, octal(0o600, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  if (size < 8 ** 11) put(124, 12, octal(size, 12));
  else {
    // GNU base-256 for files of 8 GiB and more (GNU and BSD tar read it).
    h[124] = 0x80;
    for (let i = 135, n = size; i > 124; i--, n = Math.floor(n / 256)) h[i] = n % 256;
  }
  put(136, 12, octal(Math.floor(Date.now() / 1000), 12));
  h[156] = "0".charCodeAt(0);
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  put(148, 8, octal(checksum(h), 7) + " ");
  return h;
}
