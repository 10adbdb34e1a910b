/**
 * `notices`: one batch, `{notices: [{notice, tree, backlog?}]}` → `{accepted, duplicates,
 * rejected, invalid}`; `tree` null for a notice placed at us (not forwarded down a tree). A 200 answer is the hop's acknowledgement. Each notice is checked on its
 * own (format, expiry, origin signature); see `DhtNode.ingestNotice`.
 *
 * @module
 */
import type { Contact } from "../contact.ts";
import { parseNotice } from "../notice.ts";
import { asObject, BadRequest, type DhtServices, type RpcResult } from "./_shared.ts";
import { MAX_TREES } from "../broadcast.ts";

/** Most notices accepted in one batch (senders send at most 256). */
export const MAX_BATCH_NOTICES = 512;

/** Entries of a notices request, unparsed. */
export function batchEntries(body: unknown): unknown[] {
  const list = asObject(body, "notices request").notices;
  if (!Array.isArray(list)) throw new BadRequest("Cannot parse notices: expected an array");
  if (list.length > MAX_BATCH_NOTICES) {
    throw new BadRequest(`Cannot parse notices: at most ${MAX_BATCH_NOTICES} per batch`);
  }
  return list;
}

/** Answers a notices batch (the per-peer notice rate limit is checked by the node first). */
export async function handleNotices(
  s: DhtServices,
  body: unknown,
  from: Contact,
): Promise<RpcResult> {
  const counts = { accepted: 0, held: 0, duplicates: 0, rejected: 0, invalid: 0 };
  for (const raw of batchEntries(body)) {
    let entry: Record<string, unknown>;
    try {
      entry = asObject(raw, "notice entry");
    } catch {
      counts.invalid++;
      continue;
    }
    // tree null: placed at us directly (as a responsible server or a subscriber), not forwarded.
    const tree = entry.tree;
    if (
      tree !== null &&
      (typeof tree !== "number" || !Number.isInteger(tree) || tree < 0 || tree >= MAX_TREES)
    ) {
      counts.invalid++;
      continue;
    }
    let notice;
    try {
      notice = parseNotice(entry.notice);
    } catch {
      counts.invalid++;
      continue;
    }
    // A backlog page we asked for (subscribing to a region) is paced by our own request.
    const mode = tree !== null
      ? tree
      : entry.backlog === true && s.wantsBacklog(notice.tag)
      ? "catch-up"
      : entry.guess === true
      ? "guess"
      : "placed";
    const r = await s.ingestNotice(notice, from, mode);
    if (r === "accepted") counts.accepted++;
    else if (r === "held") counts.held++;
    else if (r === "duplicate") counts.duplicates++;
    else if (r === "rejected") counts.rejected++;
    else counts.invalid++;
  }
  return { status: 200, body: counts };
}
