/**
 * Pricing: the operator's prices and limits (a change applies at once and shows in
 * `/v1/pricing`), and recent invoices, from the fees console source.
 *
 * @module
 */
import {
  formString,
  type Handlers,
  type InvoiceView,
  type PageProps,
  parseBytes,
  parseDuration,
  type PricingView,
} from "../../node/console/mod.ts";
import { CsrfField, NotAvailable, Section } from "../../components/Form.tsx";
import { formatBytes, formatCount, formatDuration, formatTime } from "../../components/format.ts";

/** Page title. */
export const title = "Pricing";

interface Data {
  pricing: PricingView | undefined;
  invoices: InvoiceView[];
  readOnly: Partial<Record<keyof PricingView, string>>;
}

type Kind = "int" | "duration" | "bytes" | "text";
const FIELDS: readonly { key: keyof PricingView; label: string; kind: Kind; help: string }[] = [
  {
    key: "tokensPerBundle",
    label: "Tokens per bundle",
    kind: "int",
    help: "Tokens one paid bundle buys.",
  },
  {
    key: "bundlePriceSats",
    label: "Bundle price (sats)",
    kind: "int",
    help: "Price of one bundle.",
  },
  {
    key: "freeTokensPerPeriod",
    label: "Free tokens per period",
    kind: "int",
    help: "Free quota of every account.",
  },
  { key: "periodSeconds", label: "Quota period", kind: "duration", help: "e.g. 1d, 7d, 3600." },
  { key: "maxTtlSeconds", label: "Longest TTL", kind: "duration", help: "e.g. 7d, 28d." },
  { key: "maxPayloadBytes", label: "Largest payload", kind: "bytes", help: "e.g. 64KiB." },
  {
    key: "xpub",
    label: "xpub",
    kind: "text",
    help: "Invoice addresses derive from it; empty: fees off.",
  },
  {
    key: "esploraUrl",
    label: "Payment backend (Esplora URL)",
    kind: "text",
    help: "e.g. https://blockstream.info/api",
  },
];

function show(kind: Kind, v: string | number): string {
  if (kind === "duration") return formatDuration(Number(v)).replace(" ", "");
  if (kind === "bytes") return formatBytes(Number(v)).replace(" ", "").replace(/^(\d+)B$/, "$1");
  return String(v);
}

function parse(kind: Kind, label: string, raw: string): string | number {
  try {
    if (kind === "text") return raw;
    if (kind === "duration") return parseDuration(raw);
    if (kind === "bytes") return parseBytes(raw);
  } catch (err) {
    throw new RangeError(`${label}: ${(err as Error).message}`);
  }
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new RangeError(`${label}: expected a whole number, got '${raw.slice(0, 40)}'`);
  }
  return Number(raw);
}

/** GET shows the form and invoices; POST applies the changed fields. */
export const handler: Handlers<Data> = {
  async GET(pc) {
    const fees = pc.sources.pricing;
    if (!fees) return pc.render({ pricing: undefined, invoices: [], readOnly: {} });
    const [pricing, invoices] = await Promise.all([fees.get(), fees.invoices({ limit: 50 })]);
    return pc.render({ pricing, invoices, readOnly: fees.readOnly ?? {} });
  },
  async POST(pc) {
    const fees = pc.sources.pricing;
    if (!fees) {
      return pc.redirect("/console/pricing", { kind: "error", text: "Fees are not running." });
    }
    try {
      const current = await fees.get();
      const patch: Record<string, string | number> = {};
      for (const f of FIELDS) {
        if (!pc.form?.has(f.key) || fees.readOnly?.[f.key] !== undefined) continue;
        const v = parse(f.kind, f.label, formString(pc.form, f.key));
        if (v !== current[f.key]) patch[f.key] = v;
      }
      if (Object.keys(patch).length === 0) {
        return pc.redirect("/console/pricing", { kind: "ok", text: "Nothing changed." });
      }
      await fees.update(patch as Partial<PricingView>);
      const names = FIELDS.filter((f) => f.key in patch).map((f) => f.label.toLowerCase());
      pc.node.log.child("console").info("pricing changed", { fields: Object.keys(patch) });
      return pc.redirect("/console/pricing", {
        kind: "ok",
        text: `Saved: ${names.join(", ")}. In effect now.`,
      });
    } catch (err) {
      if (err instanceof RangeError || err instanceof TypeError) {
        return pc.redirect("/console/pricing", { kind: "error", text: err.message });
      }
      throw err;
    }
  },
};

const STATUS_BADGE: Record<string, string> = {
  paid: "badge-ok",
  pending: "badge-warn",
  expired: "badge-bad",
};

/** The page. */
export default function Pricing({ data, page }: PageProps<Data>) {
  const p = data.pricing;
  if (p === undefined) {
    return (
      <Section title="Prices and limits">
        <NotAvailable what="fees" />
      </Section>
    );
  }
  return (
    <>
      <Section title="Prices and limits">
        <form method="post" action="/console/pricing" class="stack" style={{ maxWidth: "none" }}>
          <CsrfField token={page.csrf} />
          <div class="form-grid">
            {FIELDS.map((f) => (
              <label key={f.key}>
                {f.label}
                <input
                  name={f.key}
                  value={show(f.kind, p[f.key])}
                  inputMode={f.kind === "int" ? "numeric" : undefined}
                  spellcheck={false}
                  autocomplete="off"
                  disabled={data.readOnly[f.key] !== undefined}
                  placeholder={f.kind === "text" ? "(not set)" : undefined}
                />
                <small>{data.readOnly[f.key] ?? f.help}</small>
              </label>
            ))}
          </div>
          <div class="actions">
            <button type="submit">Save prices</button>
            <span class="muted">
              Takes effect immediately; wallets see it at <a href="/v1/pricing">/v1/pricing</a>.
            </span>
          </div>
        </form>
      </Section>
      <Section title="Invoices">
        {data.invoices.length === 0
          ? <p class="muted">No invoices yet.</p>
          : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Invoice</th>
                    <th>Account</th>
                    <th class="num">Amount (sats)</th>
                    <th class="num">Tokens</th>
                    <th>Address</th>
                    <th>Created</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {data.invoices.map((i) => (
                    <tr key={i.id}>
                      <td>
                        <code title={i.id}>{i.id.slice(0, 10)}</code>
                      </td>
                      <td>
                        <code>{i.account}</code>
                      </td>
                      <td class="num">{formatCount(i.amountSats)}</td>
                      <td class="num">{formatCount(i.tokens)}</td>
                      <td>
                        <code>{i.address}</code>
                      </td>
                      <td>{formatTime(i.createdAt)}</td>
                      <td>
                        <span class={`badge ${STATUS_BADGE[i.status] ?? ""}`}>{i.status}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
      </Section>
    </>
  );
}
