/**
 * Adapters from other features to the console's sources. The token issuer and fee market
 * (`node/quota/`) publish their services through `quotaServices(ctx)`; accounts and invoices
 * are listed read-only from their tables (`quota_accounts`, `quota_invoices`, through the
 * quota store's own database handle), every change goes through their services. Federation
 * (`node/dht/`) publishes its running node through `federationOf(ctx)`.
 *
 * @module
 */
import type { Kysely } from "kysely";
import type { NodeContext } from "../context.ts";
import { type Federation, federationOf } from "../dht/mod.ts";
import {
  accountHash,
  parseAccountNumber,
  type QuotaServices,
  quotaServices,
} from "../quota/mod.ts";
import { checkXpub, PaymentSettingsError } from "../fees/mod.ts";
import type { DailyTally } from "./daily.ts";
import {
  type AccountView,
  type ConsoleSources,
  FieldError,
  type InvoiceView,
  type NetworkSource,
  type NetworkView,
  type PricingSource,
  type PricingView,
  type QuotaSource,
} from "./sources.ts";

type Row = Record<string, unknown>;

/** Reads an account id from a form: 64 hex characters (its hash) or an account number. */
function accountKey(id: string): Uint8Array {
  if (/^[0-9a-f]{64}$/i.test(id)) return Uint8Array.fromHex(id.toLowerCase());
  try {
    return accountHash(parseAccountNumber(id));
  } catch (err) {
    throw new RangeError(`Account: ${(err as Error).message}`);
  }
}

function accountView(r: Row): AccountView {
  return {
    id: new Uint8Array(r.account_hash as Uint8Array).toHex(),
    createdAt: Number(r.created_at),
    disabled: Number(r.disabled) !== 0,
    credit: Number(r.credit),
    issuedTotal: Number(r.issued_total),
  };
}

/** The Quotas page's source over the quota services. */
export function quotaSource(ctx: NodeContext, svc: QuotaServices, tally: DailyTally): QuotaSource {
  // deno-lint-ignore no-explicit-any
  const db = svc.store.db as unknown as Kysely<any>; // the quota tables may live in their own file
  return {
    async accounts({ search, limit, offset }) {
      let q = db.selectFrom("quota_accounts");
      if (search !== "") {
        let hash: Uint8Array | undefined;
        try {
          hash = accountKey(search);
        } catch { /* not a number: maybe a hash prefix */ }
        if (hash !== undefined) {
          q = q.where("account_hash", "=", hash);
        } else if (/^([0-9a-f]{2}){1,32}$/i.test(search)) {
          const lo = new Uint8Array(32);
          lo.set(Uint8Array.fromHex(search.toLowerCase()));
          const hi = new Uint8Array(32).fill(0xff);
          hi.set(Uint8Array.fromHex(search.toLowerCase()));
          q = q.where("account_hash", ">=", lo).where("account_hash", "<=", hi);
        } else {
          return { accounts: [], total: 0 };
        }
      }
      const [rows, count] = await Promise.all([
        q.selectAll().orderBy("created_at", "desc").limit(limit).offset(offset).execute(),
        q.select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow(),
      ]);
      return { accounts: (rows as Row[]).map(accountView), total: Number(count.n) };
    },
    async createAccount() {
      const number = await svc.createAccount("admin");
      ctx.log.child("console").info("account created in the console");
      return { id: number, createdAt: ctx.now(), disabled: false, credit: 0, issuedTotal: 0 };
    },
    async credit(id, tokens) {
      if (!await svc.store.credit(accountKey(id), tokens)) {
        throw new RangeError("Account: no such account");
      }
      ctx.log.child("console").info("account credited in the console", { tokens });
    },
    async setDisabled(id, disabled) {
      if (!await svc.store.setDisabled(accountKey(id), disabled)) {
        throw new RangeError("Account: no such account");
      }
      ctx.log.child("console").info(`account ${disabled ? "disabled" : "enabled"} in the console`);
    },
    async stats(days) {
      tally.tick();
      const now = ctx.now();
      const keys = svc.tokens.ring.keys();
      let current: string | undefined;
      let newest = -Infinity;
      for (const k of keys) {
        if (k.createdAt <= now && now < k.signUntil && k.createdAt > newest) {
          newest = k.createdAt;
          current = k.idHex;
        }
      }
      return {
        daily: tally.lastDays(days).map((d) => ({
          day: d.day,
          issued: d.totals.issued ?? 0,
          redeemed: d.totals.redeemed ?? 0,
        })),
        spentSetSize: await svc.store.spentCount(),
        keys: [...keys].sort((a, b) => b.createdAt - a.createdAt).map((k) => ({
          id: k.idHex,
          createdAt: k.createdAt,
          rotatesAt: k.signUntil,
          expiresAt: k.expiresAt,
          current: k.idHex === current,
        })),
      };
    },
  };
}

const PRICING_JSON: Partial<Record<keyof PricingView, string>> = {
  tokensPerBundle: "tokens_per_bundle",
  bundlePriceSats: "bundle_price_sats",
  freeTokensPerPeriod: "free_tokens",
  periodSeconds: "quota_period_seconds",
  maxTtlSeconds: "max_ttl_seconds",
  maxPayloadBytes: "max_payload_bytes",
  xpub: "xpub",
  esploraUrl: "esplora_url",
  confirmations: "confirmations",
};

/** An xpub shortened for tables: `zpub6rFR7y…GutZYs`. */
function shortKey(xpub: string): string {
  return xpub.length > 20 ? `${xpub.slice(0, 10)}…${xpub.slice(-6)}` : xpub;
}

/** The Pricing page's source over the quota services (prices are theirs: `/v1/pricing`). */
export function pricingSource(ctx: NodeContext, svc: QuotaServices): PricingSource {
  // deno-lint-ignore no-explicit-any
  const db = svc.store.db as unknown as Kysely<any>; // the quota tables may live in their own file
  const xpubOptions = {
    type: ctx.config.feeAddressType === "auto" ? undefined : ctx.config.feeAddressType,
    network: ctx.config.feeNetwork === "auto" ? undefined : ctx.config.feeNetwork,
  };
  return {
    get() {
      const p = svc.pricing();
      const pay = svc.payment();
      return {
        tokensPerBundle: p.tokensPerBundle,
        bundlePriceSats: p.bundlePriceSats,
        freeTokensPerPeriod: p.freeTokens,
        periodSeconds: p.quotaPeriodSeconds,
        maxTtlSeconds: p.maxTtlSeconds,
        maxPayloadBytes: p.maxPayloadBytes,
        xpub: pay.xpub,
        esploraUrl: pay.esploraUrl,
        confirmations: pay.confirmations,
      };
    },
    async update(patch) {
      const json: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(patch)) {
        const name = PRICING_JSON[k as keyof PricingView];
        if (name === undefined) throw new RangeError(`${k}: not a pricing field`);
        json[name] = v;
      }
      try {
        await svc.setPricing(json);
      } catch (err) {
        if (err instanceof PaymentSettingsError) {
          const field = Object.entries(PRICING_JSON).find(([, j]) => j === err.field)?.[0];
          throw new FieldError(field ?? err.field, err.message);
        }
        throw err;
      }
    },
    async status() {
      const pay = svc.payment();
      const feesEnabled = svc.invoices.enabled;
      const deriver = checkXpub(pay.xpub, xpubOptions);
      if (deriver === undefined) return { feesEnabled };
      const nextIndex = await svc.store.nextAddressIndex(deriver.xpub);
      return {
        feesEnabled,
        network: deriver.network,
        addressType: deriver.type,
        nextAddress: deriver.address(nextIndex),
        nextIndex,
      };
    },
    async invoiceCounts() {
      const rows = await db.selectFrom("quota_invoices")
        .select((eb) => ["status", eb.fn.countAll().as("n")])
        .groupBy("status").execute() as Row[];
      return Object.fromEntries(rows.map((r) => [String(r.status), Number(r.n)]));
    },
    async invoices({ limit }) {
      const rows = await db.selectFrom("quota_invoices").selectAll()
        .orderBy("created_at", "desc").limit(limit).execute() as Row[];
      return rows.map((r): InvoiceView => ({
        id: String(r.id),
        account: new Uint8Array(r.account_hash as Uint8Array).toHex().slice(0, 16),
        amountSats: Number(r.amount_sats),
        tokens: Number(r.tokens),
        status: String(r.status),
        address: String(r.address),
        createdAt: Number(r.created_at),
        receivedSats: Number(r.received_sats),
        expiresAt: Number(r.expires_at),
        paidAt: r.paid_at === null || r.paid_at === undefined ? null : Number(r.paid_at),
        xpub: shortKey(String(r.xpub ?? "")),
        addressIndex: Number(r.address_index),
      }));
    },
  };
}

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
        },
      };
    },
  };
}

/** Metric name → how to read it from a running federation (see docs/observability.md). */
const DHT_COUNTERS: [
  string,
  string,
  (s: NonNullable<ReturnType<Federation["node"]>>, fed: Federation) => number,
][] = [
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

/**
 * Registers Prometheus metrics for the federation; returns a function that brings the
 * mirrored counters up to date (called before each scrape).
 */
export function federationMetrics(ctx: NodeContext, fed: Federation): () => void {
  const m = ctx.metrics;
  m.gauge(
    "subspace_dht_contacts",
    "Contacts in the routing table",
    () => fed.node()?.table.size ?? 0,
  );
  m.gauge(
    "subspace_dht_replicated_bytes",
    "Bytes of other nodes' bodies kept here",
    () => fed.replicatedBytes(),
  );
  const mirrored = DHT_COUNTERS.map(([name, help, read]) => ({
    counter: m.counter(name, help),
    read,
    last: 0,
  }));
  return () => {
    const node = fed.node();
    if (node === undefined) return;
    for (const x of mirrored) {
      const v = x.read(node, fed);
      if (v > x.last) x.counter.inc(undefined, v - x.last);
      x.last = v;
    }
  };
}

/**
 * Fills in the sources of features installed on this node that have not filled in their own
 * (called once every plugin has run), and starts tallying tokens per day.
 */
export function wireSources(
  ctx: NodeContext,
  sources: ConsoleSources,
  tally: DailyTally,
): { refreshMetrics: () => void } {
  let refreshMetrics = () => {};
  const fed = federationOf(ctx);
  if (fed !== undefined) {
    sources.network ??= networkSource(fed);
    sources.publicUrl ??= () => fed.node()?.url;
    refreshMetrics = federationMetrics(ctx, fed);
  }
  const svc = quotaServices(ctx);
  if (svc !== undefined) {
    tally.track("issued", () => svc.tokens.stats.issued);
    tally.track("redeemed", () => svc.tokens.stats.redeemed);
    sources.quota ??= quotaSource(ctx, svc, tally);
    sources.pricing ??= pricingSource(ctx, svc);
  }
  return { refreshMetrics };
}
