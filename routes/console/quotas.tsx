/**
 * Quotas: accounts (search, create, credit, disable), tokens issued and redeemed per day, the
 * spent-token set and the issuer keys, from the token issuer's console source.
 *
 * @module
 */
import {
  type AccountView,
  formInt,
  formString,
  type Handlers,
  type PageProps,
  type QuotaStats,
} from "../../node/console/mod.ts";
import { CsrfField, Facts, NotAvailable, Section } from "../../components/Form.tsx";
import { formatCount, formatTime } from "../../components/format.ts";

/** Page title. */
export const title = "Quotas";

const PAGE_SIZE = 50;
const short = (id: string) => id.length > 24 ? `${id.slice(0, 16)}…` : id;
const DAYS = 14;

interface Data {
  available: boolean;
  search: string;
  offset: number;
  accounts: AccountView[];
  total: number;
  stats: QuotaStats | undefined;
}

/** GET lists accounts (`?q=` searches, `?offset=` pages); POST creates, credits or disables. */
export const handler: Handlers<Data> = {
  async GET(pc) {
    const quota = pc.sources.quota;
    const search = (pc.url.searchParams.get("q") ?? "").trim().slice(0, 100);
    const offset = Math.max(0, Number(pc.url.searchParams.get("offset")) | 0);
    if (!quota) {
      return pc.render({
        available: false,
        search,
        offset,
        accounts: [],
        total: 0,
        stats: undefined,
      });
    }
    const [list, stats] = await Promise.all([
      quota.accounts({ search, limit: PAGE_SIZE, offset }),
      quota.stats(DAYS),
    ]);
    return pc.render({ available: true, search, offset, ...list, stats });
  },
  async POST(pc) {
    const quota = pc.sources.quota;
    const back = "/console/quotas" + pc.url.search;
    if (!quota) {
      return pc.redirect(back, { kind: "error", text: "The token issuer is not running." });
    }
    const action = formString(pc.form, "action");
    const account = formString(pc.form, "account");
    try {
      switch (action) {
        case "create": {
          const a = await quota.createAccount();
          return pc.redirect(`/console/quotas?q=${encodeURIComponent(a.id)}`, {
            kind: "ok",
            text: `Created account ${a.id}. Give the number to its owner: it is not shown again.`,
          });
        }
        case "credit": {
          const tokens = formInt(pc.form, "tokens", "Tokens", { min: 1, max: 1_000_000_000 });
          await quota.credit(account, tokens);
          return pc.redirect(back, {
            kind: "ok",
            text: `Credited ${formatCount(tokens)} tokens to account ${short(account)}.`,
          });
        }
        case "disable":
        case "enable":
          await quota.setDisabled(account, action === "disable");
          return pc.redirect(back, { kind: "ok", text: `Account ${short(account)} ${action}d.` });
        default:
          return pc.redirect(back, { kind: "error", text: `Unknown action '${action}'.` });
      }
    } catch (err) {
      if (err instanceof RangeError || err instanceof TypeError) {
        return pc.redirect(back, { kind: "error", text: err.message });
      }
      throw err;
    }
  },
};

function DailyBars({ stats }: { stats: QuotaStats }) {
  const top = Math.max(1, ...stats.daily.map((d) => Math.max(d.issued, d.redeemed)));
  if (stats.daily.every((d) => d.issued === 0 && d.redeemed === 0)) {
    return <p class="muted">No tokens issued or redeemed in the last {stats.daily.length} days.</p>;
  }
  return (
    <>
      <div class="bars" role="img" aria-label="Tokens issued and redeemed per day">
        {stats.daily.map((d) => (
          <div key={d.day} title={`${d.day}: ${d.issued} issued, ${d.redeemed} redeemed`}>
            <span class="issued" style={{ height: `${(d.issued / top) * 100}%` }} />
          </div>
        ))}
      </div>
      <div class="bars" style={{ height: "40px", marginTop: "4px" }} aria-hidden="true">
        {stats.daily.map((d) => (
          <div key={d.day}>
            <span class="redeemed" style={{ height: `${(d.redeemed / top) * 100}%` }} />
          </div>
        ))}
      </div>
      <div class="legend">
        <span>
          <i style={{ background: "var(--accent)" }} />issued
        </span>
        <span>
          <i style={{ background: "var(--ok)" }} />redeemed
        </span>
        <span>last {stats.daily.length} days (UTC), max {formatCount(top)}/day</span>
      </div>
    </>
  );
}

/** The page. */
export default function Quotas({ data, page }: PageProps<Data>) {
  if (!data.available) {
    return (
      <Section title="Accounts and tokens">
        <NotAvailable what="the token issuer" />
      </Section>
    );
  }
  const stats = data.stats!;
  const today = stats.daily[stats.daily.length - 1];
  const q = data.search ? `q=${encodeURIComponent(data.search)}&` : "";
  const here = data.search
    ? `/console/quotas?q=${encodeURIComponent(data.search)}`
    : "/console/quotas";
  return (
    <>
      <div class="grid2">
        <Section title="Tokens">
          <Facts
            items={[
              ["Issued today", formatCount(today?.issued ?? 0)],
              ["Redeemed today", formatCount(today?.redeemed ?? 0)],
              ["Spent set size", formatCount(stats.spentSetSize)],
            ]}
          />
          <div style={{ marginTop: "14px" }}>
            <DailyBars stats={stats} />
          </div>
        </Section>
        <Section title="Issuer keys">
          {stats.keys.length === 0 ? <p class="muted">No keys yet.</p> : (
            <table>
              <thead>
                <tr>
                  <th>Key id</th>
                  <th>Created</th>
                  <th>Rotates</th>
                  <th>Expires</th>
                </tr>
              </thead>
              <tbody>
                {stats.keys.map((k) => (
                  <tr key={k.id}>
                    <td>
                      <code title={k.id}>{k.id.slice(0, 12)}…</code>{" "}
                      {k.current && <span class="badge badge-ok">current</span>}
                    </td>
                    <td>{formatTime(k.createdAt)}</td>
                    <td>{formatTime(k.rotatesAt)}</td>
                    <td>{formatTime(k.expiresAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      </div>
      <Section title="Accounts">
        <div class="actions" style={{ justifyContent: "space-between", marginBottom: "12px" }}>
          <form method="get" action="/console/quotas" class="inline" role="search">
            <input
              type="search"
              name="q"
              value={data.search}
              placeholder="Account number"
              aria-label="Search accounts"
            />
            <button type="submit" class="secondary">Search</button>
          </form>
          <form method="post" action="/console/quotas" class="inline">
            <CsrfField token={page.csrf} />
            <input type="hidden" name="action" value="create" />
            <button type="submit">Create account</button>
          </form>
        </div>
        {data.accounts.length === 0
          ? <p class="muted">{data.search ? "No account matches." : "No accounts yet."}</p>
          : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Account</th>
                    <th>Created</th>
                    <th class="num">Credit</th>
                    <th class="num">Issued</th>
                    <th>Status</th>
                    <th>Credit tokens</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  {data.accounts.map((a) => (
                    <tr key={a.id} data-account={a.id}>
                      <td>
                        <code title={a.id}>
                          {a.id.length > 24 ? `${a.id.slice(0, 16)}…` : a.id}
                        </code>
                      </td>
                      <td>{formatTime(a.createdAt)}</td>
                      <td class="num">{formatCount(a.credit)}</td>
                      <td class="num">
                        {a.issuedTotal === undefined ? "–" : formatCount(a.issuedTotal)}
                      </td>
                      <td>
                        {a.disabled
                          ? <span class="badge badge-bad">disabled</span>
                          : <span class="badge badge-ok">active</span>}
                      </td>
                      <td>
                        <form method="post" action={here} class="inline">
                          <CsrfField token={page.csrf} />
                          <input type="hidden" name="action" value="credit" />
                          <input type="hidden" name="account" value={a.id} />
                          <input
                            class="small"
                            type="number"
                            name="tokens"
                            min="1"
                            required
                            placeholder="tokens"
                            aria-label={`Tokens to credit to ${a.id}`}
                          />
                          <button type="submit" class="secondary">Credit</button>
                        </form>
                      </td>
                      <td>
                        <form method="post" action={here} class="inline">
                          <CsrfField token={page.csrf} />
                          <input
                            type="hidden"
                            name="action"
                            value={a.disabled ? "enable" : "disable"}
                          />
                          <input type="hidden" name="account" value={a.id} />
                          <button type="submit" class={a.disabled ? "secondary" : "danger"}>
                            {a.disabled ? "Enable" : "Disable"}
                          </button>
                        </form>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        <p class="muted">
          {formatCount(data.total)} account{data.total === 1 ? "" : "s"}
          {data.total > PAGE_SIZE && (
            <>
              {" · "}
              {data.offset > 0 && (
                <a href={`/console/quotas?${q}offset=${Math.max(0, data.offset - PAGE_SIZE)}`}>
                  previous
                </a>
              )}{" "}
              {data.offset + PAGE_SIZE < data.total && (
                <a href={`/console/quotas?${q}offset=${data.offset + PAGE_SIZE}`}>next</a>
              )}
            </>
          )}
        </p>
      </Section>
    </>
  );
}
