/**
 * A binary Merkle tree over byte strings (SHA-256, domain-separated), used to sign a whole group
 * of notices with one signature: the origin signs the root, each notice carries its inclusion
 * proof.
 *
 * - Leaf hash: `SHA-256(0x00 || data)`; interior node: `SHA-256(0x01 || left || right)`, so a
 *   leaf can never be passed off as an interior node or the reverse.
 * - Levels are built left to right. When a level has an odd number of nodes, its last node is
 *   promoted to the next level unchanged (it is not hashed with itself or with padding), so the
 *   leaf at that position has no sibling at that level. A tree of one leaf has the leaf hash as
 *   its root and an empty proof.
 * - A proof is the leaf's index, the number of leaves, and the sibling hashes from the leaf
 *   level up, skipping levels where the node was promoted. The verifier derives from index and
 *   count which levels have a sibling and on which side, and needs exactly that many siblings.
 * - At most {@link MAX_PROOF_LEVELS} levels (so at most 2^16 leaves); longer proofs are refused.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Longest accepted proof, in sibling hashes (tree height). */
export const MAX_PROOF_LEVELS = 16;
/** Most leaves in one tree (2^{@link MAX_PROOF_LEVELS}). */
export const MAX_MERKLE_LEAVES = 2 ** MAX_PROOF_LEVELS;
/** Bytes of a hash. */
export const MERKLE_HASH_BYTES = 32;

const LEAF = new Uint8Array([0x00]);
const NODE = new Uint8Array([0x01]);

/** An inclusion proof of one leaf. */
export interface MerkleProof {
  /** Position of the leaf, 0-based. */
  readonly index: number;
  /** Number of leaves in the tree. */
  readonly count: number;
  /** Sibling hashes (32 bytes each), from the leaf level up. */
  readonly siblings: readonly Uint8Array[];
}

function digest(prefix: Uint8Array, a: Uint8Array, b?: Uint8Array): Uint8Array {
  const h = createHash("sha256").update(prefix).update(a);
  if (b !== undefined) h.update(b);
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/**
 * The leaf hash of `data`: SHA-256(0x00 || data).
 *
 * @example
 * ```ts
 * merkleLeafHash(new TextEncoder().encode("a")).length; // 32
 * ```
 */
export function merkleLeafHash(data: Uint8Array): Uint8Array {
  return digest(LEAF, data);
}

/**
 * An interior node: SHA-256(0x01 || left || right).
 *
 * @example
 * ```ts
 * merkleNodeHash(merkleLeafHash(a), merkleLeafHash(b));
 * ```
 */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return digest(NODE, left, right);
}

/**
 * Builds the tree over `leaves` (the data, not yet hashed) and returns its root and one proof
 * per leaf. Throws RangeError for 0 or more than {@link MAX_MERKLE_LEAVES} leaves.
 *
 * @example
 * ```ts
 * const { root, proofs } = merkleTree([a, b, c]);
 * merkleRootFromProof(b, proofs[1]!); // equals root
 * ```
 */
export function merkleTree(
  leaves: readonly Uint8Array[],
): { root: Uint8Array; proofs: MerkleProof[] } {
  const count = leaves.length;
  if (count < 1 || count > MAX_MERKLE_LEAVES) {
    throw new RangeError(`Cannot build a Merkle tree: expected 1..${MAX_MERKLE_LEAVES} leaves`);
  }
  const siblings: Uint8Array[][] = leaves.map(() => []);
  let level = leaves.map(merkleLeafHash);
  let shift = 0;
  while (level.length > 1) {
    const size = level.length;
    for (let i = 0; i < count; i++) {
      const p = i >> shift;
      if (p % 2 === 0 && p === size - 1) continue; // promoted: no sibling at this level
      siblings[i]!.push(level[p ^ 1]!);
    }
    const next: Uint8Array[] = [];
    for (let p = 0; p < size; p += 2) {
      next.push(p + 1 < size ? merkleNodeHash(level[p]!, level[p + 1]!) : level[p]!);
    }
    level = next;
    shift++;
  }
  return {
    root: level[0]!,
    proofs: siblings.map((s, index) => ({ index, count, siblings: s })),
  };
}

/**
 * The root implied by `data` at `proof`, or null when the proof is malformed: index not below
 * count, count above {@link MAX_MERKLE_LEAVES}, more than {@link MAX_PROOF_LEVELS} siblings, a
 * sibling not 32 bytes, or a sibling count that does not match the tree shape. Compare the
 * result with a signed root.
 *
 * @example
 * ```ts
 * const root = merkleRootFromProof(data, { index: 0, count: 1, siblings: [] }); // leaf hash
 * ```
 */
export function merkleRootFromProof(data: Uint8Array, proof: MerkleProof): Uint8Array | null {
  const { index, count, siblings } = proof;
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_MERKLE_LEAVES) return null;
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) return null;
  if (siblings.length > MAX_PROOF_LEVELS) return null;
  let h = merkleLeafHash(data);
  let p = index, size = count, used = 0;
  while (size > 1) {
    if (!(p % 2 === 0 && p === size - 1)) {
      const s = siblings[used++];
      if (s === undefined || s.length !== MERKLE_HASH_BYTES) return null;
      h = p % 2 === 0 ? merkleNodeHash(h, s) : merkleNodeHash(s, h);
    }
    p >>= 1;
    size = (size + 1) >> 1;
  }
  return used === siblings.length ? h : null;
}
