/**
 * Settings: the values in force (secrets redacted) in the units the forms use, each with where
 * it came from (default, config file, environment, flag, or the console, which overrides the
 * start-up value of prices, limits and payment settings), how to reach `/metrics`, the operator
 * password and sessions.
 *
 * @module
 */
import {
  configSchema,
  type ConfigSource,
  configSources,
  envName,
  flagName,
  type Handlers,
  type PageProps,
  type PricingView,
  redactedConfig,
} from "../../node/console/mod.ts";
import { CsrfField, Facts, Section } from "../../components/Form.tsx";
import { formatBytesExact, formatSeconds } from "../../components/format.ts";

/** Page title. */
export const title = "Settings";

interface Row {
  key: string;
  flag: string;
  env: string;
  value: string;
  defaultValue: string;
  changed: boolean;
  description: string;
  unit: string | undefined;
  source: ConfigSource | "console";
}

interface Data {
  rows: Row[];
  adminToken: boolean;
}

function show(v: unknown, kind: string): string {
  if (v === undefined) return "(none)";
  if (Array.isArray(v)) return v.length ? v.join(", ") : "(empty)";
  if (typeof v === "number" && kind === "duration") return formatSeconds(v);
  if (typeof v === "number" && kind === "bytes") return formatBytesExact(v);
  return String(v);
}

/** Configuration keys the Pricing page changes at run time, and their live field. */
const LIVE: Record<string, keyof PricingView> = {
  tokensPerBundle: "tokensPerBundle",
  bundlePriceSats: "bundlePriceSats",
  freeTokens: "freeTokensPerPeriod",
  quotaPeriod: "periodSeconds",
  maxTtl: "maxTtlSeconds",
  maxPayloadBytes: "maxPayloadBytes",
  feeXpub: "xpub",
  esploraUrl: "esploraUrl",
  confirmations: "confirmations",
  feeAddressType: "addressType",
};

const SOURCE_TEXT: Record<Row["source"], string> = {
  default: "default",
  file: "config file",
  env: "environment",
  flag: "flag",
  console: "console",
};

/** GET shows the configuration; POST `action=logout-all` ends every session. */
export const handler: Handlers<Data> = {
  async GET(pc) {
    const shown = redactedConfig(pc.core.config);
    const from = configSources(pc.core.config);
    // Prices, limits and payment settings change at run time (Pricing page): show the values
    // in force, and "console" where they differ from the start-up value.
    const live = pc.sources.pricing ? await pc.sources.pricing.get() : undefined;
    const byConsole = new Set<string>();
    if (live) {
      for (const [key, field] of Object.entries(LIVE)) {
        const raw = live[field];
        const v = raw === "" ? undefined : raw;
        if (v !== (shown[key] ?? undefined)) {
          shown[key] = v;
          byConsole.add(key);
        }
      }
    }
    const rows = Object.entries(configSchema()).map(([key, f]): Row => {
      const value = show(shown[key], f.kind);
      const defaultValue = show(f.default, f.kind);
      return {
        key,
        flag: `--${flagName(key)}`,
        env: envName(key),
        value,
        defaultValue,
        changed: value !== defaultValue,
        description: f.description,
        // A unit the value's form already says (7d, 10GiB) is not repeated.
        unit: f.kind === "duration" || f.kind === "bytes" ? undefined : f.unit,
        source: byConsole.has(key) ? "console" : from[key] ?? "default",
      };
    });
    return pc.render({ rows, adminToken: pc.core.config.adminToken !== undefined });
  },
  async POST(pc) {
    if (pc.form?.get("action") === "logout-all") {
      await pc.endAllSessions();
      return pc.redirect("/console/login");
    }
    return pc.redirect("/console/settings", { kind: "error", text: "Unknown action." });
  },
};

/** The page. */
export default function Settings({ data, page }: PageProps<Data>) {
  return (
    <>
      <div class="grid2">
        <Section title="Access">
          <Facts
            items={[
              ["Console", "password login (scrypt), session cookie"],
              [
                "Admin API and /metrics",
                data.adminToken
                  ? "session, or Authorization: Bearer <admin token>"
                  : "session only (set --admin-token for scripts)",
              ],
            ]}
          />
        </Section>
        <Section title="Operator password">
          <div class="actions">
            <a href="/console/password">Change password</a>
            <form method="post" action="/console/settings" class="inline">
              <CsrfField token={page.csrf} />
              <input type="hidden" name="action" value="logout-all" />
              <button type="submit" class="danger">Log out all sessions</button>
            </form>
          </div>
          <p class="muted">
            From a shell on the node: <code>subspace admin passwd</code>.
          </p>
        </Section>
      </div>
      <Section title="Effective configuration">
        <p class="muted">
          Defaults &lt; config file &lt; environment &lt; flags &lt; console (prices, limits and
          payment settings saved on the Pricing page). Secrets are shown as (redacted); values that
          differ from the default are highlighted.
        </p>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Flag / environment</th>
                <th>Value</th>
                <th>Source</th>
                <th>Default</th>
                <th>Description</th>
              </tr>
            </thead>
            <tbody>
              {data.rows.map((r) => (
                <tr key={r.key} data-key={r.key}>
                  <td>
                    <code>{r.flag}</code>
                    <br />
                    <code class="muted">{r.env}</code>
                  </td>
                  <td class={r.changed ? "changed" : undefined}>
                    <code>{r.value}</code>
                    {r.unit && <span class="muted">{` ${r.unit}`}</span>}
                  </td>
                  <td class="source" data-source={r.source}>{SOURCE_TEXT[r.source]}</td>
                  <td>
                    <code class="muted">{r.defaultValue}</code>
                  </td>
                  <td>{r.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
    </>
  );
}
