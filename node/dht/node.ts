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
import {
  bucketIndex,
  commonPrefixBits,
  compareDistance,
  ID_BITS,
  keyOfMessageId,
  type NodeId,
  randomIdInBucket,
} from "./id.ts";
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
  type IngestMode,
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
import {
  handleRegionNotices,
  handleSubscribe,
  MAX_REGION_PAGE,
  parseSubscribeRequest,
} from "./rpc/subscribe.ts";
import { closestTo, inRegion, regionKey, regionSet } from "./region.ts";
import {
  MAX_LEASE_SECONDS,
  signSubscription,
  type Subscription,
  SubscriptionTable,
  subscriptionToJson,
  verifySubscription,
} from "./subscription.ts";
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
  /**
   * How notices travel. "region" (default): each is stored at the {@link noticeReplicas} servers
   * closest to its tag, which push it to the servers subscribed to a region holding it.
   * "broadcast": every server receives every notice down r Kademlia trees (the former design,
   * kept for comparison in the simulation).
   */
  placement?: "region" | "broadcast";
  /** Servers each notice is stored at (region placement). Default 3. */
  noticeReplicas?: number;
  /** Follow the whole keyspace: every notice becomes a row here (archives). Default false. */
  followAll?: boolean;
  /** Subscription lease; renewed every third of it while a region is followed. Default 10 min. */
  leaseMs?: number;
  /** Called with each verified subscription stored here (new or renewed). */
  onSubscription?: (s: Subscription) => void;
  /** Most regions followed at once; the one asked for least recently goes first. Default 4,096. */
  maxFollowed?: number;
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
  /** Accepted notices in regions this node follows (handed to `onNotice`). */
  noticesFollowed: number;
  /** Placed notices dropped because we know servers closer to their tag. */
  noticesMisplaced: number;
  /** Subscriptions sent (new and renewed) and backlog notices they brought. */
  subscriptionsSent: number;
  backlogNotices: number;
  /** Notices pushed to subscribers. */
  pushes: number;
  /** Lookups run to place notices (the rest were answered from the cache). */
  placementLookups: number;
  broadcast: BroadcastStats;
}

/** A region this node follows for its wallets. */
interface Following {
  prefix: string;
  bits: number;
  /** Last time a wallet asked (renewals stop a lease after nobody asked). */
  askedMs: number;
  /** When the first subscription went out (backlog pushes are accepted for a while). */
  sinceMs: number;
  /** Never dropped (followAll). */
  pinned: boolean;
  /** Settles once the subscriptions are placed and the backlog is in. */
  ready: Promise<void>;
}

/** A cached lookup: the closest contacts to a target, for placing notices near it. */
interface CachedLookup {
  targetN: bigint;
  contacts: Contact[];
  idsN: bigint[];
  /** Distance from the target to the farthest contact found. */
  dk: bigint;
  atMs: number;
}

/** How long a placement lookup is reused (newer servers get notices through handoffs). */
const PLACEMENT_CACHE_MS = 120_000;
/** Cached lookups per 8-bit slot of the keyspace (the newest kept). */
const LOOKUPS_PER_SLOT = 32;
/** Pause between pages handed to a new neighbour. */
const HANDOFF_PAGE_MS = 500;
/** Backlog pushes for a region are accepted this long after subscribing to it. */
const BACKLOG_WINDOW_MS = 60_000;

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
  #held = new Map<NodeId, { notice: Notice; from: Contact; mode: IngestMode }[]>();
  #heldCount = 0;
  #verifying = new Map<NodeId, Promise<boolean>>();
  #holderChecks = 0;
  #batchesInFlight = new Map<string, number>();
  #penalties: PenaltyBox;
  /** Pings of inbound requesters in flight (their contact's URL is being checked). */
  #pendingChecks = new Map<NodeId, { url: string; done: Promise<boolean> }>();
  readonly placement: "region" | "broadcast";
  readonly noticeReplicas: number;
  readonly followAll: boolean;
  readonly leaseMs: number;
  /** Most regions followed at once (wallets' queries cannot make us subscribe without end). */
  readonly maxFollowed: number;
  /** Subscriptions other servers hold here. */
  readonly subscriptions = new SubscriptionTable();
  #following = new Map<string, Following>();
  /** Followed regions per prefix length (for matching a tag with one lookup per length). */
  #followBits = new Map<number, number>();
  /** Servers that accepted a subscription of ours, until its lease ends. */
  #subscribedAt = new Map<NodeId, number>();
  #onSubscription: ((s: Subscription) => void) | undefined;
  #lookupCache = new Map<string, CachedLookup[]>();
  #wholeNetwork: { contacts: Contact[]; tableSize: number; atMs: number } | undefined;
  #lookupsInFlight = new Map<string, Promise<Contact[]>>();
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
    this.placement = opts.placement ?? "region";
    this.noticeReplicas = opts.noticeReplicas ?? 3;
    this.followAll = opts.followAll ?? false;
    this.leaseMs = opts.leaseMs ?? 600_000;
    this.maxFollowed = opts.maxFollowed ?? 4096;
    this.#onSubscription = opts.onSubscription;
    if (!Number.isInteger(this.noticeReplicas) || this.noticeReplicas < 1) {
      throw new RangeError(`noticeReplicas must be a positive integer, got ${this.noticeReplicas}`);
    }
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
      noticesFollowed: 0,
      noticesMisplaced: 0,
      subscriptionsSent: 0,
      backlogNotices: 0,
      pushes: 0,
      placementLookups: 0,
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
      case "subscribe":
        return handleSubscribe(this, body, from);
      case "region_notices":
        return handleRegionNotices(this, body);
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
   * Verifies and stores one notice from `from`. `mode` is the broadcast tree it came in (it is
   * forwarded down that tree), "placed" (sent to us as a server responsible for its tag, or as a
   * subscriber: stored, pushed to our subscribers, not forwarded) or "catch-up" (pages we asked
   * for: neither forwarded nor pushed, outside the live budgets).
   */
  async ingestNotice(notice: Notice, from: Contact, mode: IngestMode): Promise<IngestResult> {
    // With region placement nothing travels down broadcast trees: a tree entry is a placement.
    if (this.placement === "region" && typeof mode === "number") mode = "placed";
    const tree = typeof mode === "number" ? mode : null;
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
    // Placed here, but we know enough servers closer to its tag and follow nothing that holds it
    // (an origin's early guess while its lookup ran): not ours to keep.
    if (mode === "guess") {
      if (
        this.placement === "region" && !this.follows(notice.tag) &&
        !this.#responsibleHere(notice.tag)
      ) {
        this.stats.noticesMisplaced++;
        return "rejected";
      }
      mode = "placed";
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
    if (mode === "catch-up" && await this.notices.has(key, notice.tag)) {
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
    // A push or backlog page from a server we subscribed at, in a region we follow, is taken at
    // once: the body fetch from the origin checks it before any wallet sees it, and that server
    // is one we chose by lookup, within its per-peer budget.
    const pushed = (mode === "placed" || mode === "catch-up") &&
      this.#pushedBySubscribed(from.id, notice.tag, nowMs);
    if (!pushed && !this.#originVerified(notice.origin, nowMs)) {
      if (mode !== "catch-up") return this.#hold(notice, from, mode);
      // Catch-up is paged by us: waiting for the origin's check here costs only our own pace.
      if (!await this.#verifyOrigin(notice.origin)) {
        this.stats.noticesRejected++;
        return "rejected";
      }
    }
    return await this.#accept(notice, from, mode);
  }

  #originVerified(origin: Contact, nowMs: number): boolean {
    const v = this.#verifiedOrigins.get(origin.id);
    if (v !== undefined && v.url === origin.url && v.untilMs > nowMs) return true;
    const known = this.table.get(origin.id);
    return known !== undefined && known.contact.url === origin.url;
  }

  #hold(notice: Notice, from: Contact, mode: IngestMode): IngestResult {
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
    list.push({ notice, from, mode });
    this.#heldCount++;
    this.stats.noticesHeld++;
    return "held";
  }

  /** Remembers that `origin` answered our ping at its URL. */
  #trustOrigin(origin: Contact): void {
    this.#verifiedOrigins.delete(origin.id);
    this.#verifiedOrigins.set(origin.id, {
      url: origin.url,
      untilMs: this.clock.now() + ORIGIN_TRUST_MS,
    });
    if (this.#verifiedOrigins.size > MAX_ORIGINS) {
      this.#verifiedOrigins.delete(this.#verifiedOrigins.keys().next().value!);
    }
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
      this.#trustOrigin(origin);
      for (const h of list) {
        if (h.notice.origin.url === origin.url) await this.#accept(h.notice, h.from, h.mode);
      }
      return true;
    };
    // The ping must be answered, signed by the origin's own key, at the URL it claims; a lost
    // packet is not a verdict, so it is tried a few times.
    const attempt = async (): Promise<boolean> => {
      const pending = this.#pendingChecks.get(origin.id);
      if (pending !== undefined && pending.url === origin.url && await pending.done) return true;
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
  async #accept(notice: Notice, from: Contact, mode: IngestMode): Promise<IngestResult> {
    const nowMs = this.clock.now();
    const tree = typeof mode === "number" ? mode : null;
    // Live traffic is budgeted per origin and range; catch-up is paced by our own paging, so a
    // late joiner gets the whole history of a busy origin.
    if (
      mode !== "catch-up" &&
      (!this.#originLimits.take(notice.origin.id, 1, nowMs) ||
        !this.#rangeLimits.take(rangeKeyOf(notice.origin.url), 1, nowMs))
    ) {
      this.stats.noticesRejected++;
      return "rejected";
    }
    // Forward first: storing must not delay the broadcast. (The store's add is idempotent, so
    // no lookup is needed here; recent duplicates were caught by the broadcaster above.)
    if (tree !== null) this.broadcaster.received(notice, from.id, tree);
    else this.broadcaster.track(notice);
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
    if (mode === "placed") this.#push(notice, from.id);
    if (!this.follows(notice.tag)) return "accepted";
    this.stats.noticesFollowed++;
    try {
      await this.#onNotice?.(notice, mode === "catch-up" ? "catch-up" : "broadcast");
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
      // The answer also verifies the contact as an origin (a lookup's find_node from an origin
      // usually comes just before the notices it places here).
      const done = this.call(contact, "ping", {}).then((r) => {
        const ok = r.from.url === contact.url;
        if (ok) this.#trustOrigin(contact);
        return ok;
      }, () => false).finally(() => this.#pendingChecks.delete(contact.id));
      this.#pendingChecks.set(contact.id, { url: contact.url, done });
      return;
    }
    const r = this.table.observe(contact, rangeKeyOf(contact.url), nowMs);
    if (r.kind === "added" && this.placement === "region") this.#handoff(contact);
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
    if (this.placement === "region") {
      if (this.followAll) await this.#followEverything();
      // Regions wallets asked for before we had peers: subscribe now, with their backlog.
      for (const f of this.#following.values()) {
        if (!f.pinned) this.#subscribe(f, true).catch(() => {});
      }
    }
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
  lookup(
    target: NodeId,
    width = this.k,
    alpha = this.alpha,
    softTimeoutMs?: number,
  ): AsyncGenerator<LookupEvent> {
    return iterativeLookup({
      target,
      selfId: this.identity.id,
      seeds: this.table.closest(target, this.k),
      k: width,
      alpha,
      clock: this.clock,
      ...(softTimeoutMs !== undefined ? { softTimeoutMs } : {}),
      query: async (peer): Promise<LookupAnswer> => {
        const r = await this.call(peer, "find_node", { target });
        return { closer: parseFindNodeResponse(r.body, this.k) };
      },
    });
  }

  /** The k closest live nodes to `target` (runs {@link lookup} to the end). */
  async findNode(
    target: NodeId,
    width = this.k,
    alpha = this.alpha,
    softTimeoutMs?: number,
  ): Promise<Contact[]> {
    let closest: Contact[] = [];
    for await (const ev of this.lookup(target, width, alpha, softTimeoutMs)) {
      if (ev.type === "done") closest = ev.closest;
    }
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
        // Region placement stores our own notice only where we are responsible for its tag.
        if (this.placement === "broadcast") {
          await this.notices.add(notice, this.clock.now());
          this.broadcaster.originate(notice);
        } else this.broadcaster.track(notice);
        out.push(notice);
      }
    }
    if (this.placement === "region") {
      // A network no larger than the replica count (a hobbyist's few servers): everyone holds
      // every notice, no ranking needed.
      const whole = this.#wholeNetworkNow();
      if (whole !== undefined && whole.length + 1 <= this.noticeReplicas) {
        for (const n of out) {
          await this.notices.add(n, this.clock.now());
          this.#push(n, null);
          for (const c of whole) this.broadcaster.direct(c, n);
        }
        return out;
      }
      await Promise.all(out.map((n) => this.#place(n).catch(() => {})));
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
        // A page at once: its rows share the writer's commits.
        const from = r.from;
        seen += o.notices.length;
        await Promise.all(o.notices.map(async (raw) => {
          let n: Notice;
          try {
            n = parseNotice(raw);
          } catch {
            return;
          }
          if ((await this.ingestNotice(n, from, "catch-up")) === "accepted") {
            added++;
            this.stats.catchUpNotices++;
          }
        }));
        if (typeof o.next !== "string" || o.notices.length === 0) return;
        after = o.next;
      }
    }));
    return added;
  }

  async #sendBatch(peer: Contact, entries: BroadcastEntry[]): Promise<boolean> {
    try {
      const r = await this.call(peer, "notices", {
        notices: entries.map((e) => ({
          notice: noticeToJson(e.notice),
          tree: e.tree,
          ...(e.guess ? { guess: true } : {}),
        })),
      });
      return r.status === 200;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- regions

  /** Whether notices with `tag` become rows here (followed by our wallets, or everything). */
  follows(tag: string): boolean {
    if (this.placement === "broadcast" || this.followAll) return true;
    return this.#followingFor(tag).length > 0;
  }

  /** Followed regions holding `tag`: one map lookup per prefix length in use. */
  #followingFor(tag: string): Following[] {
    const out: Following[] = [];
    for (const bits of this.#followBits.keys()) {
      const f = this.#following.get(`${regionKey(tag, bits)}/${bits}`);
      if (f !== undefined) out.push(f);
    }
    return out;
  }

  /** See {@link DhtServices.wantsBacklog}. */
  wantsBacklog(tag: string): boolean {
    const nowMs = this.clock.now();
    return this.#followingFor(tag).some((f) => nowMs - f.sinceMs < BACKLOG_WINDOW_MS);
  }

  /**
   * Whether `fromId` is a server we subscribed at (or, for a region spread down its subtree, a
   * server inside it) for a followed region holding `tag`.
   */
  #pushedBySubscribed(fromId: NodeId, tag: string, nowMs: number): boolean {
    const direct = (this.#subscribedAt.get(fromId) ?? 0) > nowMs;
    return this.#followingFor(tag).some((f) => direct || inRegion(fromId, f.prefix, f.bits));
  }

  /**
   * Holds a subscription another process of this server verified and stored (several processes
   * on one database): it is not checked again.
   */
  adoptSubscription(s: Subscription): void {
    this.subscriptions.add(s, this.clock.now());
  }

  /** Regions followed now (prefix as a region key). */
  following(): { prefix: string; bits: number }[] {
    return [...this.#following.values()].map((f) => ({ prefix: f.prefix, bits: f.bits }));
  }

  /**
   * Follows region (`prefixHex`, `bits`) for our wallets: subscribes at the servers responsible
   * for it and ingests the notices they hold (the backlog), so every notice of the region, old
   * and new, reaches `onNotice`. Resolves once the backlog is in (or the servers failed); later
   * calls for the same region only mark it as still wanted.
   */
  follow(prefixHex: string, bits: number): Promise<void> {
    if (this.placement === "broadcast") return Promise.resolve();
    const prefix = regionKey(prefixHex, bits);
    const key = `${prefix}/${bits}`;
    const nowMs = this.clock.now();
    const known = this.#following.get(key);
    if (known !== undefined) {
      known.askedMs = nowMs;
      return known.ready;
    }
    const f: Following = {
      prefix,
      bits,
      askedMs: nowMs,
      sinceMs: nowMs,
      pinned: false,
      ready: Promise.resolve(),
    };
    if (this.#following.size >= this.maxFollowed) this.#dropStalest();
    this.#setFollowing(key, f);
    f.ready = this.#subscribe(f, true).catch(() => {});
    return f.ready;
  }

  #setFollowing(key: string, f: Following): void {
    this.#following.set(key, f);
    this.#followBits.set(f.bits, (this.#followBits.get(f.bits) ?? 0) + 1);
  }

  #unfollow(key: string): void {
    const f = this.#following.get(key);
    if (f === undefined) return;
    this.#following.delete(key);
    const n = (this.#followBits.get(f.bits) ?? 1) - 1;
    if (n <= 0) this.#followBits.delete(f.bits);
    else this.#followBits.set(f.bits, n);
  }

  /** Makes room: the region no wallet asked for longest is dropped (its lease runs out). */
  #dropStalest(): void {
    let stalest: [string, Following] | undefined;
    for (const e of this.#following) {
      if (!e[1].pinned && (stalest === undefined || e[1].askedMs < stalest[1].askedMs)) stalest = e;
    }
    if (stalest !== undefined) this.#unfollow(stalest[0]);
  }

  /** Sends (or renews) our subscription to a followed region; with `backlog`, pulls its notices. */
  async #subscribe(f: Following, backlog: boolean): Promise<void> {
    const nowMs = this.clock.now();
    const sub = signSubscription(
      this.#signer,
      this.url,
      f.prefix,
      f.bits,
      Math.floor((nowMs + this.leaseMs) / 1000),
    );
    if (backlog) {
      // What we hold ourselves (we may be responsible for part of the region).
      await this.#ingestPages(
        (after) => this.notices.region(f.prefix, f.bits, after, MAX_REGION_PAGE, this.clock.now()),
        this.contact,
        null,
      );
    }
    const found = await this.findNode(
      f.prefix as NodeId,
      this.k,
      2 * this.alpha,
      this.rpcTimeoutMs / 4,
    );
    const set = regionSet(found, this.identity.id, f.prefix, f.bits, this.noticeReplicas, this.k);
    const body = { subscription: subscriptionToJson(sub), spread: set.spread, backlog };
    if (set.spread && inRegion(this.identity.id, f.prefix, f.bits)) {
      // We are inside the region: our own buckets below it cover the rest of its subtree.
      await this.#spread(sub, ID_BITS - f.bits, backlog);
      return;
    }
    const targets = set.spread ? set.contacts.slice(0, 1) : set.contacts;
    const spares = set.spread ? set.contacts.slice(1, 3) : [];
    // A lookup run before the first subscription found the region's servers; later renewals
    // find the servers that joined since.
    await Promise.all(targets.map(async (peer) => {
      for (const p of [peer, ...spares]) {
        this.stats.subscriptionsSent++;
        let r;
        try {
          r = await this.call(p, "subscribe", body, this.rpcTimeoutMs * 2);
        } catch {
          continue;
        }
        if (this.#subscribedAt.size >= 10_000) {
          this.#subscribedAt.delete(this.#subscribedAt.keys().next().value!);
        }
        this.#subscribedAt.set(r.from.id, sub.expiresAt * 1000);
        if (!backlog) return;
        const first = r.body as { notices?: unknown; next?: unknown };
        await this.#ingestPages(
          async (after) => {
            if (after === null) return pageOf(first);
            // A page that fails is asked for again (the cursor is ours), a few times.
            for (let attempt = 0;; attempt++) {
              try {
                const more = await this.call(p, "region_notices", {
                  prefix: f.prefix,
                  bits: f.bits,
                  after,
                  limit: MAX_REGION_PAGE,
                });
                return pageOf(more.body);
              } catch (err) {
                if (attempt + 1 >= CATCH_UP_ATTEMPTS) throw err;
                await sleep(this.clock, 500 * 2 ** attempt);
              }
            }
          },
          r.from,
          null,
        ).catch(() => {});
        return;
      }
    }));
  }

  /** Ingests notice pages (as catch-up) until `next` is null; counts them as backlog. */
  async #ingestPages(
    page: (after: string | null) => Promise<{ notices: unknown[]; next: string | null }> | {
      notices: readonly (Notice | unknown)[];
      next: string | null;
    },
    from: Contact,
    first: string | null,
  ): Promise<void> {
    let after = first;
    for (let pages = 0; pages < 10_000; pages++) {
      const p = await page(after);
      // Concurrently: notices of an origin not yet verified wait for one ping, shared.
      await Promise.all(p.notices.map(async (raw) => {
        let n: Notice;
        try {
          n = isNotice(raw) ? raw : parseNotice(raw);
        } catch {
          return;
        }
        // Our own notice (we are responsible for its tag): it is a row here already.
        if (n.origin.id === this.identity.id) return;
        const r = from.id === this.identity.id
          ? (this.follows(n.tag) ? (await this.#onNotice?.(n, "catch-up"), "accepted") : "")
          : await this.ingestNotice(n, from, "catch-up");
        if (r === "accepted") this.stats.backlogNotices++;
      }));
      if (p.next === null || p.notices.length === 0) return;
      after = p.next;
    }
  }

  /**
   * Forwards a subscription into our buckets below `height` (all inside the region), so that it
   * reaches every server of the region's subtree there; resolves when they answered or failed.
   * A bucket with fewer than k contacts holds every server of its subtree that we know of, so
   * each of them gets the subscription directly (`spread: false`, nothing to forward); a full
   * bucket may not, so one of its contacts takes it with `spread: true` and covers that subtree
   * from its own buckets (the tree broadcast restricted to the region), trying the next contact
   * when one fails. The tree is as deep as the number of full buckets on the way (one or two in
   * a region a few times k), not as the region's height, so its answer (and the backlog pushed
   * along it) comes within a few round trips.
   */
  async #spread(sub: Subscription, height: number, backlog: boolean): Promise<void> {
    const forward = { subscription: subscriptionToJson(sub), spread: true, backlog };
    const direct = { subscription: subscriptionToJson(sub), spread: false, backlog };
    // A direct send waits for one server's own answer (its backlog push included); a forward
    // waits for its whole subtree.
    const send = async (c: Contact, body: typeof forward): Promise<boolean> => {
      try {
        this.stats.subscriptionsSent++;
        await this.call(c, "subscribe", body, this.rpcTimeoutMs * (body.spread ? 2 : 1));
        return true;
      } catch {
        return false;
      }
    };
    const jobs: Promise<unknown>[] = [];
    for (let b = 0; b < height; b++) {
      const entries = [...this.table.bucket(b)]
        .filter((e) => e.contact.id !== sub.subscriber.id)
        .sort((x, y) =>
          (x.failures > 0 ? 1 : 0) - (y.failures > 0 ? 1 : 0) ||
          compareDistance(sub.subscriber.id, x.contact.id, y.contact.id)
        );
      if (entries.length === 0) continue;
      if (this.table.bucket(b).length < this.k) {
        // Contacts that failed lately are most likely gone since: not waited for.
        for (const e of entries) if (e.failures === 0) jobs.push(send(e.contact, direct));
        continue;
      }
      jobs.push((async () => {
        for (const e of entries.slice(0, 3)) if (await send(e.contact, forward)) return;
      })());
    }
    await Promise.all(jobs);
  }

  /** See {@link DhtServices.serveSubscribe}. */
  async serveSubscribe(body: unknown, from: Contact): Promise<RpcResult> {
    const req = parseSubscribeRequest(body);
    const sub = req.subscription;
    const nowMs = this.clock.now();
    if (!verifySubscription(sub, this.#scheme)) {
      this.#penalties.strike(`id:${from.id}`, nowMs);
      return { status: 400, body: { error: "bad subscription signature" } };
    }
    if (sub.expiresAt * 1000 > nowMs + MAX_LEASE_SECONDS * 1000 + this.limits.maxSkewMs) {
      return { status: 400, body: { error: `lease longer than ${MAX_LEASE_SECONDS} s` } };
    }
    // The subscriber signed it, so anyone may hand it to us (a neighbour handing over its
    // region, a server of the region spreading it): it only brings the subscriber notices of a
    // region it asked for, from the few servers responsible for each.
    const forwarded = from.id !== sub.subscriber.id;
    const before = this.subscriptions.get(sub);
    const added = this.subscriptions.add(sub, nowMs);
    if (added === "over-cap" || added === "expired") {
      return { status: 200, body: { stored: false, reason: added, notices: [], next: null } };
    }
    this.#onSubscription?.(sub);
    const fresh = before === undefined || sub.expiresAt > before.expiresAt;
    const jobs: Promise<void>[] = [];
    const spreads = !forwarded || inRegion(from.id, sub.prefix, sub.bits);
    if (req.spread && spreads && fresh && inRegion(this.identity.id, sub.prefix, sub.bits)) {
      const height = inRegion(from.id, sub.prefix, sub.bits)
        ? bucketIndex(from.id, this.identity.id)
        : ID_BITS - sub.bits;
      jobs.push(this.#spread(sub, height, req.backlog && before === undefined));
    }
    let page: { notices: Notice[]; next: string | null } = { notices: [], next: null };
    if (req.backlog && before === undefined) {
      if (!forwarded) {
        page = await this.notices.region(sub.prefix, sub.bits, null, MAX_REGION_PAGE, nowMs);
      } else {
        jobs.push(this.#pushBacklog(sub));
      }
    }
    await Promise.all(jobs);
    return {
      status: 200,
      body: {
        stored: true,
        expires_at: sub.expiresAt,
        notices: page.notices.map(noticeToJson),
        next: page.next,
      },
    };
  }

  /** Sends a forwarded subscriber the notices we hold in its region, once it proved its URL. */
  async #pushBacklog(sub: Subscription): Promise<void> {
    if (!await this.#subscriberReachable(sub.subscriber)) return;
    for await (const notices of this.#regionPages(sub.prefix, sub.bits, 1000)) {
      try {
        await this.call(sub.subscriber, "notices", {
          notices: notices.map((n) => ({ notice: noticeToJson(n), tree: null, backlog: true })),
        });
      } catch {
        return;
      }
      this.stats.pushes += notices.length;
    }
  }

  /**
   * The pages of unexpired notices held in a region, in cursor order, at most `maxPages`; each
   * page is read as of `nowMs` (default: the time it is read), `pauseMs` after the one before.
   * Empty pages are not yielded.
   */
  async *#regionPages(
    prefix: string,
    bits: number,
    maxPages: number,
    opts: { nowMs?: number; pauseMs?: number } = {},
  ): AsyncGenerator<Notice[]> {
    let after: string | null = null;
    for (let pages = 0; pages < maxPages; pages++) {
      if (pages > 0 && opts.pauseMs !== undefined) await sleep(this.clock, opts.pauseMs);
      const p = await this.notices.region(
        prefix,
        bits,
        after,
        MAX_REGION_PAGE,
        opts.nowMs ?? this.clock.now(),
      );
      if (p.notices.length > 0) yield p.notices;
      if (p.next === null) return;
      after = p.next;
    }
  }

  /** True once `c` answered our own ping at its URL (nobody can aim our pushes at others). */
  #subscriberReachable(c: Contact): Promise<boolean> {
    if (this.#originVerified(c, this.clock.now())) return Promise.resolve(true);
    return this.#verifyOrigin(c);
  }

  /** Pushes a stored notice to the subscribers of regions holding its tag. */
  #push(notice: Notice, fromId: NodeId | null): void {
    const nowMs = this.clock.now();
    for (const s of this.subscriptions.match(notice.tag, nowMs)) {
      const c = s.subscriber;
      if (c.id === this.identity.id || c.id === fromId || c.id === notice.origin.id) continue;
      this.stats.pushes++;
      if (this.#originVerified(c, nowMs)) this.broadcaster.direct(c, notice);
      else {
        this.#subscriberReachable(c).then((ok) => ok && this.broadcaster.direct(c, notice))
          .catch(() => {});
      }
    }
  }

  /**
   * Stores our own notice at the servers responsible for its tag: here only if we are one of
   * them (then we also push it to our subscribers).
   */
  async #place(notice: Notice): Promise<void> {
    // Who got it, and whether as a guess (a guess may have been dropped: the final send repeats).
    const sent = new Map<NodeId, boolean>();
    const sendTo = async (known: readonly Contact[], final: boolean) => {
      const ranked = closestTo(
        notice.tag,
        dedupeContacts([this.contact, ...known]),
        this.noticeReplicas + 2,
      );
      const spares = final
        ? ranked.slice(this.noticeReplicas).filter((c) => c.id !== this.identity.id)
        : [];
      for (const c of ranked.slice(0, this.noticeReplicas)) {
        const self = c.id === this.identity.id;
        if (self && !final) continue; // we keep it only if the final set says so
        const before = sent.get(c.id);
        if (before === true || (before === false && !final)) continue;
        sent.set(c.id, final);
        if (self) {
          await this.notices.add(notice, this.clock.now());
          this.#push(notice, null);
        } else this.broadcaster.direct(c, notice, spares, !final);
      }
    };
    // While the lookup runs, the notice goes to the best servers known so far, so the closest
    // get it a round earlier; a server that knows closer ones drops it (`#responsibleHere`).
    const near = await this.#near(notice.tag, (known) => sendTo(known, false));
    await sendTo(near, true);
  }

  /** Whether we are among the servers closest to `tag` that we know of. */
  #responsibleHere(tag: string): boolean {
    // Every contact of the bucket on the tag's side of our first differing bit is closer to the
    // tag than we are: a full such bucket settles it without sorting the table.
    const d = commonPrefixBits(this.identity.id, tag);
    if (d < ID_BITS && this.table.bucket(ID_BITS - 1 - d).length >= this.noticeReplicas) {
      return false;
    }
    const closer = this.table.closest(tag, this.noticeReplicas)
      .filter((c) => compareDistance(tag, c.id, this.identity.id) < 0);
    return closer.length < this.noticeReplicas;
  }

  /**
   * Every other server, when a recent lookup saw fewer than it asked for (the whole network):
   * good for any key until the routing table grows or the lookup is too old.
   */
  #wholeNetworkNow(): Contact[] | undefined {
    const whole = this.#wholeNetwork;
    return whole !== undefined && whole.tableSize === this.table.size &&
        this.clock.now() - whole.atMs <= PLACEMENT_CACHE_MS
      ? whole.contacts
      : undefined;
  }

  /**
   * Contacts near `key`: a cached lookup result when it provably contains the servers closest to
   * `key` (every server it lacks is farther than its k-th, and by the triangle inequality of the
   * XOR metric farther from `key` than the ones we pick), else a new lookup.
   */
  async #near(
    key: string,
    progress?: (known: Contact[]) => Promise<void>,
  ): Promise<Contact[]> {
    const slot = key.slice(0, 2);
    const want = this.noticeReplicas + 2;
    const keyN = BigInt(`0x${key}`);
    const selfN = BigInt(`0x${this.identity.id}`);
    const fits = (e: CachedLookup) => {
      if (this.clock.now() - e.atMs > PLACEMENT_CACHE_MS) return false;
      const dt = e.targetN ^ keyN;
      if (dt >= e.dk) return false;
      const ds = [selfN ^ keyN, ...e.idsN.map((id) => id ^ keyN)].sort((a, b) =>
        a < b ? -1 : a > b ? 1 : 0
      );
      const last = ds[Math.min(want, ds.length) - 1];
      return last !== undefined && last < e.dk - dt;
    };
    const whole = this.#wholeNetworkNow();
    if (whole !== undefined) return whole;
    const cached = this.#lookupCache.get(slot)?.find(fits);
    if (cached !== undefined) return cached.contacts;
    const running = this.#lookupsInFlight.get(slot);
    if (running !== undefined) {
      await running.catch(() => {});
      const again = this.#lookupCache.get(slot)?.find(fits);
      if (again !== undefined) return again.contacts;
    }
    const p = (async () => {
      this.stats.placementLookups++;
      // A narrow, wide-open lookup: only the few closest matter, found in as few rounds as can be.
      const width = Math.min(this.k, want);
      const tableSize = this.table.size;
      const known = new Map<string, Contact>();
      let contacts: Contact[] = [];
      for await (const ev of this.lookup(key as NodeId, width, width, this.rpcTimeoutMs / 4)) {
        if (ev.type === "response" && progress !== undefined) {
          known.set(ev.peer.id, ev.peer);
          for (const c of ev.closer) known.set(c.id, c);
          await progress([...known.values()]);
        } else if (ev.type === "done") contacts = ev.live;
      }
      const atMs = this.clock.now();
      if (contacts.length < width) {
        this.#wholeNetwork = { contacts, tableSize, atMs };
        return contacts;
      }
      const targetN = keyN;
      const list = (this.#lookupCache.get(slot) ?? []).filter((e) =>
        atMs - e.atMs <= PLACEMENT_CACHE_MS
      );
      list.push({
        targetN,
        contacts,
        idsN: contacts.map((c) => BigInt(`0x${c.id}`)),
        dk: targetN ^ BigInt(`0x${contacts[contacts.length - 1]!.id}`),
        atMs,
      });
      if (list.length > LOOKUPS_PER_SLOT) list.shift();
      this.#lookupCache.set(slot, list);
      return contacts;
    })();
    this.#lookupsInFlight.set(slot, p);
    try {
      return await p;
    } finally {
      if (this.#lookupsInFlight.get(slot) === p) this.#lookupsInFlight.delete(slot);
    }
  }

  /**
   * Kademlia's republish for notices: sends each notice we hold for a tag we are responsible
   * for to the other servers our table says are closest to it, so a notice whose holders left
   * is back at `replicas` servers (receivers that hold it already see a duplicate). At most
   * `max` notices per call; returns how many were sent on.
   */
  async republishNotices(max = 100_000): Promise<number> {
    if (this.placement !== "region") return 0;
    let sent = 0, seen = 0;
    for await (const notices of this.#regionPages("0".repeat(40), 0, Infinity)) {
      for (const n of notices) {
        seen++;
        if (!this.#responsibleHere(n.tag)) continue;
        // We are one of the closest: the others are the next closest our table knows (one
        // more than needed, as a holder that left may still be in it; a server that knows
        // enough closer ones drops the copy).
        for (const c of this.table.closest(n.tag, this.noticeReplicas)) {
          if (c.id === n.origin.id) continue;
          this.broadcaster.direct(c, n);
          sent++;
        }
      }
      if (seen >= max) break;
    }
    return sent;
  }

  /** Follows the whole keyspace (pinned: renewed for as long as the node runs). */
  async #followEverything(): Promise<void> {
    const key = `${"0".repeat(40)}/0`;
    const known = this.#following.get(key);
    if (known !== undefined) {
      known.pinned = true;
      return this.#subscribe(known, false);
    }
    await this.follow("", 0);
    this.#following.get(key)!.pinned = true;
  }

  /**
   * A new contact joined near us: hand it what it is now closer to than we are (the notices we
   * hold in its half of our subtree, and the subscriptions covering it), as Kademlia replicates
   * keys to a closer newcomer, so churn moves responsibility instead of losing it.
   */
  #handoff(c: Contact): void {
    const near = this.table.closest(this.identity.id, this.noticeReplicas + 2);
    if (!near.some((n) => n.id === c.id)) return;
    const bits = Math.min(ID_BITS, commonPrefixBits(this.identity.id, c.id) + 1);
    const nowMs = this.clock.now();
    const region = regionKey(c.id, bits);
    const subs = this.subscriptions.all(nowMs).filter((s) =>
      commonPrefixBits(s.prefix, region) >= Math.min(s.bits, bits) &&
      s.subscriber.id !== c.id
    );
    (async () => {
      for (const sub of subs) {
        const body = { subscription: subscriptionToJson(sub), spread: false, backlog: false };
        await this.call(c, "subscribe", body).catch(() => {});
      }
      // Paced below a receiver's live budget per origin (1,000/s).
      const pages = this.#regionPages(region, bits, 40, { nowMs, pauseMs: HANDOFF_PAGE_MS });
      for await (const notices of pages) {
        for (const n of notices) this.broadcaster.direct(c, n);
      }
    })().catch(() => {});
  }

  /** Renews the leases of followed regions; drops regions no wallet asked for in a lease. */
  #renew(): void {
    const nowMs = this.clock.now();
    for (const [key, f] of this.#following) {
      if (!f.pinned && nowMs - f.askedMs > this.leaseMs) {
        this.#unfollow(key);
        continue;
      }
      this.#subscribe(f, false).catch(() => {});
    }
    this.subscriptions.prune(nowMs);
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
    const renew = () => {
      if (!this.#running) return;
      this.#renew();
      this.#timers.push(this.clock.setTimeout(renew, this.leaseMs / 3));
    };
    if (this.placement === "region") {
      this.#timers.push(this.clock.setTimeout(renew, this.leaseMs / 3));
    }
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

function pageOf(body: unknown): { notices: unknown[]; next: string | null } {
  const o = (typeof body === "object" && body !== null ? body : {}) as {
    notices?: unknown;
    next?: unknown;
  };
  return {
    notices: Array.isArray(o.notices) ? o.notices.slice(0, MAX_REGION_PAGE) : [],
    next: typeof o.next === "string" ? o.next : null,
  };
}

function isNotice(v: unknown): v is Notice {
  return typeof v === "object" && v !== null && "signature" in v && "proof" in v;
}

function dedupeContacts(list: readonly Contact[]): Contact[] {
  const seen = new Set<string>();
  return list.filter((c) => !seen.has(c.id) && (seen.add(c.id), true));
}
