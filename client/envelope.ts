/**
 * The envelope: how a message is encrypted so that only the holder of a stealth address's scan
 * key can read it, and how its 160-bit tag is chosen. Exact bytes are in `docs/PROTOCOL.md`
 * ("Envelope"):
 *
 * ```
 * envelope = 0x01 || E (33, compressed ephemeral public key) || check (4)
 *            || XChaCha20-Poly1305(key, nonce, aad = tag || header).encrypt(framed) (len + 16)
 * shared   = x-coordinate of e·S (ECDH, 32 bytes)
 * okm      = HKDF-SHA256(ikm = shared, salt = "subspace/envelope/v1", info = E || S, L = 60)
 * check    = okm[0..4], key = okm[4..36], nonce = okm[36..60]
 * framed   = u32be(len(message)) || message || zero padding
 * ```
 *
 * The whole envelope is always one of {@link BUCKET_SIZES} bytes long. The 4-byte `check` lets
 * anyone else reject an envelope after one ECDH and one HKDF, without touching the AEAD.
 *
 * @module
 */
import { expand } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import {
  concat,
  defaultRandomBytes,
  equalBytes,
  fromBase64,
  type RandomBytes,
  utf8,
} from "./bytes.ts";
import { isValidCompressedPubkey, secp } from "./_secp.ts";
import { type EcdhBackend, nobleEcdh, type SharedSecretFn } from "./ecdh.ts";
import { MAX_PREFIX_BITS, prefixByteLength } from "./stealth_address.ts";

/** Envelope format version (first byte). */
export const ENVELOPE_VERSION = 0x01;
/** Tag length in bytes (160 bits, DESIGN.md). */
export const TAG_BYTES = 20;
/** Header: version (1) + ephemeral public key (33) + key check (4). */
export const HEADER_BYTES = 38;
/** Poly1305 authenticator length. */
export const AEAD_TAG_BYTES = 16;
/** Bytes an envelope adds around the framed plaintext. */
export const ENVELOPE_OVERHEAD_BYTES = HEADER_BYTES + AEAD_TAG_BYTES;
/** Length prefix inside the framed plaintext. */
export const LENGTH_PREFIX_BYTES = 4;
/**
 * Allowed total envelope sizes in bytes. The largest equals the node's default maximum payload
 * (65536 bytes, envelope included).
 */
export const BUCKET_SIZES: readonly number[] = [256, 1024, 4096, 16384, 65536];
/** Largest message (plaintext payload) an envelope carries. */
export const MAX_MESSAGE_BYTES = BUCKET_SIZES[BUCKET_SIZES.length - 1]! -
  ENVELOPE_OVERHEAD_BYTES - LENGTH_PREFIX_BYTES;
/** HKDF salt (ASCII). */
export const HKDF_SALT: Uint8Array = utf8.encode("subspace/envelope/v1");
/** Length of the base64 text that covers the header (for cheap trial decryption). */
export const HEADER_BASE64_CHARS = Math.ceil(HEADER_BYTES / 3) * 4;

/** Thrown when an envelope that passed the key check is malformed or was tampered with. */
export class EnvelopeError extends Error {
  /** `"malformed"` (bad size, version, framing) or `"tampered"` (authentication failed). */
  readonly code: "malformed" | "tampered";
  constructor(code: "malformed" | "tampered", message: string) {
    super(message);
    this.name = "EnvelopeError";
    this.code = code;
  }
}

/** Smallest bucket that holds a message of `messageBytes` bytes. */
export function bucketFor(messageBytes: number): number {
  if (!Number.isInteger(messageBytes) || messageBytes < 0) {
    throw new RangeError(`Cannot size envelope: message length must be >= 0, got ${messageBytes}`);
  }
  const need = messageBytes + ENVELOPE_OVERHEAD_BYTES + LENGTH_PREFIX_BYTES;
  const b = BUCKET_SIZES.find((size) => size >= need);
  if (b === undefined) {
    throw new RangeError(
      `Cannot seal message: ${messageBytes} bytes exceeds the maximum of ${MAX_MESSAGE_BYTES}`,
    );
  }
  return b;
}

/**
 * Makes a 20-byte tag whose first `bits` bits are the prefix's and the rest random.
 *
 * @example
 * ```ts
 * const tag = makeTag(address.prefix, address.prefixBits);
 * ```
 */
export function makeTag(
  prefix: Uint8Array,
  bits: number,
  random: RandomBytes = defaultRandomBytes,
): Uint8Array {
  if (!Number.isInteger(bits) || bits < 0 || bits > MAX_PREFIX_BITS) {
    throw new RangeError(`Cannot make tag: prefix length must be 0..32 bits, got ${bits}`);
  }
  if (prefix.length < prefixByteLength(bits)) {
    throw new RangeError(
      `Cannot make tag: a ${bits}-bit prefix needs ${
        prefixByteLength(bits)
      } bytes, got ${prefix.length}`,
    );
  }
  const tag = Uint8Array.from(random(TAG_BYTES));
  if (tag.length !== TAG_BYTES) throw new RangeError("Cannot make tag: random source misbehaved");
  const full = bits >> 3;
  tag.set(prefix.subarray(0, full), 0);
  const rest = bits & 7;
  if (rest !== 0) {
    const mask = (0xff << (8 - rest)) & 0xff;
    tag[full] = (prefix[full]! & mask) | (tag[full]! & ~mask & 0xff);
  }
  return tag;
}

// HKDF-Extract's HMAC key is the fixed salt, so its padded-key state is computed once.
const SALTED_HMAC = hmac.create(sha256, HKDF_SALT);

/** HKDF-SHA256 (RFC 5869) with salt {@link HKDF_SALT} and info `E || S`. */
function derive(shared: Uint8Array, eph: Uint8Array, scan: Uint8Array, length: number) {
  return deriveWithInfo(shared, concat(eph, scan), length);
}

function deriveWithInfo(shared: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const prk = SALTED_HMAC.clone().update(shared).digest();
  return expand(sha256, prk, info, length);
}

/** The recipient fields sealing needs (a decoded stealth address has them all). */
export interface Recipient {
  /** Compressed scan public key (33 bytes). */
  scanPubkey: Uint8Array;
  /** Recipient prefix bytes. */
  prefix: Uint8Array;
  /** Recipient prefix length in bits. */
  prefixBits: number;
}

/** Options for {@link seal}. */
export interface SealOptions {
  /** Randomness for the ephemeral key and the tag's random bits (injectable for vectors). */
  random?: RandomBytes;
  /** ECDH implementation (default: noble, which runs everywhere). */
  ecdh?: EcdhBackend;
  /** Pad to at least this bucket size (must be one of {@link BUCKET_SIZES}). */
  minBucketBytes?: number;
}

/** A sealed message: the tag to post it under and the envelope bytes. */
export interface Sealed {
  /** 20-byte tag (first `prefixBits` bits = recipient prefix). */
  tag: Uint8Array;
  /** Envelope bytes (length is one of {@link BUCKET_SIZES}). */
  envelope: Uint8Array;
}

/**
 * Encrypts `message` to `recipient`.
 *
 * @throws {RangeError} when the message is too large or the recipient key is invalid.
 * @example
 * ```ts
 * const { tag, envelope } = seal(decodeStealthAddress(addr), utf8.encode("hi"));
 * ```
 */
export function seal(recipient: Recipient, message: Uint8Array, opts: SealOptions = {}): Sealed {
  const random = opts.random ?? defaultRandomBytes;
  const ecdh = opts.ecdh ?? nobleEcdh;
  if (!isValidCompressedPubkey(recipient.scanPubkey)) {
    throw new RangeError("Cannot seal: recipient scan key is not a valid compressed public key");
  }
  let bucket = bucketFor(message.length);
  if (opts.minBucketBytes !== undefined) {
    if (!BUCKET_SIZES.includes(opts.minBucketBytes)) {
      throw new RangeError(
        `Cannot seal: minBucketBytes must be one of ${
          BUCKET_SIZES.join(", ")
        }, got ${opts.minBucketBytes}`,
      );
    }
    bucket = Math.max(bucket, opts.minBucketBytes);
  }
  let ephSecret = random(32);
  for (let i = 0; !secp.utils.isValidSecretKey(ephSecret); i++) {
    if (i > 8) throw new Error("Cannot seal: random source gives no valid secret key");
    ephSecret = random(32);
  }
  const eph = secp.getPublicKey(ephSecret, true);
  const tag = makeTag(recipient.prefix, recipient.prefixBits, random);
  const shared = ecdh.forSecret(ephSecret)(recipient.scanPubkey);
  if (shared === null) throw new RangeError("Cannot seal: recipient scan key rejected by ECDH");
  const okm = derive(shared, eph, recipient.scanPubkey, 60);
  const header = concat(Uint8Array.of(ENVELOPE_VERSION), eph, okm.subarray(0, 4));
  const framed = new Uint8Array(bucket - ENVELOPE_OVERHEAD_BYTES);
  new DataView(framed.buffer).setUint32(0, message.length);
  framed.set(message, LENGTH_PREFIX_BYTES);
  const cipher = xchacha20poly1305(okm.subarray(4, 36), okm.subarray(36, 60), concat(tag, header));
  const envelope = new Uint8Array(bucket);
  envelope.set(header, 0);
  envelope.set(cipher.encrypt(framed), HEADER_BYTES);
  return { tag, envelope };
}

/** The recipient key material {@link EnvelopeOpener} needs. */
export interface ScanKeys {
  /** Scan secret key (32 bytes). */
  scanSecret: Uint8Array;
  /** Compressed scan public key (33 bytes). */
  scanPubkey: Uint8Array;
}

/**
 * Trial-decrypts envelopes for one scan key. Create one per wallet and reuse it: the ECDH
 * backend prepares the scan secret once.
 *
 * @example
 * ```ts
 * const opener = new EnvelopeOpener(keys, await fastestEcdh());
 * const message = opener.open(tag, envelope); // null when not addressed to us
 * ```
 */
export class EnvelopeOpener {
  readonly #ecdh: SharedSecretFn;
  readonly #scanPubkey: Uint8Array;
  readonly #info: Uint8Array;
  /** Number of envelopes rejected by the key check (for statistics). */
  rejected = 0;

  constructor(keys: ScanKeys, ecdh: EcdhBackend = nobleEcdh) {
    if (!isValidCompressedPubkey(keys.scanPubkey)) {
      throw new RangeError("Cannot open envelopes: scan public key is not valid");
    }
    this.#ecdh = ecdh.forSecret(keys.scanSecret);
    this.#scanPubkey = Uint8Array.from(keys.scanPubkey);
    this.#info = new Uint8Array(66);
    this.#info.set(this.#scanPubkey, 33);
  }

  /**
   * Runs only the cheap key check on an envelope header (the first {@link HEADER_BYTES} bytes or
   * more) and returns the derived 60 key bytes when it matches, else `null`.
   */
  #check(header: Uint8Array): Uint8Array | null {
    if (header.length < HEADER_BYTES || header[0] !== ENVELOPE_VERSION) return null;
    const eph = header.subarray(1, 34);
    const shared = this.#ecdh(eph);
    if (shared === null) return null;
    // info = E || S; S is fixed per opener, so only E is copied in.
    this.#info.set(eph, 0);
    // Rejection needs only the first HKDF output block; derive the rest on a match.
    const check = deriveWithInfo(shared, this.#info, 4);
    if (!equalBytes(check, header.subarray(34, 38))) return null;
    return deriveWithInfo(shared, this.#info, 60);
  }

  /** True when the header's key check says the envelope is (almost certainly) for us. */
  isForUs(header: Uint8Array): boolean {
    return this.#check(header) !== null;
  }

  /**
   * Opens `envelope` posted under `tag`. Returns `null` when it is not addressed to this scan
   * key (key check mismatch, foreign version or invalid ephemeral key).
   *
   * @throws {EnvelopeError} when the key check matched but the envelope is malformed or fails
   * authentication (tampered tag, header or ciphertext).
   */
  open(tag: Uint8Array, envelope: Uint8Array): Uint8Array | null {
    const okm = this.#check(envelope);
    if (okm === null) {
      this.rejected++;
      return null;
    }
    if (tag.length !== TAG_BYTES) {
      throw new EnvelopeError("malformed", `tag must be ${TAG_BYTES} bytes, got ${tag.length}`);
    }
    if (!BUCKET_SIZES.includes(envelope.length)) {
      throw new EnvelopeError(
        "malformed",
        `envelope length ${envelope.length} is not one of ${BUCKET_SIZES.join(", ")}`,
      );
    }
    const header = envelope.subarray(0, HEADER_BYTES);
    const cipher = xchacha20poly1305(
      okm.subarray(4, 36),
      okm.subarray(36, 60),
      concat(tag, header),
    );
    let framed: Uint8Array;
    try {
      framed = cipher.decrypt(envelope.subarray(HEADER_BYTES));
    } catch {
      throw new EnvelopeError("tampered", "envelope failed authentication (tampered or corrupt)");
    }
    const len = new DataView(framed.buffer, framed.byteOffset).getUint32(0);
    if (len > framed.length - LENGTH_PREFIX_BYTES) {
      throw new EnvelopeError("malformed", `message length ${len} exceeds the envelope`);
    }
    for (let i = LENGTH_PREFIX_BYTES + len; i < framed.length; i++) {
      if (framed[i] !== 0) throw new EnvelopeError("malformed", "non-zero padding");
    }
    return framed.slice(LENGTH_PREFIX_BYTES, LENGTH_PREFIX_BYTES + len);
  }

  /**
   * Opens a base64 payload as served by `GET /v1/messages`. Only the first
   * {@link HEADER_BASE64_CHARS} characters are decoded unless the key check matches, so
   * scanning other people's large messages stays cheap.
   */
  openBase64(tag: Uint8Array, payloadBase64: string): Uint8Array | null {
    let header: Uint8Array;
    try {
      header = fromBase64(payloadBase64.slice(0, HEADER_BASE64_CHARS));
    } catch {
      this.rejected++;
      return null;
    }
    if (this.#check(header) === null) {
      this.rejected++;
      return null;
    }
    let envelope: Uint8Array;
    try {
      envelope = fromBase64(payloadBase64);
    } catch {
      throw new EnvelopeError("malformed", "payload is not valid base64");
    }
    return this.open(tag, envelope);
  }
}

/**
 * One-shot convenience around {@link EnvelopeOpener}.
 *
 * @example
 * ```ts
 * const message = open(keys, tag, envelope);
 * ```
 */
export function open(
  keys: ScanKeys,
  tag: Uint8Array,
  envelope: Uint8Array,
  ecdh: EcdhBackend = nobleEcdh,
): Uint8Array | null {
  return new EnvelopeOpener(keys, ecdh).open(tag, envelope);
}
