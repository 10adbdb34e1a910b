/**
 * Byte helpers for the whole code base: hex, standard base64 and base64url (RFC 4648), UTF-8,
 * concatenation, equality and randomness. The wallet library, the CLI and the server all use
 * these (the server imports them through `client/mod.ts`).
 *
 * Every parser validates its input and names the parameter in its error, e.g.
 * "Cannot parse tag: expected 40 hex characters, got 12". Where the runtime has the native
 * `Uint8Array.prototype.toHex` / `toBase64` and `Uint8Array.fromHex` / `fromBase64`
 * (Deno 2, current browsers) they are used; elsewhere a portable implementation gives the same
 * results.
 *
 * @example
 * ```ts
 * import { fromHex, toBase64Url, toHex } from "./bytes.ts";
 * const tag = fromHex("00112233445566778899aabbccddeeff00112233", "tag", 20);
 * toHex(tag); // "00112233445566778899aabbccddeeff00112233"
 * toBase64Url(tag, false); // "ABEiM0RVZneImaq7zN3u_wARIjM"
 * ```
 *
 * @module
 */

/** Source of cryptographic randomness: returns `n` fresh random bytes. */
export type RandomBytes = (n: number) => Uint8Array;

/** The default randomness: `crypto.getRandomValues`, in chunks of its 64 KiB limit. */
export const defaultRandomBytes: RandomBytes = (n) => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
};

/** UTF-8 encoder. */
export const utf8: TextEncoder = new TextEncoder();

/** Strict UTF-8 decoder: throws a `TypeError` on malformed input. */
export const utf8Strict: TextDecoder = new TextDecoder("utf-8", { fatal: true });

// The native helpers of the "Uint8Array to/from base64 and hex" proposal, when present.
interface NativeBytes {
  toHex?(): string;
  toBase64?(opts?: { alphabet?: "base64" | "base64url"; omitPadding?: boolean }): string;
}
interface NativeBytesStatic {
  fromHex?(hex: string): Uint8Array<ArrayBuffer>;
  fromBase64?(
    text: string,
    opts?: { alphabet?: "base64" | "base64url"; lastChunkHandling?: "loose" | "strict" },
  ): Uint8Array<ArrayBuffer>;
}
const NATIVE = typeof (Uint8Array.prototype as NativeBytes).toHex === "function" &&
  typeof (Uint8Array.prototype as NativeBytes).toBase64 === "function" &&
  typeof (Uint8Array as NativeBytesStatic).fromHex === "function" &&
  typeof (Uint8Array as NativeBytesStatic).fromBase64 === "function";

const HEX_DIGITS = "0123456789abcdef";
const HEX_RE = /^[0-9a-fA-F]*$/;

/**
 * Lower-case hex of `bytes`.
 *
 * @example
 * ```ts
 * toHex(new Uint8Array([1, 171])); // "01ab"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  if (NATIVE) return (bytes as NativeBytes).toHex!();
  let s = "";
  for (const b of bytes) s += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!;
  return s;
}

/**
 * Parses hex (either case), naming `name` in the error.
 *
 * @example
 * ```ts
 * fromHex("01ab"); // Uint8Array [1, 171]
 * fromHex("01", "tag", 20); // throws RangeError "Cannot parse tag: expected 40 hex characters, got 2"
 * ```
 * @param hex the text
 * @param name what the text is, for error messages
 * @param byteLength the exact length in bytes the text must decode to, when given
 * @throws {TypeError} when `hex` is not a string.
 * @throws {RangeError} on an odd length, a non-hex character or (when given) the wrong length.
 */
export function fromHex(hex: string, name = "hex", byteLength?: number): Uint8Array<ArrayBuffer> {
  if (typeof hex !== "string") {
    throw new TypeError(`Cannot parse ${name}: expected a hex string, got ${typeof hex}`);
  }
  if (byteLength !== undefined && hex.length !== byteLength * 2) {
    throw new RangeError(
      `Cannot parse ${name}: expected ${byteLength * 2} hex characters, got ${hex.length}`,
    );
  }
  if (hex.length % 2 !== 0) {
    throw new RangeError(`Cannot parse ${name}: odd number of hex characters (${hex.length})`);
  }
  if (!HEX_RE.test(hex)) throw new RangeError(`Cannot parse ${name}: not a hex string`);
  if (NATIVE) return (Uint8Array as NativeBytesStatic).fromHex!(hex);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function encodePortable(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let s = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! +
      alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    s += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    s += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! +
      (pad ? "=" : "");
  }
  return s;
}

/** Decodes already-validated base64 text (padding optional) in either alphabet. */
function decodePortable(text: string, alphabet: string): Uint8Array<ArrayBuffer> {
  const body = text.replace(/=+$/, "");
  const out = new Uint8Array(Math.floor((body.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const ch of body) {
    acc = (acc << 6) | alphabet.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Non-zero bits left over mean a non-canonical encoding.
  if ((acc & ((1 << bits) - 1)) !== 0) throw new RangeError("non-zero padding bits");
  return out;
}

/**
 * Standard base64 (RFC 4648 §4) of `bytes`, with `=` padding.
 *
 * @example
 * ```ts
 * toBase64(new Uint8Array([104, 105])); // "aGk="
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  if (NATIVE) return (bytes as NativeBytes).toBase64!();
  return encodePortable(bytes, B64, true);
}

const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Parses padded standard base64 (RFC 4648 §4), strictly: no whitespace, no missing padding, no
 * non-zero padding bits. Names `name` in the error.
 *
 * @example
 * ```ts
 * fromBase64("aGk="); // Uint8Array [104, 105]
 * ```
 * @throws {TypeError} when `text` is not a string.
 * @throws {RangeError} when the text is not padded standard base64.
 */
export function fromBase64(text: string, name = "base64"): Uint8Array<ArrayBuffer> {
  if (typeof text !== "string") {
    throw new TypeError(`Cannot parse ${name}: expected a base64 string, got ${typeof text}`);
  }
  const fail = () =>
    new RangeError(`Cannot parse ${name}: expected padded standard base64 (RFC 4648 §4)`);
  if (text.length % 4 !== 0 || !B64_RE.test(text)) throw fail();
  try {
    if (NATIVE) {
      return (Uint8Array as NativeBytesStatic).fromBase64!(text, { lastChunkHandling: "strict" });
    }
    return decodePortable(text, B64);
  } catch {
    throw fail();
  }
}

/**
 * base64url (RFC 4648 §5) of `bytes`, with `=` padding unless `pad` is false.
 *
 * @example
 * ```ts
 * toBase64Url(new Uint8Array([251, 255]), false); // "-_8"
 * ```
 */
export function toBase64Url(bytes: Uint8Array, pad = true): string {
  if (NATIVE) {
    return (bytes as NativeBytes).toBase64!({ alphabet: "base64url", omitPadding: !pad });
  }
  return encodePortable(bytes, B64URL, pad);
}

const B64URL_RE = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Parses base64url (RFC 4648 §5) with or without `=` padding, naming `name` in the error.
 *
 * @example
 * ```ts
 * fromBase64Url("-_8"); // Uint8Array [251, 255]
 * ```
 * @throws {TypeError} when `text` is not a string.
 * @throws {RangeError} when the text is not base64url.
 */
export function fromBase64Url(text: string, name = "base64url"): Uint8Array<ArrayBuffer> {
  if (typeof text !== "string") {
    throw new TypeError(`Cannot parse ${name}: expected a base64url string, got ${typeof text}`);
  }
  const fail = () => new RangeError(`Cannot parse ${name}: expected base64url (RFC 4648 §5)`);
  if (!B64URL_RE.test(text) || text.length % 4 === 1) throw fail();
  const padAt = text.indexOf("=");
  if (padAt !== -1 && text.length % 4 !== 0) throw fail();
  try {
    if (NATIVE) {
      return (Uint8Array as NativeBytesStatic).fromBase64!(text, {
        alphabet: "base64url",
        lastChunkHandling: "loose",
      });
    }
    return decodePortable(text, B64URL);
  } catch {
    throw fail();
  }
}

/**
 * Concatenates byte arrays into a new one.
 *
 * @example
 * ```ts
 * concat(new Uint8Array([1]), new Uint8Array([2, 3])); // Uint8Array [1, 2, 3]
 * ```
 */
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

/**
 * Equality of two byte arrays, in time that depends only on their length (the length is not
 * treated as secret).
 *
 * @example
 * ```ts
 * equalBytes(new Uint8Array([1]), new Uint8Array([1])); // true
 * ```
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
