/**
 * Overview: who this node is, storage against its cap, message counts, and ingest, delivery
 * and storage charts over the last hour or day (live in the browser).
 *
 * @module
 */
import type { Handlers, HealthReport, OverviewData, PageProps } from "../../node/console/mod.ts";
import { Facts, Section } from "../../components/Form.tsx";
import { Island } from "../../components/Island.tsx";
import { formatAgo, formatBytes, formatTime } from "../../components/format.ts";

/** Page title. */
export const title = "Overview";

interface Data {
  nodeId: string | undefined;
  url: string;
  version: string;
  quotaMode: string;
  store: string;
  live: OverviewData;
  health: HealthReport;
}

/** GET renders the overview for `?window=hour` (default) or `?window=day`. */
export const handler: Handlers<Data> = {
  GET(pc) {
    const window = pc.url.searchParams.get("window") === "day" ? "day" : "hour";
    return pc.render({
      nodeId: pc.page.nodeId,
      url: pc.sources.publicUrl?.() ?? pc.url.origin,
      version: pc.page.version,
      quotaMode: pc.core.config.quota,
      store: pc.core.store.dialect === "postgres" ? "PostgreSQL" : "SQLite (embedded)",
      live: pc.overview(window),
      health: pc.health,
    });
  },
};

/** The page. */
export default function Overview({ data }: PageProps<Data>) {
  const w = data.live.window;
  return (
    <>
      <Health h={data.health} />
      <Section title="Node">
        <Facts
          items={[
            [
              "Node id",
              <code key="id">{data.nodeId ?? "not yet assigned (federation is off)"}</code>,
            ],
            ["URL", <code key="url">{data.url}</code>],
            ["Version", data.version],
            ["Started", `${formatTime(data.live.startedAt)} UTC`],
            ["Quota mode", data.quotaMode],
            ["Store", data.store],
          ]}
        />
      </Section>
      <Section title="Traffic and storage">
        <div class="tabs" role="group" aria-label="Chart window">
          <a href="/console?window=hour" aria-current={w === "hour" ? "true" : undefined}>
            Last hour
          </a>
          <a href="/console?window=day" aria-current={w === "day" ? "true" : undefined}>
            Last day
          </a>
        </div>
        <Island name="OverviewLive" props={data.live} />
      </Section>
    </>
  );
}

const LABELS: Record<string, string> = {
  payments: "Payment detection",
  peers: "Peers",
  bootstrap: "Bootstrap",
  public_url: "Public URL",
  disk: "Disk",
  storage: "Storage cap",
  writer: "Writer queue",
  errors: "Server errors",
};
const BADGE = { ok: "badge-ok", warn: "badge-warn", fail: "badge-bad" } as const;

/** The health checks, then the facts behind them (payment backend, peers, disk). */
function Health({ h }: { h: HealthReport }) {
  const now = h.checkedAt;
  const p = h.payments;
  const d = h.disk;
  const day = (ms: number | null) => ms === null ? "not growing" : formatTime(ms).slice(0, 10);
  return (
    <Section title="Health" id="health">
      <ul class="health-list">
        {h.checks.map((c) => (
          <li key={c.id} data-check={c.id}>
            <span class={`badge ${BADGE[c.status]}`}>{c.status}</span>{" "}
            <strong>{LABELS[c.id] ?? c.id}</strong> — {c.summary}
          </li>
        ))}
      </ul>
      <div class="grid2">
        {p !== undefined && (
          <Facts
            items={[
              ["Payment backend", p.backend === "" ? "none" : <code key="b">{p.backend}</code>],
              ["Last success", formatAgo(p.lastSuccessAt, now)],
              [
                "Last error",
                p.lastErrorAt === null
                  ? "none"
                  : `${formatAgo(p.lastErrorAt, now)}: ${p.lastError}`,
              ],
              ["Chain tip", p.tipHeight === null ? "–" : String(p.tipHeight)],
              ["Lag", p.lagBlocks === null ? "–" : `${p.lagBlocks} blocks`],
            ]}
          />
        )}
        <Facts
          items={[
            [
              "Free disk",
              d.freeBytes === null || d.totalBytes === null
                ? "unknown"
                : `${formatBytes(d.freeBytes)} of ${formatBytes(d.totalBytes)}`,
            ],
            ["Stored", `${formatBytes(d.usedBytes)} of ${formatBytes(d.maxStoreBytes)} cap`],
            [
              "Growth",
              d.storeGrowthBytesPerDay === null
                ? "measuring (needs an hour of samples)"
                : `${formatBytes(d.storeGrowthBytesPerDay)}/day`,
            ],
            ["Cap reached", day(d.capFullAt)],
            ["Disk full", day(d.diskFullAt)],
            ["Writer queue", `${h.writer.queueLength} of ${h.writer.maxQueue}`],
          ]}
        />
      </div>
      {d.files.length > 0 && (
        <div class="table-wrap">
          <table class="db-files">
            <thead>
              <tr>
                <th>Database file</th>
                <th class="num">Size</th>
                <th class="num">Growth per day</th>
              </tr>
            </thead>
            <tbody>
              {d.files.map((f) => (
                <tr key={f.name}>
                  <td>
                    <code>{f.name}</code>
                  </td>
                  <td class="num">{formatBytes(f.bytes)}</td>
                  <td class="num">
                    {f.growthBytesPerDay === null ? "measuring" : formatBytes(f.growthBytesPerDay)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p class="muted">
        Checked {formatTime(now)} UTC. Scripts: <code>GET /admin/api/health</code>{" "}
        (503 when something fails); alerts: <code>subspace_health_status</code> in{" "}
        <code>/metrics</code>.
      </p>
    </Section>
  );
}
