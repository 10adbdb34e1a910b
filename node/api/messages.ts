/**
 * The wallet message API: `POST /v1/messages`, `GET /v1/messages` (prefix query with long
 * polling) and `GET /v1/messages/:id`.
 *
 * @module
 */
import { Hono } from "hono";
import { createHash } from "node:crypto";
import type { AppEnv, NodeCore } from "../feature.ts";
import { openQuota } from "../quota.ts";
import { BODY_RESOLVER, QUOTA_POLICY, REGION_FOLLOWER } from "../services.ts";
import { readJsonObject } from "../body.ts";
import { badRequest, HttpError } from "../errors.ts";
import { chargedBytes, chooseScan, type NewMessage, type StoredMessage } from "../store/mod.ts";
import {
  decodeCursor,
  encodeCursor,
  MAX_PENDING_IN_CURSOR,
  type PageCursor,
  parseBase64,
  parseId,
  parseIntIn,
  parseRange,
  parseTag,
} from "../wire.ts";
import { toBase64, toHex } from "../../client/mod.ts";

/** Most messages one query returns. */
export const MAX_LIMIT = 1000;
/** Messages one query returns when `limit` is absent. */
export const DEFAULT_LIMIT = 100;
/** JSON overhead allowed on top of the base64 payload in a POST body. */
const BODY_OVERHEAD_BYTES = 1024;

/** The JSON shape of a message in responses. */
export function messageJson(m: StoredMessage) {
  return {
    id: toHex(m.id),
    tag: toHex(m.tag),
    payload: m.payload === null ? null : toBase64(m.payload),
    received_at: Math.floor(m.receivedAt / 1000),
    expires_at: Math.floor(m.expiresAt / 1000),
  };
}

/**
 * How long a notice whose body could not be fetched is retried: the cursor carries it (up to
 * {@linkcode MAX_PENDING_IN_CURSOR} of them) so later messages are not held back behind it, and
 * after this long it is dropped (its origin and providers are gone).
 */
export const BODY_RETRY_WINDOW_MS = 120_000;

/**
 * Moves the cursor over `found` (the pending messages first, then the new ones, each oldest
 * first) given the messages whose bodies are at hand. A recent message whose body is missing
 * goes into the cursor's pending list; only when that list is full does the cursor stop before
 * it, so it is not skipped. One the resolver gave up on (returned with payload `null`) is passed.
 */
export function advance(
  found: readonly StoredMessage[],
  resolved: readonly StoredMessage[],
  cursor: PageCursor,
  now: number,
): { messages: StoredMessage[]; cursor: PageCursor } {
  const have = new Map(resolved.map((m) => [m.seq, m]));
  const messages: StoredMessage[] = [];
  const pending: number[] = [];
  let seq = cursor.seq;
  for (const m of found) {
    const got = have.get(m.seq);
    const recent = now - m.receivedAt < BODY_RETRY_WINDOW_MS;
    if (got === undefined && recent) {
      if (pending.length >= MAX_PENDING_IN_CURSOR) break;
      pending.push(m.seq);
    } else if (got !== undefined && got.payload !== null) {
      messages.push(got);
    }
    if (m.seq > seq) seq = m.seq;
  }
  pending.sort((a, b) => a - b);
  return { messages, cursor: { seq, pending } };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function inRange(tag: Uint8Array, lo: Uint8Array, hi: Uint8Array): boolean {
  return compareBytes(tag, lo) >= 0 && compareBytes(tag, hi) <= 0;
}

/** Builds the message routes. */
export function messageRoutes(ctx: NodeCore): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { config } = ctx;
  const maxBodyBytes = Math.ceil(config.maxPayloadBytes / 3) * 4 + BODY_OVERHEAD_BYTES;
  const accepted = ctx.metrics.counter(
    "subspace_messages_accepted_total",
    "Messages stored by POST",
  );
  const duplicates = ctx.metrics.counter(
    "subspace_messages_duplicate_total",
    "POSTs of a message already stored",
  );
  const delivered = ctx.metrics.counter(
    "subspace_messages_delivered_total",
    "Messages returned to wallets by GET",
  );
  const ackSeconds = ctx.metrics.histogram(
    "subspace_post_ack_seconds",
    "Time from reading a POST to its durable acknowledgement",
  );

  // Read once the app is built: every feature has published its services by then.
  const quota = ctx.service(QUOTA_POLICY) ?? openQuota;
  const resolve = async (msgs: StoredMessage[]): Promise<StoredMessage[]> => {
    if (msgs.every((m) => m.payload !== null)) return msgs;
    const resolver = ctx.service(BODY_RESOLVER);
    return resolver ? await resolver(msgs) : msgs.filter((m) => m.payload !== null);
  };

  app.post("/v1/messages", async (c) => {
    const t0 = performance.now();
    const body = await readJsonObject(c.req.raw, maxBodyBytes, "payload");
    for (const key of Object.keys(body)) {
      if (key !== "tag" && key !== "payload" && key !== "ttl_seconds") {
        throw badRequest(key, `Unknown field '${key}': expected tag, payload, ttl_seconds`);
      }
    }
    const tag = parseTag(body.tag);
    const payload = parseBase64(body.payload, "payload");
    if (payload.length === 0) throw badRequest("payload", "payload must not be empty");
    const limits = ctx.limits.current;
    if (payload.length > limits.maxPayloadBytes) {
      throw new HttpError(
        413,
        `payload is too large: at most ${limits.maxPayloadBytes} bytes, got ${payload.length}`,
        { field: "payload" },
      );
    }
    const ttlSeconds = body.ttl_seconds === undefined
      ? limits.defaultTtlSeconds
      : parseIntIn(body.ttl_seconds, "ttl_seconds", 1, limits.maxTtlSeconds, false);
    const idBytes = new Uint8Array(createHash("sha256").update(tag).update(payload).digest());
    const id = toHex(idBytes);
    if (!ctx.writer.hasRoom(chargedBytes({ payload }))) {
      const [earlier] = await ctx.store.existing([idBytes]);
      if (earlier === undefined) {
        throw new HttpError(507, "The node's storage is full; try another server or later");
      }
    }
    const charge = await quota.charge({ request: c.req.raw, id, size: payload.length, ttlSeconds });
    const now = ctx.now();
    const message: NewMessage = {
      id: idBytes,
      tag,
      payload,
      size: payload.length,
      receivedAt: now,
      expiresAt: now + ttlSeconds * 1000,
      origin: null,
    };
    // A token's nonce is spent in the message's own transaction: one commit, one fsync.
    let outcome;
    try {
      outcome = await ctx.writer.submit(charge ? { ...message, spend: charge.spend } : message);
    } catch (err) {
      charge?.settle("failed");
      throw err;
    }
    if (outcome.spent) throw charge?.settle("spent") ?? new HttpError(401, "Token refused");
    charge?.settle("stored");
    if (!outcome.inserted && outcome.message.payload === null) {
      // Only a notice of this id was held (another server's claim, maybe under another tag):
      // the body in hand proves the message, so it takes the notice's place and is announced.
      // (Its token was spent with the first attempt.)
      await ctx.writer.dropNotice(outcome.message.id, outcome.message.tag);
      outcome = await ctx.writer.submit(message);
    }
    (outcome.inserted ? accepted : duplicates).inc();
    ackSeconds.observe((performance.now() - t0) / 1000);
    return c.json({ id, expires_at: Math.floor(outcome.message.expiresAt / 1000) }, 201);
  });

  app.get("/v1/messages", async (c) => {
    const q = c.req.query();
    for (const key of Object.keys(q)) {
      if (!["prefix", "bits", "after", "limit", "wait"].includes(key)) {
        throw badRequest(key, `Unknown query parameter '${key}'`);
      }
    }
    const range = parseRange(q.prefix, q.bits);
    const limit = q.limit === undefined
      ? DEFAULT_LIMIT
      : parseIntIn(q.limit, "limit", 1, MAX_LIMIT);
    const waitSeconds = q.wait === undefined ? 0 : parseIntIn(q.wait, "wait", 0, config.maxWait);
    // Federation: a region first asked for here is subscribed to and its backlog pulled in.
    await ctx.service(REGION_FOLLOWER)?.({ prefix: range.lo, bits: range.bits });
    // Several processes on one database: see what they committed (and what a cursor they
    // issued may already be past).
    await ctx.writer.refreshLastSeq();
    let start;
    try {
      start = decodeCursor(q.after, ctx.writer.lastSeq);
    } catch (err) {
      // A cursor from a process whose notification has not arrived here yet.
      if (!(await ctx.writer.refreshLastSeq(true))) throw err;
      start = decodeCursor(q.after, ctx.writer.lastSeq);
    }
    const query = async (from: PageCursor) => {
      const held = await ctx.store.bySeqs(from.pending, ctx.now());
      const fresh = await ctx.store.query({
        lo: range.lo,
        hi: range.hi,
        all: range.bits === 0,
        afterSeq: from.seq,
        maxSeq: ctx.writer.lastSeq,
        limit: Math.max(1, limit - from.pending.length),
        now: ctx.now(),
        scan: chooseScan(range.bits, ctx.writer.lastSeq, from.seq, limit),
      });
      // A pending seq outside this query's range is not ours to retry.
      return [...held.filter((m) => inRange(m.tag, range.lo, range.hi)), ...fresh];
    };

    let wait;
    if (waitSeconds > 0) {
      if (ctx.hub.full) {
        throw new HttpError(503, "Too many long polls are waiting; retry shortly", {
          headers: { "retry-after": "2" },
        });
      }
      wait = ctx.hub.register(range.lo32, range.hi32, waitSeconds * 1000, c.req.raw.signal);
    }
    try {
      let cursor = start;
      let found = await query(cursor);
      let messages: StoredMessage[] = [];
      const deadline = performance.now() + waitSeconds * 1000;
      for (;;) {
        const before = cursor.seq;
        if (found.length > 0) {
          const got = await resolve(found);
          ({ messages, cursor } = advance(found, got, cursor, ctx.now()));
        }
        if (messages.length > 0 || wait === undefined || c.req.raw.signal.aborted) break;
        if (found.length === 0) {
          await wait.done;
          if (!wait.woken) break;
        } else if (cursor.seq === before) {
          // Only bodies that could not be fetched yet: retry them in a second.
          await Promise.race([wait.done, new Promise((r) => setTimeout(r, 1000))]);
        }
        const remaining = deadline - performance.now();
        if (remaining <= 0) break;
        wait.cancel();
        wait = ctx.hub.register(range.lo32, range.hi32, remaining, c.req.raw.signal);
        found = await query(cursor);
      }
      delivered.inc(undefined, messages.length);
      return c.json({ messages: messages.map(messageJson), cursor: encodeCursor(cursor) });
    } finally {
      wait?.cancel();
    }
  });

  app.get("/v1/messages/:id", async (c) => {
    const id = parseId(c.req.param("id"));
    const m = await ctx.store.get(id, ctx.now());
    const [found] = m === undefined ? [] : await resolve([m]);
    if (found === undefined || found.payload === null) {
      throw new HttpError(404, "No message with this id is stored here", { field: "id" });
    }
    delivered.inc();
    return c.json(messageJson(found));
  });

  return app;
}
