import assert from "node:assert/strict";
import { generateIdentity, secp256k1Scheme } from "./identity.ts";
import { noticeKey, noticeToJson, parseNotice, signNotice, verifyNotice } from "./notice.ts";
import { MemoryNoticeStore } from "./notice_store.ts";

const origin = generateIdentity();
const fields = {
  id: "11".repeat(32),
  tag: "22".repeat(20),
  size: 1234,
  expiresAt: 1_800_000_000,
  createdAtMs: 1_700_000_000_000,
};

Deno.test("a notice survives the wire and verifies; any change breaks it", () => {
  const n = signNotice(origin, "https://o.example", fields);
  const back = parseNotice(JSON.parse(JSON.stringify(noticeToJson(n))));
  assert.deepEqual(back, n);
  assert.ok(verifyNotice(back, secp256k1Scheme));
  for (const [k, v] of [["size", 1235], ["expires_at", 1_800_000_001], ["tag", "33".repeat(20)]]) {
    const j = { ...noticeToJson(n), [k as string]: v };
    assert.equal(verifyNotice(parseNotice(j), secp256k1Scheme), false, `changed ${k}`);
  }
  const moved = {
    ...noticeToJson(n),
    origin: { ...noticeToJson(n).origin, url: "https://x.example" },
  };
  assert.equal(verifyNotice(parseNotice(moved), secp256k1Scheme), false);
  assert.equal(noticeKey(n), `${fields.id}:${origin.id}`);
});

Deno.test("parseNotice rejects malformed fields with named errors", () => {
  const j = noticeToJson(signNotice(origin, "https://o.example", fields));
  assert.throws(() => parseNotice({ ...j, id: "zz" }), /notice id/);
  assert.throws(() => parseNotice({ ...j, size: -1 }), /notice size/);
  assert.throws(() => parseNotice({ ...j, sig: "00" }), /notice sig/);
  assert.throws(
    () => parseNotice({ ...j, origin: { ...j.origin, id: "00".repeat(20) } }),
    /hash160/,
  );
  assert.throws(() => parseNotice(null), TypeError);
});

Deno.test("notice store: dedup, per-origin cap, paging since a time, expiry", () => {
  const store = new MemoryNoticeStore({ maxPerOrigin: 3 });
  const other = generateIdentity();
  const mk = (i: number, who = origin, exp = fields.expiresAt) =>
    signNotice(who, "https://o.example", {
      ...fields,
      id: i.toString(16).padStart(64, "0"),
      expiresAt: exp,
    });
  assert.equal(store.add(mk(1), 100), "added");
  assert.equal(store.add(mk(1), 101), "duplicate");
  assert.equal(store.add(mk(2), 200), "added");
  assert.equal(store.add(mk(3, origin, 1), 300), "added"); // expires at t=1s
  assert.equal(store.add(mk(4), 400), "over-cap");
  assert.equal(store.add(mk(4, other), 400), "added");
  const now = 1_000_000;
  const p1 = store.since(150, null, 1, now);
  assert.deepEqual(p1.notices.map((n) => n.id), [mk(2).id]);
  assert.ok(p1.next);
  const p2 = store.since(150, p1.next, 10, now);
  assert.deepEqual(p2.notices.map((n) => n.id), [mk(4, other).id]); // expired one skipped
  assert.equal(p2.next, null);
  store.compact(now);
  assert.equal(store.add(mk(5), 500), "added"); // the expired one no longer counts
});
