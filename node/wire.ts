/**
 * Parsers for the wallet API's wire values. Each parses once at the edge into typed values and
 * throws an {@linkcode HttpError} 400 naming the field.
 *
 * @module
 */
import { fromBase64, fromHex } from "../client/mod.ts";
import { badRequest } from "./errors.ts";

/** Tag length in bytes (160 bits). */
export const TAG_BYTES = 20;
/** Message id length in bytes (SHA-256). */
export const ID_BYTES = 32;
/** Largest prefix a query may name, in bits. */
export const MAX_PREFIX_BITS = 32;

const HEX = /^[0-9a-fA-F]*$/;

function hexOf(field: string, value: unknown, bytes: number): Uint8Array {
  if (typeof value !== "string") {
    throw badRequest(field, `Cannot parse ${field}: expected a hex string, got ${typeof value}`);
  }
  if (!HEX.test(value)) {
    throw badRequest(field, `Cannot parse ${field}: expected hex characters 0-9a-f`);
  }
  if (value.length !== bytes * 2) {
    throw badRequest(
      field,
      `Cannot parse ${field}: expected ${bytes * 2} hex characters, got ${value.length}`,
    );
  }
  return fromHex(value, field);
}

/** Parses a 160-bit tag from 40 hex characters. */
export function parseTag(value: unknown, field = "tag"): Uint8Array {
  return hexOf(field, value, TAG_BYTES);
}

/** Parses a message id from 64 hex characters. */
export function parseId(value: unknown, field = "id"): Uint8Array {
  return hexOf(field, value, ID_BYTES);
}

/** Parses standard base64 (RFC 4648 §4, padded) into bytes. */
export function parseBase64(value: unknown, field: string): Uint8Array {
  if (typeof value !== "string") {
    throw badRequest(field, `Cannot parse ${field}: expected a base64 string, got ${typeof value}`);
  }
  try {
    return fromBase64(value, field);
  } catch {
    throw badRequest(field, `Cannot parse ${field}: expected padded standard base64 (RFC 4648)`);
  }
}

/**
 * Parses an integer within `[min, max]`: a JSON number, or (for query parameters, when
 * `fromText` is true) a decimal string.
 */
export function parseIntIn(
  value: unknown,
  field: string,
  min: number,
  max: number,
  fromText = true,
): number {
  const n = typeof value === "number"
    ? value
    : fromText && typeof value === "string" && /^-?\d{1,16}$/.test(value)
    ? Number(value)
    : NaN;
  if (!Number.isSafeInteger(n)) {
    throw badRequest(
      field,
      `Cannot parse ${field}: expected an integer, got ${JSON.stringify(value)}`,
    );
  }
  if (n < min || n > max) {
    throw badRequest(field, `${field} must be between ${min} and ${max}, got ${n}`);
  }
  return n;
}

/** An inclusive tag range selected by a prefix of `bits` bits. */
export interface TagRange {
  bits: number;
  /** The first 32 bits of the prefix as an unsigned integer (masked to `bits`). */
  prefix32: number;
  lo: Uint8Array;
  hi: Uint8Array;
  /** The first four bytes of `lo`/`hi` as unsigned integers, for fast matching. */
  lo32: number;
  hi32: number;
}

/**
 * Builds the tag range for `prefix` (hex) and `bits`. The prefix must have at least `bits`
 * bits and no more hex digits than `ceil(bits / 8)` bytes; bits past `bits` are ignored.
 */
export function parseRange(prefixValue: unknown, bitsValue: unknown): TagRange {
  const bits = parseIntIn(bitsValue ?? "0", "bits", 0, MAX_PREFIX_BITS);
  const prefix = prefixValue ?? "";
  if (typeof prefix !== "string" || !HEX.test(prefix)) {
    throw badRequest("prefix", "Cannot parse prefix: expected hex characters 0-9a-f");
  }
  const maxChars = Math.ceil(bits / 8) * 2;
  if (prefix.length > maxChars) {
    throw badRequest(
      "prefix",
      `prefix is longer than bits=${bits} allows: at most ${maxChars} hex characters, got ${prefix.length}`,
    );
  }
  if (prefix.length * 4 < bits) {
    throw badRequest(
      "prefix",
      `prefix is shorter than bits=${bits}: needs at least ${
        Math.ceil(bits / 4)
      } hex characters, got ${prefix.length}`,
    );
  }
  const value = prefix.length === 0 ? 0 : parseInt(prefix.padEnd(8, "0"), 16) >>> 0;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const lo32 = (value & mask) >>> 0;
  const hi32 = (lo32 | (~mask >>> 0)) >>> 0;
  const lo = new Uint8Array(TAG_BYTES);
  const hi = new Uint8Array(TAG_BYTES).fill(0xff);
  new DataView(lo.buffer).setUint32(0, lo32);
  new DataView(hi.buffer).setUint32(0, hi32);
  return { bits, prefix32: lo32, lo, hi, lo32, hi32 };
}

/** The first four bytes of a tag as an unsigned integer. */
export function tag32(tag: Uint8Array): number {
  return ((tag[0]! << 24) | (tag[1]! << 16) | (tag[2]! << 8) | tag[3]!) >>> 0;
}

/** Most messages a cursor can carry as "body still missing, ask again". */
export const MAX_PENDING_IN_CURSOR = 32;

/** A decoded cursor: the last local sequence number passed, and messages to retry. */
export interface PageCursor {
  seq: number;
  /** Sequence numbers at or below `seq` whose bodies were missing (ascending). */
  pending: number[];
}

/**
 * Encodes a cursor: `c<seq>` in base 36, then `.<seq>` for each pending message.
 *
 * @example
 * ```ts
 * encodeCursor({ seq: 100, pending: [97] }); // "c2s.2p"
 * ```
 */
export function encodeCursor(cursor: PageCursor): string {
  return "c" + [cursor.seq, ...cursor.pending].map((n) => n.toString(36)).join(".");
}

/** Decodes a cursor; throws 400 (field `after`) when it is not one of ours. */
export function decodeCursor(value: unknown, maxSeq: number): PageCursor {
  if (value === undefined || value === "") return { seq: 0, pending: [] };
  if (
    typeof value !== "string" ||
    !new RegExp(`^c[0-9a-z]{1,11}(\\.[0-9a-z]{1,11}){0,${MAX_PENDING_IN_CURSOR}}$`).test(value)
  ) {
    throw badRequest("after", "Unknown cursor: pass back the cursor a previous response returned");
  }
  const [seq, ...pending] = value.slice(1).split(".").map((p) => parseInt(p, 36)) as [
    number,
    ...number[],
  ];
  const ascending = pending.every((p, i) => i === 0 || p > pending[i - 1]!);
  if (
    !Number.isSafeInteger(seq) || seq > maxSeq || !ascending ||
    pending.some((p) => !Number.isSafeInteger(p) || p > seq)
  ) {
    throw badRequest("after", "Unknown cursor: it was not issued by this server");
  }
  return { seq, pending };
}
