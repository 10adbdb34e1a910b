/**
 * Notices: the signed announcement of one insertion (message id, tag, size, expiry, origin) that
 * the tree broadcast carries to every server. The origin signs; every receiver verifies before
 * storing or forwarding, so a forwarder can drop but never forge or alter a notice.
 *
 * Notices are signed in groups (one group per commit of the origin's writer): the origin builds
 * a Merkle tree (`merkle.ts`) over the signing bytes of every notice of the group and signs the
 * root once, under the tag {@link NOTICE_ROOT_DOMAIN}. Each notice carries that root signature
 * and its own inclusion proof; a group of one has an empty proof and its leaf hash as root.
 * Receivers recompute the root from the notice and its proof, then check the signature on the
 * root, remembering verified roots ({@link VerifiedRoots}) so a group costs one verification.
 *
 * @module
 */
import type { Contact, ContactJson } from "./contact.ts";
import { contactToJson, parseContact } from "./contact.ts";
import type { NodeIdentity, SignatureScheme } from "./identity.ts";
import { MAX_MERKLE_LEAVES, MAX_PROOF_LEVELS, merkleRootFromProof, merkleTree } from "./merkle.ts";
import { fromHex, toHex } from "../../client/mod.ts";

/** Domain separation prefix of a notice's signing bytes (the Merkle leaf data). */
export const NOTICE_DOMAIN = "subspace-notice/1";
/** Domain tag of root signatures: the origin signs `NOTICE_ROOT_DOMAIN || root` (32 bytes). */
export const NOTICE_ROOT_DOMAIN = "subspace-notice-root-v1";
/** Most notices signed under one root. */
export const MAX_NOTICE_GROUP = MAX_MERKLE_LEAVES;
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
  /** Origin's signature of the group's Merkle root, 128 hex characters. */
  readonly signature: string;
  /** Inclusion proof of this notice in the signed group. */
  readonly proof: NoticeProof;
}

/** Where a notice sits in its signed group: a Merkle inclusion proof (see `merkle.ts`). */
export interface NoticeProof {
  /** Position in the group, 0-based. */
  readonly index: number;
  /** Notices in the group (1..{@link MAX_NOTICE_GROUP}). */
  readonly count: number;
  /** Sibling hashes from the leaf level up, 64 lowercase hex characters each. */
  readonly siblings: readonly string[];
}

/** A proof on the wire. */
export interface NoticeProofJson {
  index: number;
  count: number;
  siblings: string[];
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
  proof: NoticeProofJson;
}

const enc = new TextEncoder();

/**
 * The bytes of a notice that its Merkle leaf hashes: the fields joined by newlines after
 * {@link NOTICE_DOMAIN}.
 *
 * @example
 * ```ts
 * merkleLeafHash(noticeSigningBytes(n));
 * ```
 */
export function noticeSigningBytes(n: Omit<Notice, "signature" | "proof">): Uint8Array {
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
 * Signs a group of notices as origin with one signature: the Merkle root over their signing
 * bytes, tagged with {@link NOTICE_ROOT_DOMAIN}. Throws RangeError for an empty group, more
 * than {@link MAX_NOTICE_GROUP} notices, or a malformed field.
 *
 * @example
 * ```ts
 * const [a, b] = signNotices(me, "https://a.example", [fieldsA, fieldsB]);
 * ```
 */
export function signNotices(
  identity: NodeIdentity,
  selfUrl: string,
  fields: readonly NoticeFields[],
): Notice[] {
  if (fields.length < 1 || fields.length > MAX_NOTICE_GROUP) {
    throw new RangeError(`Cannot sign notices: expected 1..${MAX_NOTICE_GROUP} in a group`);
  }
  const origin = { id: identity.id, publicKey: identity.publicKeyHex, url: selfUrl };
  const unsigned = fields.map((f) => {
    checkFields(f);
    return {
      id: f.id,
      tag: f.tag,
      size: f.size,
      expiresAt: f.expiresAt,
      createdAtMs: f.createdAtMs,
      origin,
    };
  });
  const { root, proofs } = merkleTree(unsigned.map(noticeSigningBytes));
  const signature = toHex(identity.sign(rootMessage(root)));
  return unsigned.map((u, i) => {
    const p = proofs[i]!;
    return {
      ...u,
      signature,
      proof: { index: p.index, count: p.count, siblings: p.siblings.map(toHex) },
    };
  });
}

/**
 * Signs one notice as origin (a group of one: empty proof).
 *
 * @example
 * ```ts
 * const n = signNotice(me, "https://a.example", { id, tag, size, expiresAt, createdAtMs });
 * ```
 */
export function signNotice(identity: NodeIdentity, selfUrl: string, f: NoticeFields): Notice {
  return signNotices(identity, selfUrl, [f])[0]!;
}

function rootMessage(root: Uint8Array): Uint8Array {
  const tag = enc.encode(NOTICE_ROOT_DOMAIN);
  const m = new Uint8Array(tag.length + root.length);
  m.set(tag);
  m.set(root, tag.length);
  return m;
}

/**
 * A bounded set of (origin public key, root, signature) triples whose signature was verified,
 * so the other notices of a group cost no signature verification. Oldest entries are dropped
 * first once `maxEntries` is reached.
 *
 * @example
 * ```ts
 * const roots = new VerifiedRoots(4096);
 * verifyNotice(n, secp256k1Scheme, roots);
 * ```
 */
export class VerifiedRoots {
  readonly maxEntries: number;
  #keys = new Set<string>();

  /** An empty cache holding at most `maxEntries` roots. */
  constructor(maxEntries = 4096) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError("Cannot create VerifiedRoots: maxEntries must be a positive integer");
    }
    this.maxEntries = maxEntries;
  }

  /** Entries held. */
  get size(): number {
    return this.#keys.size;
  }

  /** Whether this triple was verified. */
  has(key: string): boolean {
    return this.#keys.has(key);
  }

  /** Remembers a verified triple. */
  add(key: string): void {
    if (this.#keys.has(key)) return;
    if (this.#keys.size >= this.maxEntries) this.#keys.delete(this.#keys.values().next().value!);
    this.#keys.add(key);
  }
}

/**
 * Whether the notice is covered by a valid origin signature: recomputes the group root from the
 * notice's signing bytes and its proof, then checks the origin's signature on the tagged root
 * (skipped when `verified` already holds that origin, root and signature). The origin id was
 * already checked against its key when the notice was parsed. A malformed or too long proof
 * fails like a bad signature.
 *
 * @example
 * ```ts
 * if (!verifyNotice(n, secp256k1Scheme, roots)) reject();
 * ```
 */
export function verifyNotice(
  n: Notice,
  scheme: SignatureScheme,
  verified?: VerifiedRoots,
): boolean {
  const p = n.proof;
  if (p.siblings.length > MAX_PROOF_LEVELS) return false;
  let siblings: Uint8Array[];
  try {
    siblings = p.siblings.map((s) => {
      if (!HASH_HEX.test(s)) throw new RangeError("bad sibling");
      return fromHex(s);
    });
  } catch {
    return false;
  }
  const root = merkleRootFromProof(noticeSigningBytes(n), {
    index: p.index,
    count: p.count,
    siblings,
  });
  if (root === null) return false;
  const key = `${n.origin.publicKey}:${toHex(root)}:${n.signature}`;
  if (verified?.has(key)) return true;
  const ok = scheme.verify(
    fromHex(n.origin.publicKey),
    rootMessage(root),
    fromHex(n.signature),
  );
  if (ok) verified?.add(key);
  return ok;
}

const HASH_HEX = /^[0-9a-f]{64}$/;

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
  return {
    ...f,
    origin: parseContact(v.origin, "notice origin"),
    signature: v.sig,
    proof: parseProof(v.proof),
  };
}

/**
 * Format only: integer index and count, siblings an array of 64-hex strings. Whether the proof
 * fits its tree (index below count, count and length within bounds, the right number of
 * siblings) is checked by {@link verifyNotice}, so a bad proof fails like a bad signature.
 */
function parseProof(value: unknown): NoticeProof {
  if (typeof value !== "object" || value === null) {
    throw new RangeError("Cannot parse notice proof: expected an object");
  }
  const { index, count, siblings } = value as Record<string, unknown>;
  if (typeof index !== "number" || !Number.isSafeInteger(index)) {
    throw new RangeError("Cannot parse notice proof index: expected an integer");
  }
  if (typeof count !== "number" || !Number.isSafeInteger(count)) {
    throw new RangeError("Cannot parse notice proof count: expected an integer");
  }
  if (
    !Array.isArray(siblings) || !siblings.every((s) => typeof s === "string" && HASH_HEX.test(s))
  ) {
    throw new RangeError(
      "Cannot parse notice proof siblings: expected an array of 64 lowercase hex characters each",
    );
  }
  return { index, count, siblings: siblings as string[] };
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
    proof: { index: n.proof.index, count: n.proof.count, siblings: [...n.proof.siblings] },
  };
}
