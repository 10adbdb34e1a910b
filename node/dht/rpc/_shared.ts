/**
 * What RPC handlers may use from their node, and small body parsing helpers.
 *
 * @module
 */
import type { Contact } from "../contact.ts";
import type { NodeId } from "../id.ts";
import type { Notice } from "../notice.ts";
import type { NoticeStore } from "../notice_store.ts";
import type { ProviderStore } from "../providers.ts";

/** A message body a node can hand out. */
export interface StoredBody {
  tag: string;
  payload: Uint8Array;
}

/** Where the fetch RPC reads bodies from (the node's message store). */
export interface BodySource {
  /** The body of message `id`, or null if this node does not hold it. */
  get(id: string): Promise<StoredBody | null> | StoredBody | null;
}

/**
 * How a notice reached us: in broadcast tree n, "placed" (sent as to a server responsible for its
 * tag or to a subscriber), "guess" (placed while the origin's lookup still ran: kept only if we
 * are responsible) or "catch-up" (a page we asked for).
 */
export type IngestMode = number | "placed" | "guess" | "catch-up";

/** Outcome of ingesting one notice. */
export type IngestResult = "accepted" | "held" | "duplicate" | "rejected" | "invalid";

/** The node facilities handlers use. */
export interface DhtServices {
  readonly selfId: NodeId;
  readonly k: number;
  /** Largest lifetime a notice or provider record may claim, in seconds. */
  readonly maxTtlSeconds: number;
  readonly providers: ProviderStore;
  readonly notices: NoticeStore;
  readonly bodies: BodySource;
  now(): number;
  /** Up to `n` contacts closest to `target`, never `exclude`. */
  closest(target: string, n: number, exclude: NodeId): Contact[];
  /** True when `peer` serves the body of `messageId` under `tag` (fetched and checked now). */
  holds(peer: Contact, messageId: string, tag: string): Promise<boolean>;
  /** Verifies, stores and (for broadcast) forwards one notice received from `from`. */
  ingestNotice(notice: Notice, from: Contact, mode: IngestMode): Promise<IngestResult>;
  /** True when this node asked for the backlog of a region holding `tag` within the last minute. */
  wantsBacklog(tag: string): boolean;
  /** Records (and for a large region spreads) a subscription; answers with the first backlog page. */
  serveSubscribe(body: unknown, from: Contact): Promise<RpcResult>;
}

/** A handler's answer: HTTP status and JSON body. */
export interface RpcResult {
  status: number;
  body: unknown;
}

/** A request body that failed to parse. */
export class BadRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadRequest";
  }
}

/** The body as a plain object. */
export function asObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequest(`Cannot parse ${what}: expected a JSON object`);
  }
  return body as Record<string, unknown>;
}

/** An integer field within bounds. */
export function intField(
  o: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  fallback?: number,
): number {
  const v = o[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new BadRequest(`Cannot parse ${name}: expected an integer ${min}..${max}`);
  }
  return v;
}

/** A lowercase hex field of `chars` characters. */
export function hexField(o: Record<string, unknown>, name: string, chars: number): string {
  const v = o[name];
  if (typeof v !== "string" || v.length !== chars || !/^[0-9a-f]*$/.test(v)) {
    throw new BadRequest(`Cannot parse ${name}: expected ${chars} lowercase hex characters`);
  }
  return v;
}
