/**
 * `get_providers`: `{message_id: hex64}` → `{providers: [{provider, tag, expires_at}], nodes}`:
 * the providers this node holds for the message, and the k contacts closest to its key.
 *
 * @module
 */
import { type Contact, contactToJson, parseContact } from "../contact.ts";
import { keyOfMessageId } from "../id.ts";
import type { ProviderRecord } from "../providers.ts";
import { asObject, type DhtServices, hexField, type RpcResult } from "./_shared.ts";
import { parseContactList } from "./find_node.ts";

/** Parses a get_providers request body. */
export function parseGetProvidersRequest(body: unknown): { messageId: string } {
  return { messageId: hexField(asObject(body, "get_providers request"), "message_id", 64) };
}

/** Answers get_providers. */
export function handleGetProviders(s: DhtServices, body: unknown, from: Contact): RpcResult {
  const { messageId } = parseGetProvidersRequest(body);
  const providers = s.providers.get(messageId, s.now()).map((r) => ({
    provider: contactToJson(r.provider),
    tag: r.tag,
    expires_at: r.expiresAt,
  }));
  const nodes = s.closest(keyOfMessageId(messageId), s.k, from.id).map(contactToJson);
  return { status: 200, body: { providers, nodes } };
}

/** Parses a get_providers answer (invalid records are skipped). */
export function parseGetProvidersResponse(
  body: unknown,
  messageId: string,
  k: number,
): { providers: ProviderRecord[]; closer: Contact[] } {
  const o = asObject(body, "get_providers response");
  const providers: ProviderRecord[] = [];
  if (Array.isArray(o.providers)) {
    for (const p of o.providers.slice(0, 64)) {
      try {
        const r = asObject(p, "provider record");
        const tag = r.tag;
        const expiresAt = r.expires_at;
        if (typeof tag !== "string" || !/^[0-9a-f]{40}$/.test(tag)) continue;
        if (typeof expiresAt !== "number" || !Number.isSafeInteger(expiresAt)) continue;
        providers.push({ messageId, tag, provider: parseContact(r.provider), expiresAt });
      } catch {
        // skip
      }
    }
  }
  return { providers, closer: parseContactList(o.nodes ?? [], k) };
}
