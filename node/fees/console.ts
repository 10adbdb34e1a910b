/**
 * The fees feature's part of the operator console (the Pricing page): prices, limits, the
 * free quota and payment settings in one form, whether fees are on with the next invoice
 * address, and the invoices. Published as the console's `PRICING_CONSOLE` service; the console
 * never reads the fees tables.
 *
 * @module
 */
import {
  FieldError,
  type InvoiceView,
  type PricingSource,
  type PricingView,
} from "../console/mod.ts";
import type { FreeQuota } from "../quota/mod.ts";
import type { FeeSettings } from "./fee_settings.ts";
import type { InvoiceService } from "./invoices.ts";
import { checkXpub, deriveOptions, PAYMENT_FIELDS, PaymentSettingsError } from "./settings.ts";
import type { FeesStore } from "./store.ts";

const PRICING_JSON: Record<keyof PricingView, string> = {
  tokensPerBundle: "tokens_per_bundle",
  bundlePriceSats: "bundle_price_sats",
  freeTokensPerPeriod: "free_tokens",
  periodSeconds: "quota_period_seconds",
  maxTtlSeconds: "max_ttl_seconds",
  maxPayloadBytes: "max_payload_bytes",
  xpub: "xpub",
  esploraUrl: "esplora_url",
  confirmations: "confirmations",
  addressType: "address_type",
};

/** An xpub shortened for tables: `zpub6rFR7y…GutZYs`. */
function shortKey(xpub: string): string {
  return xpub.length > 20 ? `${xpub.slice(0, 10)}…${xpub.slice(-6)}` : xpub;
}

/** Options for {@linkcode pricingConsole}. */
export interface PricingConsoleOptions {
  settings: FeeSettings;
  invoices: InvoiceService;
  store: FeesStore;
  /** The quota feature's free quota (resolved once the node's services are published). */
  freeQuota: () => FreeQuota;
}

/**
 * The Pricing page's source.
 *
 * @example
 * ```ts ignore
 * core.provide(PRICING_CONSOLE, pricingConsole({ settings, invoices, store, freeQuota }));
 * ```
 */
export function pricingConsole(opts: PricingConsoleOptions): PricingSource {
  const { settings, invoices, store } = opts;
  return {
    get() {
      const j = settings.json(opts.freeQuota());
      const pay = settings.payment();
      return {
        tokensPerBundle: j.tokens_per_bundle,
        bundlePriceSats: j.bundle_price_sats,
        freeTokensPerPeriod: j.free_tokens,
        periodSeconds: j.quota_period_seconds,
        maxTtlSeconds: j.max_ttl_seconds,
        maxPayloadBytes: j.max_payload_bytes,
        xpub: pay.xpub,
        esploraUrl: pay.esploraUrl,
        confirmations: pay.confirmations,
        addressType: pay.addressType ?? "auto",
      };
    },
    preview(patch) {
      const json: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(patch)) {
        const name = PRICING_JSON[k as keyof PricingView];
        if (name !== undefined && (PAYMENT_FIELDS as readonly string[]).includes(name)) {
          json[name] = v;
        }
      }
      try {
        return settings.preview(json);
      } catch (err) {
        if (err instanceof PaymentSettingsError) {
          const field = Object.entries(PRICING_JSON).find(([, j]) => j === err.field)?.[0];
          throw new FieldError(field ?? err.field, err.message);
        }
        throw err;
      }
    },
    async update(patch) {
      const json: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(patch)) {
        const name = PRICING_JSON[k as keyof PricingView];
        if (name === undefined) throw new RangeError(`${k}: not a pricing field`);
        json[name] = v;
      }
      try {
        await settings.update(json, opts.freeQuota());
      } catch (err) {
        if (err instanceof PaymentSettingsError) {
          const field = Object.entries(PRICING_JSON).find(([, j]) => j === err.field)?.[0];
          throw new FieldError(field ?? err.field, err.message);
        }
        throw err;
      }
    },
    async status() {
      const feesEnabled = invoices.enabled;
      const pay = settings.payment();
      const deriver = checkXpub(pay.xpub, deriveOptions(pay, settings.xpubOptions));
      if (deriver === undefined) return { feesEnabled };
      const nextIndex = await store.nextAddressIndex(deriver.xpub);
      return {
        feesEnabled,
        network: deriver.network,
        addressType: deriver.type,
        nextAddress: deriver.address(nextIndex),
        nextIndex,
      };
    },
    invoiceCounts: () => store.invoiceCounts(),
    health: () => invoices.health(),
    async invoices({ limit }) {
      return (await store.listInvoices(limit)).map((inv): InvoiceView => ({
        id: inv.id,
        account: inv.accountHash.toHex().slice(0, 16),
        amountSats: inv.amountSats,
        tokens: inv.tokens,
        status: inv.status,
        address: inv.address,
        createdAt: inv.createdAt,
        receivedSats: inv.receivedSats,
        expiresAt: inv.expiresAt,
        paidAt: inv.paidAt,
        xpub: shortKey(inv.xpub),
        addressIndex: inv.addressIndex,
      }));
    },
  };
}
