/**
 * Overview: who this node is, storage against its cap, message counts, and ingest, delivery
 * and storage charts over the last hour or day (live in the browser).
 *
 * @module
 */
import type { Handlers, OverviewData, PageProps } from "../../node/console/mod.ts";
import { Facts, Section } from "../../components/Form.tsx";
import { Island } from "../../components/Island.tsx";
import { formatTime } from "../../components/format.ts";

/** Page title. */
export const title = "Overview";

interface Data {
  nodeId: string | undefined;
  url: string;
  version: string;
  quotaMode: string;
  store: string;
  live: OverviewData;
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
    });
  },
};

/** The page. */
export default function Overview({ data }: PageProps<Data>) {
  const w = data.live.window;
  return (
    <>
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
