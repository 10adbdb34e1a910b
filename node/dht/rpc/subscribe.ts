/**
 * `subscribe`: `{subscription, spread, backlog}` → `{stored, expires_at, notices, next}`. The
 * receiver checks the subscriber's signature, records the lease (within its caps), for `spread`
 * forwards it down the region's subtree, and with `backlog` answers with the first page of the
 * notices it holds in the region (more with `region_notices`). See `DhtNode.serveSubscribe`.
 *
 * `region_notices`: `{prefix, bits, after?, limit?}` → `{notices, next}`: a page of the notices
 * this node holds in a region, ordered by notice key.
 *
 * @module
 */
import type { Contact } from "../contact.ts";
import { noticeToJson } from "../notice.ts";
import { regionKey } from "../region.ts";
import { parseSubscription, type Subscription } from "../subscription.ts";
import { asObject, BadRequest, type DhtServices, intField, type RpcResult } from "./_shared.ts";

/** Largest backlog page. */
export const MAX_REGION_PAGE = 256;

/** A parsed subscribe request. */
export interface SubscribeRequest {
  subscription: Subscription;
  spread: boolean;
  backlog: boolean;
}

/** Parses a subscribe request body. */
export function parseSubscribeRequest(body: unknown): SubscribeRequest {
  const o = asObject(body, "subscribe request");
  let subscription: Subscription;
  try {
    subscription = parseSubscription(o.subscription);
  } catch (e) {
    throw new BadRequest((e as Error).message);
  }
  return { subscription, spread: o.spread === true, backlog: o.backlog === true };
}

/** Answers subscribe. */
export function handleSubscribe(s: DhtServices, body: unknown, from: Contact): Promise<RpcResult> {
  return s.serveSubscribe(body, from);
}

/** Answers region_notices. */
export async function handleRegionNotices(s: DhtServices, body: unknown): Promise<RpcResult> {
  const o = asObject(body, "region_notices request");
  const bits = intField(o, "bits", 0, 160);
  if (typeof o.prefix !== "string" || !/^[0-9a-f]{40}$/.test(o.prefix)) {
    throw new BadRequest("Cannot parse prefix: expected 40 lowercase hex characters");
  }
  const after = o.after ?? null;
  if (after !== null && (typeof after !== "string" || after.length > 200)) {
    throw new BadRequest("Cannot parse after: expected a cursor string");
  }
  const limit = intField(o, "limit", 1, MAX_REGION_PAGE, MAX_REGION_PAGE);
  const page = await s.notices.region(regionKey(o.prefix, bits), bits, after, limit, s.now());
  return { status: 200, body: { notices: page.notices.map(noticeToJson), next: page.next } };
}
