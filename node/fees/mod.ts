/**
 * The fee market: operator prices, invoices paid to addresses derived from the operator's
 * xpub, and payment detection through an Esplora-compatible backend.
 *
 * @module
 */
export { type AddressDeriver, type AddressType, type BitcoinNetwork, parseXpub } from "./xpub.ts";
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
  InvoiceService,
  type InvoiceServiceOptions,
} from "./invoices.ts";
