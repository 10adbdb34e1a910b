/**
 * Pricing: the operator's prices and limits, and the payment settings (the xpub invoices
 * derive addresses from, the Esplora backend that detects payments, the confirmations a
 * payment needs). A change applies at once and shows in `/v1/pricing`; a refused value
 * re-renders the form with the operator's input and the message next to the field. Below:
 * invoices and their status, from the fees console source.
 *
 * @module
 */
import {
  FieldError,
  formString,
  type Handlers,
  type InvoiceView,
  type PageProps,
  parseBytes,
  parseDuration,
  type PaymentPreviewView,
  type PaymentStatusView,
  type PricingView,
} from "../../node/console/mod.ts";
import { CsrfField, Facts, NotAvailable, Section } from "../../components/Form.tsx";
import { formatBytes, formatCount, formatDuration, formatTime } from "../../components/format.ts";

/** Page title. */
export const title = "Pricing";

interface Data {
  pricing: PricingView | undefined;
  invoices: InvoiceView[];
  counts: Record<string, number>;
  status: PaymentStatusView | undefined;
  readOnly: Partial<Record<keyof PricingView, string>>;
  /** What the operator typed, when a refused form is shown again. */
  values?: Partial<Record<keyof PricingView, string>>;
  /** Messages by field, when a form was refused. */
  errors?: Partial<Record<keyof PricingView, string>>;
  /** What the payment form would derive (the Preview button), not saved. */
  preview?: PaymentPreviewView | undefined;
}

type Kind = "int" | "duration" | "bytes" | "text" | "address-type";
interface Field {
  key: keyof PricingView;
  label: string;
  kind: Kind;
  help: string;
  wide?: boolean;
  placeholder?: string;
}

const PRICE_FIELDS: readonly Field[] = [
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
    help: "Price of one bundle; 0 sells nothing.",
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
];

const PAYMENT_FIELDS: readonly Field[] = [
  {
    key: "xpub",
    label: "Extended public key (xpub)",
    kind: "text",
    wide: true,
    placeholder: "zpub6r… (empty: fees off)",
    help: "Account-level xpub, ypub or zpub (tpub, upub, vpub on testnet). New invoices derive " +
      "receive addresses <key>/0/<index> from it; indices count per key, so a new key starts " +
      "at 0. Never paste a private key.",
  },
  {
    key: "esploraUrl",
    label: "Payment backend (Esplora API URL)",
    kind: "text",
    wide: true,
    placeholder: "https://blockstream.info/api (empty: payments not detected)",
    help: "An Esplora-compatible HTTP API (electrs, mempool.space); http:// or https://. " +
      "The next poll uses it.",
  },
  {
    key: "addressType",
    label: "Address type",
    kind: "address-type",
    help: "Which addresses invoices use. Automatic follows the key's prefix.",
  },
  {
    key: "confirmations",
    label: "Confirmations",
    kind: "int",
    help: "Blocks a payment needs; 0 accepts mempool transactions.",
  },
];

const ADDRESS_TYPE_OPTIONS: readonly [string, string][] = [
  ["auto", "Automatic: the key's prefix (xpub → 1…, ypub → 3…, zpub → bc1q…)"],
  ["p2wpkh", "Native segwit, P2WPKH (bc1q…, BIP84)"],
  ["p2sh-p2wpkh", "Nested segwit, P2SH-P2WPKH (3…, BIP49)"],
  ["p2pkh", "Legacy, P2PKH (1…, BIP44)"],
];

const ALL_FIELDS = [...PRICE_FIELDS, ...PAYMENT_FIELDS];

function show(kind: Kind, v: string | number): string {
  if (kind === "duration") return formatDuration(Number(v)).replace(" ", "");
  if (kind === "bytes") return formatBytes(Number(v)).replace(" ", "").replace(/^(\d+)B$/, "$1");
  return String(v);
}

function parse(f: Field, raw: string): string | number {
  try {
    if (f.kind === "text" || f.kind === "address-type") return raw;
    if (f.kind === "duration") return parseDuration(raw);
    if (f.kind === "bytes") return parseBytes(raw);
  } catch (err) {
    throw new FieldError(f.key, `${f.label}: ${(err as Error).message}`);
  }
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new FieldError(f.key, `${f.label}: expected a whole number, got '${raw.slice(0, 40)}'`);
  }
  return Number(raw);
}

/** Which field a refusal is about: a FieldError says so; others start with the JSON name. */
function fieldOf(err: RangeError): keyof PricingView | undefined {
  if (err instanceof FieldError) {
    return ALL_FIELDS.find((f) => f.key === err.field)?.key;
  }
  const json: Record<string, keyof PricingView> = {
    tokens_per_bundle: "tokensPerBundle",
    bundle_price_sats: "bundlePriceSats",
    free_tokens: "freeTokensPerPeriod",
    quota_period_seconds: "periodSeconds",
    max_ttl_seconds: "maxTtlSeconds",
    max_payload_bytes: "maxPayloadBytes",
  };
  const name = /^(\w+)/.exec(err.message)?.[1];
  return name === undefined ? undefined : json[name];
}

async function load(pc: Parameters<NonNullable<Handlers<Data>["GET"]>>[0]): Promise<Data> {
  const fees = pc.sources.pricing;
  if (!fees) {
    return { pricing: undefined, invoices: [], counts: {}, status: undefined, readOnly: {} };
  }
  const [pricing, invoices, counts, status] = await Promise.all([
    fees.get(),
    fees.invoices({ limit: 50 }),
    fees.invoiceCounts ? fees.invoiceCounts() : {},
    fees.status ? fees.status() : undefined,
  ]);
  return { pricing, invoices, counts, status, readOnly: fees.readOnly ?? {} };
}

/**
 * GET shows the forms and invoices; POST applies the changed fields of the form sent, or with
 * `action=preview` shows the addresses the payment form would derive without saving.
 */
export const handler: Handlers<Data> = {
  async GET(pc) {
    return pc.render(await load(pc));
  },
  async POST(pc) {
    const fees = pc.sources.pricing;
    if (!fees) {
      return pc.redirect("/console/pricing", { kind: "error", text: "Fees are not running." });
    }
    const values: Partial<Record<keyof PricingView, string>> = {};
    if (formString(pc.form, "action") === "preview" && fees.preview) {
      const patch: Record<string, string | number> = {};
      try {
        for (const f of PAYMENT_FIELDS) {
          if (!pc.form?.has(f.key) || fees.readOnly?.[f.key] !== undefined) continue;
          values[f.key] = formString(pc.form, f.key);
          if (f.key === "xpub" || f.key === "addressType") patch[f.key] = parse(f, values[f.key]!);
        }
        const preview = await fees.preview(patch as Partial<PricingView>);
        return pc.render({ ...await load(pc), values, preview }, {
          flash: {
            kind: "ok",
            text: preview === undefined
              ? "No key given: nothing to preview."
              : "Preview only: compare these addresses with your wallet, then save.",
          },
        });
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        const field = fieldOf(err);
        return pc.render(
          {
            ...await load(pc),
            values,
            errors: field === undefined ? {} : { [field]: err.message },
          },
          { status: 400, flash: { kind: "error", text: `Cannot preview: ${err.message}` } },
        );
      }
    }
    try {
      const current = await fees.get();
      const patch: Record<string, string | number> = {};
      for (const f of ALL_FIELDS) {
        if (!pc.form?.has(f.key) || fees.readOnly?.[f.key] !== undefined) continue;
        const raw = formString(pc.form, f.key);
        values[f.key] = raw;
        const v = parse(f, raw);
        if (v !== current[f.key]) patch[f.key] = v;
      }
      if (Object.keys(patch).length === 0) {
        return pc.redirect("/console/pricing", { kind: "ok", text: "Nothing changed." });
      }
      await fees.update(patch as Partial<PricingView>);
      const names = ALL_FIELDS.filter((f) => f.key in patch).map((f) => f.label.toLowerCase());
      pc.core.log.child("console").info("pricing changed", { fields: Object.keys(patch) });
      return pc.redirect("/console/pricing", {
        kind: "ok",
        text: `Saved: ${names.join(", ")}. In effect now.`,
      });
    } catch (err) {
      if (!(err instanceof RangeError || err instanceof TypeError)) throw err;
      // Show the form again with what the operator typed and the message at the field.
      const data = await load(pc);
      const field = err instanceof RangeError ? fieldOf(err) : undefined;
      return pc.render(
        { ...data, values, errors: field === undefined ? {} : { [field]: err.message } },
        { status: 400, flash: { kind: "error", text: `Not saved: ${err.message}` } },
      );
    }
  },
};

const STATUS_BADGE: Record<string, string> = {
  paid: "badge-ok",
  pending: "badge-warn",
  expired: "badge-bad",
};

function Inputs({ fields, data, p }: { fields: readonly Field[]; data: Data; p: PricingView }) {
  return (
    <div class="form-grid">
      {fields.map((f) => {
        const error = data.errors?.[f.key];
        const value = data.values?.[f.key] ?? show(f.kind, p[f.key]);
        if (f.kind === "address-type") {
          return (
            <label key={f.key} class="wide">
              {f.label}
              <select
                name={f.key}
                disabled={data.readOnly[f.key] !== undefined}
                aria-invalid={error !== undefined ? "true" : undefined}
                aria-describedby={`${f.key}-help`}
              >
                {ADDRESS_TYPE_OPTIONS.map(([v, text]) => (
                  <option key={v} value={v} selected={v === value}>{text}</option>
                ))}
              </select>
              {error !== undefined && (
                <small class="field-error" id={`${f.key}-error`}>{error}</small>
              )}
              <small id={`${f.key}-help`}>{data.readOnly[f.key] ?? f.help}</small>
            </label>
          );
        }
        return (
          <label key={f.key} class={f.wide ? "wide" : undefined}>
            {f.label}
            <input
              name={f.key}
              value={value}
              inputMode={f.kind === "int" ? "numeric" : undefined}
              spellcheck={false}
              autocomplete="off"
              disabled={data.readOnly[f.key] !== undefined}
              placeholder={f.placeholder}
              aria-invalid={error !== undefined ? "true" : undefined}
              aria-describedby={`${f.key}-help`}
            />
            {error !== undefined && (
              <small class="field-error" id={`${f.key}-error`}>{error}</small>
            )}
            <small id={`${f.key}-help`}>{data.readOnly[f.key] ?? f.help}</small>
          </label>
        );
      })}
    </div>
  );
}

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
  const st = data.status;
  const counts = data.counts;
  return (
    <>
      <Section title="Prices and limits">
        <form method="post" action="/console/pricing" class="stack" style={{ maxWidth: "none" }}>
          <CsrfField token={page.csrf} />
          <Inputs fields={PRICE_FIELDS} data={data} p={p} />
          <div class="actions">
            <button type="submit">Save prices</button>
            <span class="muted">
              Takes effect immediately; wallets see it at <a href="/v1/pricing">/v1/pricing</a>.
            </span>
          </div>
        </form>
      </Section>
      <Section title="Payments" id="payments">
        {st !== undefined && (
          <Facts
            items={[
              [
                "Fees",
                <span key="f" class={`badge ${st.feesEnabled ? "badge-ok" : "badge-bad"}`}>
                  {st.feesEnabled ? "on" : "off"}
                </span>,
              ],
              ["Network", st.network ?? "–"],
              [
                "Address type",
                st.addressType === "p2pkh" && p.addressType === "auto"
                  ? (
                    <span key="t" class="address-type-hint">
                      p2pkh (legacy, from the key's prefix) — exported from a segwit account? See
                      {" "}
                      <em>Which address type?</em> below.
                    </span>
                  )
                  : st.addressType ?? "–",
              ],
              [
                "Next invoice address",
                st.nextAddress === undefined
                  ? "– (no xpub)"
                  : <code key="a" class="next-address">{st.nextAddress} (#{st.nextIndex})</code>,
              ],
              [
                "Payment detection",
                p.esploraUrl === "" ? "off (no backend URL)" : `on, ${p.confirmations} conf.`,
              ],
            ]}
          />
        )}
        <form
          method="post"
          action="/console/pricing#payments"
          class="stack"
          style={{ maxWidth: "none", marginTop: "14px" }}
        >
          <CsrfField token={page.csrf} />
          <Inputs fields={PAYMENT_FIELDS} data={data} p={p} />
          <details class="explain">
            <summary>Which address type? (xpub, ypub, zpub and hardware wallets)</summary>
            <p>
              The key's first letters say which addresses it was made for: <code>xpub</code>{" "}
              legacy addresses starting 1 (BIP44), <code>ypub</code>{" "}
              nested segwit starting 3 (BIP49), <code>zpub</code>{" "}
              native segwit starting bc1q (BIP84); on testnet <code>tpub</code>, <code>upub</code>,
              {" "}
              <code>vpub</code>. Automatic follows that.
            </p>
            <p>
              Many wallets — Ledger Live, Trezor Suite, Sparrow and most hardware wallets — export
              every account key with the <code>xpub</code>{" "}
              prefix, even for a native segwit account (derivation path m/84'/0'/0'). Automatic
              would then make legacy addresses that your wallet never watches, and payments would
              seem lost. Choose the type of the account you exported (for a Ledger or Trezor "Native
              Segwit" account: native segwit), press{" "}
              <em>Preview</em>, and check that the first address below is the first receive address
              your wallet shows for that account.
            </p>
          </details>
          {data.preview !== undefined && (
            <div class="preview" id="preview">
              <p>
                <strong>Preview (not saved):</strong> {data.preview.network}, {data.preview.type}
                {data.preview.type !== data.preview.keyType
                  ? ` (the key's prefix implies ${data.preview.keyType})`
                  : ""}
              </p>
              <ol start={0}>
                {data.preview.addresses.map((a) => (
                  <li key={a}>
                    <code class="preview-address">{a}</code>
                  </li>
                ))}
              </ol>
            </div>
          )}
          <div class="actions">
            <button type="submit" name="action" value="preview" class="secondary">
              Preview addresses
            </button>
            <button type="submit">Save payment settings</button>
            <span class="muted">
              The next invoice uses the new key; invoices already made keep their addresses and are
              still watched.
            </span>
          </div>
        </form>
      </Section>
      <Section title="Invoices" id="invoices">
        <p class="muted">
          {["pending", "paid", "expired"].map((s) => `${formatCount(counts[s] ?? 0)} ${s}`).join(
            " · ",
          )} — newest 50 below.
        </p>
        {data.invoices.length === 0
          ? <p class="muted">No invoices yet.</p>
          : (
            <div class="table-wrap">
              <table class="invoices">
                <thead>
                  <tr>
                    <th>Invoice</th>
                    <th>Account</th>
                    <th class="num">Amount (sats)</th>
                    <th class="num">Received</th>
                    <th class="num">Tokens</th>
                    <th>Address</th>
                    <th>Key / index</th>
                    <th>Created</th>
                    <th>Expires / paid</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {data.invoices.map((i) => (
                    <tr key={i.id} data-invoice={i.id}>
                      <td>
                        <code title={i.id}>{i.id.slice(0, 10)}</code>
                      </td>
                      <td>
                        <code>{i.account}</code>
                      </td>
                      <td class="num">{formatCount(i.amountSats)}</td>
                      <td class="num">
                        {i.receivedSats === undefined ? "–" : formatCount(i.receivedSats)}
                      </td>
                      <td class="num">{formatCount(i.tokens)}</td>
                      <td>
                        <code class="address">{i.address}</code>
                      </td>
                      <td>
                        <code>{i.xpub || "(older)"}</code>
                        {i.addressIndex !== undefined ? ` #${i.addressIndex}` : ""}
                      </td>
                      <td>{formatTime(i.createdAt)}</td>
                      <td>
                        {i.paidAt ? `paid ${formatTime(i.paidAt)}` : formatTime(i.expiresAt)}
                      </td>
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
