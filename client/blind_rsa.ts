/**
 * RSA blind signatures (RFC 9474), variant RSABSSA-SHA384-PSS-Deterministic: EMSA-PSS with
 * SHA-384, MGF1-SHA-384 and a 48-byte salt, identity message preparation. This is the
 * primitive behind Privacy Pass token type 0x0002 (RFC 9578 §6).
 *
 * This module is the client's half and the public-key operations: Blind (§4.2), Finalize
 * (§4.4) and verification, in portable TypeScript (BigInt and noble's SHA-384), so a wallet in
 * a browser can get tokens. Public-key operations (RSAVP1) use square-and-multiply with the
 * small public exponent, about 30 µs per 2048-bit operation. The issuer's private-key step,
 * BlindSign (§4.3), needs the private key and lives with the issuer.
 *
 * @example
 * ```ts
 * const { blindedMsg, inv } = blind(publicKey, msg);
 * // ... the issuer answers blindSig ...
 * const sig = finalize(publicKey, msg, blindSig, inv);
 * verify(publicKey, msg, sig); // true
 * ```
 *
 * @module
 */
import { sha384 as nobleSha384 } from "@noble/hashes/sha2.js";
import {
  concat,
  defaultRandomBytes,
  equalBytes,
  fromHex,
  type RandomBytes,
  toHex,
} from "./bytes.ts";

/** SHA-384 output length in bytes (RFC 9474 §5, `Hash = SHA-384`). */
export const HASH_BYTES = 48;
/** Salt length of RSABSSA-SHA384-PSS-Deterministic (RFC 9474 §5: `sLen = 48`). */
export const PSS_SALT_BYTES = 48;

/** An RSA public key as integers. */
export interface RsaPublicKey {
  /** Modulus. */
  readonly n: bigint;
  /** Public exponent. */
  readonly e: bigint;
  /** Length of the modulus in bits. */
  readonly modulusBits: number;
  /** Length of the modulus in bytes (`modulus_len` in RFC 9474). */
  readonly modulusBytes: number;
}

/** The result of {@linkcode blind}: what goes to the signer and what the client keeps. */
export interface BlindResult {
  /** `blinded_msg`, sent to the signer. */
  blindedMsg: Uint8Array;
  /** `inv`, the inverse of the blind, kept by the client for {@linkcode finalize}. */
  inv: Uint8Array;
}

/** Options for {@linkcode blind}; tests pass the salt and blind of a published vector. */
export interface BlindOptions {
  /** Randomness for the salt and the blind. */
  randomBytes?: RandomBytes;
  /** Fixed PSS salt (tests only). */
  salt?: Uint8Array;
  /** Fixed blind `r`, big-endian (tests only). */
  r?: Uint8Array;
  /** Fixed inverse of the blind, big-endian (tests only; `r` is derived from it). */
  inv?: Uint8Array;
}

/** A signature or blinding step failed; the message says which check. */
export class BlindRsaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BlindRsaError";
  }
}

/** RFC 8017 §4.2 OS2IP: big-endian bytes to a non-negative integer. */
export function os2ip(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt("0x" + toHex(bytes));
}

/**
 * RFC 8017 §4.1 I2OSP: a non-negative integer to exactly `len` big-endian bytes.
 * @throws {RangeError} "integer too large" when `x >= 256^len`.
 */
export function i2osp(x: bigint, len: number): Uint8Array {
  if (x < 0n) throw new RangeError("I2OSP: negative integer");
  const hex = x.toString(16);
  if (hex.length > len * 2) throw new RangeError("I2OSP: integer too large");
  return fromHex(hex.padStart(len * 2, "0"));
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/**
 * Builds an {@linkcode RsaPublicKey} from its modulus and exponent.
 * @throws {RangeError} when the modulus is shorter than 1024 bits or the exponent is even.
 */
export function rsaPublicKey(n: bigint, e: bigint): RsaPublicKey {
  const modulusBits = bitLength(n);
  if (modulusBits < 1024) throw new RangeError(`RSA modulus too short: ${modulusBits} bits`);
  if (e < 3n || e % 2n === 0n) throw new RangeError(`RSA public exponent must be odd and >= 3`);
  return { n, e, modulusBits, modulusBytes: Math.ceil(modulusBits / 8) };
}

/** `base^exp mod m` by square-and-multiply (fast for the small public exponent). */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = base % m;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

/** Modular inverse by the extended Euclidean algorithm; `undefined` when none exists. */
export function modInverse(a: bigint, m: bigint): bigint | undefined {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) return undefined;
  return ((oldS % m) + m) % m;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** SHA-384 of the parts concatenated (a native one can stand in for the portable default). */
export type Sha384 = (...parts: Uint8Array[]) => Uint8Array;

function sha384(...parts: Uint8Array[]): Uint8Array {
  return nobleSha384(parts.length === 1 ? parts[0]! : concat(...parts));
}

/** RFC 8017 Appendix B.2.1 MGF1 with SHA-384. */
export function mgf1Sha384(seed: Uint8Array, maskLen: number, hash: Sha384 = sha384): Uint8Array {
  const out = new Uint8Array(Math.ceil(maskLen / HASH_BYTES) * HASH_BYTES);
  const counter = new Uint8Array(4);
  for (let i = 0, off = 0; off < maskLen; i++, off += HASH_BYTES) {
    counter[0] = i >>> 24;
    counter[1] = (i >>> 16) & 0xff;
    counter[2] = (i >>> 8) & 0xff;
    counter[3] = i & 0xff;
    out.set(hash(seed, counter), off);
  }
  return out.subarray(0, maskLen);
}

/**
 * RFC 8017 §9.1.1 EMSA-PSS-ENCODE with SHA-384 and MGF1-SHA-384.
 *
 * @param msg the message `M`
 * @param emBits the encoded length in bits (`modBits - 1`)
 * @param salt the salt (48 bytes for the Deterministic variant)
 */
export function emsaPssEncode(msg: Uint8Array, emBits: number, salt: Uint8Array): Uint8Array {
  const emLen = Math.ceil(emBits / 8);
  const sLen = salt.length;
  if (emLen < HASH_BYTES + sLen + 2) throw new BlindRsaError("EMSA-PSS: encoding error");
  const mHash = sha384(msg);
  const h = sha384(new Uint8Array(8), mHash, salt);
  const dbLen = emLen - HASH_BYTES - 1;
  const db = new Uint8Array(dbLen);
  db[dbLen - sLen - 1] = 0x01;
  db.set(salt, dbLen - sLen);
  const mask = mgf1Sha384(h, dbLen);
  for (let i = 0; i < dbLen; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = new Uint8Array(emLen);
  em.set(db, 0);
  em.set(h, dbLen);
  em[emLen - 1] = 0xbc;
  return em;
}

/** RFC 8017 §9.1.2 EMSA-PSS-VERIFY with SHA-384 and MGF1-SHA-384 and salt length `sLen`. */
export function emsaPssVerify(
  msg: Uint8Array,
  em: Uint8Array,
  emBits: number,
  sLen: number = PSS_SALT_BYTES,
  hash: Sha384 = sha384,
): boolean {
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || emLen < HASH_BYTES + sLen + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const dbLen = emLen - HASH_BYTES - 1;
  const maskedDb = em.subarray(0, dbLen);
  const h = em.subarray(dbLen, dbLen + HASH_BYTES);
  const topMask = 0xff >> (8 * emLen - emBits);
  if ((maskedDb[0]! & ~topMask) !== 0) return false;
  const db = mgf1Sha384(h, dbLen, hash).slice();
  for (let i = 0; i < dbLen; i++) db[i]! ^= maskedDb[i]!;
  db[0]! &= topMask;
  const psLen = emLen - HASH_BYTES - sLen - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  const salt = db.subarray(dbLen - sLen);
  return equalBytes(hash(new Uint8Array(8), hash(msg), salt), h);
}

/** RSAVP1 (RFC 8017 §5.2.2): `s^e mod n`. */
export function rsavp1(pk: RsaPublicKey, s: bigint): bigint {
  return modPow(s, pk.e, pk.n);
}

function randomBelow(n: bigint, bytes: number, random: RandomBytes): bigint {
  const bits = bitLength(n);
  for (;;) {
    const buf = random(bytes);
    const excess = bytes * 8 - bits;
    if (excess > 0) buf[0]! &= 0xff >> excess;
    const x = os2ip(buf);
    if (x > 0n && x < n) return x;
  }
}

/**
 * RFC 9474 §4.2 Blind: encodes `msg` with EMSA-PSS and multiplies it by `r^e` for a random
 * blind `r`. The client keeps `inv` for {@linkcode finalize}.
 *
 * @example
 * ```ts
 * const { blindedMsg, inv } = blind(publicKey, tokenInput);
 * ```
 * @throws {BlindRsaError} when the message is not invertible modulo n (negligible chance).
 */
export function blind(pk: RsaPublicKey, msg: Uint8Array, opts: BlindOptions = {}): BlindResult {
  const random = opts.randomBytes ?? defaultRandomBytes;
  const salt = opts.salt ?? random(PSS_SALT_BYTES);
  const encoded = emsaPssEncode(msg, pk.modulusBits - 1, salt);
  const m = os2ip(encoded);
  if (gcd(m, pk.n) !== 1n) throw new BlindRsaError("blind: message not invertible");
  let r: bigint;
  let inv: bigint;
  if (opts.inv !== undefined) {
    inv = os2ip(opts.inv);
    const ri = modInverse(inv, pk.n);
    if (ri === undefined) throw new BlindRsaError("blind: inverse not invertible");
    r = ri;
  } else {
    r = opts.r !== undefined ? os2ip(opts.r) : randomBelow(pk.n, pk.modulusBytes, random);
    const ri = modInverse(r, pk.n);
    if (ri === undefined) throw new BlindRsaError("blind: blind not invertible");
    inv = ri;
  }
  const z = (m * rsavp1(pk, r)) % pk.n;
  return { blindedMsg: i2osp(z, pk.modulusBytes), inv: i2osp(inv, pk.modulusBytes) };
}

/**
 * RFC 9474 §4.4 Finalize: unblinds `blindSig` with `inv` and checks the result is a valid
 * RSASSA-PSS signature of `msg`.
 *
 * @throws {BlindRsaError} "invalid signature" when the issuer's answer does not verify.
 */
export function finalize(
  pk: RsaPublicKey,
  msg: Uint8Array,
  blindSig: Uint8Array,
  inv: Uint8Array,
): Uint8Array {
  if (blindSig.length !== pk.modulusBytes) {
    throw new BlindRsaError(`finalize: expected ${pk.modulusBytes}-byte blind_sig`);
  }
  const z = os2ip(blindSig);
  const s = (z * os2ip(inv)) % pk.n;
  const sig = i2osp(s, pk.modulusBytes);
  if (!verify(pk, msg, sig)) throw new BlindRsaError("finalize: invalid signature");
  return sig;
}

/**
 * RSASSA-PSS-VERIFY (RFC 8017 §8.1.2) with SHA-384, MGF1-SHA-384 and a `sLen`-byte salt:
 * how tokens are checked at redemption (RFC 9578 §6.4).
 *
 * @example
 * ```ts
 * verify(publicKey, tokenInput, authenticator); // true or false
 * ```
 */
export function verify(
  pk: RsaPublicKey,
  msg: Uint8Array,
  sig: Uint8Array,
  sLen: number = PSS_SALT_BYTES,
  hash: Sha384 = sha384,
): boolean {
  if (sig.length !== pk.modulusBytes) return false;
  const s = os2ip(sig);
  if (s >= pk.n) return false;
  const m = rsavp1(pk, s);
  const emBits = pk.modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  let em: Uint8Array;
  try {
    em = i2osp(m, emLen);
  } catch {
    return false;
  }
  return emsaPssVerify(msg, em, emBits, sLen, hash);
}
