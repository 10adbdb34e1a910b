/**
 * The store conformance suite: every {@linkcode Store} implementation runs it (SQLite in
 * `sqlite_test.ts`, PostgreSQL in `postgres_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import type { NewMessage, Store } from "./store.ts";

/** Makes a fresh, empty store and a function that disposes of it. */
export type StoreFactory = () => Promise<{ store: Store; dispose(): Promise<void> }>;

function message(tagPrefix: number[], payloadBytes: number, expiresAt = 2e12): NewMessage {
  const tag = crypto.getRandomValues(new Uint8Array(20));
  tag.set(tagPrefix);
  const payload = crypto.getRandomValues(new Uint8Array(payloadBytes));
  return {
    id: sha256(new Uint8Array([...tag, ...payload])),
    tag,
    payload,
    size: payload.length,
    receivedAt: 1e12,
    expiresAt,
    origin: null,
  };
}

const FULL = { lo: new Uint8Array(20), hi: new Uint8Array(20).fill(0xff) };

/** Registers the suite's steps under `t`. */
export async function storeConformance(t: Deno.TestContext, make: StoreFactory): Promise<void> {
  const step = (name: string, fn: (store: Store) => Promise<void>) =>
    t.step(name, async () => {
      const { store, dispose } = await make();
      try {
        await fn(store);
      } finally {
        await dispose();
      }
    });

  await step(
    "a message's nonce is spent in its own commit: once, and a spent one stores nothing",
    async (s) => {
      const nonce = () => ({ nonce: crypto.getRandomValues(new Uint8Array(32)), expiresAt: 500 });
      const [a, b] = [nonce(), nonce()];
      const paid = [
        { ...message([1], 10), spend: a },
        { ...message([2], 10), spend: a }, // the same nonce again in the same batch
        message([3], 10), // unpaid, in the same batch
        { ...message([4], 10), spend: b },
      ];
      const out = await s.insertBatch(paid);
      assert.deepEqual(out.map((o) => [o.inserted, o.spent ?? false]), [
        [true, false],
        [false, true],
        [true, false],
        [true, false],
      ]);
      assert.equal(await s.count(), 3);
      assert.equal(await s.spentCount(), 2);
      // A later batch: a spent nonce refuses its message, the others are stored.
      const later = await s.insertBatch([
        { ...message([5], 10), spend: b },
        { ...message([6], 10), spend: nonce() },
      ]);
      assert.deepEqual(later.map((o) => [o.inserted, o.spent ?? false]), [
        [false, true],
        [true, false],
      ]);
      assert.equal(await s.count(), 4);
      // A duplicate message with a fresh nonce: the nonce is spent, nothing new is stored.
      const dup = await s.insertBatch([{ ...paid[0]!, spend: nonce() }]);
      assert.deepEqual(dup.map((o) => [o.inserted, o.spent ?? false]), [[false, false]]);
      assert.equal(await s.spentCount(), 4);
      // Standalone spends share the table.
      const fresh = await s.insertSpent([a, nonce()]);
      assert.equal(fresh.size, 1);
      assert.equal(await s.deleteExpiredSpent(499), 0);
      assert.equal(await s.deleteExpiredSpent(500), 5);
      assert.equal(await s.spentCount(), 0);
    },
  );

  await step(
    "insertBatch stores, returns sequence numbers in order, and is idempotent",
    async (s) => {
      const batch = [message([1], 10), message([2], 20), message([3], 30)];
      const out = await s.insertBatch(batch);
      assert.deepEqual(out.map((o) => o.inserted), [true, true, true]);
      assert.ok(
        out[0]!.message.seq < out[1]!.message.seq && out[1]!.message.seq < out[2]!.message.seq,
      );
      assert.deepEqual(out[1]!.message.payload, batch[1]!.payload);
      const again = await s.insertBatch([batch[1]!, message([4], 5), batch[1]!]);
      assert.deepEqual(again.map((o) => o.inserted), [false, true, false]);
      assert.equal(again[0]!.message.seq, out[1]!.message.seq);
      assert.equal(await s.count(), 4);
      assert.equal(await s.maxSeq(), again[1]!.message.seq);
      assert.equal(await s.usedBytes(), 10 + 20 + 30 + 5 + 4 * 52);
    },
  );

  await step(
    "query is a range over tags, after a cursor, oldest first, with a limit",
    async (s) => {
      const msgs = [
        message([0x10, 0x00], 4),
        message([0x10, 0xff], 4),
        message([0x11], 4),
        message([0x0f, 0xff, 0xff, 0xff], 4),
      ];
      await s.insertBatch(msgs);
      const lo = new Uint8Array(20);
      lo[0] = 0x10;
      const hi = new Uint8Array(20).fill(0xff);
      hi[0] = 0x10;
      const got = await s.query({ lo, hi, all: false, afterSeq: 0, limit: 10, now: 0 });
      assert.deepEqual(got.map((m) => m.tag[1]), [0x00, 0xff]);
      const after = await s.query({ lo, hi, all: false, afterSeq: got[0]!.seq, limit: 10, now: 0 });
      assert.equal(after.length, 1);
      assert.equal(after[0]!.tag[1], 0xff);
      const all = await s.query({ ...FULL, all: true, afterSeq: 0, limit: 3, now: 0 });
      assert.equal(all.length, 3);
      assert.deepEqual(all.map((m) => m.seq), [...all.map((m) => m.seq)].sort((a, b) => a - b));
    },
  );

  await step("the scan hint never changes the answer", async (s) => {
    await s.insertBatch(
      Array.from({ length: 300 }, (_, i) => message([i % 4 === 0 ? 0x42 : i & 0xff], 4)),
    );
    const lo = new Uint8Array(20);
    lo[0] = 0x40;
    const hi = new Uint8Array(20).fill(0xff);
    hi[0] = 0x43;
    for (const afterSeq of [0, 100, 250]) {
      const q = { lo, hi, all: false, afterSeq, limit: 20, now: 0 };
      const byTag = await s.query({ ...q, scan: "tag" });
      const bySeq = await s.query({ ...q, scan: "seq" });
      assert.ok(byTag.length > 0);
      assert.deepEqual(bySeq.map((m) => m.seq), byTag.map((m) => m.seq));
    }
  });

  await step("expired messages are hidden, then deleted with their bytes", async (s) => {
    await s.insertBatch([message([1], 100, 5000), message([1], 7, 9000)]);
    assert.equal(
      (await s.query({ ...FULL, all: true, afterSeq: 0, limit: 10, now: 6000 })).length,
      1,
    );
    const gone = await s.deleteExpired(6000);
    assert.deepEqual(gone, { count: 1, bytes: 152 });
    assert.equal(await s.count(), 1);
    assert.equal(await s.usedBytes(), 59);
  });

  await step("get and existing find by id; notices without payload are stored", async (s) => {
    const m = message([9], 12);
    const notice = { ...message([8], 40), payload: null, origin: "ab".repeat(20) };
    await s.insertBatch([m, notice]);
    const got = await s.get(m.id, 0);
    assert.deepEqual(got?.payload, m.payload);
    assert.equal(await s.get(m.id, 3e12), undefined, "expired");
    const n = await s.get(notice.id, 0);
    assert.equal(n?.payload, null);
    assert.equal(n?.size, 40);
    assert.equal(n?.origin, "ab".repeat(20));
    assert.equal(await s.usedBytes(), 12 + 52, "notices are not charged");
    assert.equal((await s.existing([m.id, new Uint8Array(32)])).length, 1);
    const seqs = [got!.seq, n!.seq, 1e9];
    assert.deepEqual((await s.bySeqs(seqs, 0)).map((x) => x.seq), [got!.seq, n!.seq].sort());
    assert.deepEqual(await s.bySeqs(seqs, 3e12), [], "expired");
  });

  await step(
    "fillPayloads fills a notice once, only with a body of its size; kept copies are listed",
    async (s) => {
      const body = message([7], 30);
      const notice = { ...body, payload: null, origin: "cd".repeat(20) };
      const other = { ...message([6], 20), payload: null, origin: "cd".repeat(20) };
      await s.insertBatch([notice, other, message([5], 10)]);
      assert.equal(await s.keptBytes(), 0);
      const wrongSize = body.payload!.subarray(0, 29);
      assert.deepEqual(
        await s.fillPayloads([
          { id: body.id, payload: wrongSize },
          { id: new Uint8Array(32), payload: body.payload! },
        ]),
        [false, false],
        "a body of another size, or for an unknown id, fills nothing",
      );
      assert.deepEqual(await s.fillPayloads([{ id: body.id, payload: body.payload! }]), [true]);
      assert.deepEqual(
        await s.fillPayloads([{ id: body.id, payload: body.payload! }]),
        [false],
        "already filled",
      );
      assert.deepEqual((await s.get(body.id, 0))?.payload, body.payload);
      assert.equal(await s.keptBytes(), 30);
      assert.equal(await s.usedBytes(), 30 + 52 + 10 + 52);
      const kept = await s.keptCopies(0, 10);
      assert.deepEqual(kept.map((m) => m.size), [30]);
      assert.deepEqual(await s.keptCopies(3e12, 10), [], "expired copies are not listed");
      assert.equal(await s.dropNotice(body.id, body.tag), false, "a row with its body stays");
      assert.equal(await s.dropNotice(other.id, body.tag), false, "another tag: not this row");
      assert.equal(await s.dropNotice(other.id, other.tag), true);
      assert.equal((await s.existing([other.id])).length, 0);
    },
  );

  await step("binary tags compare as unsigned bytes", async (s) => {
    await s.insertBatch([
      message([0x7f], 1),
      message([0x80], 1),
      message([0xff, 0xff, 0xff, 0xff], 1),
    ]);
    const lo = new Uint8Array(20);
    lo[0] = 0x80;
    const got = await s.query({ lo, hi: FULL.hi, all: false, afterSeq: 0, limit: 10, now: 0 });
    assert.deepEqual(got.map((m) => m.tag[0]), [0x80, 0xff]);
  });

  await step("a large batch commits in one call", async (s) => {
    const batch = Array.from({ length: 1200 }, (_, i) => message([i & 0xff], 16));
    const out = await s.insertBatch(batch);
    assert.equal(out.filter((o) => o.inserted).length, 1200);
    assert.equal(await s.count(), 1200);
  });

  await step(
    "batches sent without waiting draw sequence numbers in call order and share duplicates",
    async (s) => {
      const shared = message([9], 8);
      const batches = Array.from({ length: 6 }, (_, i) => [
        message([i], 8),
        ...(i % 2 === 0 ? [shared] : []),
        message([i, 1], 8),
      ]);
      const outs = await Promise.all(batches.map((b) => s.insertBatch(b)));
      const seqs = outs.map((o) => o.filter((x) => x.inserted).map((x) => x.message.seq));
      for (let i = 1; i < seqs.length; i++) {
        assert.ok(
          Math.max(...seqs[i - 1]!) < Math.min(...seqs[i]!),
          `batch ${i} drew ${seqs[i]} after batch ${i - 1} drew ${seqs[i - 1]}`,
        );
      }
      // The shared message is inserted by the first batch that carries it, once.
      const sharedOutcomes = outs.flatMap((o) =>
        o.filter((x) => x.message.id.toHex() === shared.id.toHex())
      );
      assert.deepEqual(sharedOutcomes.map((x) => x.inserted), [true, false, false]);
      assert.equal(new Set(sharedOutcomes.map((x) => x.message.seq)).size, 1);
      assert.equal(await s.count(), 6 * 2 + 1);
    },
  );

  await step("a query leaves out rows past maxSeq", async (s) => {
    const out = await s.insertBatch([message([1], 4), message([2], 4), message([3], 4)]);
    const second = out[1]!.message.seq;
    const got = await s.query({
      ...FULL,
      all: true,
      afterSeq: 0,
      maxSeq: second,
      limit: 10,
      now: 0,
    });
    assert.deepEqual(got.map((m) => m.seq), [out[0]!.message.seq, second]);
  });
}
