/**
 * The storage engines alone, as baselines for the ingest comparison: a loop that inserts
 * batches of rows shaped like the node's (32-byte unique id, 20-byte random tag, 1 KiB payload,
 * the node's own schema and indexes, created by the node's migrations) and commits each batch
 * durably before the next.
 *
 * - `sqlite`: `node:sqlite`, one thread, one prepared statement, WAL, `synchronous = FULL`.
 * - `pg`: `npm:pg`, `connections` clients each running one multi-row
 *   `INSERT … ON CONFLICT DO NOTHING RETURNING seq` per batch (its own transaction).
 *
 * Run: `deno run -A bench/_raw_insert.ts sqlite|pg <seconds> <batch> [connections] [pg url]`;
 * prints one JSON line `{rows, perSecond, p50Ms, p99Ms}` (latency of one batch commit).
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { openStore } from "../node/store/mod.ts";
import { cpuSecondsOf, quantile } from "./_util.ts";

const [engine, secondsArg, batchArg, connArg, pgUrl] = Deno.args;
const seconds = Number(secondsArg ?? 10);
const batch = Number(batchArg ?? 64);
const connections = Number(connArg ?? 1);
const payload = new Uint8Array(1024).fill(0x41);

function row(): [Uint8Array, Uint8Array, Uint8Array, number, number, number, null] {
  const now = Date.now();
  return [
    crypto.getRandomValues(new Uint8Array(32)),
    crypto.getRandomValues(new Uint8Array(20)),
    payload,
    payload.length,
    now,
    now + 86_400_000,
    null,
  ];
}

const latencies: number[] = [];
let rows = 0;
let cpu0 = 0;
let t0 = 0;
let end = 0;
/** Starts the clocks once the schema exists (its creation is not measured). */
async function start(): Promise<void> {
  cpu0 = await cpuSecondsOf("self");
  t0 = performance.now();
  end = t0 + seconds * 1000;
}

if (engine === "sqlite") {
  const dir = await Deno.makeTempDir({ prefix: "subspace-raw-" });
  await (await openStore({ dataDir: dir })).close();
  const db = new DatabaseSync(`${dir}/subspace.db`);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  const insert = db.prepare(
    "INSERT INTO messages (id, tag, payload, size, received_at, expires_at, origin) " +
      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING seq",
  );
  await start();
  while (performance.now() < end) {
    const s = performance.now();
    db.exec("BEGIN IMMEDIATE");
    for (let i = 0; i < batch; i++) insert.get(...row());
    db.exec("COMMIT");
    latencies.push(performance.now() - s);
    rows += batch;
  }
  db.close();
  await Deno.remove(dir, { recursive: true });
} else if (engine === "pg") {
  if (pgUrl === undefined) throw new TypeError("Cannot run the pg loop: expected a postgres URL");
  await (await openStore({ url: pgUrl, dataDir: "/tmp" })).close();
  const placeholders = Array.from(
    { length: batch },
    (_, r) => `(${Array.from({ length: 7 }, (_, c) => `$${r * 7 + c + 1}`).join(", ")})`,
  ).join(", ");
  const text = "INSERT INTO messages (id, tag, payload, size, received_at, expires_at, origin) " +
    `VALUES ${placeholders} ON CONFLICT (id) DO NOTHING RETURNING seq`;
  await start();
  const loop = async () => {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    while (performance.now() < end) {
      const values = [];
      for (let i = 0; i < batch; i++) values.push(...row());
      const s = performance.now();
      await client.query(text, values);
      latencies.push(performance.now() - s);
      rows += batch;
    }
    await client.end();
  };
  await Promise.all(Array.from({ length: connections }, loop));
} else {
  throw new TypeError(`Cannot run the raw loop: expected sqlite or pg, got ${engine}`);
}
const elapsedMs = performance.now() - t0;
const cpuUsPerRow = (await cpuSecondsOf("self") - cpu0) * 1e6 / rows;
console.log(JSON.stringify({
  cpuUsPerRow,
  rows,
  perSecond: rows / (elapsedMs / 1000),
  p50Ms: quantile(latencies, 0.5),
  p99Ms: quantile(latencies, 0.99),
}));
