/**
 * The federation feature: gives the node its DHT identity and wires the DHT into the node core.
 *
 * - `POST /dht/<rpc>` serves the DHT (same port as wallets).
 * - Every local insert is announced as a signed notice (tree broadcast).
 * - Every verified remote notice becomes a `messages` row without payload (origin set), so
 *   `GET /v1/messages` answers with it and long polls wake at once (the writer's commit hook).
 * - Bodies missing here are fetched from the origin or a provider when a wallet asks, checked
 *   against their id, and kept (policy `--replicate`, budget `--replicate-max-bytes`) through
 *   the writer, which counts them like every stored byte; then this node announces itself as a
 *   provider.
 * - The routing table and the last-active time persist in `<data>/dht.json`; on start the node
 *   rejoins and catches up on the notices it missed.
 *
 * @module
 */
import type { Feature, FeatureParts, NodeCore } from "../feature.ts";
import { BODY_RESOLVER, NODE_IDENTITY, REGION_FOLLOWER } from "../services.ts";
import { HttpError } from "../errors.ts";
import type { StoredMessage } from "../store/mod.ts";
import { NETWORK_CONSOLE, PUBLIC_URL } from "../console/mod.ts";
import { FederationHealth, federationMetrics, networkSource } from "./console.ts";
import { serviceKey } from "../feature.ts";
import { systemClock } from "./clock.ts";
import { type Contact, parseNodeUrl } from "./contact.ts";
import { httpRpcHandler, HttpTransport } from "./http_transport.ts";
import { loadOrCreateIdentity, type NodeIdentity } from "./identity.ts";
import { PeerAddressPolicy } from "./peer_address.ts";
import { DhtNode } from "./node.ts";
import { type Notice, signNotices } from "./notice.ts";
import { DEFAULT_RANGE_LIMITS } from "./routing_table.ts";
import { type PeerRtt, RttTransport } from "./rtt.ts";
import type { StoredBody } from "./rpc/_shared.ts";
import { DHT_MIGRATIONS } from "./migration.ts";
import {
  parseSubscription,
  type Subscription,
  subscriptionKey,
  subscriptionToJson,
} from "./subscription.ts";
import { SqlNoticeStore } from "./sql_notice_store.ts";
import { fromHex, toHex } from "../../client/mod.ts";

/** File (in the data folder) holding the routing table and the last-active time. */
export const STATE_FILE = "dht.json";
/** Notices missed while offline are asked for from this long before the last-active time. */
export const CATCH_UP_MARGIN_MS = 10 * 60_000;
const STATE_INTERVAL_MS = 60_000;
/** Expired notices are swept and kept bytes recounted every this many state ticks (15 min). */
const SWEEP_EVERY_TICKS = 15;
/** How long one wallet request waits for missing bodies; slower fetches finish for the next. */
const BODY_WAIT_MS = 1500;
/** Body fetches in flight at once, per origin and in all. */
const MAX_FETCHES_PER_ORIGIN = 4;
const MAX_FETCHES = 256;
/** An origin that failed this many fetches in a row is skipped for a while (circuit breaker). */
const BREAKER_FAILURES = 3;
const BREAKER_OPEN_MS = 30_000;
/** How long a fetched body stays in memory for the GET that will ask for it. */
const RECENT_MS = 30_000;
const MAX_RECENT = 256;
/** Kept copies are re-announced this often (newest first, at most MAX_REPUBLISH per pass). */
const REPUBLISH_MS = 30 * 60_000;
const MAX_REPUBLISH = 1000;
/** How often processes sharing a database re-read each other's subscriptions. */
const SHARED_SUBSCRIPTIONS_MS = 3000;
/** How long a wallet's first query for a region waits for its backlog. */
const FOLLOW_WAIT_MS = 5000;
/** Joining retries after 2 s, doubling up to this, for as long as no peer answers. */
const JOIN_RETRY_MAX_MS = 5 * 60_000;

interface SavedState {
  table?: unknown;
  last_active_ms?: number;
}

/** The running federation of one node (exposed for tests and the console). */
export interface Federation {
  identity: NodeIdentity;
  /** The DHT node, once the server listens. */
  node(): DhtNode | undefined;
  notices: SqlNoticeStore;
  /** Bytes of remote bodies kept here. */
  replicatedBytes(): number;
  /** Smoothed round-trip time of DHT requests to the peer at `url` (see rtt.ts). */
  rtt(url: string): PeerRtt | undefined;
  /** Bodies fetched for wallets (and failures), copies kept, provider announcements made. */
  bodyCounts(): { fetched: number; fetchFailed: number; kept: number; announced: number };
}

/** The running federation (for tests and tools that inspect a node). */
export const FEDERATION = serviceKey<Federation>("federation");

/**
 * The federation feature.
 *
 * @example
 * ```ts ignore
 * await startNode(config, { features: [federationFeature()] });
 * ```
 */
export function federationFeature(): Feature {
  return { name: "federation", install };
}

async function install(ctx: NodeCore): Promise<FeatureParts> {
  const { config, log: rootLog } = ctx;
  const log = rootLog.child("dht");
  const clock = systemClock;
  const shared = ctx.store.shared;
  const identity = await loadOrCreateIdentity(config.data, shared);
  ctx.provide(NODE_IDENTITY, { id: identity.id });
  const dhtDb = await ctx.openDatabase("dht", DHT_MIGRATIONS, {
    writerThread: true,
  });
  // The URL this server signs its notices with, once it listens.
  let selfUrl = "";
  const notices = new SqlNoticeStore(dhtDb.db, {
    clock,
    maxBytes: config.maxNoticeBytes,
    ...(dhtDb.writer === undefined ? {} : { writer: dhtDb.writer }),
    self: { id: identity.id, sign: (fields) => signNotices(identity, selfUrl, fields) },
  });
  await notices.init();
  const statePath = `${config.data.replace(/\/+$/, "")}/${STATE_FILE}`;
  let saved: SavedState = {};
  try {
    saved = JSON.parse(
      shared === undefined
        ? await Deno.readTextFile(statePath)
        : await shared.get(STATE_FILE) ?? "{}",
    );
  } catch {
    // first start, or an unreadable file: start fresh
  }

  let node: DhtNode | undefined;
  let replicated = 0;
  const timers: ReturnType<typeof setTimeout>[] = [];
  let stateTimer: ReturnType<typeof setInterval> | undefined;
  let subscriptionTimer: ReturnType<typeof setInterval> | undefined;
  let republishTimer: ReturnType<typeof setInterval> | undefined;
  const counters = { fetched: 0, fetchFailed: 0, kept: 0, announced: 0 };
  let ticks = 0;
  const health = new FederationHealth(clock.now);
  const transport = new RttTransport(health.watch(
    new HttpTransport({ policy: new PeerAddressPolicy({ allowPrivate: config.dhtPrivatePeers }) }),
  ));

  const recountReplicated = async () => {
    replicated = await ctx.store.keptBytes();
  };
  await recountReplicated();

  // Bodies this node can hand out (its own messages and kept copies).
  const bodies = {
    get: async (id: string): Promise<StoredBody | null> => {
      const m = await ctx.store.get(fromHex(id), clock.now());
      return m === undefined || m.payload === null
        ? null
        : { tag: toHex(m.tag), payload: m.payload };
    },
  };

  /** Stores a fetched body here if the policy and budget allow, then announces it. */
  const keep = async (m: StoredMessage, body: StoredBody, explicit: boolean) => {
    if (config.replicate === "none" || (config.replicate === "fetched" && !explicit)) return;
    if (replicated + body.payload.length > config.replicateMaxBytes) return;
    replicated += body.payload.length;
    let filled = false;
    try {
      filled = await ctx.writer.fill({ id: m.id, payload: body.payload });
    } finally {
      if (!filled) replicated -= body.payload.length;
    }
    if (!filled) return;
    counters.kept++;
    const n = node;
    if (n === undefined) return;
    n.addProvider(toHex(m.id), body.tag, Math.floor(m.expiresAt / 1000))
      .then(() => counters.announced++, () => {});
  };

  // One fetch per message at a time, however many wallets ask; recent results are kept
  // briefly so a prefetch (started when a long poll is waiting for the tag) serves the GET.
  // A slow or dead origin costs its own notices only: few fetches in flight per origin, a
  // breaker that skips it after repeated failures, and wallets wait a bounded time.
  const inflight = new Map<string, Promise<StoredBody | null>>();
  const recent = new Map<string, { body: StoredBody; atMs: number }>();
  const perOrigin = new Map<string, number>();
  const breaker = new Map<string, { failures: number; openUntilMs: number }>();
  const usable = (o: Contact | null) => {
    if (o === null) return true;
    const b = breaker.get(o.id);
    return (b === undefined || b.openUntilMs <= clock.now()) &&
      (perOrigin.get(o.id) ?? 0) < MAX_FETCHES_PER_ORIGIN;
  };
  const outcome = (o: Contact | null, ok: boolean) => {
    if (o === null) return;
    if (ok) {
      breaker.delete(o.id);
      return;
    }
    const b = breaker.get(o.id) ?? { failures: 0, openUntilMs: 0 };
    b.failures++;
    if (b.failures >= BREAKER_FAILURES) b.openUntilMs = clock.now() + BREAKER_OPEN_MS;
    breaker.set(o.id, b);
    if (breaker.size > 10_000) breaker.delete(breaker.keys().next().value!);
  };
  /** Whether some origin of message `id` may still answer soon. */
  const hopeful = (id: string, originId: string | null) => {
    if (originId === null) return true;
    const b = breaker.get(originId);
    return b === undefined || b.openUntilMs <= clock.now() || recent.has(id);
  };
  const fetchFor = (
    id: string,
    tag: string,
    size: number,
    origin?: Contact,
  ): Promise<StoredBody | null> => {
    const hit = recent.get(id);
    if (hit !== undefined && clock.now() - hit.atMs < RECENT_MS) return Promise.resolve(hit.body);
    let p = inflight.get(id);
    if (p === undefined) {
      if (inflight.size >= MAX_FETCHES) return Promise.resolve(null);
      p = (async () => {
        const n = node;
        if (n === undefined) return null;
        const known = origin !== undefined ? [] : await notices.byMessage(id, tag);
        const origins: (Contact | null)[] = origin !== undefined
          ? [origin]
          : known.length > 0
          ? known.map((k) => k.origin)
          : [null];
        for (const o of origins) {
          if (!usable(o)) continue;
          if (o !== null) perOrigin.set(o.id, (perOrigin.get(o.id) ?? 0) + 1);
          let body: StoredBody | null = null;
          try {
            log.debug("fetching", { id });
            body = await n.fetchBody({ id, tag, size, origin: o });
            log.debug("fetched", { id, ok: body !== null });
          } finally {
            if (o !== null) {
              const left = (perOrigin.get(o.id) ?? 1) - 1;
              if (left > 0) perOrigin.set(o.id, left);
              else perOrigin.delete(o.id);
            }
          }
          outcome(o, body !== null);
          if (body !== null) {
            if (recent.size >= MAX_RECENT) recent.delete(recent.keys().next().value!);
            recent.set(id, { body, atMs: clock.now() });
            return body;
          }
        }
        return null;
      })().finally(() => inflight.delete(id));
      inflight.set(id, p);
    }
    return p;
  };

  ctx.provide(BODY_RESOLVER, async (msgs) => {
    const out: StoredMessage[] = [];
    const missing = msgs.filter((m) => m.payload === null);
    const got = new Map<StoredMessage, StoredBody | null>();
    const fetches = missing.map((m) =>
      fetchFor(toHex(m.id), toHex(m.tag), m.size).then(
        (b) => void got.set(m, b),
        () => void got.set(m, null),
      )
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(fetches),
      new Promise((r) => timer = setTimeout(r, BODY_WAIT_MS)),
    ]);
    clearTimeout(timer);
    for (const m of msgs) {
      if (m.payload !== null) {
        out.push(m);
        continue;
      }
      const body = got.get(m) ?? null;
      if (body === null) {
        counters.fetchFailed++;
        // Another origin announced this id under another tag: let a body settle which is true.
        recontest(m);
        // Not worth waiting for: every origin known for it is failing (breaker open).
        if (got.has(m) && !hopeful(toHex(m.id), m.origin)) out.push(m);
        continue;
      }
      counters.fetched++;
      out.push({ ...m, payload: body.payload });
      keep(m, body, true).catch((err) => log.warn("keeping a fetched body failed", { err }));
    }
    return out;
  });

  // Two notices claim one id under different tags: at most one can be true, and only a body
  // proves which (id = sha256(tag || payload)). The row stays as it is unless the newcomer's
  // origin serves a body that proves its tag; then the newcomer's row replaces it (with a new
  // sequence number, so wallets whose cursors passed the old row still see it).
  const contested = new Set<string>();
  /** Notices that claimed a held id under another tag, for a retry when a fetch fails. */
  const conflicts = new Map<string, Notice>();
  const contest = async (n: Notice, held: StoredMessage) => {
    if (contested.has(n.id) || contested.size >= MAX_FETCHES) return;
    contested.add(n.id);
    try {
      const node_ = node;
      if (node_ === undefined || !usable(n.origin)) return;
      const body = await node_.fetchBody({ id: n.id, tag: n.tag, size: n.size, origin: n.origin });
      outcome(n.origin, body !== null);
      if (body === null) return;
      log.info("a notice's tag was proven wrong by the body; replacing it", {
        id: n.id,
        wrong_origin: held.origin,
      });
      if (!await ctx.writer.dropNotice(held.id, held.tag)) return;
      if (recent.size >= MAX_RECENT) recent.delete(recent.keys().next().value!);
      recent.set(n.id, { body, atMs: clock.now() });
      await ctx.writer.submit({
        id: held.id,
        tag: fromHex(n.tag),
        payload: null,
        size: n.size,
        receivedAt: clock.now(),
        expiresAt: n.expiresAt * 1000,
        origin: n.origin.id,
      });
    } finally {
      contested.delete(n.id);
    }
  };

  const recontest = (m: StoredMessage) => {
    const id = toHex(m.id);
    if (contested.has(id)) return;
    const other = conflicts.get(id);
    if (other !== undefined && other.tag !== toHex(m.tag)) contest(other, m).catch(() => {});
  };

  // Remote notices in followed regions become payload-less rows: GET answers with them and
  // long polls wake. Backlog (catch-up) rows are awaited, so the query that asked sees them.
  const onNotice = (n: Notice, via: "broadcast" | "catch-up") => {
    log.debug("notice", { id: n.id, origin: n.origin.id });
    // A wallet is waiting for this tag: fetch the body while the row is being committed.
    if (config.replicate !== "all" && ctx.hub.wants(fromHex(n.tag))) {
      fetchFor(n.id, n.tag, n.size, n.origin).catch(() => {});
    }
    const row = {
      id: fromHex(n.id),
      tag: fromHex(n.tag),
      payload: null,
      size: n.size,
      receivedAt: clock.now(),
      expiresAt: n.expiresAt * 1000,
      origin: n.origin.id,
    };
    const stored = ctx.writer.submit(row, { remote: true }).then(
      (o) => {
        log.debug("notice stored", { id: n.id });
        if (!o.inserted && o.message.payload === null && toHex(o.message.tag) !== n.tag) {
          if (conflicts.size >= MAX_FETCHES) conflicts.delete(conflicts.keys().next().value!);
          conflicts.set(n.id, n);
          contest(n, o.message).catch((err) =>
            log.warn("settling two notices for one id failed", { err: String(err) })
          );
        }
        if (config.replicate === "all" && o.inserted) {
          fetchFor(n.id, n.tag, n.size, n.origin).then((b) => b && keep(o.message, b, false))
            .catch(() => {});
        }
      },
      (err) => log.warn("storing a remote notice failed", { err: String(err) }),
    );
    return via === "catch-up" ? stored : undefined;
  };

  // A wallet's query for a region: follow it (subscribe, pull the backlog) before answering.
  ctx.provide(REGION_FOLLOWER, async ({ prefix, bits }) => {
    const n = node;
    if (n === undefined || config.follow === "all") return;
    if (bits < config.followMinBits) {
      throw new HttpError(
        422,
        `This server follows prefixes of at least ${config.followMinBits} bits; ask with more bits or use a server that follows everything`,
        { field: "bits" },
      );
    }
    const b = Math.min(bits, config.subscribeBitsMax);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      n.follow(toHex(prefix), b),
      new Promise((r) => timer = setTimeout(r, FOLLOW_WAIT_MS)),
    ]);
    clearTimeout(timer);
  });

  // Every local insert is announced; one commit is one signed group (one signature).
  ctx.writer.onCommit((inserted) => {
    const n = node;
    if (n === undefined) return;
    const fields = [];
    for (const m of inserted) {
      if (m.origin !== null) continue;
      fields.push({
        id: toHex(m.id),
        tag: toHex(m.tag),
        size: m.size,
        expiresAt: Math.floor(m.expiresAt / 1000),
        createdAtMs: m.receivedAt,
      });
    }
    if (fields.length === 0) return;
    log.debug("publishing", { count: fields.length, first: fields[0]!.id });
    n.publishMany(fields).catch((err) =>
      log.warn("announcing messages failed", { count: fields.length, err: String(err) })
    );
  });

  const rpcOverHttp = httpRpcHandler((rpc, wire, meta) => node!.handle(rpc, wire, meta));
  const serveDht = (req: Request, remoteAddr: string) =>
    node === undefined
      ? Promise.resolve(new Response('{"error":"starting"}', { status: 503 }))
      : rpcOverHttp(req, remoteAddr).then((res) => {
        if (res.status === 200) health.lastServedAt = clock.now();
        return res;
      });

  const republish = async () => {
    const n = node;
    if (n === undefined) return;
    // Notices we hold go back to the servers now closest to their tags (holders leave).
    await n.republishNotices().catch(() => 0);
    if (config.replicate === "none") return;
    for (const m of await ctx.store.keptCopies(clock.now(), MAX_REPUBLISH)) {
      await n.addProvider(toHex(m.id), toHex(m.tag), Math.floor(m.expiresAt / 1000)).catch(() => 0);
    }
  };

  const saveState = async () => {
    if (node === undefined) return;
    const state: SavedState = { table: node.snapshot(), last_active_ms: clock.now() };
    if (shared !== undefined) return await shared.set(STATE_FILE, JSON.stringify(state));
    const tmp = `${statePath}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(state));
    await Deno.rename(tmp, statePath);
  };

  // Several processes on one database: a subscription reaches one of them, and every one must
  // push to it, so they share them through `dht_subscriptions` (re-read every few seconds).
  const shareSubscription = (sub: Subscription) => {
    const row = {
      key: subscriptionKey(sub),
      expires_at: sub.expiresAt * 1000,
      subscription: JSON.stringify(subscriptionToJson(sub)),
    };
    dhtDb.db.insertInto("dht_subscriptions").values(row)
      .onConflict((oc) =>
        oc.column("key").doUpdateSet({ expires_at: row.expires_at, subscription: row.subscription })
      ).execute().catch((err) => log.warn("sharing a subscription failed", { err: String(err) }));
  };
  const adoptShared = async () => {
    const n = node;
    if (n === undefined || shared === undefined) return;
    const rows = await dhtDb.db.selectFrom("dht_subscriptions").select("subscription")
      .where("expires_at", ">", clock.now()).execute();
    for (const r of rows) {
      try {
        n.adoptSubscription(parseSubscription(JSON.parse(r.subscription)));
      } catch {
        // a damaged row is skipped
      }
    }
    if (await ctx.store.leads("dht-subscription-sweep")) {
      await dhtDb.db.deleteFrom("dht_subscriptions").where("expires_at", "<=", clock.now())
        .execute();
    }
  };

  const started = (listenUrl: string) => {
    const url = parseNodeUrl(config.publicUrl ?? listenUrl, "public-url");
    selfUrl = url;
    const opts = {
      identity,
      url,
      transport,
      clock,
      placement: "region" as const,
      noticeReplicas: config.noticeReplicas,
      followAll: config.follow === "all",
      rangeLimits: config.dhtRangeLimits ? DEFAULT_RANGE_LIMITS : null,
      notices,
      bodies,
      onNotice,
      maxTtlSeconds: ctx.limits.current.maxTtlSeconds,
      maxMessageBytes: config.maxPayloadBytes,
      ...(shared === undefined ? {} : { onSubscription: shareSubscription }),
    };
    try {
      node = new DhtNode(
        saved.table === undefined ? opts : { ...opts, tableSnapshot: saved.table },
      );
    } catch (err) {
      log.warn("ignoring the saved routing table", { err: String(err) });
      node = new DhtNode(opts);
    }
    node.start();
    const n = node;
    const peers = config.bootstrap.map((u) => parseNodeUrl(u, "bootstrap"));
    const join = async (attempt: number): Promise<void> => {
      const size = await n.bootstrap(peers);
      const retryMs = Math.min(2000 * 2 ** attempt, JOIN_RETRY_MAX_MS);
      const retrying = size === 0 && peers.length > 0;
      for (const u of peers) {
        health.bootstrapAttempt(u, attempt, retrying ? clock.now() + retryMs : null);
      }
      const failed = health.bootstrap().filter((b) => !b.reachable);
      if (failed.length > 0) {
        log.warn(
          retrying ? "no bootstrap peer answers; retrying" : "a bootstrap peer is unreachable",
          {
            peers: failed.map((b) => ({ url: b.url, reason: b.lastError })),
            attempt: attempt + 1,
            ...(retrying ? { retry_in_s: retryMs / 1000 } : {}),
          },
        );
      }
      if (retrying) {
        timers.push(setTimeout(() => join(attempt + 1).catch(() => {}), retryMs));
        return;
      }
      const since = saved.last_active_ms === undefined
        ? 0
        : Math.max(0, saved.last_active_ms - CATCH_UP_MARGIN_MS);
      const added = await n.catchUp(since);
      log.info(peers.length > 0 ? "joined" : "started a new network (no --bootstrap)", {
        contacts: n.table.size,
        caught_up: added,
      });
      await saveState();
    };
    join(0).catch((err) => log.warn("joining failed", { err: String(err) }));
    // Without --public-url peers are told the listening URL, which needs no proof.
    if (config.publicUrl !== undefined) {
      health.checkPublicUrl(url, identity.id).then((r) => {
        if (r.reachable) log.info("this node answers at its public URL", { url });
        else log.warn("this node is not reachable at its public URL", { url, reason: r.error });
      });
    }
    // Provider records expire with their message but the k closest nodes change with churn:
    // re-announce kept copies every half hour.
    republishTimer = setInterval(async () => {
      if (!(await ctx.store.leads("dht-republish").catch(() => false))) return;
      republish().catch((err) => log.warn("republishing providers failed", { err: String(err) }));
    }, REPUBLISH_MS);
    if (shared !== undefined) {
      subscriptionTimer = setInterval(() => {
        adoptShared().catch((err) =>
          log.warn("reading shared subscriptions failed", { err: String(err) })
        );
      }, SHARED_SUBSCRIPTIONS_MS);
    }
    stateTimer = setInterval(() => {
      saveState().catch(() => {});
      // Sweeping and recounting scan tables (reads run on the main thread on SQLite): rarely.
      if (++ticks % SWEEP_EVERY_TICKS === 0) {
        ctx.store.leads("dht-notice-sweep").then((lead) => lead ? notices.sweep() : 0)
          .catch(() => {});
        recountReplicated().catch(() => {});
      }
    }, STATE_INTERVAL_MS);
    log.info("federation started", { node_id: identity.id, url });
  };

  const close = async () => {
    for (const t of timers) clearTimeout(t);
    if (stateTimer !== undefined) clearInterval(stateTimer);
    if (subscriptionTimer !== undefined) clearInterval(subscriptionTimer);
    if (republishTimer !== undefined) clearInterval(republishTimer);
    node?.stop();
    await saveState().catch(() => {});
    await notices.close().catch((err) => log.warn("flushing notices failed", { err: String(err) }));
  };

  const federation: Federation = {
    identity,
    node: () => node,
    notices,
    replicatedBytes: () => replicated,
    rtt: (url) => transport.rtt(url),
    bodyCounts: () => ({ ...counters }),
  };
  ctx.provide(FEDERATION, federation);
  ctx.provide(NETWORK_CONSOLE, networkSource(federation, health));
  ctx.provide(PUBLIC_URL, () => node?.url);
  federationMetrics(ctx.metrics, federation);
  return {
    routes(app) {
      app.post(
        "/dht/:rpc",
        (c) => serveDht(c.req.raw, c.env?.remoteAddr?.hostname ?? "unknown"),
      );
    },
    info: () => ({
      federation: {
        public_url: node?.url ?? null,
        contacts: node?.table.size ?? 0,
        follow: config.follow,
        notice_replicas: config.noticeReplicas,
        // Remote notices this server accepted since it started (its share of the network).
        notices_accepted: node?.stats.noticesAccepted ?? 0,
        regions_followed: node?.following().length ?? 0,
        replicate: config.replicate,
      },
    }),
    started,
    close,
  };
}
