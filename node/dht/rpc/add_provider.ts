/**
 * `add_provider`: `{message_id: hex64, tag: hex40, expires_at: seconds}` → `{stored: bool}`. The
 * provider recorded is the verified sender, and only once it served the body (fetched from it
 * and checked against the id; a refresh of a live record is not checked again); its lifetime is
 * capped at the node's maximum TTL.
 *
 * @module
 */
import type { Contact } from "../contact.ts";
import { asObject, type DhtServices, hexField, intField, type RpcResult } from "./_shared.ts";

/** A parsed add_provider request. */
export interface AddProviderRequest {
  messageId: string;
  tag: string;
  expiresAt: number;
}

/** Parses an add_provider request body. */
export function parseAddProviderRequest(body: unknown): AddProviderRequest {
  const o = asObject(body, "add_provider request");
  return {
    messageId: hexField(o, "message_id", 64),
    tag: hexField(o, "tag", 40),
    expiresAt: intField(o, "expires_at", 0, Number.MAX_SAFE_INTEGER),
  };
}

/** Answers add_provider. */
export async function handleAddProvider(
  s: DhtServices,
  body: unknown,
  from: Contact,
): Promise<RpcResult> {
  const req = parseAddProviderRequest(body);
  const known = s.providers.has(req.messageId, from.id, s.now());
  if (!known && !await s.holds(from, req.messageId, req.tag)) {
    return { status: 200, body: { stored: false } };
  }
  const nowMs = s.now();
  const cap = Math.floor(nowMs / 1000) + s.maxTtlSeconds;
  const stored = s.providers.add({
    messageId: req.messageId,
    tag: req.tag,
    provider: from,
    expiresAt: Math.min(req.expiresAt, cap),
  }, nowMs);
  return { status: 200, body: { stored } };
}
