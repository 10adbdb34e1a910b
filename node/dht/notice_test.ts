import assert from "node:assert/strict";
import { generateIdentity, secp256k1Scheme, type SignatureScheme } from "./identity.ts";
import { merkleTree } from "./merkle.ts";
import {
  type Notice,
  NOTICE_ROOT_DOMAIN,
  noticeKey,
  noticeSigningBytes,
  noticeToJson,
  parseNotice,
  signNotice,
  signNotices,
  VerifiedRoots,
  verifyNotice,
} from "./notice.ts";
import { MemoryNoticeStore } from "./notice_store.ts";
import { fromHex, toHex } from "../../client/mod.ts";

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

const fieldsOf = (n: number, base = 0) =>
  Array.from(
    { length: n },
    (_, i) => ({ ...fields, id: (base + i).toString(16).padStart(64, "0") }),
  );

/** The real scheme, counting verify calls. */
function countingScheme(): SignatureScheme & { verifies: number } {
  const s = {
    name: "counting",
    verifies: 0,
    sign: secp256k1Scheme.sign,
    verify: (pk: Uint8Array, m: Uint8Array, sig: Uint8Array) => {
      s.verifies++;
      return secp256k1Scheme.verify(pk, m, sig);
    },
  };
  return s;
}

const wire = (n: Notice) => JSON.parse(JSON.stringify(noticeToJson(n)));

Deno.test("groups of 1..17 notices: one signature each; every notice verifies after the wire", () => {
  for (let size = 1; size <= 17; size++) {
    const group = signNotices(origin, "https://o.example", fieldsOf(size));
    assert.equal(group.length, size);
    assert.equal(new Set(group.map((n) => n.signature)).size, 1, "one root signature");
    for (const [i, n] of group.entries()) {
      assert.equal(n.proof.index, i);
      assert.equal(n.proof.count, size);
      const back = parseNotice(wire(n));
      assert.deepEqual(back, n);
      assert.ok(verifyNotice(back, secp256k1Scheme), `size ${size} index ${i}`);
    }
  }
  const one = signNotice(origin, "https://o.example", fields);
  assert.deepEqual(noticeToJson(one).proof, { index: 0, count: 1, siblings: [] });
});

Deno.test("a grouped notice with a changed field, sibling, index, count or signature fails", () => {
  const group = signNotices(origin, "https://o.example", fieldsOf(5));
  const other = signNotices(origin, "https://o.example", fieldsOf(5, 100));
  const n = group[2]!;
  const j = noticeToJson(n);
  const bad = (x: unknown, what: string) =>
    assert.equal(verifyNotice(parseNotice(x), secp256k1Scheme), false, what);
  bad({ ...j, size: j.size + 1 }, "size");
  const sib = [...j.proof.siblings];
  sib[0] = (sib[0]![0] === "0" ? "1" : "0") + sib[0]!.slice(1);
  bad({ ...j, proof: { ...j.proof, siblings: sib } }, "sibling");
  for (let i = 0; i < 5; i++) {
    if (i !== 2) bad({ ...j, proof: { ...j.proof, index: i } }, `index ${i}`);
  }
  bad({ ...j, proof: { ...j.proof, index: 5 } }, "index past the end");
  bad({ ...j, proof: { ...j.proof, count: 4 } }, "count");
  bad({ ...j, proof: { ...j.proof, siblings: j.proof.siblings.slice(1) } }, "short proof");
  bad({ ...j, sig: other[2]!.signature }, "another group's signature");
  bad({ ...noticeToJson(other[2]!), proof: j.proof }, "another group's notice");
  // A different origin's key cannot claim the group.
  const mallory = generateIdentity();
  bad({ ...j, origin: { ...j.origin, id: mallory.id, public_key: mallory.publicKeyHex } }, "key");
});

Deno.test("the signature covers the tagged root, not the bare root", () => {
  const group = signNotices(origin, "https://o.example", fieldsOf(3));
  const n = group[1]!;
  const { root } = merkleTree(group.map(noticeSigningBytes));
  const tagged = new Uint8Array([...new TextEncoder().encode(NOTICE_ROOT_DOMAIN), ...root]);
  assert.ok(secp256k1Scheme.verify(origin.publicKey, tagged, fromHex(n.signature)));
  const bare = toHex(origin.sign(root));
  assert.equal(verifyNotice({ ...n, signature: bare }, secp256k1Scheme), false);
  assert.ok(verifyNotice({ ...n, signature: toHex(origin.sign(tagged)) }, secp256k1Scheme));
});

Deno.test("proofs longer than 16 levels are refused", () => {
  const j = noticeToJson(signNotice(origin, "https://o.example", fields));
  const long = {
    ...j,
    proof: { index: 0, count: 2 ** 17, siblings: Array(17).fill("ab".repeat(32)) },
  };
  assert.equal(verifyNotice(parseNotice(long), secp256k1Scheme), false);
  assert.throws(() => parseNotice({ ...j, proof: { ...j.proof, siblings: ["xy"] } }), /proof/);
  assert.throws(() => parseNotice({ ...j, proof: undefined }), /proof/);
  assert.throws(() => parseNotice({ ...j, proof: { ...j.proof, index: 0.5 } }), /proof index/);
});

Deno.test("verified roots: the rest of a group costs no signature verification", () => {
  const scheme = countingScheme();
  const roots = new VerifiedRoots(2);
  const group = signNotices(origin, "https://o.example", fieldsOf(9)).map((n) =>
    parseNotice(wire(n))
  );
  for (const n of group) assert.ok(verifyNotice(n, scheme, roots));
  assert.equal(scheme.verifies, 1);
  // A changed notice of a known group yields another root: checked, and fails.
  const tampered = { ...group[3]!, size: group[3]!.size + 1 };
  assert.equal(verifyNotice(tampered, scheme, roots), false);
  assert.equal(scheme.verifies, 2);
  // A forged signature on a known root is checked (the cache keys on the signature too).
  const forged = { ...group[4]!, signature: "00".repeat(64) };
  assert.equal(verifyNotice(forged, scheme, roots), false);
  assert.equal(scheme.verifies, 3);
  // A malformed proof costs no signature check at all.
  const short = { ...group[4]!, proof: { ...group[4]!.proof, siblings: [] } };
  assert.equal(verifyNotice(short, scheme, roots), false);
  assert.equal(scheme.verifies, 3);
  // Without a cache every notice is checked.
  for (const n of group.slice(0, 3)) assert.ok(verifyNotice(n, scheme));
  assert.equal(scheme.verifies, 6);
  // The cache is bounded: two newer groups push the first out.
  for (const base of [100, 200]) {
    const g = signNotices(origin, "https://o.example", fieldsOf(2, base));
    for (const n of g) assert.ok(verifyNotice(n, scheme, roots));
  }
  assert.equal(scheme.verifies, 8);
  assert.equal(roots.size, 2);
  assert.ok(verifyNotice(group[0]!, scheme, roots));
  assert.equal(scheme.verifies, 9);
});
