/**
 * 160-bit Kademlia identifiers: node ids (hash160 of a node's public key) and DHT keys, the XOR
 * metric, and bucket indices.
 *
 * Ids travel and are stored as 40 lowercase hex characters; the branded {@link NodeId} type
 * marks strings that were checked at the edge by {@link parseNodeId}.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { ripemd160 } from "@noble/hashes/legacy.js";
import type { Random } from "./random.ts";
import { toHex } from "../../client/mod.ts";

/** Bits in an id (Kademlia's B). */
export const ID_BITS = 160;
/** Bytes in an id. */
export const ID_BYTES = 20;

/** A 160-bit id as 40 lowercase hex characters. */
export type NodeId = string & { readonly __brand: "NodeId" };

const HEX40 = /^[0-9a-f]{40}$/;
const NIBBLE: Record<string, number> = {};
for (let i = 0; i < 16; i++) NIBBLE[i.toString(16)] = i;

/**
 * Parses a 40-character lowercase hex id, naming `what` in the error.
 *
 * @example
 * ```ts
 * const id = parseNodeId("00".repeat(20));
 * ```
 */
export function parseNodeId(value: unknown, what = "node id"): NodeId {
  if (typeof value !== "string") {
    throw new TypeError(`Cannot parse ${what}: expected a string, got ${typeof value}`);
  }
  if (!HEX40.test(value)) {
    throw new RangeError(
      `Cannot parse ${what}: expected 40 lowercase hex characters, got ${value.length}`,
    );
  }
  return value as NodeId;
}

/**
 * The id of 20 raw bytes.
 *
 * @example
 * ```ts
 * idFromBytes(new Uint8Array(20)); // "000…0"
 * ```
 */
export function idFromBytes(bytes: Uint8Array): NodeId {
  if (bytes.length !== ID_BYTES) {
    throw new RangeError(`Cannot make id: expected ${ID_BYTES} bytes, got ${bytes.length}`);
  }
  return toHex(bytes) as NodeId;
}

/**
 * The 20 raw bytes of an id.
 *
 * @example
 * ```ts
 * idToBytes(idFromBytes(new Uint8Array(20))).length; // 20
 * ```
 */
export function idToBytes(id: NodeId): Uint8Array {
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) out[i] = parseInt(id.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * hash160 = RIPEMD-160(SHA-256(bytes)), Bitcoin's hash160; a node id is hash160 of the node's
 * 33-byte compressed secp256k1 public key.
 *
 * @example
 * ```ts
 * hash160(new Uint8Array(33)).length; // 20
 * ```
 */
export function hash160(bytes: Uint8Array): Uint8Array {
  return ripemd160(sha256(bytes));
}

/**
 * The node id of a compressed public key.
 *
 * @example
 * ```ts
 * nodeIdFromPublicKey(publicKey);
 * ```
 */
export function nodeIdFromPublicKey(publicKey: Uint8Array): NodeId {
  return idFromBytes(hash160(publicKey));
}

/**
 * The DHT key of a 256-bit message id: its first 160 bits.
 *
 * @example
 * ```ts
 * keyOfMessageId("ab".repeat(32)) === "ab".repeat(20); // true
 * ```
 */
export function keyOfMessageId(messageId: string): NodeId {
  return parseNodeId(messageId.slice(0, 40), "message id");
}

/**
 * XOR distance of two ids as 20 bytes (big-endian integer).
 *
 * @example
 * ```ts
 * xorDistance(a, a).every((b) => b === 0); // true
 * ```
 */
export function xorDistance(a: NodeId, b: NodeId): Uint8Array {
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) {
    out[i] = parseInt(a.slice(2 * i, 2 * i + 2), 16) ^ parseInt(b.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/**
 * Compares the distances of `a` and `b` to `target`: negative if `a` is closer, 0 if equal.
 *
 * @example
 * ```ts
 * ids.sort((a, b) => compareDistance(target, a, b));
 * ```
 */
export function compareDistance(target: string, a: string, b: string): number {
  if (a === b) return 0;
  for (let i = 0; i < 40; i++) {
    const t = NIBBLE[target[i]!]!;
    const da = NIBBLE[a[i]!]! ^ t;
    const db = NIBBLE[b[i]!]! ^ t;
    if (da !== db) return da - db;
  }
  return 0;
}

/**
 * Length of the common prefix of two ids in bits (160 when equal).
 *
 * @example
 * ```ts
 * commonPrefixBits(a, a); // 160
 * ```
 */
export function commonPrefixBits(a: string, b: string): number {
  for (let i = 0; i < 40; i++) {
    const x = NIBBLE[a[i]!]! ^ NIBBLE[b[i]!]!;
    if (x !== 0) return 4 * i + (Math.clz32(x) - 28);
  }
  return ID_BITS;
}

/**
 * Kademlia bucket index of `other` as seen from `self`: i such that
 * 2^i <= distance < 2^(i+1), i.e. 159 - commonPrefixBits; -1 when the ids are equal.
 *
 * @example
 * ```ts
 * bucketIndex(a, a); // -1
 * ```
 */
export function bucketIndex(self: string, other: string): number {
  return ID_BITS - 1 - commonPrefixBits(self, other);
}

/**
 * A random id in bucket `index` of `self`: shares the top 159 - index bits with `self`, differs
 * at the next bit, and is random below.
 *
 * @example
 * ```ts
 * bucketIndex(self, randomIdInBucket(self, 150, Math.random)); // 150
 * ```
 */
export function randomIdInBucket(self: NodeId, index: number, random: Random): NodeId {
  if (!Number.isInteger(index) || index < 0 || index >= ID_BITS) {
    throw new RangeError(`Cannot pick id: bucket index must be 0..159, got ${index}`);
  }
  const bytes = idToBytes(self);
  const flip = ID_BITS - 1 - index; // bit position from the top
  for (let bit = flip; bit < ID_BITS; bit++) {
    const byte = bit >> 3, mask = 0x80 >> (bit & 7);
    const value = bit === flip ? ((bytes[byte]! & mask) ^ mask) : (random() < 0.5 ? 0 : mask);
    bytes[byte] = (bytes[byte]! & ~mask) | value;
  }
  return idFromBytes(bytes);
}

/**
 * A uniformly random id.
 *
 * @example
 * ```ts
 * randomId(Math.random).length; // 40
 * ```
 */
export function randomId(random: Random): NodeId {
  const bytes = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) bytes[i] = Math.floor(random() * 256);
  return idFromBytes(bytes);
}
