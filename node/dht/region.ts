/**
 * Regions of the keyspace: a prefix of `bits` bits names the subtree of every 160-bit key that
 * starts with it. A recipient's tags all start with its stealth prefix, so its messages live in
 * one region, and the servers responsible for a region are the ones whose ids are closest to it.
 *
 * Responsibility: a notice is stored at the `replicas` servers closest (XOR) to its tag. For a
 * region R (prefix P, b bits) let b' be the largest j <= b such that at least `replicas` servers
 * share j bits with P; every tag in R then has its `replicas` closest servers among those that
 * share b' bits with P (they are closer to any tag of R than every server outside), so
 * subscribing at that set sees every notice of R. When R itself holds more servers than a lookup
 * returns (k), the set is "every server in R" and the subscription spreads down R's subtree.
 *
 * @module
 */
import type { Contact } from "./contact.ts";
import { commonPrefixBits, compareDistance, ID_BITS } from "./id.ts";

/** Hex characters of a 160-bit key. */
const KEY_HEX = 40;

/**
 * A region's prefix in canonical form: 40 hex characters, the bits after `bits` zero.
 *
 * @example
 * ```ts
 * regionKey("abcd", 12); // "abc0000000000000000000000000000000000000"
 * ```
 */
export function regionKey(prefixHex: string, bits: number): string {
  if (!Number.isInteger(bits) || bits < 0 || bits > ID_BITS) {
    throw new RangeError(`Cannot name a region: bits must be 0..160, got ${bits}`);
  }
  if (!/^[0-9a-f]*$/.test(prefixHex) || prefixHex.length * 4 < bits) {
    throw new RangeError(`Cannot name a region: prefix must be hex of at least ${bits} bits`);
  }
  const full = (prefixHex + "0".repeat(KEY_HEX)).slice(0, KEY_HEX);
  const whole = bits >> 2, rest = bits & 3;
  let out = full.slice(0, whole);
  if (rest > 0) {
    const nibble = parseInt(full[whole]!, 16) & (0xf << (4 - rest)) & 0xf;
    out += nibble.toString(16);
  }
  return out.padEnd(KEY_HEX, "0");
}

/** Whether the 160-bit key `key` (40 hex) lies in region (`prefix` = regionKey, `bits`). */
export function inRegion(key: string, prefix: string, bits: number): boolean {
  return bits === 0 || commonPrefixBits(key, prefix) >= bits;
}

/** The smallest and largest 40-hex keys of a region (inclusive), for range scans. */
export function regionBounds(prefix: string, bits: number): { lo: string; hi: string } {
  const lo = regionKey(prefix, bits);
  const whole = bits >> 2, rest = bits & 3;
  let hi = lo.slice(0, whole);
  if (rest > 0) hi += (parseInt(lo[whole]!, 16) | (0xf >> rest)).toString(16);
  return { lo, hi: hi.padEnd(KEY_HEX, "f") };
}

/** The servers to subscribe at for a region (see the module doc). */
export interface RegionSet {
  /** Servers responsible for part of the region (self excluded). */
  contacts: Contact[];
  /** True when the region holds at least k servers: subscribe once and spread down its subtree. */
  spread: boolean;
  /** The bits b' the set shares with the prefix. */
  sharedBits: number;
}

/**
 * Picks the servers responsible for a region from the k closest to its key that a lookup found
 * (`selfId` is counted among them, but never returned).
 */
export function regionSet(
  found: readonly Contact[],
  selfId: string,
  prefix: string,
  bits: number,
  replicas: number,
  k: number,
): RegionSet {
  const all = [...found.map((c) => ({ c, cpl: commonPrefixBits(c.id, prefix) })), {
    c: null,
    cpl: commonPrefixBits(selfId, prefix),
  }];
  const inside = all.filter((e) => e.cpl >= bits).length;
  if (inside >= k) {
    const entries = found.filter((c) => inRegion(c.id, prefix, bits))
      .sort((a, b) => compareDistance(prefix, a.id, b.id));
    return { contacts: entries, spread: true, sharedBits: bits };
  }
  let shared = bits;
  while (shared > 0 && all.filter((e) => e.cpl >= shared).length < replicas) shared--;
  return {
    contacts: found.filter((c) => commonPrefixBits(c.id, prefix) >= shared),
    spread: false,
    sharedBits: shared,
  };
}

/**
 * The `n` closest of `candidates` to `key`, as a new array.
 *
 * @example
 * ```ts
 * closestTo(tag, contacts, 3);
 * ```
 */
export function closestTo<T extends { id: string }>(
  key: string,
  candidates: readonly T[],
  n: number,
): T[] {
  return [...candidates].sort((a, b) => compareDistance(key, a.id, b.id)).slice(0, n);
}
