/**
 * Small byte helpers shared by the wallet library. Private to `client/`.
 *
 * @module
 */
import * as secp from "@noble/secp256k1";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";

// noble-secp256k1 v3 needs synchronous hashes wired in for sign/verify.
secp.hashes.sha256 = sha256;
secp.hashes.hmacSha256 = (key, msg) => hmac(sha256, key, msg);

export { secp };

/** Source of cryptographic randomness: returns `n` fresh random bytes. */
export type RandomBytes = (n: number) => Uint8Array;

/** The default randomness: `crypto.getRandomValues`. */
export const defaultRandomBytes: RandomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

const HEX = "0123456789abcdef";

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX[b >> 4]! + HEX[b & 15]!;
  return s;
}

/**
 * Parses hex, naming `what` in the error.
 * @throws {RangeError} on odd length, bad characters or (when given) the wrong length.
 */
export function fromHex(hex: string, what = "hex", byteLength?: number): Uint8Array {
  if (typeof hex !== "string") throw new TypeError(`Cannot parse ${what}: expected a hex string`);
  if (byteLength !== undefined && hex.length !== byteLength * 2) {
    throw new RangeError(
      `Cannot parse ${what}: expected ${byteLength * 2} hex characters, got ${hex.length}`,
    );
  }
  if (hex.length % 2 !== 0) {
    throw new RangeError(`Cannot parse ${what}: odd number of hex characters (${hex.length})`);
  }
  if (!/^[0-9a-fA-F]*$/.test(hex)) {
    throw new RangeError(`Cannot parse ${what}: not a hex string`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Constant-length-aware equality (not constant time; use only on public data or MAC output). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** UTF-8 encoder shared by the library. */
export const utf8 = new TextEncoder();

/** Strict UTF-8 decoder (throws on malformed input). */
export const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Returns true when `bytes` is a valid compressed (33-byte) secp256k1 public key. */
export function isValidCompressedPubkey(bytes: Uint8Array): boolean {
  if (bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) return false;
  try {
    secp.Point.fromBytes(bytes).assertValidity();
    return true;
  } catch {
    return false;
  }
}
