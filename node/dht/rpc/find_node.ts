/**
 * `find_node`: `{target: hex40}` → `{nodes: Contact[]}`, the k contacts closest to target that
 * this node knows (never the requester).
 *
 * @module
 */
import { type Contact, contactToJson, parseContact } from "../contact.ts";
import { type NodeId, parseNodeId } from "../id.ts";
import { asObject, BadRequest, type DhtServices, hexField, type RpcResult } from "./_shared.ts";

/** Parses a find_node request body. */
export function parseFindNodeRequest(body: unknown): { target: NodeId } {
  const o = asObject(body, "find_node request");
  return { target: parseNodeId(hexField(o, "target", 40), "target") };
}

/** Answers find_node. */
export function handleFindNode(s: DhtServices, body: unknown, from: Contact): RpcResult {
  const { target } = parseFindNodeRequest(body);
  return { status: 200, body: { nodes: s.closest(target, s.k, from.id).map(contactToJson) } };
}

/**
 * Parses a list of contacts from an answer, keeping at most `max` valid ones (bad entries are
 * skipped, not trusted).
 */
export function parseContactList(value: unknown, max: number): Contact[] {
  if (!Array.isArray(value)) throw new BadRequest("Cannot parse nodes: expected an array");
  const out: Contact[] = [];
  for (const v of value.slice(0, max)) {
    try {
      out.push(parseContact(v));
    } catch {
      // skip
    }
  }
  return out;
}

/** Parses a find_node answer. */
export function parseFindNodeResponse(body: unknown, k: number): Contact[] {
  return parseContactList(asObject(body, "find_node response").nodes, k);
}
