/**
 * Services the core consumes from features. Each key names what the core calls and when.
 *
 * @module
 */
import type { Context } from "hono";
import { type AppEnv, serviceKey } from "./feature.ts";
import type { Quota } from "./quota.ts";
import type { StoredMessage } from "./store/mod.ts";

/**
 * How `POST /v1/messages` is paid for. With `--quota tokens` some feature must provide it, or
 * the node refuses to start; with `--quota open` the core accepts every message.
 */
export const QUOTA_POLICY = serviceKey<Quota>("core.quota");

/**
 * Supplies payloads for rows held here only as notices (payload `null`): returns the messages
 * whose bodies it could get, checked against their ids, and — still with payload `null` — those
 * not worth waiting for (their origin is failing and no other holder is known). Messages left
 * out are retried by the next poll. Without a resolver such rows are left out.
 */
export const BODY_RESOLVER = serviceKey<(messages: StoredMessage[]) => Promise<StoredMessage[]>>(
  "core.bodies",
);

/**
 * Makes this node follow a region before a wallet's query is answered from the local store:
 * with federation, it subscribes at the servers responsible for the region and pulls what they
 * hold (the backlog), so the rows are here when the query runs. May throw an `HttpError` (a
 * region shorter than the node follows). Resolves within a bounded wait.
 */
export const REGION_FOLLOWER = serviceKey<
  (region: { prefix: Uint8Array; bits: number }) => Promise<void>
>("core.follow");

/** The node's DHT identity (hex node id), shown in `GET /v1/info`. */
export const NODE_IDENTITY = serviceKey<{ readonly id: string }>("core.identity");

/** Who may use the operator's routes. */
export interface AdminAuth {
  /**
   * Checks a request to `/admin/*` or `/metrics`. Returns `undefined` to let it through, or the
   * response to send instead (401, 403, a redirect to the login page).
   */
  check(c: Context<AppEnv>): Promise<Response | undefined>;
}

/**
 * The one guard on every operator route (`/admin/*`, `/metrics`). Without a provider those
 * routes answer 404: a node with no operator authentication exposes nothing of them.
 */
export const ADMIN_AUTH = serviceKey<AdminAuth>("core.admin-auth");
