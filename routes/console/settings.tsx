/**
 * Settings: the effective configuration (secrets redacted), how to reach `/metrics`, the
 * operator password and sessions.
 *
 * @module
 */
import {
  configSchema,
  envName,
  flagName,
  type Handlers,
  type PageProps,
  redactedConfig,
} from "../../node/console/mod.ts";
import { CsrfField, Facts, Section } from "../../components/Form.tsx";

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
}

interface Data {
  rows: Row[];
  adminToken: boolean;
}

function show(v: unknown): string {
  if (v === undefined) return "(none)";
  if (Array.isArray(v)) return v.length ? v.join(", ") : "(empty)";
  return String(v);
}

/** GET shows the configuration; POST `action=logout-all` ends every session. */
export const handler: Handlers<Data> = {
  async GET(pc) {
    const shown = redactedConfig(pc.core.config);
    // Payment settings are edited at run time (Pricing page); show the values in force.
    const live = pc.sources.pricing ? await pc.sources.pricing.get() : undefined;
    if (live) {
      shown.feeXpub = live.xpub === "" ? undefined : live.xpub;
      shown.esploraUrl = live.esploraUrl === "" ? undefined : live.esploraUrl;
      shown.confirmations = live.confirmations;
    }
    const rows = Object.entries(configSchema()).map(([key, f]): Row => {
      const value = show(shown[key]);
      const defaultValue = show(f.default);
      return {
        key,
        flag: `--${flagName(key)}`,
        env: envName(key),
        value,
        defaultValue,
        changed: value !== defaultValue,
        description: f.description,
        unit: f.unit,
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
          Defaults &lt; config file &lt; environment &lt; flags. Secrets are shown as (redacted);
          values that differ from the default are highlighted.
        </p>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Flag / environment</th>
                <th>Value</th>
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
