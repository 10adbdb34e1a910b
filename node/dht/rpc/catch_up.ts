/**
 * `catch_up`: `{since_ms, after?, limit?}` → `{notices: Notice[], next: cursor | null}`: the
 * unexpired notices this node received at or after `since_ms` (its clock), oldest first, in pages
 * of at most 500. The asker verifies every notice as if it had been broadcast.
 *
 * @module
 */
import { noticeToJson } from "../notice.ts";
import { asObject, BadRequest, type DhtServices, intField, type RpcResult } from "./_shared.ts";

/** Largest page. */
export const MAX_CATCH_UP_PAGE = 500;

/** A parsed catch_up request. */
export interface CatchUpRequest {
  sinceMs: number;
  after: string | null;
  limit: number;
}

/** Parses a catch_up request body. */
export function parseCatchUpRequest(body: unknown): CatchUpRequest {
  const o = asObject(body, "catch_up request");
  const after = o.after ?? null;
  if (after !== null && (typeof after !== "string" || after.length > 200)) {
    throw new BadRequest("Cannot parse after: expected a cursor string");
  }
  return {
    sinceMs: intField(o, "since_ms", 0, Number.MAX_SAFE_INTEGER),
    after,
    limit: intField(o, "limit", 1, MAX_CATCH_UP_PAGE, MAX_CATCH_UP_PAGE),
  };
}

/** Answers catch_up. */
export async function handleCatchUp(s: DhtServices, body: unknown): Promise<RpcResult> {
  const req = parseCatchUpRequest(body);
  const page = await s.notices.since(req.sinceMs, req.after, req.limit, s.now());
  return { status: 200, body: { notices: page.notices.map(noticeToJson), next: page.next } };
}
