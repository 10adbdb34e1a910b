/**
 * Byte and integer helpers for the token code: hex, base64url, RFC 8017 I2OSP/OS2IP and a
 * bounded reader for the TLS-presentation-language structures of RFC 9578. Private to
 * `node/quota/`.
 *
 * @module
 */

/** Source of cryptographic randomness: returns `n` fresh random bytes. */
export type RandomBytes = (n: number) => Uint8Array;

/** The default randomness: `crypto.getRandomValues` (in chunks of its 64 KiB limit). */
export const defaultRandomBytes: RandomBytes = (n) => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
};

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return bytes.toHex();
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
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new RangeError(`Cannot parse ${what}: expected an even number of hex characters`);
  }
  return Uint8Array.fromHex(hex);
}

/** base64url of `bytes` (RFC 4648 §5), with `=` padding unless `pad` is false. */
export function toBase64Url(bytes: Uint8Array, pad = true): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: !pad });
}

const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Parses base64url with or without padding (RFC 4648 §5), naming `what` in the error.
 * @throws {RangeError} when the text is not base64url.
 */
export function fromBase64Url(text: string, what = "base64url"): Uint8Array {
  if (typeof text !== "string" || !B64URL.test(text) || text.length % 4 === 1) {
    throw new RangeError(`Cannot parse ${what}: expected base64url (RFC 4648 §5)`);
  }
  try {
    return Uint8Array.fromBase64(text, { alphabet: "base64url", lastChunkHandling: "loose" });
  } catch {
    throw new RangeError(`Cannot parse ${what}: expected base64url (RFC 4648 §5)`);
  }
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Constant-time-ish equality of two byte arrays (length is not secret). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** RFC 8017 §4.2 OS2IP: big-endian bytes to a non-negative integer. */
export function os2ip(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt("0x" + bytes.toHex());
}

/**
 * RFC 8017 §4.1 I2OSP: a non-negative integer to exactly `len` big-endian bytes.
 * @throws {RangeError} "integer too large" when `x >= 256^len`.
 */
export function i2osp(x: bigint, len: number): Uint8Array {
  if (x < 0n) throw new RangeError("I2OSP: negative integer");
  const hex = x.toString(16);
  if (hex.length > len * 2) throw new RangeError("I2OSP: integer too large");
  return Uint8Array.fromHex(hex.padStart(len * 2, "0"));
}

/** Big-endian unsigned 16-bit integer as two bytes. */
export function u16(n: number): Uint8Array {
  return new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
}

/**
 * A cursor over bytes that throws a `RangeError` naming the structure when input runs out,
 * so every parser reports truncation the same way.
 */
export class Reader {
  #bytes: Uint8Array;
  #off = 0;
  #what: string;
  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#what = what;
  }
  /** Bytes not yet read. */
  get remaining(): number {
    return this.#bytes.length - this.#off;
  }
  /** Reads `n` bytes (a view, not a copy). */
  bytes(n: number, field: string): Uint8Array {
    if (this.remaining < n) {
      throw new RangeError(
        `Cannot parse ${this.#what}: ${field} needs ${n} bytes, ${this.remaining} left`,
      );
    }
    const out = this.#bytes.subarray(this.#off, this.#off + n);
    this.#off += n;
    return out;
  }
  /** Reads one byte. */
  u8(field: string): number {
    return this.bytes(1, field)[0]!;
  }
  /** Reads a big-endian 16-bit integer. */
  u16(field: string): number {
    const b = this.bytes(2, field);
    return (b[0]! << 8) | b[1]!;
  }
  /** Throws unless every byte was consumed. */
  end(): void {
    if (this.remaining !== 0) {
      throw new RangeError(`Cannot parse ${this.#what}: ${this.remaining} trailing bytes`);
    }
  }
}
