/**
 * The fee market: operator prices, invoices paid to addresses derived from the operator's
 * xpub, and payment detection through an Esplora-compatible backend.
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
  checkEsploraUrl,
  checkXpub,
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
