/**
 * `fetch`: `{message_id: hex64}` → `{tag, payload: base64}` or 404. The requester checks
 * sha256(tag || payload) against the id, so a server cannot hand out a wrong body.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import {
  asObject,
  type DhtServices,
  hexField,
  type RpcResult,
  type StoredBody,
} from "./_shared.ts";
import { concat, fromBase64, fromHex, toBase64, toHex } from "../../../client/mod.ts";

/** Parses a fetch request body. */
export function parseFetchRequest(body: unknown): { messageId: string } {
  return { messageId: hexField(asObject(body, "fetch request"), "message_id", 64) };
}

/** Answers fetch. */
export async function handleFetch(s: DhtServices, body: unknown): Promise<RpcResult> {
  const { messageId } = parseFetchRequest(body);
  const found = await s.bodies.get(messageId);
  if (found === null) return { status: 404, body: { error: "not held here" } };
  return { status: 200, body: { tag: found.tag, payload: toBase64(found.payload) } };
}

/**
 * The message id of a body: sha256(tag || payload) in hex.
 *
 * @example
 * ```ts
 * messageIdOf(tagHex, payload);
 * ```
 */
export function messageIdOf(tagHex: string, payload: Uint8Array): string {
  return toHex(sha256(concat(fromHex(tagHex), payload)));
}

/** Parses a fetch answer and checks it against `messageId`; null if it does not match. */
export function parseFetchResponse(body: unknown, messageId: string): StoredBody | null {
  const o = asObject(body, "fetch response");
  if (typeof o.tag !== "string" || !/^[0-9a-f]{40}$/.test(o.tag)) return null;
  if (typeof o.payload !== "string") return null;
  let payload: Uint8Array;
  try {
    payload = fromBase64(o.payload);
  } catch {
    return null;
  }
  return messageIdOf(o.tag, payload) === messageId ? { tag: o.tag, payload } : null;
}
