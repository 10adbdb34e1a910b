import { openStore } from "./store.ts";
import { storeConformance } from "./conformance.ts";

Deno.test("SQLite store conformance", async (t) => {
  await storeConformance(t, async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "subspace-sqlite-" });
    const store = await openStore({ dataDir });
    return {
      store,
      async dispose() {
        await store.close();
        await Deno.remove(dataDir, { recursive: true });
      },
    };
  });
});

Deno.test("SQLite walks the tag index for narrow prefixes and sequence order for wide ones", async () => {
  const { chooseScan } = await import("./store.ts");
  const { DatabaseSync } = await import("node:sqlite");
  const dataDir = await Deno.makeTempDir({ prefix: "subspace-sqlite-" });
  const store = await openStore({ dataDir });
  await store.close();
  const db = new DatabaseSync(`${dataDir}/subspace.db`);
  try {
    const plan = (scan: "tag" | "seq") => {
      const col = scan === "seq" ? "+tag" : "tag";
      return db.prepare(
        `EXPLAIN QUERY PLAN SELECT * FROM messages WHERE seq > ? AND expires_at > ? AND ${col} >= ? AND ${col} <= ? ORDER BY seq LIMIT ?`,
      ).all(0, 0, new Uint8Array(20), new Uint8Array(20), 10).map((r) => String(r.detail)).join(
        "; ",
      );
    };
    const tagPlan = plan("tag");
    const seqPlan = plan("seq");
    if (!tagPlan.includes("USING INDEX messages_tag_seq")) throw new Error(tagPlan);
    if (!seqPlan.includes("INTEGER PRIMARY KEY")) throw new Error(seqPlan);
    // 1M rows: 16 bits from the start → tag index; 2 bits polling from a recent cursor → seq.
    if (chooseScan(16, 1_000_000, 0, 100) !== "tag") {
      throw new Error("16 bits should use the tag index");
    }
    if (chooseScan(2, 1_000_000, 999_000, 100) !== "seq") throw new Error("2 bits should walk seq");
  } finally {
    db.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the checkpointer thread copies the write-ahead log into the database file", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "subspace-sqlite-" });
  const store = await openStore({ dataDir });
  try {
    const payload = new Uint8Array(4000);
    for (let b = 0; b < 6; b++) {
      await store.insertBatch(Array.from({ length: 500 }, () => ({
        id: crypto.getRandomValues(new Uint8Array(32)),
        tag: crypto.getRandomValues(new Uint8Array(20)),
        payload,
        size: payload.length,
        receivedAt: 0,
        expiresAt: 2e12,
        origin: null,
      })));
    }
    // 3,000 messages of 4 kB: about 12 MB went to the log; no commit checkpoints any more.
    let dbBytes = 0;
    for (let i = 0; i < 40 && dbBytes < 10e6; i++) {
      await new Promise((r) => setTimeout(r, 100));
      dbBytes = (await Deno.stat(`${dataDir}/subspace.db`)).size;
    }
    if (dbBytes < 10e6) throw new Error(`database file holds ${dbBytes} bytes: not checkpointed`);
    if (await store.count() !== 3000) throw new Error("rows lost");
  } finally {
    await store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
