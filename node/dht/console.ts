/**
 * What the federation shows the operator: the Network page's view (routing table, peers,
 * counters) and the `subspace_dht_*` metrics, both read from the running node on demand.
 *
 * @module
 */
import type { BootstrapView, NetworkSource, NetworkView, SelfCheckView } from "../console/mod.ts";
import type { Registry } from "../metrics.ts";
import type { RpcName, WireRequest, WireResponse } from "./envelope.ts";
import type { Federation } from "./feature.ts";
import type { Transport } from "./transport.ts";

/** The outcome of the latest DHT requests this node sent to one peer URL. */
export interface PeerLiveness {
  /** Unix ms of the last request that got an answer below 500, or null. */
  lastOkAt: number | null;
  /** Unix ms of the last request that failed (no answer, timeout, 5xx), or null. */
  lastErrorAt: number | null;
  /** Why it failed, e.g. "unreachable: Connection refused". */
  lastError: string | null;
}

/** Most peer URLs whose liveness is kept (the least recently used is dropped beyond it). */
const MAX_LIVENESS = 10_000;

/**
 * What the operator needs to tell a working federation from a silent one: whether each peer
 * answered our last request, how joining through `--bootstrap` goes, and whether this node is
 * reachable at the URL it tells peers. The federation feeds it; the console reads it.
 */
export class FederationHealth {
  readonly #now: () => number;
  readonly #peers = new Map<string, PeerLiveness>();
  readonly #bootstrap = new Map<string, BootstrapView>();
  #self: SelfCheckView | undefined;
  /** Unix ms a peer last reached us with a DHT request we answered. */
  lastServedAt: number | null = null;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Wraps `inner` so every request's outcome is recorded per peer URL. */
  watch(inner: Transport): Transport {
    return {
      send: async (url: string, rpc: RpcName, req: WireRequest, timeoutMs: number) => {
        let res: WireResponse;
        try {
          res = await inner.send(url, rpc, req, timeoutMs);
        } catch (err) {
          this.#record(url, (err as Error).message ?? String(err));
          throw err;
        }
        this.#record(url, res.status >= 500 ? `HTTP ${res.status}` : null);
        return res;
      },
    };
  }

  #record(url: string, error: string | null): void {
    const old = this.#peers.get(url) ?? { lastOkAt: null, lastErrorAt: null, lastError: null };
    this.#peers.delete(url);
    if (this.#peers.size >= MAX_LIVENESS) this.#peers.delete(this.#peers.keys().next().value!);
    const now = this.#now();
    this.#peers.set(
      url,
      error === null
        ? { ...old, lastOkAt: now }
        : { ...old, lastErrorAt: now, lastError: error.slice(0, 200) },
    );
  }

  /** The liveness of the peer at `url`, if we ever sent it a request. */
  peer(url: string): PeerLiveness | undefined {
    return this.#peers.get(url);
  }

  /** Records one join attempt through a bootstrap URL. */
  bootstrapAttempt(url: string, attempt: number, nextRetryAt: number | null): void {
    const p = this.#peers.get(url);
    const reachable = p !== undefined && p.lastOkAt !== null &&
      (p.lastErrorAt === null || p.lastOkAt >= p.lastErrorAt);
    this.#bootstrap.set(url, {
      url,
      reachable,
      attempts: attempt + 1,
      lastError: reachable ? null : p?.lastError ?? "no answer",
      nextRetryAt: reachable ? null : nextRetryAt,
    });
  }

  /** Every bootstrap URL with the outcome of its last attempt. */
  bootstrap(): BootstrapView[] {
    return [...this.#bootstrap.values()];
  }

  /**
   * Checks that this node answers at `url` (its public URL) with its own node id: directly,
   * by `GET <url>/v1/info` from here. Peers reaching us are counted by {@linkcode lastServedAt}.
   */
  async checkPublicUrl(url: string, nodeId: string, timeoutMs = 5000): Promise<SelfCheckView> {
    let error: string | null = null;
    try {
      const res = await fetch(`${url}/v1/info`, { signal: AbortSignal.timeout(timeoutMs) });
      const body = res.ok ? await res.json().catch(() => ({})) : (await res.body?.cancel(), {});
      if (!res.ok) error = `HTTP ${res.status}`;
      else if (body?.node_id !== nodeId) {
        error = `another server answers there (node ${String(body?.node_id).slice(0, 12)})`;
      }
    } catch (err) {
      error = (err as Error).message ?? String(err);
    }
    this.#self = { url, reachable: error === null, checkedAt: this.#now(), error };
    return this.#self;
  }

  /** The last public-URL self-check with the last time a peer reached us. */
  selfCheck(): SelfCheckView | undefined {
    return this.#self === undefined
      ? undefined
      : { ...this.#self, peerReachedAt: this.lastServedAt };
  }
}

/** The Network page's source over the federation (routing table, peers, DHT counters). */
export function networkSource(fed: Federation, health?: FederationHealth): NetworkSource {
  return {
    view(): NetworkView {
      const node = fed.node();
      if (node === undefined) {
        return {
          nodeId: fed.identity.id,
          url: undefined,
          buckets: [],
          peers: [],
          counters: {},
          bootstrap: health?.bootstrap() ?? [],
        };
      }
      const buckets: NetworkView["buckets"] = [];
      const peers: NetworkView["peers"] = [];
      for (let i = 0; i < 160; i++) {
        const entries = node.table.bucket(i);
        if (entries.length === 0) continue;
        buckets.push({ index: i, contacts: entries.length, capacity: node.table.k });
        for (const e of entries) {
          peers.push({
            id: e.contact.id,
            url: e.contact.url,
            bucket: i,
            lastSeenAt: e.lastSeenMs > 0 ? e.lastSeenMs : null,
            rttMs: fed.rtt(e.contact.url)?.srttMs ?? null,
            ...health?.peer(e.contact.url),
          });
        }
      }
      const st = node.stats;
      const bodies = fed.bodyCounts();
      return {
        nodeId: fed.identity.id,
        url: node.url,
        buckets,
        peers,
        bootstrap: health?.bootstrap() ?? [],
        ...(health?.selfCheck() === undefined ? {} : { selfCheck: health.selfCheck()! }),
        counters: {
          // With --follow all this server takes every notice of the network.
          "regions followed for wallets (-1: all)": node.followAll ? -1 : node.following().length,
          "subscriptions held for other servers": node.subscriptions.size,
          "notices pushed to subscribers": st.pushes,
          "notices accepted": st.noticesAccepted,
          "notices in followed regions": st.noticesFollowed,
          "duplicate notices": st.noticesDuplicate,
          "notices rejected": st.noticesRejected + st.noticesInvalid,
          "notice copies sent": st.broadcast.entriesSent,
          "notice batches sent": st.broadcast.batchesSent,
          "failed notice batches": st.broadcast.batchesFailed,
          "bodies fetched": bodies.fetched,
          "body fetches failed": bodies.fetchFailed,
          "fetched copies kept": bodies.kept,
          "provider announcements": bodies.announced,
          "RPCs sent": st.rpcSent,
          "failed RPCs": st.rpcFailed,
          "RPCs served": st.rpcServed,
          "RPCs refused": st.rpcRefused,
          "replicated body bytes": fed.replicatedBytes(),
          "notice bytes held": fed.notices.bytes,
        },
      };
    },
  };
}

type DhtNode = NonNullable<ReturnType<Federation["node"]>>;

/** Metric name → how to read it from a running federation (see docs/observability.md). */
const DHT_COUNTERS: [string, string, (n: DhtNode, fed: Federation) => number][] = [
  [
    "subspace_dht_bodies_fetched_total",
    "Message bodies fetched from other nodes for wallets",
    (_n, fed) => fed.bodyCounts().fetched,
  ],
  [
    "subspace_dht_body_fetch_failed_total",
    "Message bodies no node could provide",
    (_n, fed) => fed.bodyCounts().fetchFailed,
  ],
  ["subspace_dht_rpc_sent_total", "DHT RPCs sent", (n) => n.stats.rpcSent],
  ["subspace_dht_rpc_failed_total", "DHT RPCs that failed", (n) => n.stats.rpcFailed],
  ["subspace_dht_rpc_served_total", "DHT RPCs answered", (n) => n.stats.rpcServed],
  [
    "subspace_dht_rpc_refused_total",
    "DHT RPCs refused (limits, bad envelopes)",
    (n) => n.stats.rpcRefused,
  ],
  [
    "subspace_dht_notices_accepted_total",
    "New notices accepted from peers",
    (n) => n.stats.noticesAccepted,
  ],
  [
    "subspace_dht_notices_held_total",
    "Notices held until their origin's contact was verified",
    (n) => n.stats.noticesHeld,
  ],
  [
    "subspace_dht_catch_up_pages_total",
    "Catch-up pages received from neighbours",
    (n) => n.stats.catchUpPages,
  ],
  [
    "subspace_dht_catch_up_notices_total",
    "New notices learned by catch-up",
    (n) => n.stats.catchUpNotices,
  ],
  [
    "subspace_dht_notices_duplicate_total",
    "Notices received again",
    (n) => n.stats.noticesDuplicate,
  ],
  [
    "subspace_dht_notices_rejected_total",
    "Notices rejected (limits, bad signatures)",
    (n) => n.stats.noticesRejected + n.stats.noticesInvalid,
  ],
  [
    "subspace_dht_notices_followed_total",
    "Accepted notices in regions this node follows (rows for its wallets)",
    (n) => n.stats.noticesFollowed,
  ],
  [
    "subspace_dht_pushes_total",
    "Notices pushed to subscribed servers",
    (n) => n.stats.pushes,
  ],
  [
    "subspace_dht_subscriptions_sent_total",
    "Region subscriptions sent (new and renewed)",
    (n) => n.stats.subscriptionsSent,
  ],
  [
    "subspace_dht_backlog_notices_total",
    "Notices brought by region backlogs",
    (n) => n.stats.backlogNotices,
  ],
  [
    "subspace_dht_placement_lookups_total",
    "Lookups run to place notices (the rest came from the cache)",
    (n) => n.stats.placementLookups,
  ],
  [
    "subspace_dht_broadcast_copies_total",
    "Notice copies sent to peers",
    (n) => n.stats.broadcast.entriesSent,
  ],
  [
    "subspace_dht_broadcast_batches_total",
    "Notice batches sent",
    (n) => n.stats.broadcast.batchesSent,
  ],
  [
    "subspace_dht_broadcast_batches_failed_total",
    "Notice batches not acknowledged",
    (n) => n.stats.broadcast.batchesFailed,
  ],
];

/** Registers the federation's Prometheus metrics, each read from the running node on scrape. */
export function federationMetrics(metrics: Registry, fed: Federation): void {
  metrics.gauge(
    "subspace_dht_regions_followed",
    "Regions this node follows for its wallets",
    () => fed.node()?.following().length ?? 0,
  );
  metrics.gauge(
    "subspace_dht_subscriptions_held",
    "Other servers' region subscriptions held here",
    () => fed.node()?.subscriptions.size ?? 0,
  );
  metrics.gauge(
    "subspace_dht_contacts",
    "Contacts in the routing table",
    () => fed.node()?.table.size ?? 0,
  );
  metrics.gauge(
    "subspace_dht_notice_bytes",
    "Bytes of other servers' notices held (against --max-notice-bytes)",
    () => fed.notices.bytes,
  );
  metrics.gauge(
    "subspace_dht_replicated_bytes",
    "Bytes of other nodes' bodies kept here",
    () => fed.replicatedBytes(),
  );
  for (const [name, help, read] of DHT_COUNTERS) {
    metrics.counter(name, help, () => {
      const n = fed.node();
      return n === undefined ? 0 : read(n, fed);
    });
  }
}
