/**
 * The settings of the pricing page, as one service over their three owners: the bundle price
 * and the message limits (kept here, in `fees_settings`; the limits applied through the
 * core's {@linkcode RuntimeLimits}), the payment settings (kept here), and the free quota (the
 * quota feature's, read and changed through its {@linkcode FreeQuota} service). An update is
 * validated whole before any part of it applies.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { FREE_QUOTA_FIELDS, type FreeQuota } from "../quota/mod.ts";
import type { RuntimeLimits } from "../runtime_limits.ts";
import type { EsploraOptions } from "./esplora.ts";
import { type Pricing, PRICING_FIELDS, pricingToJson, updatePricing } from "./pricing.ts";
import {
  checkXpub,
  deriveOptions,
  PAYMENT_FIELDS,
  type PaymentRuntime,
  paymentRuntime,
  type PaymentSettings,
  paymentSettingsToJson,
  updatePaymentSettings,
} from "./settings.ts";
import type { FeesStore } from "./store.ts";
import type { XpubOptions } from "./xpub.ts";

/** Every field of the pricing page in its JSON form (`GET /admin/api/pricing`). */
export interface PricingPageJson {
  tokens_per_bundle: number;
  bundle_price_sats: number;
  free_tokens: number;
  quota_period_seconds: number;
  max_ttl_seconds: number;
  max_payload_bytes: number;
}

/** What a key and address type would derive (see {@linkcode FeeSettings.preview}). */
export interface PaymentPreview {
  network: string;
  /** The type the key's prefix implies (xpub p2pkh, ypub p2sh-p2wpkh, zpub p2wpkh). */
  keyType: string;
  /** The type derived. */
  type: string;
  /** Receive addresses 0, 1, 2 (`<key>/0/<i>`). */
  addresses: string[];
}

/** Options for {@linkcode FeeSettings.open}. */
export interface FeeSettingsOptions {
  store: FeesStore;
  config: Config;
  limits: RuntimeLimits;
  log: Logger;
  /** Options of the Esplora client (tests pass their `fetch`). */
  esploraOptions?: EsploraOptions;
}

/** Prices, limits and payment settings in force, saved and changed at run time. */
export class FeeSettings {
  readonly #o: FeeSettingsOptions;
  /** The address type and network flags every xpub is read with. */
  readonly xpubOptions: XpubOptions;
  #pricing: Pricing;
  #payment: PaymentSettings;
  #listeners: ((rt: PaymentRuntime) => void)[] = [];

  private constructor(o: FeeSettingsOptions, p: Pricing, pay: PaymentSettings, x: XpubOptions) {
    this.#o = o;
    this.#pricing = p;
    this.#payment = pay;
    this.xpubOptions = x;
  }

  /**
   * Loads the flags, overridden by what the operator saved, and applies the saved limits.
   * A saved value that no longer validates is logged and ignored.
   */
  static async open(o: FeeSettingsOptions): Promise<FeeSettings> {
    const { config, store, log } = o;
    let pricing: Pricing = {
      tokensPerBundle: config.tokensPerBundle,
      bundlePriceSats: config.bundlePriceSats,
      maxTtlSeconds: o.limits.current.maxTtlSeconds,
      maxPayloadBytes: o.limits.current.maxPayloadBytes,
    };
    const saved = await store.getSetting<Record<string, unknown>>("pricing");
    if (saved !== undefined) {
      try {
        pricing = updatePricing(pricing, saved);
        o.limits.set({
          maxTtlSeconds: pricing.maxTtlSeconds,
          maxPayloadBytes: pricing.maxPayloadBytes,
        });
      } catch (err) {
        log.warn("ignoring saved pricing", { err });
      }
    }
    // The address type is a payment setting (its flag the initial value); the network stays
    // the flag's.
    const xpubOptions: XpubOptions = {
      network: config.feeNetwork === "auto" ? undefined : config.feeNetwork,
    };
    const fromFlags = updatePaymentSettings(
      {
        xpub: "",
        esploraUrl: "",
        confirmations: config.confirmations,
        addressType: config.feeAddressType,
      },
      { xpub: config.feeXpub ?? "", esplora_url: config.esploraUrl ?? "" },
      xpubOptions,
    );
    let payment = fromFlags;
    const savedPayment = await store.getSetting<Record<string, unknown>>("payment");
    if (savedPayment !== undefined) {
      try {
        payment = updatePaymentSettings(fromFlags, savedPayment, xpubOptions);
        const flags = paymentSettingsToJson(fromFlags);
        const used = paymentSettingsToJson(payment);
        const overridden = PAYMENT_FIELDS.filter((k) => flags[k] !== used[k]);
        if (overridden.length > 0) {
          log.info("payment settings saved in the console override the flags", {
            fields: overridden,
          });
        }
      } catch (err) {
        log.warn("ignoring saved payment settings", { err });
      }
    } else {
      // First start with per-key address indices: older invoices were made with this key.
      const adopted = await store.adoptLegacyInvoices(payment.xpub);
      if (adopted > 0) log.info("older invoices assigned to the current xpub", { adopted });
    }
    return new FeeSettings(o, pricing, payment, xpubOptions);
  }

  /**
   * Re-reads what the operator saved (another process sharing the database may have changed it)
   * and applies what differs from the values in force. Returns true when something changed.
   */
  async reload(): Promise<boolean> {
    const { store, log } = this.#o;
    let changed = false;
    const saved = await store.getSetting<Record<string, unknown>>("pricing");
    if (saved !== undefined) {
      try {
        const next = updatePricing(this.#pricing, saved);
        if (JSON.stringify(pricingToJson(next)) !== JSON.stringify(pricingToJson(this.pricing()))) {
          this.#pricing = next;
          this.#o.limits.set({
            maxTtlSeconds: next.maxTtlSeconds,
            maxPayloadBytes: next.maxPayloadBytes,
          });
          changed = true;
        }
      } catch (err) {
        log.warn("ignoring saved pricing", { err });
      }
    }
    const savedPayment = await store.getSetting<Record<string, unknown>>("payment");
    if (savedPayment !== undefined) {
      try {
        const next = updatePaymentSettings(this.#payment, savedPayment, this.xpubOptions);
        const before = JSON.stringify(paymentSettingsToJson(this.#payment));
        if (JSON.stringify(paymentSettingsToJson(next)) !== before) {
          this.#payment = next;
          const rt = this.runtime();
          for (const l of this.#listeners) l(rt);
          changed = true;
        }
      } catch (err) {
        log.warn("ignoring saved payment settings", { err });
      }
    }
    return changed;
  }

  /** The prices in force, with the limits the node applies now. */
  pricing(): Pricing {
    const now = this.#o.limits.current;
    return {
      ...this.#pricing,
      maxTtlSeconds: now.maxTtlSeconds,
      maxPayloadBytes: now.maxPayloadBytes,
    };
  }

  /** The payment settings in force (xpub, Esplora URL, confirmations, address type). */
  payment(): PaymentSettings {
    return this.#payment;
  }

  /**
   * What `patch` (JSON payment fields) would derive, without saving: the key's own address
   * type, the type used, and the first receive addresses.
   * @throws {PaymentSettingsError} naming a refused field.
   */
  preview(patch: Record<string, unknown>, count = 3): PaymentPreview | undefined {
    const next = updatePaymentSettings(this.#payment, patch, this.xpubOptions);
    const deriver = checkXpub(next.xpub, deriveOptions(next, this.xpubOptions));
    if (deriver === undefined) return undefined;
    const keyDefault = checkXpub(next.xpub, this.xpubOptions)!.type;
    return {
      network: deriver.network,
      keyType: keyDefault,
      type: deriver.type,
      addresses: Array.from({ length: count }, (_, i) => deriver.address(i)),
    };
  }

  /** The invoice deriver and backend for the payment settings in force. */
  runtime(): PaymentRuntime {
    return paymentRuntime(this.#payment, this.xpubOptions, this.#o.esploraOptions ?? {});
  }

  /** Calls `listener` with the new runtime after every change of the payment settings. */
  onPaymentChange(listener: (rt: PaymentRuntime) => void): void {
    this.#listeners.push(listener);
  }

  /** Every pricing-page value in force as JSON (the free quota read from `freeQuota`). */
  json(freeQuota: FreeQuota): PricingPageJson {
    const p = this.pricing();
    const f = freeQuota.current();
    return {
      tokens_per_bundle: p.tokensPerBundle,
      bundle_price_sats: p.bundlePriceSats,
      free_tokens: f.freeTokens,
      quota_period_seconds: f.periodSeconds,
      max_ttl_seconds: p.maxTtlSeconds,
      max_payload_bytes: p.maxPayloadBytes,
    };
  }

  /**
   * Changes prices, limits, the free quota and payment settings (JSON field names of
   * `GET /admin/api/pricing`), validating all of them before any applies; saved, and in
   * effect at once (limits for the next message, the xpub for the next invoice, the Esplora
   * URL for the next poll).
   * @throws {RangeError} naming the first refused field ({@linkcode PaymentSettingsError} for
   * the payment fields).
   */
  async update(json: Record<string, unknown>, freeQuota: FreeQuota): Promise<void> {
    const priceFields: Record<string, unknown> = {};
    const payFields: Record<string, unknown> = {};
    const freeFields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(json)) {
      if ((PAYMENT_FIELDS as readonly string[]).includes(k)) payFields[k] = v;
      else if ((FREE_QUOTA_FIELDS as readonly string[]).includes(k)) freeFields[k] = v;
      else if ((PRICING_FIELDS as readonly string[]).includes(k)) priceFields[k] = v;
      else throw new RangeError(`Unknown pricing field '${k}'`);
    }
    const next = updatePricing(this.#pricing, priceFields);
    const nextPayment = updatePaymentSettings(this.#payment, payFields, this.xpubOptions);
    const nextRuntime = paymentRuntime(nextPayment, this.xpubOptions, this.#o.esploraOptions ?? {});
    const hasFree = Object.keys(freeFields).length > 0;
    if (hasFree) freeQuota.check(freeFields);

    if (hasFree) await freeQuota.update(freeFields);
    if (Object.keys(priceFields).length > 0) {
      await this.#o.store.setSetting("pricing", pricingToJson(next));
      this.#pricing = next;
      this.#o.limits.set({
        maxTtlSeconds: next.maxTtlSeconds,
        maxPayloadBytes: next.maxPayloadBytes,
      });
    }
    if (Object.keys(payFields).length > 0) {
      await this.#o.store.setSetting("payment", paymentSettingsToJson(nextPayment));
      this.#payment = nextPayment;
      for (const l of this.#listeners) l(nextRuntime);
      this.#o.log.info("payment settings changed", {
        fields: Object.keys(payFields),
        backend: nextPayment.esploraUrl !== "",
      });
    }
  }
}
