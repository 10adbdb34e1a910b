/**
 * Notices: the signed announcement of one insertion (message id, tag, size, expiry, origin) that
 * the tree broadcast carries to every server. The origin signs; every receiver verifies before
 * storing or forwarding, so a forwarder can drop but never forge or alter a notice.
 *
 * @module
 */
import { hexToBytes } from "@noble/hashes/utils.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Contact, ContactJson } from "./contact.ts";
import { contactToJson, parseContact } from "./contact.ts";
import type { NodeIdentity, SignatureScheme } from "./identity.ts";

/** Domain separation prefix of notice signatures. */
export const NOTICE_DOMAIN = "subspace-notice/1";
/** Largest `size` a notice may claim (bytes). */
export const MAX_NOTICE_SIZE = 0xffffffff;

/** A parsed notice. Only trust it after {@link verifyNotice}. */
export interface Notice {
  /** sha256(tag || payload), 64 lowercase hex characters. */
  readonly id: string;
  /** The 160-bit tag, 40 lowercase hex characters. */
  readonly tag: string;
  /** Payload size in bytes. */
  readonly size: number;
  /** Expiry, Unix seconds. */
  readonly expiresAt: number;
  /** When the origin stored the message, Unix milliseconds (origin's clock). */
  readonly createdAtMs: number;
  /** The server that first stored the message and signed this notice. */
  readonly origin: Contact;
  /** Origin's signature, 128 hex characters. */
  readonly signature: string;
}

/** A notice on the wire. */
export interface NoticeJson {
  id: string;
  tag: string;
  size: number;
  expires_at: number;
  created_at_ms: number;
  origin: ContactJson;
  sig: string;
}

const enc = new TextEncoder();

function signingBytes(n: Omit<Notice, "signature">): Uint8Array {
  return enc.encode(
    [
      NOTICE_DOMAIN,
      n.id,
      n.tag,
      String(n.size),
      String(n.expiresAt),
      String(n.createdAtMs),
      n.origin.id,
      n.origin.publicKey,
      n.origin.url,
    ].join("\n"),
  );
}

/** Fields the origin fills in. */
export interface NoticeFields {
  id: string;
  tag: string;
  size: number;
  expiresAt: number;
  createdAtMs: number;
}

/**
 * Signs a notice as origin.
 *
 * @example
 * ```ts
 * const n = signNotice(me, "https://a.example", { id, tag, size, expiresAt, createdAtMs });
 * ```
 */
export function signNotice(identity: NodeIdentity, selfUrl: string, f: NoticeFields): Notice {
  checkFields(f);
  const unsigned = {
    ...f,
    origin: { id: identity.id, publicKey: identity.publicKeyHex, url: selfUrl },
  };
  return { ...unsigned, signature: bytesToHex(identity.sign(signingBytes(unsigned))) };
}

/**
 * Whether the origin's signature is valid (the origin id was already checked against its key
 * when the notice was parsed).
 *
 * @example
 * ```ts
 * if (!verifyNotice(n, secp256k1Scheme)) reject();
 * ```
 */
export function verifyNotice(n: Notice, scheme: SignatureScheme): boolean {
  return scheme.verify(hexToBytes(n.origin.publicKey), signingBytes(n), hexToBytes(n.signature));
}

/**
 * The dedup key of a notice: message id and origin id. The same message stored at two servers
 * yields two notices, each naming a different holder.
 *
 * @example
 * ```ts
 * noticeKey(n); // "<id>:<origin id>"
 * ```
 */
export function noticeKey(n: Notice): string {
  return `${n.id}:${n.origin.id}`;
}

function checkFields(f: NoticeFields): void {
  if (typeof f.id !== "string" || !/^[0-9a-f]{64}$/.test(f.id)) {
    throw new RangeError("Cannot parse notice id: expected 64 lowercase hex characters");
  }
  if (typeof f.tag !== "string" || !/^[0-9a-f]{40}$/.test(f.tag)) {
    throw new RangeError("Cannot parse notice tag: expected 40 lowercase hex characters");
  }
  if (!Number.isSafeInteger(f.size) || f.size < 0 || f.size > MAX_NOTICE_SIZE) {
    throw new RangeError(`Cannot parse notice size: expected 0..${MAX_NOTICE_SIZE}`);
  }
  if (!Number.isSafeInteger(f.expiresAt) || f.expiresAt < 0) {
    throw new RangeError("Cannot parse notice expires_at: expected Unix seconds");
  }
  if (!Number.isSafeInteger(f.createdAtMs) || f.createdAtMs < 0) {
    throw new RangeError("Cannot parse notice created_at_ms: expected Unix milliseconds");
  }
}

/**
 * Parses a wire notice (format only; call {@link verifyNotice} before trusting it).
 *
 * @example
 * ```ts
 * const n = parseNotice(JSON.parse(text));
 * ```
 */
export function parseNotice(value: unknown): Notice {
  if (typeof value !== "object" || value === null) {
    throw new TypeError("Cannot parse notice: expected an object");
  }
  const v = value as Record<string, unknown>;
  const f = {
    id: v.id as string,
    tag: v.tag as string,
    size: v.size as number,
    expiresAt: v.expires_at as number,
    createdAtMs: v.created_at_ms as number,
  };
  checkFields(f);
  if (typeof v.sig !== "string" || !/^[0-9a-f]{128}$/.test(v.sig)) {
    throw new RangeError("Cannot parse notice sig: expected 128 lowercase hex characters");
  }
  return { ...f, origin: parseContact(v.origin, "notice origin"), signature: v.sig };
}

/**
 * A notice in wire form.
 *
 * @example
 * ```ts
 * JSON.stringify(noticeToJson(n));
 * ```
 */
export function noticeToJson(n: Notice): NoticeJson {
  return {
    id: n.id,
    tag: n.tag,
    size: n.size,
    expires_at: n.expiresAt,
    created_at_ms: n.createdAtMs,
    origin: contactToJson(n.origin),
    sig: n.signature,
  };
}
