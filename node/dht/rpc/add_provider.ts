/**
 * `add_provider`: `{message_id: hex64, tag: hex40, expires_at: seconds}` → `{stored: bool}`. The
 * provider recorded is the verified sender; its lifetime is capped at the node's maximum TTL.
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
export function handleAddProvider(s: DhtServices, body: unknown, from: Contact): RpcResult {
  const req = parseAddProviderRequest(body);
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
