import assert from "node:assert/strict";
import { Hub } from "./hub.ts";
import { parseRange } from "./wire.ts";

const tagWith = (head: number) => {
  const t = crypto.getRandomValues(new Uint8Array(20));
  new DataView(t.buffer).setUint32(0, head);
  return t;
};

Deno.test("notify wakes exactly the waiters whose range holds a tag (property)", async () => {
  for (let round = 0; round < 50; round++) {
    const hub = new Hub(1000);
    const waits = Array.from({ length: 40 }, () => {
      const bits = Math.floor(Math.random() * 33);
      const prefix = crypto.getRandomValues(new Uint8Array(4)).toHex().slice(
        0,
        Math.ceil(bits / 8) * 2,
      );
      const r = parseRange(prefix, String(bits));
      return { r, w: hub.register(r.lo32, r.hi32, 60_000) };
    });
    const heads = Array.from({ length: 30 }, () => crypto.getRandomValues(new Uint32Array(1))[0]!);
    // Make some tags hit some waiters for sure.
    heads.push(waits[0]!.r.lo32, waits[1]!.r.hi32);
    hub.notify(heads.map(tagWith));
    for (const { r, w } of waits) {
      const want = heads.some((h) => h >= r.lo32 && h <= r.hi32);
      assert.equal(w.woken, want, `bits=${r.bits} lo=${r.lo32} hi=${r.hi32}`);
      w.cancel();
    }
    assert.equal(hub.size, 0);
    await Promise.all(waits.map((x) => x.w.done));
  }
});

Deno.test("timeouts and aborts end a wait without waking it; the bound is reported", async () => {
  const hub = new Hub(2);
  const a = hub.register(0, 10, 10);
  const ctl = new AbortController();
  const b = hub.register(0, 10, 60_000, ctl.signal);
  assert.equal(hub.full, true);
  ctl.abort();
  await Promise.all([a.done, b.done]);
  assert.equal(a.woken, false);
  assert.equal(b.woken, false);
  assert.equal(hub.size, 0);
  const c = hub.register(0, 0xffffffff, 60_000);
  hub.wakeAll();
  await c.done;
  assert.equal(c.woken, true);
});
