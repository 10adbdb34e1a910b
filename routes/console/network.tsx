/**
 * Network: the routing table by bucket, known peers with last-seen and round-trip time, and
 * broadcast/fetch counters, from federation's console source.
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import { type Handlers, type NetworkView, type PageProps, peerUp } from "../../node/console/mod.ts";
import { Facts, NotAvailable, Section } from "../../components/Form.tsx";
import { formatAgo, formatCount, formatTime } from "../../components/format.ts";

/** Page title. */
export const title = "Network";

interface Data {
  view: NetworkView | undefined;
  now: number;
}

/** GET reads federation's view, if federation runs on this node. */
export const handler: Handlers<Data> = {
  async GET(pc) {
    const view = pc.sources.network ? await pc.sources.network.view() : undefined;
    return pc.render({ view, now: pc.core.now() });
  },
};

/** The page. */
export default function Network({ data }: PageProps<Data>) {
  const { view, now } = data;
  if (view === undefined) {
    return (
      <Section title="Federation">
        <NotAvailable what="federation (the DHT)" />
      </Section>
    );
  }
  const buckets = view.buckets.filter((b) => b.contacts > 0);
  const widest = Math.max(1, ...buckets.map((b) => b.capacity));
  const peers = [...view.peers].sort((a, b) => (b.lastSeenAt ?? 0) - (a.lastSeenAt ?? 0));
  const self = view.selfCheck;
  const boot = view.bootstrap ?? [];
  return (
    <>
      {(self !== undefined || boot.length > 0) && (
        <Section title="Reachability">
          <Facts
            items={[
              ...(self === undefined ? [] : [
                [
                  "Public URL",
                  <span key="s">
                    <span class={`badge ${self.reachable ? "badge-ok" : "badge-bad"}`}>
                      {self.reachable ? "reachable" : "not reachable"}
                    </span>{" "}
                    <code>{self.url}</code>
                    {self.error ? ` — ${self.error}` : ""}
                  </span>,
                ] as [string, ComponentChildren],
                [
                  "Reached by a peer",
                  self.peerReachedAt ? formatAgo(self.peerReachedAt, now) : "not yet",
                ] as [string, ComponentChildren],
              ]),
              ...boot.map((b) =>
                [
                  `Bootstrap ${b.url}`,
                  b.reachable
                    ? "answered"
                    : `unreachable (${b.lastError ?? "no answer"}), ${b.attempts} attempts${
                      b.nextRetryAt ? `, next retry ${formatTime(b.nextRetryAt).slice(11)} UTC` : ""
                    }`,
                ] as [string, ComponentChildren]
              ),
            ]}
          />
        </Section>
      )}
      <Section title="This node">
        <Facts
          items={[
            ["Node id", <code key="id">{view.nodeId}</code>],
            ["Advertised URL", <code key="url">{view.url ?? "–"}</code>],
            ["Peers known", formatCount(view.peers.length)],
            ["Non-empty buckets", formatCount(buckets.length)],
            ...Object.entries(view.counters).map(([k, v]) =>
              [k.charAt(0).toUpperCase() + k.slice(1), formatCount(v)] as [string, string]
            ),
          ]}
        />
        <p class="muted">
          Notices are stored at the few servers closest to their tag; this node receives its share
          of the keyspace plus every notice in the regions its wallets watch. A wallet watching b
          prefix bits costs 1/2^b of the whole network's notices: a 0-bit wallet (or{" "}
          <code>--follow all</code>) costs all of them. <code>--follow-min-bits</code>{" "}
          sets the shortest prefix this node follows.
        </p>
      </Section>
      <div class="grid2">
        <Section title="Routing table">
          {buckets.length === 0 ? <p class="muted">Empty: no peers yet.</p> : (
            <table>
              <thead>
                <tr>
                  <th>Bucket</th>
                  <th class="num">Contacts</th>
                  <th>Fill</th>
                </tr>
              </thead>
              <tbody>
                {buckets.map((b) => (
                  <tr key={b.index}>
                    <td>{b.index}</td>
                    <td class="num">{b.contacts} / {b.capacity}</td>
                    <td style={{ width: "50%" }}>
                      <div class="bar">
                        <span style={{ width: `${(b.contacts / widest) * 100}%` }} />
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
        <Section title="Peers">
          {peers.length === 0 ? <p class="muted">No peers yet.</p> : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Node</th>
                    <th>URL</th>
                    <th>State</th>
                    <th class="num">Bucket</th>
                    <th>Last seen</th>
                    <th class="num">RTT</th>
                  </tr>
                </thead>
                <tbody>
                  {peers.map((p) => {
                    const up = peerUp(p, now);
                    return (
                      <tr key={p.id} data-peer={p.url} data-up={String(up)}>
                        <td>
                          <code title={p.id}>{p.id.slice(0, 12)}…</code>
                        </td>
                        <td>
                          <code>{p.url}</code>
                        </td>
                        <td>
                          <span
                            class={`badge ${
                              up === true ? "badge-ok" : up === false ? "badge-bad" : ""
                            }`}
                            title={up === false ? p.lastError ?? undefined : undefined}
                          >
                            {up === true ? "up" : up === false ? "down" : "unknown"}
                          </span>
                          {up === false && p.lastOkAt
                            ? ` (last answer ${formatAgo(p.lastOkAt, now)})`
                            : ""}
                        </td>
                        <td class="num">{p.bucket ?? "–"}</td>
                        <td>{formatAgo(p.lastSeenAt, now)}</td>
                        <td class="num">{p.rttMs === null ? "–" : `${Math.round(p.rttMs)} ms`}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </Section>
      </div>
    </>
  );
}
