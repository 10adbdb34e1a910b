/**
 * The node's health as the operator needs it: is payment detection working, do peers answer,
 * is the node reachable at its public URL, when will the disk or the storage cap be full, is
 * the writer keeping up, how many requests fail. One {@linkcode HealthMonitor} evaluates it for
 * the Overview, the banner on every console page, `GET /admin/api/health` and the
 * `subspace_health_status` metric.
 *
 * Statuses: `ok`; `warn` (works, but look soon); `fail` (something users will notice is
 * broken). The worst check is the node's status.
 *
 * @module
 */
import { statfs } from "node:fs/promises";
import type { NodeCore } from "../feature.ts";
import type { Series } from "./series.ts";
import type {
  BootstrapView,
  ConsoleSources,
  PaymentHealthView,
  PeerView,
  SelfCheckView,
} from "./sources.ts";

/** How bad one check is. */
export type HealthStatus = "ok" | "warn" | "fail";

/** One line of the health view. */
export interface HealthCheck {
  /** Stable id (the `check` label of `subspace_health_status`). */
  id: "payments" | "peers" | "bootstrap" | "public_url" | "disk" | "storage" | "writer" | "errors";
  status: HealthStatus;
  /** One sentence for the banner and the Overview. */
  summary: string;
}

/** One database file of the data folder. */
export interface DatabaseFileView {
  /** File name, e.g. `subspace.db` (its `-wal` and `-shm` files counted in). */
  name: string;
  bytes: number;
  /** Growth per day measured since the node started (null: less than an hour measured). */
  growthBytesPerDay: number | null;
}

/** Disk and storage facts. */
export interface DiskView {
  /** The data folder. */
  path: string;
  /** Bytes free for the node on the data folder's file system (null: not measurable). */
  freeBytes: number | null;
  /** Size of that file system. */
  totalBytes: number | null;
  files: DatabaseFileView[];
  /** Stored bytes against `--max-store-bytes`. */
  usedBytes: number;
  maxStoreBytes: number;
  /** Stored bytes' growth per day over the console's last day of samples (null: too few). */
  storeGrowthBytesPerDay: number | null;
  /** Unix ms the storage cap is reached at that rate (null: not growing). */
  capFullAt: number | null;
  /** Unix ms the disk is full at the database files' growth rate (null: not growing). */
  diskFullAt: number | null;
}

/** Everything `GET /admin/api/health` answers. */
export interface HealthReport {
  status: HealthStatus;
  /** Unix ms. */
  checkedAt: number;
  checks: HealthCheck[];
  payments?: PaymentHealthView;
  peers?: {
    total: number;
    up: number;
    down: number;
    list: {
      id: string;
      url: string;
      up: boolean | null;
      lastOkAt: number | null;
      error: string | null;
    }[];
  };
  bootstrap?: BootstrapView[];
  selfCheck?: SelfCheckView;
  disk: DiskView;
  writer: { queueLength: number; maxQueue: number; diskFull: boolean };
  http: { requests: number; serverErrors: number; errorRatio: number | null };
}

const RANK: Record<HealthStatus, number> = { ok: 0, warn: 1, fail: 2 };
/** A peer that answered nothing of ours for this long, but was heard from, is "unknown". */
const PEER_STALE_MS = 15 * 60_000;
/** A disk projected to fill within this is a warning. */
const FULL_SOON_MS = 7 * 86400_000;
/** Free space below this share of the disk (or below MIN_FREE_BYTES) fails. */
const MIN_FREE_SHARE = 0.05;
const MIN_FREE_BYTES = 1024 ** 3;
/** File-size samples kept for growth rates (one per evaluation, oldest dropped). */
const MAX_FILE_SAMPLES = 2000;
/** Growth is reported once this much time has been measured. */
const MIN_GROWTH_SPAN_MS = 3600_000;
/** How long a peer dropped from the routing table is still reported down. */
const GONE_KEPT_MS = 3600_000;
/** Most peers remembered for that. */
const MAX_KNOWN_PEERS = 1000;
/** Server errors (5xx) above this share of requests since the last evaluation warn. */
const ERROR_RATIO_WARN = 0.01;

/**
 * Whether a peer is up: false when our last request to it failed, true when it answered it
 * (or, before we asked it anything, when it was heard from lately), null when unknown.
 */
export function peerUp(p: PeerView, now: number): boolean | null {
  const ok = p.lastOkAt ?? null;
  const err = p.lastErrorAt ?? null;
  if (err !== null && (ok === null || err > ok)) return false;
  if (ok !== null) return true;
  return p.lastSeenAt !== null && now - p.lastSeenAt < PEER_STALE_MS ? true : null;
}

/** The worse of two statuses. */
export function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Options for {@linkcode HealthMonitor}. */
export interface HealthMonitorOptions {
  core: NodeCore;
  /** What the other features publish (read at each evaluation). */
  sources: () => ConsoleSources;
  series: Series;
  /** Free and total bytes of the file system holding `path` (tests pass their own). */
  diskSpace?: (path: string) => Promise<{ freeBytes: number; totalBytes: number } | null>;
}

async function statfsSpace(path: string) {
  try {
    const s = await statfs(path);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

/** Sizes of the SQLite databases in `dir` (each with its `-wal` and `-shm`). */
async function databaseFiles(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = /^(.+\.db)(-wal|-shm)?$/.exec(e.name);
      if (!e.isFile || m === null) continue;
      const size = (await Deno.stat(`${dir}/${e.name}`).catch(() => ({ size: 0 }))).size;
      out.set(m[1]!, (out.get(m[1]!) ?? 0) + size);
    }
  } catch { /* no data folder (PostgreSQL only, or removed): no files */ }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

const perDay = (delta: number, spanMs: number) => Math.round(delta / spanMs * 86400_000);

/**
 * Evaluates the node's health on demand and every `intervalMs` (for the metric and the growth
 * rates).
 *
 * @example
 * ```ts ignore
 * const health = new HealthMonitor({ core, sources: () => sources, series });
 * const report = await health.evaluate();
 * if (report.status !== "ok") console.log(report.checks.filter((c) => c.status !== "ok"));
 * ```
 */
export class HealthMonitor {
  readonly #o: HealthMonitorOptions;
  readonly #fileSamples: { at: number; files: Map<string, number> }[] = [];
  #lastHttp: { requests: number; errors: number } | undefined;
  #http = { requests: 0, serverErrors: 0, errorRatio: null as number | null };
  #timer: ReturnType<typeof setInterval> | undefined;
  #latest: HealthReport | undefined;
  #gauge;
  /** Peers seen in the routing table (url → last state; goneAt once it left the table). */
  readonly #known = new Map<
    string,
    { id: string; lastOkAt: number | null; error: string | null; goneAt: number | null }
  >();

  constructor(o: HealthMonitorOptions) {
    this.#o = o;
    this.#gauge = o.core.metrics.gauge(
      "subspace_health_status",
      "Health of each check (label check): 0 ok, 1 warn, 2 fail",
    );
    const m = o.core.metrics;
    const disk = () => this.#latest?.disk;
    m.gauge(
      "subspace_disk_free_bytes",
      "Bytes free for the node on the data folder's file system",
      () => disk()?.freeBytes ?? 0,
    );
    m.gauge(
      "subspace_disk_size_bytes",
      "Size of the data folder's file system",
      () => disk()?.totalBytes ?? 0,
    );
    m.gauge(
      "subspace_database_files_bytes",
      "Bytes of the SQLite database files in the data folder (with -wal and -shm)",
      () => disk()?.files.reduce((a, f) => a + f.bytes, 0) ?? 0,
    );
    m.gauge(
      "subspace_peers_down",
      "Peers in the routing table whose last request from this node failed",
      () => this.#latest?.peers?.down ?? 0,
    );
  }

  /** The last evaluation, if any. */
  get latest(): HealthReport | undefined {
    return this.#latest;
  }

  /** Re-evaluates every `intervalMs` until {@linkcode stop}. */
  start(intervalMs: number): void {
    if (this.#timer !== undefined) return;
    this.evaluate().catch(() => {});
    this.#timer = setInterval(() => this.evaluate().catch(() => {}), intervalMs);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Evaluates every check now. */
  async evaluate(): Promise<HealthReport> {
    const { core } = this.#o;
    const now = core.now();
    const sources = this.#o.sources();
    const checks: HealthCheck[] = [];
    const report: Partial<HealthReport> = {};

    // Payment detection.
    const pricing = sources.pricing;
    if (pricing?.health !== undefined) {
      const [p, status] = await Promise.all([pricing.health(), pricing.status?.()]);
      report.payments = p;
      checks.push(paymentCheck(p, status?.feesEnabled ?? false, now));
    }

    // Federation: peers, bootstrap, public URL.
    if (sources.network !== undefined) {
      const view = await sources.network.view();
      const list = view.peers.map((p) => {
        const up = peerUp(p, now);
        return {
          id: p.id,
          url: p.url,
          up,
          lastOkAt: p.lastOkAt ?? null,
          error: up === false ? p.lastError ?? null : null,
        };
      });
      // A peer the routing table dropped (it stopped answering) stays listed as down for a
      // while, so losing the last peer does not look like never having had one.
      const present = new Set(list.map((p) => p.url));
      for (const p of list) this.#known.set(p.url, { ...p, goneAt: null });
      for (const [url, k] of this.#known) {
        if (present.has(url)) continue;
        const goneAt = k.goneAt ?? now;
        if (now - goneAt > GONE_KEPT_MS) {
          this.#known.delete(url);
          continue;
        }
        this.#known.set(url, { ...k, goneAt });
        list.push({
          id: k.id,
          url,
          up: false,
          lastOkAt: k.lastOkAt,
          error: `dropped from the routing table${k.error ? ` (${k.error})` : ""}`,
        });
      }
      while (this.#known.size > MAX_KNOWN_PEERS) {
        this.#known.delete(this.#known.keys().next().value!);
      }
      const up = list.filter((p) => p.up === true).length;
      const down = list.filter((p) => p.up === false).length;
      report.peers = { total: list.length, up, down, list };
      const boot = view.bootstrap ?? [];
      if (list.length > 0 || boot.length > 0) {
        checks.push({
          id: "peers",
          status: down === 0 && list.length > 0 ? "ok" : up === 0 ? "fail" : "warn",
          summary: list.length === 0
            ? "No peers: this node is not part of a network."
            : down === 0
            ? `${up} of ${list.length} peers answer.`
            : `${down} of ${list.length} peers do not answer: ${
              list.filter((p) => p.up === false).slice(0, 3).map((p) =>
                `${p.url} (${p.error ?? "no answer"})`
              ).join(", ")
            }.`,
        });
      }
      if (boot.length > 0) {
        report.bootstrap = boot;
        const bad = boot.filter((b) => !b.reachable);
        checks.push({
          id: "bootstrap",
          status: bad.length === 0 ? "ok" : bad.length === boot.length ? "fail" : "warn",
          summary: bad.length === 0
            ? `Joined through ${
              boot.length === 1 ? "the bootstrap peer" : `${boot.length} bootstrap peers`
            }.`
            : `Bootstrap peer${bad.length > 1 ? "s" : ""} unreachable: ${
              bad.map((b) => `${b.url} (${b.lastError ?? "no answer"})`).join(", ")
            }${bad.some((b) => b.nextRetryAt !== null) ? "; retrying" : ""}.`,
        });
      }
      if (view.selfCheck !== undefined) {
        const s = view.selfCheck;
        report.selfCheck = s;
        checks.push({
          id: "public_url",
          status: s.reachable ? "ok" : "fail",
          summary: s.reachable
            ? `Reachable at ${s.url}${s.peerReachedAt ? "; peers reach it too" : ""}.`
            : `Not reachable at its public URL ${s.url}: ${s.error}. Peers cannot reach this node; set --public-url.`,
        });
      }
    }

    // Disk and storage.
    const disk = await this.#disk(now);
    report.disk = disk;
    checks.push(diskCheck(disk, core.writer.diskFull, now));
    checks.push(storageCheck(disk, now));

    // Writer and errors.
    const writer = {
      queueLength: core.writer.queueLength,
      maxQueue: core.config.commitMaxQueue,
      diskFull: core.writer.diskFull,
    };
    report.writer = writer;
    checks.push({
      id: "writer",
      status: writer.queueLength >= writer.maxQueue * 0.5 ? "warn" : "ok",
      summary: `${writer.queueLength} messages waiting for the writer (limit ${writer.maxQueue}).`,
    });
    report.http = this.#httpRates();
    checks.push({
      id: "errors",
      status: report.http.errorRatio !== null && report.http.errorRatio > ERROR_RATIO_WARN &&
          report.http.serverErrors >= 5
        ? "warn"
        : "ok",
      summary: report.http.errorRatio === null
        ? "No requests since the last check."
        : `${
          (report.http.errorRatio * 100).toFixed(1)
        }% of ${report.http.requests} recent requests failed with 5xx.`,
    });

    let status: HealthStatus = "ok";
    for (const c of checks) {
      status = worst(status, c.status);
      this.#gauge.set(RANK[c.status], { check: c.id });
    }
    this.#latest = { ...report, status, checkedAt: now, checks } as HealthReport;
    return this.#latest;
  }

  /** Requests and 5xx answers since the previous evaluation. */
  #httpRates() {
    const c = this.#o.core.metrics.counter(
      "subspace_http_requests_total",
      "HTTP requests by status",
    );
    let requests = 0;
    let errors = 0;
    for (let code = 200; code < 600; code++) {
      const n = c.get({ code: String(code) });
      requests += n;
      if (code >= 500) errors += n;
    }
    const prev = this.#lastHttp ?? { requests: 0, errors: 0 };
    this.#lastHttp = { requests, errors };
    const dr = requests - prev.requests;
    const de = errors - prev.errors;
    // Few requests since last time: keep the previous figure rather than report noise.
    if (dr >= 20 || this.#http.errorRatio === null) {
      this.#http = { requests: dr, serverErrors: de, errorRatio: dr > 0 ? de / dr : null };
    }
    return this.#http;
  }

  async #disk(now: number): Promise<DiskView> {
    const { core } = this.#o;
    const dir = core.config.data.replace(/\/+$/, "");
    const [space, files] = await Promise.all([
      (this.#o.diskSpace ?? statfsSpace)(dir),
      databaseFiles(dir),
    ]);
    this.#fileSamples.push({ at: now, files });
    if (this.#fileSamples.length > MAX_FILE_SAMPLES) this.#fileSamples.shift();
    // The oldest sample within the last day measures growth.
    const first = this.#fileSamples.find((s) => now - s.at <= 86400_000) ?? this.#fileSamples[0]!;
    const span = now - first.at;
    const views: DatabaseFileView[] = [...files].map(([name, bytes]) => ({
      name,
      bytes,
      growthBytesPerDay: span >= MIN_GROWTH_SPAN_MS
        ? perDay(bytes - (first.files.get(name) ?? 0), span)
        : null,
    }));
    const fileGrowth = span >= MIN_GROWTH_SPAN_MS
      ? views.reduce((a, f) => a + (f.growthBytesPerDay ?? 0), 0)
      : null;
    const day = this.#o.series.window("day");
    const a = day[0];
    const b = day[day.length - 1];
    const storeGrowth = a !== undefined && b !== undefined && b.at - a.at >= MIN_GROWTH_SPAN_MS
      ? perDay(b.usedBytes - a.usedBytes, b.at - a.at)
      : null;
    const used = core.writer.usedBytes;
    const cap = core.config.maxStoreBytes;
    const grow = (left: number, rate: number | null) =>
      rate !== null && rate > 0 ? now + Math.max(0, left) / rate * 86400_000 : null;
    return {
      path: dir,
      freeBytes: space?.freeBytes ?? null,
      totalBytes: space?.totalBytes ?? null,
      files: views,
      usedBytes: used,
      maxStoreBytes: cap,
      storeGrowthBytesPerDay: storeGrowth,
      capFullAt: grow(cap - used, storeGrowth),
      diskFullAt: space === null ? null : grow(space.freeBytes, fileGrowth ?? storeGrowth),
    };
  }
}

function ago(now: number, at: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  return s < 120
    ? `${s} s ago`
    : s < 7200
    ? `${Math.round(s / 60)} min ago`
    : `${Math.round(s / 3600)} h ago`;
}

function paymentCheck(p: PaymentHealthView, feesEnabled: boolean, now: number): HealthCheck {
  if (p.backend === "") {
    return {
      id: "payments",
      status: feesEnabled ? "fail" : "ok",
      summary: feesEnabled
        ? "Fees are on but no payment backend is set: paid invoices are never detected."
        : "Fees are off.",
    };
  }
  const failing = p.lastErrorAt !== null &&
    (p.lastSuccessAt === null || p.lastErrorAt > p.lastSuccessAt);
  const stale = p.lastSuccessAt !== null && p.pollIntervalMs > 0 &&
    now - p.lastSuccessAt > 3 * p.pollIntervalMs + 60_000;
  if (failing || stale) {
    return {
      id: "payments",
      status: "fail",
      summary: `Payment backend ${p.backend} is failing${
        p.lastError ? `: ${p.lastError}` : ""
      } (last success ${
        p.lastSuccessAt === null ? "never" : ago(now, p.lastSuccessAt)
      }). Payments are not detected.`,
    };
  }
  if (p.lastSuccessAt === null) {
    return {
      id: "payments",
      status: "ok",
      summary: `Payment backend ${p.backend}: not polled yet.`,
    };
  }
  if (p.lagBlocks !== null && p.lagBlocks > 2) {
    return {
      id: "payments",
      status: "warn",
      summary: `Payment backend ${p.backend} is ${p.lagBlocks} blocks behind the best tip seen.`,
    };
  }
  return {
    id: "payments",
    status: "ok",
    summary: `Payment backend answers (tip ${p.tipHeight}, ${ago(now, p.lastSuccessAt)}).`,
  };
}

const GiB = 1024 ** 3;
const gib = (n: number) => `${(n / GiB).toFixed(1)} GiB`;
const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function diskCheck(d: DiskView, diskFull: boolean, now: number): HealthCheck {
  if (diskFull) {
    return { id: "disk", status: "fail", summary: "The disk is full: new messages get 507." };
  }
  if (d.freeBytes === null || d.totalBytes === null) {
    return { id: "disk", status: "ok", summary: "Free disk space cannot be measured here." };
  }
  if (
    d.freeBytes < Math.min(MIN_FREE_BYTES, d.totalBytes * MIN_FREE_SHARE) ||
    d.freeBytes < d.totalBytes * 0.01
  ) {
    return {
      id: "disk",
      status: "fail",
      summary: `Only ${gib(d.freeBytes)} free on the data disk.`,
    };
  }
  if (d.diskFullAt !== null && d.diskFullAt - now < FULL_SOON_MS) {
    return {
      id: "disk",
      status: "warn",
      summary: `The data disk fills up around ${date(d.diskFullAt)} at the current rate (${
        gib(d.freeBytes)
      } free).`,
    };
  }
  return {
    id: "disk",
    status: "ok",
    summary: `${gib(d.freeBytes)} free of ${gib(d.totalBytes)}${
      d.diskFullAt === null ? "" : `; full around ${date(d.diskFullAt)} at the current rate`
    }.`,
  };
}

function storageCheck(d: DiskView, now: number): HealthCheck {
  const share = d.usedBytes / d.maxStoreBytes;
  const pct = `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
  if (share >= 1) {
    return {
      id: "storage",
      status: "fail",
      summary: "The storage cap is reached: new messages get 507.",
    };
  }
  if (share >= 0.9 || (d.capFullAt !== null && d.capFullAt - now < FULL_SOON_MS)) {
    return {
      id: "storage",
      status: "warn",
      summary: `Storage is ${pct} of the cap${
        d.capFullAt === null ? "" : `; full around ${date(d.capFullAt)}`
      }.`,
    };
  }
  return {
    id: "storage",
    status: "ok",
    summary: `Storage is ${pct} of the cap${
      d.capFullAt === null ? "" : `; full around ${date(d.capFullAt)} at the current rate`
    }.`,
  };
}
