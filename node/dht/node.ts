/**
 * A DHT node: routing table, signed RPCs (client and server side), iterative lookups, provider
 * records, tree broadcast of notices, body fetch and catch-up. It does no I/O of its own beyond
 * its {@link Transport}, so the same class runs inside the server and a thousand times inside a
 * simulation.
 *
 * @module
 */
import { type BroadcastEntry, Broadcaster, type BroadcastStats } from "./broadcast.ts";
import { type Clock, sleep, systemClock, type TimerId } from "./clock.ts";
import { type Contact, contactToJson, rangeKeyOf } from "./contact.ts";
import {
  isRpcName,
  NonceCache,
  type RpcName,
  signRequest,
  signResponse,
  verifyRequest,
  verifyResponse,
  type WireRequest,
  type WireResponse,
} from "./envelope.ts";
import { bucketIndex, keyOfMessageId, type NodeId, randomIdInBucket } from "./id.ts";
import type { NodeIdentity, SignatureScheme } from "./identity.ts";
import { iterativeLookup, type LookupAnswer, type LookupEvent } from "./lookup.ts";
import {
  MAX_NOTICE_GROUP,
  type Notice,
  type NoticeFields,
  noticeKey,
  noticeToJson,
  parseNotice,
  signNotices,
  VerifiedRoots,
  verifyNotice,
} from "./notice.ts";
import { MemoryNoticeStore, type NoticeStore } from "./notice_store.ts";
import { type ProviderRecord, ProviderStore } from "./providers.ts";
import { cryptoRandom, type Random, randomBytes } from "./random.ts";
import { PenaltyBox } from "./rate_limit.ts";
import { RateLimiter } from "../rate_limit.ts";
import { type RangeLimits, RoutingTable, type RoutingTableSnapshot } from "./routing_table.ts";
import type { RequestMeta, Transport } from "./transport.ts";
import {
  BadRequest,
  type BodySource,
  type DhtServices,
  type IngestResult,
  type RpcResult,
  type StoredBody,
} from "./rpc/_shared.ts";
import { handlePing } from "./rpc/ping.ts";
import { handleFindNode, parseFindNodeResponse } from "./rpc/find_node.ts";
import { handleAddProvider } from "./rpc/add_provider.ts";
import { handleGetProviders, parseGetProvidersResponse } from "./rpc/get_providers.ts";
import { batchEntries, handleNotices } from "./rpc/notices.ts";
import { handleFetch, parseFetchResponse } from "./rpc/fetch.ts";
import { handleCatchUp, MAX_CATCH_UP_PAGE } from "./rpc/catch_up.ts";
import { toHex } from "../../client/mod.ts";

/** Abuse limits; every queue and cache has a named bound. */
export interface DhtLimits {
  /** Requests per second per remote address, checked before any signature work. */
  rpcPerSecondPerAddr: number;
  rpcBurstPerAddr: number;
  /** Requests per second per verified peer id. */
  rpcPerSecondPerPeer: number;
  rpcBurstPerPeer: number;
  /** Notices per second per verified peer id (summed over batches). */
  noticesPerSecondPerPeer: number;
  noticesBurstPerPeer: number;
  /** New notices per second per origin. */
  noticesPerSecondPerOrigin: number;
  noticesBurstPerOrigin: number;
  /**
   * New notices per second per address range (/24, /64, or host name) of the origins' verified
   * URLs: throwaway identities on one range share this budget.
   */
  noticesPerSecondPerRange: number;
  noticesBurstPerRange: number;
  /** Notices held while their origin's contact is being verified (per origin, and in all). */
  maxHeldPerOrigin: number;
  maxHeld: number;
  /** Malformed or invalid signed requests before a peer id is banned (addresses never are). */
  maxStrikes: number;
  strikeWindowMs: number;
  banMs: number;
  /** Largest accepted clock difference of a request timestamp. */
  maxSkewMs: number;
  /** Remembered nonces (replay protection); requests are refused when full. */
  maxNonces: number;
  /** Notice batches processed at once per remote address. */
  maxNoticeBatchesPerAddr: number;
  /** Concurrent liveness checks of new inbound contacts. */
  maxPendingChecks: number;
  /** Verified notice group roots remembered, so each group costs one signature check. */
  maxVerifiedRoots: number;
}

/** Default {@link DhtLimits}. */
export const DEFAULT_LIMITS: DhtLimits = {
  rpcPerSecondPerAddr: 2000,
  rpcBurstPerAddr: 4000,
  rpcPerSecondPerPeer: 200,
  rpcBurstPerPeer: 400,
  noticesPerSecondPerPeer: 5000,
  noticesBurstPerPeer: 10_000,
  noticesPerSecondPerOrigin: 1000,
  noticesBurstPerOrigin: 5000,
  noticesPerSecondPerRange: 2000,
  noticesBurstPerRange: 10_000,
  maxHeldPerOrigin: 512,
  maxHeld: 20_000,
  maxStrikes: 3,
  strikeWindowMs: 60_000,
  banMs: 10 * 60_000,
  maxSkewMs: 60_000,
  maxNonces: 200_000,
  maxNoticeBatchesPerAddr: 8,
  maxPendingChecks: 64,
  maxVerifiedRoots: 4096,
};

/** Options of a {@link DhtNode}. */
export interface DhtNodeOptions {
  identity: NodeIdentity;
  /** Our public base URL (what peers POST /dht/<rpc> to). */
  url: string;
  transport: Transport;
  clock?: Clock;
  random?: Random;
  /** Bucket size and replication factor. Default 20. */
  k?: number;
  /** Lookup parallelism. Default 3. */
  alpha?: number;
  /** Per-request timeout. Default 2000 ms. */
  rpcTimeoutMs?: number;
  /** Broadcast redundancy (trees). Default 2. */
  broadcastR?: number;
  batchMs?: number;
  batchMax?: number;
  /** Per-range routing limits; null disables (local tests on 127.0.0.1). */
  rangeLimits?: RangeLimits | null;
  /** A routing table snapshot to start from. */
  tableSnapshot?: unknown;
  /** Notice storage. Default in-memory. */
  notices?: NoticeStore;
  /** Where fetch RPCs read bodies. Default: none held. */
  bodies?: BodySource;
  /** Called once per new verified notice (not for our own). */
  onNotice?: (notice: Notice, via: "broadcast" | "catch-up") => void | Promise<void>;
  /** Longest lifetime a notice or provider record may claim. Default 30 days. */
  maxTtlSeconds?: number;
  /** Largest message a notice may announce, in bytes (the node's payload limit). Default 16 MiB. */
  maxMessageBytes?: number;
  limits?: Partial<DhtLimits>;
  /** Bucket refresh interval. Default 1 hour. */
  refreshIntervalMs?: number;
}

/** Counters of a node. */
export interface DhtNodeStats {
  rpcSent: number;
  rpcFailed: number;
  rpcServed: number;
  rpcRefused: number;
  signatures: number;
  verifications: number;
  noticesAccepted: number;
  /** Catch-up pages received, and new notices they brought. */
  catchUpPages: number;
  catchUpNotices: number;
  /** Notices held until their origin's contact was verified (accepted or rejected later). */
  noticesHeld: number;
  noticesDuplicate: number;
  noticesRejected: number;
  noticesInvalid: number;
  broadcast: BroadcastStats;
}

/** A failed RPC (transport failure, bad envelope, or a non-200 answer). */
export class RpcError extends Error {
  /** HTTP-like status: 0 for transport failures. */
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "RpcError";
    this.status = status;
  }
}

/** Keys each of the node's rate limiters tracks at most (least recently used forgotten first). */
const MAX_LIMITED_KEYS = 10_000;

const enc = new TextEncoder();
const dec = new TextDecoder();
/** How long an origin that answered our ping is trusted before it is checked again. */
const ORIGIN_TRUST_MS = 60 * 60_000;
/** How long an origin that did not answer has its notices refused. */
const ORIGIN_RECHECK_MS = 10 * 60_000;
/** Provider announcements being checked (a body fetch each) at once; more are refused. */
const MAX_HOLDER_CHECKS = 32;
/** Tries of one catch-up page before that neighbour is left for the next start. */
const CATCH_UP_ATTEMPTS = 4;
/** Pings tried before an origin counts as unreachable. */
const ORIGIN_PING_ATTEMPTS = 3;
/** Origins remembered either way. */
const MAX_ORIGINS = 50_000;

/**
 * One DHT node.
 *
 * @example
 * ```ts
 * const node = new DhtNode({ identity, url: "https://a.example", transport: new HttpTransport() });
 * await node.bootstrap(["https://b.example"]);
 * node.publish({ id, tag, size, expiresAt, createdAtMs: Date.now() });
 * ```
 */
export class DhtNode implements DhtServices {
  readonly identity: NodeIdentity;
  readonly url: string;
  readonly contact: Contact;
  readonly clock: Clock;
  readonly random: Random;
  readonly k: number;
  readonly alpha: number;
  readonly rpcTimeoutMs: number;
  readonly maxTtlSeconds: number;
  readonly maxMessageBytes: number;
  readonly refreshIntervalMs: number;
  readonly limits: DhtLimits;
  readonly table: RoutingTable;
  readonly providers = new ProviderStore();
  readonly notices: NoticeStore;
  /** Where fetch RPCs read bodies (may be replaced after construction). */
  bodies: BodySource;
  readonly broadcaster: Broadcaster;
  readonly stats: DhtNodeStats;
  #transport: Transport;
  #scheme: SignatureScheme;
  #signer: NodeIdentity;
  #nonces: NonceCache;
  #addrLimits: RateLimiter;
  #peerLimits: RateLimiter;
  #noticeLimits: RateLimiter;
  #originLimits: RateLimiter;
  #rangeLimits: RateLimiter;
  /** Origins whose contact answered our own ping at their URL: id → url, until when. */
  #verifiedOrigins = new Map<NodeId, { url: string; untilMs: number }>();
  /** Origins that did not: id → until when their notices are refused. */
  #failedOrigins = new Map<NodeId, number>();
  /** Notices waiting for their origin's verification. */
  #held = new Map<NodeId, { notice: Notice; from: Contact; tree: number | null }[]>();
  #heldCount = 0;
  #verifying = new Map<NodeId, Promise<boolean>>();
  #holderChecks = 0;
  #batchesInFlight = new Map<string, number>();
  #penalties: PenaltyBox;
  #pendingChecks = new Set<NodeId>();
  #verifiedRoots: VerifiedRoots;
  #onNotice: DhtNodeOptions["onNotice"];
  #timers: TimerId[] = [];
  #running = false;

  /** A node; call {@link bootstrap} to join and {@link start} for maintenance timers. */
  constructor(opts: DhtNodeOptions) {
    this.identity = opts.identity;
    this.url = opts.url;
    this.contact = {
      id: opts.identity.id,
      publicKey: opts.identity.publicKeyHex,
      url: opts.url,
    };
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? cryptoRandom;
    this.k = opts.k ?? 20;
    this.alpha = opts.alpha ?? 3;
    this.rpcTimeoutMs = opts.rpcTimeoutMs ?? 2000;
    this.maxTtlSeconds = opts.maxTtlSeconds ?? 30 * 86400;
    this.maxMessageBytes = opts.maxMessageBytes ?? 16 * 1024 * 1024;
    this.refreshIntervalMs = opts.refreshIntervalMs ?? 3_600_000;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    const tableOpts = {
      k: this.k,
      ...(opts.rangeLimits !== undefined ? { rangeLimits: opts.rangeLimits } : {}),
    };
    this.table = opts.tableSnapshot !== undefined
      ? RoutingTable.fromJSON(this.identity.id, opts.tableSnapshot, tableOpts)
      : new RoutingTable(this.identity.id, tableOpts);
    this.notices = opts.notices ?? new MemoryNoticeStore();
    this.bodies = opts.bodies ?? { get: () => null };
    this.#onNotice = opts.onNotice;
    this.#transport = opts.transport;
    const scheme = opts.identity.scheme;
    const stats = {
      rpcSent: 0,
      rpcFailed: 0,
      rpcServed: 0,
      rpcRefused: 0,
      signatures: 0,
      verifications: 0,
      noticesAccepted: 0,
      catchUpPages: 0,
      catchUpNotices: 0,
      noticesHeld: 0,
      noticesDuplicate: 0,
      noticesRejected: 0,
      noticesInvalid: 0,
    };
    this.#scheme = {
      name: scheme.name,
      sign: (sk, m) => scheme.sign(sk, m),
      verify: (pk, m, s) => (stats.verifications++, scheme.verify(pk, m, s)),
    };
    const identity = opts.identity;
    this.#signer = { ...identity, sign: (m) => (stats.signatures++, identity.sign(m)) };
    const L = this.limits;
    this.#verifiedRoots = new VerifiedRoots(L.maxVerifiedRoots);
    this.#nonces = new NonceCache({ maxEntries: L.maxNonces, windowMs: 2 * L.maxSkewMs });
    // Budgets per address range (an IPv6 /64) and per verified node id.
    this.#addrLimits = new RateLimiter({
      ratePerSecond: L.rpcPerSecondPerAddr,
      burst: L.rpcBurstPerAddr,
      maxKeys: MAX_LIMITED_KEYS,
      keys: "address",
    });
    this.#peerLimits = new RateLimiter({
      ratePerSecond: L.rpcPerSecondPerPeer,
      burst: L.rpcBurstPerPeer,
      maxKeys: MAX_LIMITED_KEYS,
      keys: "exact",
    });
    this.#noticeLimits = new RateLimiter({
      ratePerSecond: L.noticesPerSecondPerPeer,
      burst: L.noticesBurstPerPeer,
      maxKeys: MAX_LIMITED_KEYS,
      keys: "exact",
    });
    this.#originLimits = new RateLimiter({
      ratePerSecond: L.noticesPerSecondPerOrigin,
      burst: L.noticesBurstPerOrigin,
      maxKeys: MAX_LIMITED_KEYS,
      keys: "exact",
    });
    this.#rangeLimits = new RateLimiter({
      ratePerSecond: L.noticesPerSecondPerRange,
      burst: L.noticesBurstPerRange,
      maxKeys: MAX_LIMITED_KEYS,
      keys: "exact",
    });
    this.#penalties = new PenaltyBox({
      maxStrikes: L.maxStrikes,
      windowMs: L.strikeWindowMs,
      banMs: L.banMs,
    });
    this.broadcaster = new Broadcaster({
      selfId: this.identity.id,
      table: this.table,
      clock: this.clock,
      r: opts.broadcastR ?? 2,
      ...(opts.batchMs !== undefined ? { batchMs: opts.batchMs } : {}),
      ...(opts.batchMax !== undefined ? { batchMax: opts.batchMax } : {}),
      send: (peer, entries) => this.#sendBatch(peer, entries),
    });
    this.stats = { ...stats, broadcast: this.broadcaster.stats };
    // The counting wrapper above closes over `stats`; keep the public object in sync.
    Object.defineProperty(this.stats, "signatures", { get: () => stats.signatures });
    Object.defineProperty(this.stats, "verifications", { get: () => stats.verifications });
  }

  /** Our id. */
  get selfId(): NodeId {
    return this.identity.id;
  }

  /** Current time on the node's clock. */
  now(): number {
    return this.clock.now();
  }

  /** Routing table snapshot for persistence. */
  snapshot(): RoutingTableSnapshot {
    return this.table.toJSON();
  }

  // ---------------------------------------------------------------- server side

  /**
   * Serves one incoming request (bind with `node.handle.bind(node)` or use as `(rpc, req, meta)
   * => node.handle(rpc, req, meta)`). Error answers to unauthenticated requests are not signed,
   * so a flood cannot make us spend signatures.
   */
  async handle(rpc: string, wire: WireRequest, meta: RequestMeta): Promise<WireResponse> {
    const nowMs = this.clock.now();
    if (!isRpcName(rpc)) return this.#refuse(404, "unknown RPC");
    if (!this.#addrLimits.take(meta.remoteAddr, 1, nowMs)) {
      return this.#refuse(429, "too many requests");
    }
    const v = verifyRequest({
      rpc,
      wire,
      scheme: this.#scheme,
      selfId: this.identity.id,
      nowMs,
      maxSkewMs: this.limits.maxSkewMs,
      nonces: this.#nonces,
      allowAnyAddressee: rpc === "ping" || rpc === "find_node",
    });
    // A request that does not verify proves nothing about who sent it (anyone can claim an id,
    // and many honest servers may share one address, a NAT or a proxy): it gets a plain error
    // and no penalty. The per-address rate limit above bounds what such requests cost.
    if (!v.ok) return this.#refuse(v.status, v.reason);
    const from = v.from;
    const peerKey = `id:${from.id}`;
    if (this.#penalties.isBanned(peerKey, nowMs)) return this.#refuse(403, "banned");
    if (!this.#peerLimits.take(from.id, 1, nowMs)) return this.#refuse(429, "too many requests");
    // Notice batches are the costly RPC (parse, verify, store): a few at a time per address,
    // so one address cannot hold the node's memory and CPU with many concurrent batches.
    const batchKey = rpc === "notices" ? meta.remoteAddr : undefined;
    if (batchKey !== undefined) {
      const inFlight = this.#batchesInFlight.get(batchKey) ?? 0;
      if (inFlight >= this.limits.maxNoticeBatchesPerAddr) {
        return this.#refuse(429, "too many notice batches in flight");
      }
      this.#batchesInFlight.set(batchKey, inFlight + 1);
    }
    let result: RpcResult;
    try {
      result = await this.#serve(rpc, wire, from, peerKey, nowMs);
    } finally {
      if (batchKey !== undefined) {
        const left = (this.#batchesInFlight.get(batchKey) ?? 1) - 1;
        if (left > 0) this.#batchesInFlight.set(batchKey, left);
        else this.#batchesInFlight.delete(batchKey);
      }
    }
    if (result.status === 429) return this.#refuse(429, "too many notices");
    this.stats.rpcServed++;
    this.#heard(from, "inbound");
    return signResponse({
      identity: this.#signer,
      selfUrl: this.url,
      rpc,
      requestNonce: v.nonce,
      status: result.status,
      body: enc.encode(JSON.stringify(result.body)),
      nowMs: this.clock.now(),
    });
  }

  async #serve(
    rpc: RpcName,
    wire: WireRequest,
    from: Contact,
    peerKey: string,
    nowMs: number,
  ): Promise<RpcResult> {
    let result: RpcResult;
    try {
      const body = wire.body.length === 0 ? {} : JSON.parse(dec.decode(wire.body));
      if (rpc === "notices") {
        const n = batchEntries(body).length;
        if (!this.#noticeLimits.take(from.id, n, nowMs)) return { status: 429, body: {} };
      }
      result = await this.#dispatch(rpc, body, from);
    } catch (e) {
      if (e instanceof BadRequest || e instanceof SyntaxError || e instanceof RangeError) {
        this.#penalties.strike(peerKey, nowMs);
        result = { status: 400, body: { error: (e as Error).message } };
      } else {
        result = { status: 500, body: { error: "internal error" } };
      }
    }
    return result;
  }

  #dispatch(rpc: RpcName, body: unknown, from: Contact): Promise<RpcResult> | RpcResult {
    switch (rpc) {
      case "ping":
        return handlePing(this, body);
      case "find_node":
        return handleFindNode(this, body, from);
      case "add_provider":
        return handleAddProvider(this, body, from);
      case "get_providers":
        return handleGetProviders(this, body, from);
      case "notices":
        return handleNotices(this, body, from);
      case "fetch":
        return handleFetch(this, body);
      case "catch_up":
        return handleCatchUp(this, body);
    }
  }

  #refuse(status: number, reason: string): WireResponse {
    this.stats.rpcRefused++;
    return { status, headers: {}, body: enc.encode(JSON.stringify({ error: reason })) };
  }

  /** See {@link DhtServices.holds}: one bounded fetch from the peer, checked against the id. */
  async holds(peer: Contact, messageId: string, tag: string): Promise<boolean> {
    if (this.#holderChecks >= MAX_HOLDER_CHECKS) return false;
    this.#holderChecks++;
    try {
      const r = await this.call(peer, "fetch", { message_id: messageId }, this.rpcTimeoutMs / 2);
      if (r.status !== 200) return false;
      const body = parseFetchResponse(r.body, messageId);
      return body !== null && body.tag === tag;
    } catch {
      return false;
    } finally {
      this.#holderChecks--;
    }
  }

  /** See {@link DhtServices.closest}. */
  closest(target: string, n: number, exclude: NodeId): Contact[] {
    return this.table.closest(target, n, (c) => c.id === exclude);
  }

  /**
   * Verifies and stores one notice from `from`; for broadcast (`tree` set) it is also forwarded
   * down that tree, for catch-up it is not.
   */
  async ingestNotice(notice: Notice, from: Contact, tree: number | null): Promise<IngestResult> {
    const nowMs = this.clock.now();
    const key = noticeKey(notice);
    const tracked = this.broadcaster.tracked(key);
    if (tracked !== undefined) {
      this.stats.noticesDuplicate++;
      if (tree !== null) this.broadcaster.received(tracked, from.id, tree);
      return "duplicate";
    }
    if (notice.origin.id === this.identity.id) {
      this.stats.noticesDuplicate++;
      return "duplicate";
    }
    if (notice.expiresAt * 1000 <= nowMs) {
      this.stats.noticesRejected++;
      return "rejected";
    }
    if (notice.expiresAt > nowMs / 1000 + this.maxTtlSeconds + this.limits.maxSkewMs / 1000) {
      this.stats.noticesRejected++;
      return "rejected";
    }
    if (notice.size < 1 || notice.size > this.maxMessageBytes) {
      this.stats.noticesRejected++;
      return "rejected";
    }
    if (notice.createdAtMs > nowMs + this.limits.maxSkewMs) {
      this.stats.noticesRejected++;
      return "rejected";
    }
    // Catch-up mostly repeats what we hold: check the store before spending a verification.
    if (tree === null && await this.notices.has(key)) {
      this.stats.noticesDuplicate++;
      return "duplicate";
    }
    if (this.#failedOrigins.has(notice.origin.id)) {
      if (this.#failedOrigins.get(notice.origin.id)! > nowMs) {
        this.stats.noticesRejected++;
        return "rejected";
      }
      this.#failedOrigins.delete(notice.origin.id);
    }
    if (!verifyNotice(notice, this.#scheme, this.#verifiedRoots)) {
      this.stats.noticesInvalid++;
      this.#penalties.strike(`id:${from.id}`, nowMs);
      return "invalid";
    }
    // Admission: an origin is trusted with storage only once it answered our own ping at the
    // URL its notices name; until then its notices wait (bounded), and are neither stored nor
    // forwarded.
    if (!this.#originVerified(notice.origin, nowMs)) {
      if (tree !== null) return this.#hold(notice, from, tree);
      // Catch-up is paged by us: waiting for the origin's check here costs only our own pace.
      if (!await this.#verifyOrigin(notice.origin)) {
        this.stats.noticesRejected++;
        return "rejected";
      }
    }
    return await this.#accept(notice, from, tree);
  }

  #originVerified(origin: Contact, nowMs: number): boolean {
    const v = this.#verifiedOrigins.get(origin.id);
    if (v !== undefined && v.url === origin.url && v.untilMs > nowMs) return true;
    const known = this.table.get(origin.id);
    return known !== undefined && known.contact.url === origin.url;
  }

  #hold(notice: Notice, from: Contact, tree: number | null): IngestResult {
    const origin = notice.origin;
    let list = this.#held.get(origin.id);
    if (
      this.#heldCount >= this.limits.maxHeld ||
      (list?.length ?? 0) >= this.limits.maxHeldPerOrigin
    ) {
      this.stats.noticesRejected++;
      return "rejected";
    }
    if (list === undefined) {
      list = [];
      this.#held.set(origin.id, list);
      this.#verifyOrigin(origin).catch(() => {});
    }
    list.push({ notice, from, tree });
    this.#heldCount++;
    this.stats.noticesHeld++;
    return "held";
  }

  /** Checks an origin's contact once (shared by concurrent callers); releases held notices. */
  #verifyOrigin(origin: Contact): Promise<boolean> {
    const running = this.#verifying.get(origin.id);
    if (running !== undefined) return running;
    const release = async (ok: boolean) => {
      const list = this.#held.get(origin.id) ?? [];
      this.#held.delete(origin.id);
      this.#heldCount -= list.length;
      const nowMs = this.clock.now();
      if (!ok) {
        this.#failedOrigins.set(origin.id, nowMs + ORIGIN_RECHECK_MS);
        if (this.#failedOrigins.size > MAX_ORIGINS) {
          this.#failedOrigins.delete(this.#failedOrigins.keys().next().value!);
        }
        this.stats.noticesRejected += list.length;
        return false;
      }
      this.#verifiedOrigins.set(origin.id, { url: origin.url, untilMs: nowMs + ORIGIN_TRUST_MS });
      if (this.#verifiedOrigins.size > MAX_ORIGINS) {
        this.#verifiedOrigins.delete(this.#verifiedOrigins.keys().next().value!);
      }
      for (const h of list) {
        if (h.notice.origin.url === origin.url) await this.#accept(h.notice, h.from, h.tree);
      }
      return true;
    };
    // The ping must be answered, signed by the origin's own key, at the URL it claims; a lost
    // packet is not a verdict, so it is tried a few times.
    const attempt = async (): Promise<boolean> => {
      for (let i = 0; i < ORIGIN_PING_ATTEMPTS; i++) {
        try {
          const r = await this.call({ id: origin.id, url: origin.url }, "ping", {});
          return r.from.url === origin.url;
        } catch {
          // try again
        }
      }
      return false;
    };
    const p = attempt().then(release).finally(() => this.#verifying.delete(origin.id));
    this.#verifying.set(origin.id, p);
    return p;
  }

  /**
   * Stores an admitted notice (live ones within the origin's and its range's budgets) and
   * forwards it.
   */
  async #accept(notice: Notice, from: Contact, tree: number | null): Promise<IngestResult> {
    const nowMs = this.clock.now();
    // Live traffic is budgeted per origin and range; catch-up (tree null) is paced by our own
    // paging, so a late joiner gets the whole history of a busy origin.
    if (
      tree !== null &&
      (!this.#originLimits.take(notice.origin.id, 1, nowMs) ||
        !this.#rangeLimits.take(rangeKeyOf(notice.origin.url), 1, nowMs))
    ) {
      this.stats.noticesRejected++;
      return "rejected";
    }
    // Forward first: storing must not delay the broadcast. (The store's add is idempotent, so
    // no lookup is needed here; recent duplicates were caught by the broadcaster above.)
    if (tree !== null) this.broadcaster.received(notice, from.id, tree);
    const added = await this.notices.add(notice, nowMs);
    if (added === "over-cap") {
      this.stats.noticesRejected++;
      return "rejected";
    }
    if (added === "duplicate") {
      this.stats.noticesDuplicate++;
      return "duplicate";
    }
    this.stats.noticesAccepted++;
    try {
      await this.#onNotice?.(notice, tree === null ? "catch-up" : "broadcast");
    } catch {
      // A failing hook must not break the broadcast; the store already holds the notice.
    }
    return "accepted";
  }

  // ---------------------------------------------------------------- client side

  /**
   * Sends one signed RPC. `peer.id` "" means we only know the URL (ping/find_node). Throws
   * {@link RpcError}. Every failure counts against the peer in the routing table.
   */
  async call(
    peer: { id: NodeId | ""; url: string },
    rpc: RpcName,
    body: unknown,
    timeoutMs = this.rpcTimeoutMs,
  ): Promise<{ from: Contact; status: number; body: unknown }> {
    const nonce = toHex(randomBytes(this.random, 16));
    const wire = signRequest({
      identity: this.#signer,
      selfUrl: this.url,
      rpc,
      to: peer.id,
      body: enc.encode(JSON.stringify(body)),
      nowMs: this.clock.now(),
      nonce,
    });
    this.stats.rpcSent++;
    let res: WireResponse;
    try {
      res = await this.#transport.send(peer.url, rpc, wire, timeoutMs);
    } catch (e) {
      return this.#failed(peer.id, 0, (e as Error).message);
    }
    if (res.status !== 200 && res.headers["subspace-signature"] === undefined) {
      return this.#failed(peer.id, res.status, `refused: ${dec.decode(res.body).slice(0, 200)}`);
    }
    const v = verifyResponse({
      rpc,
      wire: res,
      scheme: this.#scheme,
      requestNonce: nonce,
      expectId: peer.id,
    });
    if (!v.ok) return this.#failed(peer.id, v.status, v.reason);
    // It answered at the URL we called; a different URL in its contact is checked by a ping.
    this.#heard(v.from, v.from.url === peer.url ? "answered" : "inbound");
    let parsed: unknown;
    try {
      parsed = res.body.length === 0 ? {} : JSON.parse(dec.decode(res.body));
    } catch {
      return this.#failed(peer.id, 502, "response is not JSON");
    }
    if (res.status !== 200 && res.status !== 404) {
      throw new RpcError(res.status, `${rpc} refused by ${v.from.id}: ${JSON.stringify(parsed)}`);
    }
    return { from: v.from, status: res.status, body: parsed };
  }

  #failed(id: NodeId | "", status: number, message: string): never {
    this.stats.rpcFailed++;
    if (id !== "") this.table.failed(id);
    throw new RpcError(status, message);
  }

  /**
   * A contact proved itself: it answered our request at the URL we called, or sent us a verified
   * request. A requester is added only after it answers our own ping at its claimed URL (even
   * when that URL names the address its connection came from: the port may be anyone's), so
   * nobody can plant unreachable or foreign URLs in our table.
   */
  #heard(contact: Contact, how: "answered" | "inbound"): void {
    const nowMs = this.clock.now();
    const known = this.table.get(contact.id);
    if (known !== undefined && known.contact.url === contact.url) {
      this.table.observe(contact, known.rangeKey, nowMs);
      return;
    }
    if (how === "inbound") {
      if (this.#pendingChecks.has(contact.id)) return;
      if (this.#pendingChecks.size >= this.limits.maxPendingChecks) return;
      this.#pendingChecks.add(contact.id);
      this.ping(contact).catch(() => false).finally(() => this.#pendingChecks.delete(contact.id));
      return;
    }
    const r = this.table.observe(contact, rangeKeyOf(contact.url), nowMs);
    if (r.kind === "replacement" && r.ping !== null) {
      const old = r.ping;
      this.ping(old).then(
        (alive) => this.table.pingResult(old.id, alive, this.clock.now()),
        () => this.table.pingResult(old.id, false, this.clock.now()),
      );
    }
  }

  /** Pings `peer`; true if it answered. */
  async ping(peer: { id: NodeId | ""; url: string }): Promise<boolean> {
    try {
      await this.call(peer, "ping", {});
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Joins the network through `urls` (ids unknown): pings each, looks up our own id, then
   * refreshes every bucket. Returns the routing table size.
   */
  async bootstrap(urls: readonly string[], opts: { refresh?: boolean } = {}): Promise<number> {
    await Promise.all(urls.map((url) => this.ping({ id: "", url })));
    if (this.table.size === 0) return 0;
    await this.findNode(this.identity.id);
    if (opts.refresh ?? true) await this.refreshBuckets(true);
    return this.table.size;
  }

  /** Runs a lookup for every bucket due for refresh (all of them when `force`). */
  async refreshBuckets(force = false): Promise<void> {
    const nowMs = this.clock.now();
    const due = this.table.bucketsDueForRefresh(nowMs, force ? 0 : this.refreshIntervalMs);
    for (const i of due.reverse()) {
      await this.findNode(randomIdInBucket(this.identity.id, i, this.random));
      this.table.markRefreshed(i, this.clock.now());
    }
  }

  /**
   * An iterative find_node lookup for `target`, as events.
   *
   * @example
   * ```ts
   * for await (const ev of node.lookup(target)) if (ev.type === "done") return ev.closest;
   * ```
   */
  lookup(target: NodeId): AsyncGenerator<LookupEvent> {
    return iterativeLookup({
      target,
      selfId: this.identity.id,
      seeds: this.table.closest(target, this.k),
      k: this.k,
      alpha: this.alpha,
      query: async (peer): Promise<LookupAnswer> => {
        const r = await this.call(peer, "find_node", { target });
        return { closer: parseFindNodeResponse(r.body, this.k) };
      },
    });
  }

  /** The k closest live nodes to `target` (runs {@link lookup} to the end). */
  async findNode(target: NodeId): Promise<Contact[]> {
    let closest: Contact[] = [];
    for await (const ev of this.lookup(target)) if (ev.type === "done") closest = ev.closest;
    const i = bucketIndex(this.identity.id, target);
    if (i >= 0) this.table.markRefreshed(i, this.clock.now());
    return closest;
  }

  /** Signs and broadcasts a notice for a message we stored (a group of one). */
  async publish(fields: NoticeFields): Promise<Notice> {
    return (await this.publishMany([fields]))[0]!;
  }

  /**
   * Signs the notices of messages we stored together (one writer commit) under one Merkle root,
   * one signature per {@link MAX_NOTICE_GROUP} notices, and broadcasts them. Throws RangeError
   * for a malformed field, before anything is stored or broadcast.
   *
   * @example
   * ```ts
   * await node.publishMany(committed.map((m) => ({ id, tag, size, expiresAt, createdAtMs })));
   * ```
   */
  async publishMany(fields: readonly NoticeFields[]): Promise<Notice[]> {
    const out: Notice[] = [];
    const groups: Notice[][] = [];
    for (let i = 0; i < fields.length; i += MAX_NOTICE_GROUP) {
      groups.push(signNotices(this.#signer, this.url, fields.slice(i, i + MAX_NOTICE_GROUP)));
    }
    for (const group of groups) {
      for (const notice of group) {
        await this.notices.add(notice, this.clock.now());
        this.broadcaster.originate(notice);
        out.push(notice);
      }
    }
    return out;
  }

  /** Announces us as a provider of a message at the k nodes closest to its key. */
  async addProvider(messageId: string, tag: string, expiresAt: number): Promise<number> {
    const closest = await this.findNode(keyOfMessageId(messageId));
    const body = { message_id: messageId, tag, expires_at: expiresAt };
    const results = await Promise.allSettled(
      closest.map((c) => this.call(c, "add_provider", body)),
    );
    // Keep a record ourselves too if we are among the closest.
    this.providers.add({ messageId, tag, provider: this.contact, expiresAt }, this.clock.now());
    return results.filter((r) => r.status === "fulfilled").length;
  }

  /** Providers of a message, by a get_providers lookup that stops after `want` providers. */
  async findProviders(messageId: string, want = 3): Promise<ProviderRecord[]> {
    const found = new Map<string, ProviderRecord>();
    for (const r of this.providers.get(messageId, this.clock.now())) {
      if (r.provider.id !== this.identity.id) found.set(r.provider.id, r);
    }
    const target = keyOfMessageId(messageId);
    const events = iterativeLookup({
      target,
      selfId: this.identity.id,
      seeds: this.table.closest(target, this.k),
      k: this.k,
      alpha: this.alpha,
      query: async (peer) => {
        const r = await this.call(peer, "get_providers", { message_id: messageId });
        return parseGetProvidersResponse(r.body, messageId, this.k);
      },
    });
    for await (const ev of events) {
      if (ev.type !== "response") continue;
      for (const p of ev.providers) {
        if (p.provider.id !== this.identity.id) found.set(p.provider.id, p);
      }
      if (found.size >= want) break;
    }
    return [...found.values()];
  }

  /**
   * Fetches a message body: from the origin first, then from providers. Every body is checked
   * against the message id; null if nobody had a matching one.
   */
  async fetchBody(
    notice: { id: string; tag: string; size: number; origin: Contact | null },
  ): Promise<StoredBody | null> {
    const tryPeer = async (peer: Contact): Promise<StoredBody | null> => {
      try {
        const r = await this.call(peer, "fetch", { message_id: notice.id });
        if (r.status !== 200) return null;
        const body = parseFetchResponse(r.body, notice.id);
        // The id proves tag and payload; the announced size must match what arrived.
        return body !== null && body.tag === notice.tag && body.payload.length === notice.size
          ? body
          : null;
      } catch {
        return null;
      }
    };
    if (notice.origin !== null && notice.origin.id !== this.identity.id) {
      const b = await tryPeer(notice.origin);
      if (b !== null) return b;
    }
    for (const p of await this.findProviders(notice.id)) {
      const b = await tryPeer(p.provider);
      if (b !== null) return b;
    }
    return null;
  }

  /**
   * Asks up to `peers` neighbours for the notices they received since `sinceMs` and ingests
   * them (verified, stored, not re-broadcast). Returns how many were new.
   */
  async catchUp(sinceMs: number, opts: { peers?: number; maxNotices?: number } = {}): Promise<
    number
  > {
    const peers = this.table.closest(this.identity.id, opts.peers ?? 2);
    const maxNotices = opts.maxNotices ?? 1_000_000;
    let added = 0;
    await Promise.all(peers.map(async (peer) => {
      let after: string | null = null;
      let seen = 0;
      while (seen < maxNotices) {
        let r;
        for (let attempt = 0; r === undefined; attempt++) {
          try {
            r = await this.call(peer, "catch_up", {
              since_ms: sinceMs,
              after,
              limit: MAX_CATCH_UP_PAGE,
            }, this.rpcTimeoutMs * 2);
          } catch {
            // A page that fails is asked for again (the cursor is ours), a few times.
            if (attempt + 1 >= CATCH_UP_ATTEMPTS) return;
            await sleep(this.clock, 1000 * 2 ** attempt);
          }
        }
        this.stats.catchUpPages++;
        const o = r.body as { notices?: unknown; next?: unknown };
        if (!Array.isArray(o.notices)) return;
        for (const raw of o.notices) {
          seen++;
          let n: Notice;
          try {
            n = parseNotice(raw);
          } catch {
            continue;
          }
          if ((await this.ingestNotice(n, r.from, null)) === "accepted") {
            added++;
            this.stats.catchUpNotices++;
          }
        }
        if (typeof o.next !== "string" || o.notices.length === 0) return;
        after = o.next;
      }
    }));
    return added;
  }

  async #sendBatch(peer: Contact, entries: BroadcastEntry[]): Promise<boolean> {
    try {
      const r = await this.call(peer, "notices", {
        notices: entries.map((e) => ({ notice: noticeToJson(e.notice), tree: e.tree })),
      });
      return r.status === 200;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- maintenance

  /** Starts periodic bucket refresh and pruning. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const tick = () => {
      if (!this.#running) return;
      this.providers.prune(this.clock.now());
      this.refreshBuckets().catch(() => {}).finally(() => {
        if (this.#running) this.#timers.push(this.clock.setTimeout(tick, 60_000));
      });
    };
    this.#timers.push(this.clock.setTimeout(tick, 60_000));
  }

  /** Stops timers and drops queued broadcast batches. */
  stop(): void {
    this.#running = false;
    for (const t of this.#timers) this.clock.clearTimeout(t);
    this.#timers = [];
    this.broadcaster.stop();
  }

  /** A short description for logs and /v1/info. */
  describe(): { id: NodeId; public_key: string; url: string; contacts: number } {
    return { ...contactToJson(this.contact), id: this.identity.id, contacts: this.table.size };
  }
}
