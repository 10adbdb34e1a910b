/**
 * Federation plugin: gives the node its DHT identity and wires the DHT into the node core.
 *
 * - `POST /dht/<rpc>` serves the DHT (same port as wallets).
 * - Every local insert is announced as a signed notice (tree broadcast).
 * - Every verified remote notice becomes a `messages` row without payload (origin set), so
 *   `GET /v1/messages` answers with it and long polls wake at once (the writer's commit hook).
 * - Bodies missing here are fetched from the origin or a provider when a wallet asks, checked
 *   against their id, and kept (policy `--replicate`, budget `--replicate-max-bytes`), after
 *   which this node announces itself as a provider.
 * - The routing table and the last-active time persist in `<data>/dht.json`; on start the node
 *   rejoins and catches up on the notices it missed.
 *
 * @module
 */
import type { NodeContext } from "../mod.ts";
import { SqliteWriteWorker, type StoredMessage } from "../store/mod.ts";
import { join } from "node:path";
import { systemClock } from "./clock.ts";
import { type Contact, parseNodeUrl } from "./contact.ts";
import { httpRpcHandler, HttpTransport } from "./http_transport.ts";
import { loadOrCreateIdentity, type NodeIdentity } from "./identity.ts";
import { DhtNode } from "./node.ts";
import type { Notice } from "./notice.ts";
import { DEFAULT_RANGE_LIMITS } from "./routing_table.ts";
import { type PeerRtt, RttTransport } from "./rtt.ts";
import type { StoredBody } from "./rpc/_shared.ts";
import { openDhtDatabase, SqlNoticeStore } from "./sql_notice_store.ts";
import { fromHex, toHex } from "../../client/mod.ts";

/** File (in the data folder) holding the routing table and the last-active time. */
export const STATE_FILE = "dht.json";
/** Notices missed while offline are asked for from this long before the last-active time. */
export const CATCH_UP_MARGIN_MS = 10 * 60_000;
const STATE_INTERVAL_MS = 60_000;
/** Expired notices are swept and kept bytes recounted every this many state ticks (15 min). */
const SWEEP_EVERY_TICKS = 15;
const MAX_PARALLEL_FETCHES = 8;
/** How long a fetched body stays in memory for the GET that will ask for it. */
const RECENT_MS = 30_000;
const MAX_RECENT = 256;
/** Kept copies are re-announced this often (newest first, at most MAX_REPUBLISH per pass). */
const REPUBLISH_MS = 30 * 60_000;
const MAX_REPUBLISH = 1000;

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

const FEDERATIONS = new WeakMap<NodeContext, Federation>();

/** The federation installed on `ctx`, if any. */
export function federationOf(ctx: NodeContext): Federation | undefined {
  return FEDERATIONS.get(ctx);
}

/**
 * Installs federation on a node context (run it as a plugin before the app is built).
 *
 * @example
 * ```ts ignore
 * await startNode(config, { plugins: [federationPlugin] });
 * ```
 */
export async function federationPlugin(ctx: NodeContext): Promise<void> {
  const { config, log: rootLog } = ctx;
  const log = rootLog.child("dht");
  const clock = systemClock;
  const identity = await loadOrCreateIdentity(config.data);
  ctx.nodeId = identity.id;
  const dhtDb = await openDhtDatabase(ctx.store, config.data);
  const notices = new SqlNoticeStore(
    dhtDb.db,
    dhtDb.writer === undefined ? { clock } : { clock, writer: dhtDb.writer },
  );
  await notices.init();
  // Kept bodies are written into `messages` off the main thread on SQLite (a second writer
  // thread on subspace.db), so the event loop never waits for the message writer's lock.
  const bodyWriter = ctx.store.dialect === "sqlite"
    ? await SqliteWriteWorker.open(join(config.data, "subspace.db"), { checkpoint: false })
    : undefined;
  const statePath = `${config.data.replace(/\/+$/, "")}/${STATE_FILE}`;
  let saved: SavedState = {};
  try {
    saved = JSON.parse(await Deno.readTextFile(statePath));
  } catch {
    // first start, or an unreadable file: start fresh
  }

  let node: DhtNode | undefined;
  let replicated = 0;
  const timers: ReturnType<typeof setTimeout>[] = [];
  let stateTimer: ReturnType<typeof setInterval> | undefined;
  let republishTimer: ReturnType<typeof setInterval> | undefined;
  const counters = { fetched: 0, fetchFailed: 0, kept: 0, announced: 0 };
  let ticks = 0;
  const transport = new RttTransport(new HttpTransport());

  const recountReplicated = async () => {
    const r = await ctx.store.db.selectFrom("messages")
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number | string>("size"), eb.lit(0)).as("b"))
      .where("origin", "is not", null).where("payload", "is not", null)
      .executeTakeFirst();
    replicated = Number(r?.b ?? 0);
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
    if (bodyWriter !== undefined) {
      await bodyWriter.batch("UPDATE messages SET payload = ? WHERE id = ? AND payload IS NULL", [
        [body.payload, m.id],
      ]);
    } else {
      await ctx.store.db.updateTable("messages").set({ payload: body.payload })
        .where("id", "=", m.id).where("payload", "is", null).execute();
    }
    counters.kept++;
    const n = node;
    if (n === undefined) return;
    n.addProvider(toHex(m.id), body.tag, Math.floor(m.expiresAt / 1000))
      .then(() => counters.announced++, () => {});
  };

  // One fetch per message at a time, however many wallets ask; recent results are kept
  // briefly so a prefetch (started when a long poll is waiting for the tag) serves the GET.
  const inflight = new Map<string, Promise<StoredBody | null>>();
  const recent = new Map<string, { body: StoredBody; atMs: number }>();
  const fetchFor = (
    id: string,
    tag: string,
    origin?: Contact,
  ): Promise<StoredBody | null> => {
    const hit = recent.get(id);
    if (hit !== undefined && clock.now() - hit.atMs < RECENT_MS) return Promise.resolve(hit.body);
    let p = inflight.get(id);
    if (p === undefined) {
      p = (async () => {
        const n = node;
        if (n === undefined) return null;
        const known = origin !== undefined ? [] : await notices.byMessageId(id);
        const origins: (Contact | null)[] = origin !== undefined
          ? [origin]
          : known.length > 0
          ? known.map((k) => k.origin)
          : [null];
        for (const origin of origins) {
          log.debug("fetching", { id });
          const body = await n.fetchBody({ id, tag, origin });
          log.debug("fetched", { id, ok: body !== null });
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

  ctx.hooks.resolveBodies = async (msgs) => {
    const out: StoredMessage[] = [];
    const missing = msgs.filter((m) => m.payload === null);
    const got = new Map<StoredMessage, StoredBody | null>();
    for (let i = 0; i < missing.length; i += MAX_PARALLEL_FETCHES) {
      const chunk = missing.slice(i, i + MAX_PARALLEL_FETCHES);
      const bodies = await Promise.all(
        chunk.map((m) => fetchFor(toHex(m.id), toHex(m.tag)).catch(() => null)),
      );
      chunk.forEach((m, j) => got.set(m, bodies[j]!));
    }
    for (const m of msgs) {
      if (m.payload !== null) {
        out.push(m);
        continue;
      }
      const body = got.get(m) ?? null;
      if (body === null) {
        counters.fetchFailed++;
        continue;
      }
      counters.fetched++;
      out.push({ ...m, payload: body.payload });
      keep(m, body, true).catch((err) => log.warn("keeping a fetched body failed", { err }));
    }
    return out;
  };

  // Remote notices become payload-less rows: GET answers with them and long polls wake.
  const onNotice = (n: Notice) => {
    log.debug("notice", { id: n.id, origin: n.origin.id });
    // A wallet is waiting for this tag: fetch the body while the row is being committed.
    if (config.replicate !== "all" && ctx.hub.wants(fromHex(n.tag))) {
      fetchFor(n.id, n.tag, n.origin).catch(() => {});
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
    ctx.writer.submit(row).then(
      (o) => {
        log.debug("notice stored", { id: n.id });
        if (config.replicate === "all" && o.inserted) {
          fetchFor(n.id, n.tag, n.origin).then((b) => b && keep(o.message, b, false))
            .catch(() => {});
        }
      },
      (err) => log.warn("storing a remote notice failed", { err: String(err) }),
    );
  };

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

  const serveDht = (req: Request, remoteAddr: string) =>
    node === undefined
      ? Promise.resolve(new Response('{"error":"starting"}', { status: 503 }))
      : httpRpcHandler((rpc, wire, meta) => node!.handle(rpc, wire, meta))(req, remoteAddr);
  ctx.hooks.routes.push((app) => {
    app.post("/dht/:rpc", (c) => serveDht(c.req.raw, c.env?.remoteAddr?.hostname ?? "unknown"));
  });
  ctx.hooks.info.push(() => ({
    node_id: identity.id,
    federation: {
      public_url: node?.url ?? null,
      contacts: node?.table.size ?? 0,
      broadcast_r: config.broadcastR,
      replicate: config.replicate,
    },
  }));

  const republish = async () => {
    const n = node;
    if (n === undefined || config.replicate === "none") return;
    const rows = await ctx.store.db.selectFrom("messages").select(["id", "tag", "expires_at"])
      .where("origin", "is not", null).where("payload", "is not", null)
      .where("expires_at", ">", clock.now()).orderBy("seq", "desc").limit(MAX_REPUBLISH)
      .execute();
    for (const r of rows) {
      await n.addProvider(toHex(r.id), toHex(r.tag), Math.floor(Number(r.expires_at) / 1000))
        .catch(() => 0);
    }
  };

  const saveState = async () => {
    if (node === undefined) return;
    const state: SavedState = { table: node.snapshot(), last_active_ms: clock.now() };
    const tmp = `${statePath}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(state));
    await Deno.rename(tmp, statePath);
  };

  ctx.hooks.started.push((listenUrl) => {
    const url = parseNodeUrl(config.publicUrl ?? listenUrl, "public-url");
    const opts = {
      identity,
      url,
      transport,
      clock,
      broadcastR: config.broadcastR,
      rangeLimits: config.dhtRangeLimits ? DEFAULT_RANGE_LIMITS : null,
      notices,
      bodies,
      onNotice,
      maxTtlSeconds: config.maxTtl,
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
    const join = async (attempt: number): Promise<void> => {
      const size = await n.bootstrap(config.bootstrap.map((u) => parseNodeUrl(u, "bootstrap")));
      if (size === 0 && config.bootstrap.length > 0) {
        if (attempt < 30) {
          timers.push(setTimeout(() => join(attempt + 1).catch(() => {}), 2000));
        }
        return;
      }
      const since = saved.last_active_ms === undefined
        ? 0
        : Math.max(0, saved.last_active_ms - CATCH_UP_MARGIN_MS);
      const added = await n.catchUp(since);
      log.info("joined", { contacts: n.table.size, caught_up: added });
      await saveState();
    };
    join(0).catch((err) => log.warn("joining failed", { err: String(err) }));
    // Provider records expire with their message but the k closest nodes change with churn:
    // re-announce kept copies every half hour.
    republishTimer = setInterval(() => {
      republish().catch((err) => log.warn("republishing providers failed", { err: String(err) }));
    }, REPUBLISH_MS);
    stateTimer = setInterval(() => {
      saveState().catch(() => {});
      // Sweeping and recounting scan tables (reads run on the main thread on SQLite): rarely.
      if (++ticks % SWEEP_EVERY_TICKS === 0) {
        notices.sweep().catch(() => {});
        recountReplicated().catch(() => {});
      }
    }, STATE_INTERVAL_MS);
    log.info("federation started", { node_id: identity.id, url });
  });

  ctx.hooks.close.push(async () => {
    for (const t of timers) clearTimeout(t);
    if (stateTimer !== undefined) clearInterval(stateTimer);
    if (republishTimer !== undefined) clearInterval(republishTimer);
    node?.stop();
    await saveState().catch(() => {});
    await notices.close().catch((err) => log.warn("flushing notices failed", { err: String(err) }));
    await dhtDb.close();
    await bodyWriter?.close();
  });

  FEDERATIONS.set(ctx, {
    identity,
    node: () => node,
    notices,
    replicatedBytes: () => replicated,
    rtt: (url) => transport.rtt(url),
    bodyCounts: () => ({ ...counters }),
  });
}
