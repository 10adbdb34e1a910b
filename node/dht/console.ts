/**
 * What the federation shows the operator: the Network page's view (routing table, peers,
 * counters) and the `subspace_dht_*` metrics, both read from the running node on demand.
 *
 * @module
 */
import type { NetworkSource, NetworkView } from "../console/mod.ts";
import type { Registry } from "../metrics.ts";
import type { Federation } from "./feature.ts";

/** The Network page's source over the federation (routing table, peers, DHT counters). */
export function networkSource(fed: Federation): NetworkSource {
  return {
    view(): NetworkView {
      const node = fed.node();
      if (node === undefined) {
        return { nodeId: fed.identity.id, url: undefined, buckets: [], peers: [], counters: {} };
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
        counters: {
          "notices accepted": st.noticesAccepted,
          "duplicate notices": st.noticesDuplicate,
          "notices rejected": st.noticesRejected + st.noticesInvalid,
          "notice copies broadcast": st.broadcast.entriesSent,
          "broadcast batches": st.broadcast.batchesSent,
          "failed broadcast batches": st.broadcast.batchesFailed,
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
