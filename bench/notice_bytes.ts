/**
 * Bytes on disk per stored notice (`dht.db`, SQLite, the compact layout), for notices signed in
 * groups of 1, 8 and 64 (a commit's size at low and high load), measured after a checkpoint.
 * The message database is measured in the same run for scale: the same count of 1 KiB messages.
 *
 *   deno run -A bench/notice_bytes.ts [count=100000]
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { systemClock } from "../node/dht/clock.ts";
import { generateIdentity, secp256k1Scheme } from "../node/dht/identity.ts";
import { DHT_MIGRATIONS } from "../node/dht/migration.ts";
import { signNotices } from "../node/dht/notice.ts";
import { SqlNoticeStore } from "../node/dht/sql_notice_store.ts";
import { openFeatureDatabase } from "../node/store/mod.ts";
import { toHex } from "../client/mod.ts";

const COUNT = Number(Deno.args[0] ?? 100_000);
const rows: string[] = [];
// Other servers' notices in groups of 1, 8 and 64, all of each group held (a small network, or a
// server following everything); groups of 64 with one notice of each held (a holder in a large
// network, where a group's notices go to many different servers; a tenth of the count, since 64
// are signed for each one kept); then this server's own (groups of 64): kept unsigned at rest and
// signed again when read.
const CASES = [
  { group: 1, own: false, one: false },
  { group: 8, own: false, one: false },
  { group: 64, own: false, one: false },
  { group: 64, own: false, one: true },
  { group: 64, own: true, one: false },
];
for (const { group, own, one } of CASES) {
  const count = one ? Math.ceil(COUNT / 10) : COUNT;
  const dir = await Deno.makeTempDir({ prefix: "notice-bytes-" });
  const fdb = await openFeatureDatabase({
    store: { dialect: "sqlite", db: undefined as never, location: dir },
    dataDir: dir,
    name: "dht",
    migrations: DHT_MIGRATIONS,
    writerThread: true,
  });
  const origins = Array.from({ length: own ? 1 : 20 }, () => generateIdentity(secp256k1Scheme));
  const self = origins[0]!;
  const store = new SqlNoticeStore(fdb.db, {
    clock: systemClock,
    ...(fdb.writer === undefined ? {} : { writer: fdb.writer }),
    ...(own
      ? { self: { id: self.id, sign: (f) => signNotices(self, "https://n0.example", f) } }
      : {}),
  });
  await store.init();
  const nowS = Math.floor(Date.now() / 1000);
  const step = one ? 1 : group;
  for (let i = 0; i < count; i += step) {
    const me = origins[Math.floor(i / group) % origins.length]!;
    const fields = Array.from({ length: one ? group : Math.min(group, count - i) }, () => ({
      id: toHex(crypto.getRandomValues(new Uint8Array(32))),
      tag: toHex(crypto.getRandomValues(new Uint8Array(20))),
      size: 1024,
      expiresAt: nowS + 86400,
      createdAtMs: Date.now(),
    }));
    const signed = signNotices(
      me,
      `https://n${Math.floor(i / group) % origins.length}.example`,
      fields,
    );
    for (const n of one ? [signed[i % group]!] : signed) store.add(n, Date.now());
    if (i % 5000 < step) await store.flush();
  }
  await store.close();
  await fdb.close();
  const check = new DatabaseSync(`${dir}/dht.db`);
  check.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  check.close();
  let bytes = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith("dht.db")) bytes += (await Deno.stat(`${dir}/${e.name}`)).size;
  }
  const label = own ? `${group}, this server's own` : one ? `${group}, one of each held` : group;
  rows.push(
    `| ${label} | ${count} | ${(bytes / 2 ** 20).toFixed(1)} MiB | ${(bytes / count).toFixed(0)} |`,
  );
  console.log(rows[rows.length - 1]);
  await Deno.remove(dir, { recursive: true });
}
console.log("| notices per signed group | notices | dht.db | bytes per notice |");
console.log("|---:|---:|---:|---:|");
for (const r of rows) console.log(r);
