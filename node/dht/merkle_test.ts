import assert from "node:assert/strict";
import {
  MAX_MERKLE_LEAVES,
  MAX_PROOF_LEVELS,
  merkleLeafHash,
  merkleNodeHash,
  type MerkleProof,
  merkleRootFromProof,
  merkleTree,
} from "./merkle.ts";

const enc = new TextEncoder();
const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => enc.encode(`leaf ${i}`));
const same = (a: Uint8Array | null, b: Uint8Array) =>
  a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
const flipped = (b: Uint8Array) => {
  const c = b.slice();
  c[0]! ^= 1;
  return c;
};

Deno.test("every index of groups of 1..17 leaves verifies; tampering anything fails", () => {
  for (let n = 1; n <= 17; n++) {
    const leaves = leavesOf(n);
    const { root, proofs } = merkleTree(leaves);
    assert.equal(proofs.length, n);
    for (let i = 0; i < n; i++) {
      const p = proofs[i]!;
      assert.equal(p.index, i);
      assert.equal(p.count, n);
      assert.ok(p.siblings.length <= Math.ceil(Math.log2(n)), `n=${n} i=${i}`);
      assert.ok(same(merkleRootFromProof(leaves[i]!, p), root), `n=${n} i=${i}`);
      // Tampered leaf.
      assert.ok(!same(merkleRootFromProof(enc.encode(`leaf ${i}!`), p), root));
      // Another leaf of the same tree at this position.
      if (n > 1) assert.ok(!same(merkleRootFromProof(leaves[(i + 1) % n]!, p), root));
      // Tampered sibling, each in turn.
      for (let s = 0; s < p.siblings.length; s++) {
        const siblings = p.siblings.map((x, j) => (j === s ? flipped(x) : x));
        assert.ok(!same(merkleRootFromProof(leaves[i]!, { ...p, siblings }), root), `sib ${s}`);
      }
      // Tampered index: every other position fails.
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        assert.ok(
          !same(merkleRootFromProof(leaves[i]!, { ...p, index: j }), root),
          `n=${n} ${i}->${j}`,
        );
      }
      assert.equal(merkleRootFromProof(leaves[i]!, { ...p, index: n }), null);
      assert.equal(merkleRootFromProof(leaves[i]!, { ...p, index: -1 }), null);
      // Dropped or extra sibling.
      if (p.siblings.length > 0) {
        assert.equal(
          merkleRootFromProof(leaves[i]!, { ...p, siblings: p.siblings.slice(1) }),
          null,
        );
      }
      assert.equal(
        merkleRootFromProof(leaves[i]!, { ...p, siblings: [...p.siblings, root] }),
        null,
      );
    }
    // A tampered root is not what any proof yields.
    assert.ok(!same(merkleRootFromProof(leaves[0]!, proofs[0]!), flipped(root)));
  }
});

Deno.test("a group of one has an empty proof and its leaf hash as root", () => {
  const [leaf] = leavesOf(1);
  const { root, proofs } = merkleTree([leaf!]);
  assert.deepEqual(proofs[0]!.siblings, []);
  assert.deepEqual(root, merkleLeafHash(leaf!));
  assert.deepEqual(merkleRootFromProof(leaf!, proofs[0]!), root);
});

Deno.test("leaf and node hashing are domain-separated; odd nodes are promoted", () => {
  const [a, b, c] = leavesOf(3);
  const la = merkleLeafHash(a!), lb = merkleLeafHash(b!), lc = merkleLeafHash(c!);
  // Root of 3: H1(H1(a, b), c) — c promoted from the leaf level, not paired with itself.
  assert.deepEqual(merkleTree([a!, b!, c!]).root, merkleNodeHash(merkleNodeHash(la, lb), lc));
  // An interior node's bytes presented as a leaf do not give the same hash.
  const inner = new Uint8Array([...la, ...lb]);
  assert.notDeepEqual(merkleLeafHash(inner), merkleNodeHash(la, lb));
  // Two leaves are not a tree of one leaf whose data is their concatenated hashes.
  assert.notDeepEqual(merkleTree([inner]).root, merkleTree([a!, b!]).root);
});

Deno.test("proofs longer than 16 levels, bad sizes and empty trees are refused", () => {
  const [leaf] = leavesOf(1);
  const h = merkleLeafHash(leaf!);
  const long: MerkleProof = {
    index: 0,
    count: MAX_MERKLE_LEAVES,
    siblings: Array.from({ length: MAX_PROOF_LEVELS + 1 }, () => h),
  };
  assert.equal(merkleRootFromProof(leaf!, long), null);
  // 16 levels is the most a tree of 2^16 leaves has, and is accepted.
  const full = { ...long, siblings: long.siblings.slice(0, MAX_PROOF_LEVELS) };
  assert.equal(merkleRootFromProof(leaf!, full)?.length, 32);
  assert.equal(merkleRootFromProof(leaf!, { ...full, count: MAX_MERKLE_LEAVES + 1 }), null);
  assert.equal(merkleRootFromProof(leaf!, { index: 0, count: 0, siblings: [] }), null);
  assert.equal(
    merkleRootFromProof(leaf!, { index: 0, count: 2, siblings: [h.subarray(1)] }),
    null,
  );
  assert.throws(() => merkleTree([]), RangeError);
});
