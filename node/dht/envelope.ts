/**
 * The signed RPC envelope. Every server-to-server request and response carries the sender's
 * contact, a timestamp and a nonce in headers, and an ECDSA signature over those and the SHA-256
 * of the body. Receivers check that the id is hash160 of the key, the signature, the clock
 * window, the addressee and that the nonce was not seen before. The exact bytes are in
 * docs/federation.md.
 *
 * The same {@link WireRequest}/{@link WireResponse} records travel over HTTP (as headers and
 * body) and through the in-memory transport, so simulations run the server's code path.
 *
 * @module
 */
import { sha256 } from "./_hash.ts";
import type { Contact } from "./contact.ts";
import { parseContact } from "./contact.ts";
import type { NodeId } from "./id.ts";
import type { NodeIdentity, SignatureScheme } from "./identity.ts";
import { fromHex, toHex } from "../../client/mod.ts";

/** Names of the DHT RPCs; each is served at `POST /dht/<name>`. */
export const RPC_NAMES = [
  "ping",
  "find_node",
  "add_provider",
  "get_providers",
  "notices",
  "fetch",
  "catch_up",
  "subscribe",
  "region_notices",
] as const;

/** One of {@link RPC_NAMES}. */
export type RpcName = typeof RPC_NAMES[number];

/**
 * Whether `name` is an RPC name.
 *
 * @example
 * ```ts
 * isRpcName("ping"); // true
 * ```
 */
export function isRpcName(name: string): name is RpcName {
  return (RPC_NAMES as readonly string[]).includes(name);
}

/** Header names (lowercase; HTTP header names are case-insensitive). */
export const HEADER = {
  nodeId: "subspace-node-id",
  nodeKey: "subspace-node-key",
  nodeUrl: "subspace-node-url",
  to: "subspace-to",
  timestamp: "subspace-timestamp",
  nonce: "subspace-nonce",
  signature: "subspace-signature",
} as const;

/** A request as it travels: envelope headers plus the JSON body bytes. */
export interface WireRequest {
  headers: Record<string, string>;
  body: Uint8Array;
}

/** A response as it travels. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Domain separation prefix of request signatures. */
export const REQUEST_DOMAIN = "subspace-dht-request/1";
/** Domain separation prefix of response signatures. */
export const RESPONSE_DOMAIN = "subspace-dht-response/1";

const enc = new TextEncoder();
const NONCE_HEX = /^[0-9a-f]{32}$/;
const SIG_HEX = /^[0-9a-f]{128}$/;

function requestSigningBytes(
  rpc: string,
  from: Contact,
  to: string,
  timestampMs: number,
  nonce: string,
  body: Uint8Array,
): Uint8Array {
  return enc.encode(
    [
      REQUEST_DOMAIN,
      rpc,
      from.id,
      from.publicKey,
      from.url,
      to,
      String(timestampMs),
      nonce,
      toHex(sha256(body)),
    ].join("\n"),
  );
}

function responseSigningBytes(
  rpc: string,
  from: Contact,
  requestNonce: string,
  timestampMs: number,
  status: number,
  body: Uint8Array,
): Uint8Array {
  return enc.encode(
    [
      RESPONSE_DOMAIN,
      rpc,
      from.id,
      from.publicKey,
      from.url,
      requestNonce,
      String(timestampMs),
      String(status),
      toHex(sha256(body)),
    ].join("\n"),
  );
}

/** Inputs to {@link signRequest}. */
export interface SignRequestInput {
  identity: NodeIdentity;
  /** The sender's own public URL. */
  selfUrl: string;
  rpc: RpcName;
  /** The addressee's id, or "" when only its URL is known (ping and find_node only). */
  to: NodeId | "";
  body: Uint8Array;
  nowMs: number;
  /** 16 random bytes as 32 hex characters. */
  nonce: string;
}

/**
 * Signs a request.
 *
 * @example
 * ```ts
 * const wire = signRequest({ identity, selfUrl, rpc: "ping", to: "", body, nowMs, nonce });
 * ```
 */
export function signRequest(input: SignRequestInput): WireRequest {
  const from: Contact = {
    id: input.identity.id,
    publicKey: input.identity.publicKeyHex,
    url: input.selfUrl,
  };
  const sig = input.identity.sign(
    requestSigningBytes(input.rpc, from, input.to, input.nowMs, input.nonce, input.body),
  );
  return {
    headers: {
      [HEADER.nodeId]: from.id,
      [HEADER.nodeKey]: from.publicKey,
      [HEADER.nodeUrl]: from.url,
      [HEADER.to]: input.to,
      [HEADER.timestamp]: String(input.nowMs),
      [HEADER.nonce]: input.nonce,
      [HEADER.signature]: toHex(sig),
    },
    body: input.body,
  };
}

/** Why a request was refused, with the HTTP status to answer. */
export interface EnvelopeRejection {
  ok: false;
  status: number;
  reason: string;
}

/** A verified request. */
export interface VerifiedRequest {
  ok: true;
  from: Contact;
  nonce: string;
  timestampMs: number;
}

/**
 * A bounded set of recently seen (sender, nonce) pairs. Entries live for the acceptance window;
 * when the cache is full of live entries new requests are refused (fail closed) rather than
 * forgetting nonces that could then be replayed.
 *
 * @example
 * ```ts
 * const cache = new NonceCache({ maxEntries: 100_000, windowMs: 120_000 });
 * cache.add("id:nonce", Date.now()); // "ok"
 * ```
 */
export class NonceCache {
  readonly maxEntries: number;
  readonly windowMs: number;
  #seen = new Map<string, number>();

  /** `windowMs` must be at least twice the allowed clock skew. */
  constructor(opts: { maxEntries: number; windowMs: number }) {
    this.maxEntries = opts.maxEntries;
    this.windowMs = opts.windowMs;
  }

  /** Records `key` seen at `nowMs`; "replay" if it was seen within the window. */
  add(key: string, nowMs: number): "ok" | "replay" | "full" {
    const prev = this.#seen.get(key);
    if (prev !== undefined && prev > nowMs) return "replay";
    for (const [k, expiresMs] of this.#seen) {
      if (expiresMs > nowMs) break;
      this.#seen.delete(k);
    }
    if (this.#seen.size >= this.maxEntries) return "full";
    this.#seen.set(key, nowMs + this.windowMs);
    return "ok";
  }

  /** Number of live entries (after the last prune). */
  get size(): number {
    return this.#seen.size;
  }
}

/** Inputs to {@link verifyRequest}. */
export interface VerifyRequestInput {
  rpc: RpcName;
  wire: WireRequest;
  scheme: SignatureScheme;
  selfId: NodeId;
  nowMs: number;
  /** Largest accepted difference between the request timestamp and our clock. */
  maxSkewMs: number;
  nonces: NonceCache;
  /** Whether an empty addressee is accepted for this RPC. */
  allowAnyAddressee: boolean;
}

/** The signer's contact carried in the envelope headers, or why it is unusable. */
function contactFromHeaders(h: Record<string, string>, role: string): Contact | string {
  try {
    return parseContact({
      id: header(h, HEADER.nodeId),
      public_key: header(h, HEADER.nodeKey),
      url: header(h, HEADER.nodeUrl),
    }, role);
  } catch (e) {
    return (e as Error).message;
  }
}

function header(h: Record<string, string>, name: string): string | undefined {
  return h[name];
}

/**
 * Checks a request's envelope; never trusts a claim it has not checked.
 *
 * @example
 * ```ts
 * const v = verifyRequest({ rpc, wire, scheme, selfId, nowMs, maxSkewMs: 60_000, nonces, allowAnyAddressee });
 * if (!v.ok) return v.status;
 * ```
 */
export function verifyRequest(input: VerifyRequestInput): VerifiedRequest | EnvelopeRejection {
  const h = input.wire.headers;
  const sigHex = header(h, HEADER.signature);
  if (sigHex === undefined) return { ok: false, status: 401, reason: "unsigned request" };
  if (!SIG_HEX.test(sigHex)) return { ok: false, status: 400, reason: "malformed signature" };
  const nonce = header(h, HEADER.nonce) ?? "";
  if (!NONCE_HEX.test(nonce)) return { ok: false, status: 400, reason: "malformed nonce" };
  const tsText = header(h, HEADER.timestamp) ?? "";
  if (!/^\d{1,16}$/.test(tsText)) return { ok: false, status: 400, reason: "malformed timestamp" };
  const timestampMs = Number(tsText);
  if (Math.abs(timestampMs - input.nowMs) > input.maxSkewMs) {
    return {
      ok: false,
      status: 401,
      reason: `timestamp outside the accepted window: our clock reads ${input.nowMs} ms`,
    };
  }
  const from = contactFromHeaders(h, "sender");
  if (typeof from === "string") return { ok: false, status: 400, reason: from };
  const to = header(h, HEADER.to) ?? "";
  if (to === "" ? !input.allowAnyAddressee : to !== input.selfId) {
    return { ok: false, status: 421, reason: "request addressed to another node" };
  }
  if (from.id === input.selfId) return { ok: false, status: 400, reason: "request from self" };
  const signed = requestSigningBytes(input.rpc, from, to, timestampMs, nonce, input.wire.body);
  if (!input.scheme.verify(fromHex(from.publicKey), signed, fromHex(sigHex))) {
    return { ok: false, status: 401, reason: "bad signature" };
  }
  const added = input.nonces.add(`${from.id}:${nonce}`, input.nowMs);
  if (added === "replay") return { ok: false, status: 401, reason: "replayed nonce" };
  if (added === "full") return { ok: false, status: 503, reason: "nonce cache full" };
  return { ok: true, from, nonce, timestampMs };
}

/** Inputs to {@link signResponse}. */
export interface SignResponseInput {
  identity: NodeIdentity;
  selfUrl: string;
  rpc: RpcName;
  requestNonce: string;
  status: number;
  body: Uint8Array;
  nowMs: number;
}

/**
 * Signs a response, binding it to the request's nonce.
 *
 * @example
 * ```ts
 * const res = signResponse({ identity, selfUrl, rpc, requestNonce, status: 200, body, nowMs });
 * ```
 */
export function signResponse(input: SignResponseInput): WireResponse {
  const from: Contact = {
    id: input.identity.id,
    publicKey: input.identity.publicKeyHex,
    url: input.selfUrl,
  };
  const sig = input.identity.sign(
    responseSigningBytes(
      input.rpc,
      from,
      input.requestNonce,
      input.nowMs,
      input.status,
      input.body,
    ),
  );
  return {
    status: input.status,
    headers: {
      [HEADER.nodeId]: from.id,
      [HEADER.nodeKey]: from.publicKey,
      [HEADER.nodeUrl]: from.url,
      [HEADER.timestamp]: String(input.nowMs),
      [HEADER.nonce]: input.requestNonce,
      [HEADER.signature]: toHex(sig),
    },
    body: input.body,
  };
}

/**
 * Checks a response: signed by a valid contact, bound to our request's nonce, and from the
 * expected node when we know its id. Returns the responder's contact.
 *
 * @example
 * ```ts
 * const who = verifyResponse({ rpc, wire, scheme, requestNonce, expectId });
 * ```
 */
export function verifyResponse(input: {
  rpc: RpcName;
  wire: WireResponse;
  scheme: SignatureScheme;
  requestNonce: string;
  expectId: NodeId | "";
}): { ok: true; from: Contact } | EnvelopeRejection {
  const h = input.wire.headers;
  const sigHex = header(h, HEADER.signature);
  if (sigHex === undefined || !SIG_HEX.test(sigHex)) {
    return { ok: false, status: 502, reason: "unsigned response" };
  }
  if (header(h, HEADER.nonce) !== input.requestNonce) {
    return { ok: false, status: 502, reason: "response to another request" };
  }
  const tsText = header(h, HEADER.timestamp) ?? "";
  if (!/^\d{1,16}$/.test(tsText)) return { ok: false, status: 502, reason: "malformed timestamp" };
  const from = contactFromHeaders(h, "responder");
  if (typeof from === "string") return { ok: false, status: 502, reason: from };
  if (input.expectId !== "" && from.id !== input.expectId) {
    return { ok: false, status: 502, reason: "response from another node" };
  }
  const signed = responseSigningBytes(
    input.rpc,
    from,
    input.requestNonce,
    Number(tsText),
    input.wire.status,
    input.wire.body,
  );
  if (!input.scheme.verify(fromHex(from.publicKey), signed, fromHex(sigHex))) {
    return { ok: false, status: 502, reason: "bad response signature" };
  }
  return { ok: true, from };
}
