/**
 * The fee market: {@linkcode feesFeature} (operator prices, invoices paid to addresses derived
 * from the operator's xpub, payment detection through an Esplora-compatible backend), and the
 * pieces it is built from. It credits accounts through the quota feature's services; the quota
 * feature does not know this one.
 *
 * @example
 * ```ts ignore
 * import { feesFeature } from "./node/fees/mod.ts";
 * const node = await startNode(config, { features: [quotaFeature(), feesFeature()] });
 * ```
 *
 * @module
 */
export {
  type AddressDeriver,
  type AddressType,
  type BitcoinNetwork,
  parseXpub,
  type XpubOptions,
} from "./xpub.ts";
export { EsploraClient, EsploraError, type EsploraOptions, type Received } from "./esplora.ts";
export {
  bip21Uri,
  type Pricing,
  PRICING_FIELDS,
  type PricingJson,
  pricingToJson,
  satsToBtc,
  updatePricing,
} from "./pricing.ts";
export {
  InvoiceError,
  type InvoiceJson,
  type InvoicePaymentConfig,
  InvoiceService,
  type InvoiceServiceOptions,
} from "./invoices.ts";
export {
  ADDRESS_TYPES,
  type AddressTypeChoice,
  checkEsploraUrl,
  checkXpub,
  deriveOptions,
  MAX_CONFIRMATIONS,
  PAYMENT_FIELDS,
  type PaymentRuntime,
  paymentRuntime,
  type PaymentSettings,
  PaymentSettingsError,
  type PaymentSettingsJson,
  paymentSettingsToJson,
  updatePaymentSettings,
} from "./settings.ts";
export { FeesStore, type Invoice } from "./store.ts";
export { feesMigration, feesMigrations, legacyInvoicesMigration } from "./migration.ts";
export {
  FeeSettings,
  type FeeSettingsOptions,
  type PaymentPreview,
  type PricingPageJson,
} from "./fee_settings.ts";
export { feesFeature, type FeesFeatureOptions } from "./fees_feature.ts";
