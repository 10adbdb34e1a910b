/**
 * Stealth addresses in the Dark Wallet / libbitcoin layout (DESIGN.md, "Protocol decisions"):
 *
 * ```
 * [version:1][options:1][scan_pubkey:33][N:1][spend_pubkey:33]*N
 * [number_signatures:1][prefix_bits:1][prefix:ceil(prefix_bits/8)][checksum:4]
 * ```
 *
 * encoded with base58check (checksum = first 4 bytes of double SHA-256). Version `0x2a`
 * is mainnet, `0x2b` testnet. Option bit 0 means the scan key is also a spend key. The
 * prefix is read most significant bit first: bit `i` of the prefix is bit `7 - i % 8` of
 * byte `i / 8`, which is the same order the message tag is compared in.
 *
 * @module
 */
import { base58 } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import { concat, equalBytes, toHex } from "./bytes.ts";
import { isValidCompressedPubkey } from "./_secp.ts";

/** Version byte of a mainnet stealth address. */
export const MAINNET_VERSION = 0x2a;
/** Version byte of a testnet stealth address. */
export const TESTNET_VERSION = 0x2b;
/** Option bit 0: the scan public key is also a spend public key. */
export const OPTION_REUSE_SCAN_KEY = 0x01;
/** Largest prefix length in bits the layout allows. */
export const MAX_PREFIX_BITS = 32;
/** Largest number of explicit spend keys (the count is one byte). */
export const MAX_SPEND_KEYS = 255;

/** Bitcoin network an address belongs to. */
export type Network = "mainnet" | "testnet";

/** The decoded fields of a stealth address. */
export interface StealthAddress {
  /** `0x2a` (mainnet) or `0x2b` (testnet). */
  version: number;
  /** Option bits; only {@link OPTION_REUSE_SCAN_KEY} is defined. */
  options: number;
  /** Compressed secp256k1 scan public key (33 bytes); messages are encrypted to it. */
  scanPubkey: Uint8Array;
  /** Explicit compressed spend public keys (33 bytes each), not counting a reused scan key. */
  spendPubkeys: Uint8Array[];
  /** Number of signatures needed to spend (1..number of spend keys). */
  signatures: number;
  /** Prefix length in bits, 0..32. */
  prefixBits: number;
  /**
   * Prefix bytes: `ceil(prefixBits / 8)` bytes. Bits beyond `prefixBits` carry no meaning; our
   * encoder writes them as zero and the decoder keeps whatever it found so that re-encoding
   * reproduces the original string.
   */
  prefix: Uint8Array;
}

/** Maps a version byte to its network, or `undefined` for unknown versions. */
export function networkOf(version: number): Network | undefined {
  return version === MAINNET_VERSION
    ? "mainnet"
    : version === TESTNET_VERSION
    ? "testnet"
    : undefined;
}

/** Number of prefix bytes for a prefix of `bits` bits. */
export function prefixByteLength(bits: number): number {
  return Math.ceil(bits / 8);
}

/** Total spend keys of an address: the explicit ones plus the scan key when reused. */
export function spendKeyCount(a: Pick<StealthAddress, "options" | "spendPubkeys">): number {
  return a.spendPubkeys.length + ((a.options & OPTION_REUSE_SCAN_KEY) !== 0 ? 1 : 0);
}

function checksum(payload: Uint8Array): Uint8Array {
  return sha256(sha256(payload)).subarray(0, 4);
}

function assertPrefix(bits: number, prefix: Uint8Array, where: string): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > MAX_PREFIX_BITS) {
    throw new RangeError(`${where}: prefix length must be 0..${MAX_PREFIX_BITS} bits, got ${bits}`);
  }
  const n = prefixByteLength(bits);
  if (prefix.length !== n) {
    throw new RangeError(
      `${where}: a ${bits}-bit prefix needs ${n} prefix bytes, got ${prefix.length}`,
    );
  }
}

function validate(a: StealthAddress, where: string): void {
  if (networkOf(a.version) === undefined) {
    throw new RangeError(
      `${where}: unknown version 0x${a.version.toString(16).padStart(2, "0")} ` +
        `(expected 0x2a mainnet or 0x2b testnet)`,
    );
  }
  if (!Number.isInteger(a.options) || (a.options & ~OPTION_REUSE_SCAN_KEY) !== 0) {
    throw new RangeError(
      `${where}: unknown option bits 0x${(a.options >>> 0).toString(16)} (only bit 0 is defined)`,
    );
  }
  if (!isValidCompressedPubkey(a.scanPubkey)) {
    throw new RangeError(`${where}: scan public key is not a valid compressed secp256k1 point`);
  }
  if (a.spendPubkeys.length > MAX_SPEND_KEYS) {
    throw new RangeError(
      `${where}: at most ${MAX_SPEND_KEYS} spend keys, got ${a.spendPubkeys.length}`,
    );
  }
  a.spendPubkeys.forEach((k, i) => {
    if (!isValidCompressedPubkey(k)) {
      throw new RangeError(
        `${where}: spend public key ${i} is not a valid compressed secp256k1 point`,
      );
    }
  });
  const total = spendKeyCount(a);
  if (total === 0) {
    throw new RangeError(`${where}: no spend key (N = 0 and the reuse-scan-key option is off)`);
  }
  if (!Number.isInteger(a.signatures) || a.signatures < 1 || a.signatures > total) {
    throw new RangeError(
      `${where}: number of signatures must be 1..${total} (the number of spend keys), got ${a.signatures}`,
    );
  }
  assertPrefix(a.prefixBits, a.prefix, where);
}

/**
 * Serialises an address to its raw bytes (without the checksum).
 *
 * @example
 * ```ts
 * const raw = stealthAddressBytes(decodeStealthAddress(addr));
 * ```
 */
export function stealthAddressBytes(a: StealthAddress): Uint8Array {
  validate(a, "Cannot encode stealth address");
  return concat(
    Uint8Array.of(a.version, a.options),
    a.scanPubkey,
    Uint8Array.of(a.spendPubkeys.length),
    ...a.spendPubkeys,
    Uint8Array.of(a.signatures, a.prefixBits),
    a.prefix,
  );
}

/**
 * Encodes an address as base58check.
 *
 * @throws {RangeError} when a field is out of range or a key is not a valid point.
 * @example
 * ```ts
 * const s = encodeStealthAddress({ version: 0x2a, options: 0, scanPubkey, spendPubkeys: [spend],
 *   signatures: 1, prefixBits: 0, prefix: new Uint8Array(0) });
 * ```
 */
export function encodeStealthAddress(a: StealthAddress): string {
  const raw = stealthAddressBytes(a);
  return base58.encode(concat(raw, checksum(raw)));
}

const FIXED_BYTES = 1 + 1 + 33 + 1 + 1 + 1; // without spend keys, prefix and checksum

/**
 * Decodes and fully validates a base58check stealth address: alphabet, checksum, version,
 * options, every length, every public key (on the curve), signature count and prefix.
 *
 * @throws {RangeError} naming precisely what is wrong.
 * @example
 * ```ts
 * const a = decodeStealthAddress("vJmzLu29obZcUGXXgotapfQLUpz7dfnZpbr4xg1R75qctf8xaXAteRdi3ZUk3T2ZMSad5KyPbve7uyH6eswYAxLHRVSbWgNUeoGuXp");
 * a.version; // 0x2a
 * ```
 */
export function decodeStealthAddress(encoded: string): StealthAddress {
  const where = "Cannot decode stealth address";
  if (typeof encoded !== "string") throw new TypeError(`${where}: expected a string`);
  const text = encoded.trim();
  if (text.length === 0) throw new RangeError(`${where}: empty string`);
  const bad = /[^1-9A-HJ-NP-Za-km-z]/.exec(text);
  if (bad !== null) {
    throw new RangeError(
      `${where}: character '${bad[0]}' at position ${bad.index} is not in the base58 alphabet`,
    );
  }
  const bytes = base58.decode(text);
  if (bytes.length < FIXED_BYTES + 4) {
    throw new RangeError(
      `${where}: too short (${bytes.length} bytes, at least ${FIXED_BYTES + 4} needed)`,
    );
  }
  const raw = bytes.subarray(0, bytes.length - 4);
  if (!equalBytes(checksum(raw), bytes.subarray(bytes.length - 4))) {
    throw new RangeError(`${where}: checksum mismatch (mistyped or truncated address?)`);
  }
  const version = raw[0]!;
  const options = raw[1]!;
  const scanPubkey = raw.slice(2, 35);
  const n = raw[35]!;
  const afterKeys = 36 + 33 * n;
  if (raw.length < afterKeys + 2) {
    throw new RangeError(
      `${where}: ${n} spend keys need at least ${afterKeys + 2} bytes before the checksum, ` +
        `got ${raw.length}`,
    );
  }
  const spendPubkeys: Uint8Array[] = [];
  for (let i = 0; i < n; i++) spendPubkeys.push(raw.slice(36 + 33 * i, 69 + 33 * i));
  const signatures = raw[afterKeys]!;
  const prefixBits = raw[afterKeys + 1]!;
  if (prefixBits > MAX_PREFIX_BITS) {
    throw new RangeError(
      `${where}: prefix length must be 0..${MAX_PREFIX_BITS} bits, got ${prefixBits}`,
    );
  }
  const expected = afterKeys + 2 + prefixByteLength(prefixBits);
  if (raw.length !== expected) {
    throw new RangeError(
      `${where}: expected ${expected} bytes before the checksum for ${n} spend keys and a ` +
        `${prefixBits}-bit prefix, got ${raw.length}`,
    );
  }
  const address: StealthAddress = {
    version,
    options,
    scanPubkey,
    spendPubkeys,
    signatures,
    prefixBits,
    prefix: raw.slice(afterKeys + 2),
  };
  validate(address, where);
  return address;
}

/**
 * The JSON view of an address printed by `subspace address --decode`.
 *
 * @example
 * ```ts
 * stealthAddressToJson(decodeStealthAddress(s)).prefix_bits;
 * ```
 */
export function stealthAddressToJson(a: StealthAddress): {
  version: number;
  network: Network;
  options: number;
  scan_pubkey: string;
  spend_pubkeys: string[];
  signatures: number;
  prefix_bits: number;
  prefix: string;
} {
  return {
    version: a.version,
    network: networkOf(a.version) ?? "mainnet",
    options: a.options,
    scan_pubkey: toHex(a.scanPubkey),
    spend_pubkeys: a.spendPubkeys.map(toHex),
    signatures: a.signatures,
    prefix_bits: a.prefixBits,
    prefix: toHex(a.prefix),
  };
}

/**
 * Returns `prefix` with every bit beyond `bits` cleared, truncated to `ceil(bits/8)` bytes.
 *
 * @example
 * ```ts
 * truncatePrefix(Uint8Array.of(0xff, 0xff), 12); // Uint8Array [0xff, 0xf0]
 * ```
 */
export function truncatePrefix(bytes: Uint8Array, bits: number): Uint8Array {
  if (!Number.isInteger(bits) || bits < 0 || bits > 160) {
    throw new RangeError(`Cannot truncate prefix: bits must be 0..160, got ${bits}`);
  }
  const n = prefixByteLength(bits);
  if (bytes.length < n) {
    throw new RangeError(
      `Cannot truncate prefix: need ${n} bytes for ${bits} bits, got ${bytes.length}`,
    );
  }
  const out = bytes.slice(0, n);
  if (bits % 8 !== 0) out[n - 1]! &= 0xff << (8 - (bits % 8));
  return out;
}

/**
 * True when the first `bits` bits of `tag` equal the first `bits` bits of `prefix`.
 *
 * @example
 * ```ts
 * matchesPrefix(tag, address.prefix, address.prefixBits);
 * ```
 */
export function matchesPrefix(tag: Uint8Array, prefix: Uint8Array, bits: number): boolean {
  const full = bits >> 3;
  if (tag.length * 8 < bits || prefix.length * 8 < bits) return false;
  for (let i = 0; i < full; i++) if (tag[i] !== prefix[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((tag[full]! ^ prefix[full]!) & mask) === 0;
}
