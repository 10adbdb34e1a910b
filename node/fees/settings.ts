/**
 * The payment settings an operator can change while the node runs: the extended public key
 * invoices derive addresses from, the Esplora-compatible backend that detects payments, and the
 * confirmations a payment needs. The start-up flags (`--fee-xpub`, `--esplora-url`,
 * `--confirmations`) are their initial values; the console and `PUT /admin/api/pricing` change
 * them and the fees feature keeps them in its settings table.
 *
 * @module
 */
import { EsploraClient, type EsploraOptions } from "./esplora.ts";
import { type AddressDeriver, type AddressType, parseXpub, type XpubOptions } from "./xpub.ts";

/** Address types an operator may choose; `auto` follows the key's prefix. */
export const ADDRESS_TYPES = ["auto", "p2pkh", "p2sh-p2wpkh", "p2wpkh"] as const;
/** An address type choice. */
export type AddressTypeChoice = (typeof ADDRESS_TYPES)[number];

/** Payment settings in force. Empty strings mean "not set". */
export interface PaymentSettings {
  /** Account-level extended public key ("" : fees off). */
  xpub: string;
  /** Esplora API base URL ("" : payments are not detected). */
  esploraUrl: string;
  /** Confirmations a payment needs (0 accepts mempool transactions). */
  confirmations: number;
  /**
   * Address type derived from the key (`auto`: the key's prefix decides, xpub p2pkh, ypub
   * p2sh-p2wpkh, zpub p2wpkh). Absent: `auto`.
   */
  addressType?: AddressTypeChoice;
}

/** The JSON form (snake_case) used by the admin API and the settings table. */
export interface PaymentSettingsJson {
  xpub: string;
  esplora_url: string;
  confirmations: number;
  address_type: AddressTypeChoice;
}

/** JSON field names of {@linkcode PaymentSettingsJson}. */
export const PAYMENT_FIELDS: readonly (keyof PaymentSettingsJson)[] = [
  "xpub",
  "esplora_url",
  "confirmations",
  "address_type",
];

/** Longest xpub or URL accepted. */
const MAX_TEXT = 2048;
/** Most confirmations that may be asked for. */
export const MAX_CONFIRMATIONS = 100;

/** A refused payment setting, naming its JSON field. */
export class PaymentSettingsError extends RangeError {
  /** The JSON field that was refused. */
  readonly field: keyof PaymentSettingsJson;
  constructor(field: keyof PaymentSettingsJson, message: string) {
    super(message);
    this.name = "PaymentSettingsError";
    this.field = field;
  }
}

/** Payment settings as JSON. */
export function paymentSettingsToJson(s: PaymentSettings): PaymentSettingsJson {
  return {
    xpub: s.xpub,
    esplora_url: s.esploraUrl,
    confirmations: s.confirmations,
    address_type: s.addressType ?? "auto",
  };
}

/**
 * Checks an Esplora base URL: empty (off), or an absolute http(s) URL without query or
 * fragment. Returns it without trailing slashes.
 *
 * @example
 * ```ts
 * checkEsploraUrl("https://blockstream.info/api/"); // "https://blockstream.info/api"
 * ```
 * @throws {PaymentSettingsError} naming `esplora_url`.
 */
export function checkEsploraUrl(text: string): string {
  const raw = text.trim();
  if (raw === "") return "";
  if (raw.length > MAX_TEXT) {
    throw new PaymentSettingsError("esplora_url", `Esplora URL is too long (${raw.length} chars)`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PaymentSettingsError(
      "esplora_url",
      `Cannot parse Esplora URL: expected an absolute http(s) URL, got '${raw.slice(0, 60)}'`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PaymentSettingsError(
      "esplora_url",
      `Esplora URL must start with http:// or https://, got '${url.protocol}'`,
    );
  }
  if (url.search !== "" || url.hash !== "" || raw.includes("?") || raw.includes("#")) {
    throw new PaymentSettingsError(
      "esplora_url",
      "Esplora URL must be the API base, without a query or fragment",
    );
  }
  return raw.replace(/\/+$/, "");
}

/**
 * Checks an extended public key (empty: fees off) and returns its deriver.
 *
 * @throws {PaymentSettingsError} naming `xpub`: not a public key, a private key, or a key of
 * another network than `opts.network`.
 */
export function checkXpub(text: string, opts: XpubOptions = {}): AddressDeriver | undefined {
  const xpub = text.trim();
  if (xpub === "") return undefined;
  if (xpub.length > MAX_TEXT) {
    throw new PaymentSettingsError("xpub", `xpub is too long (${xpub.length} chars)`);
  }
  try {
    return parseXpub(xpub, opts);
  } catch (err) {
    throw new PaymentSettingsError("xpub", (err as Error).message);
  }
}

/**
 * Applies a partial JSON update (`xpub`, `esplora_url`, `confirmations`; other keys are
 * ignored) to `base`, validating every field present.
 *
 * @example
 * ```ts
 * const next = updatePaymentSettings(current, { esplora_url: "https://esplora.example/api" });
 * ```
 * @throws {PaymentSettingsError} naming the first refused field.
 */
export function updatePaymentSettings(
  base: PaymentSettings,
  json: Record<string, unknown>,
  xpubOptions: XpubOptions = {},
): PaymentSettings {
  const out = { ...base };
  if (json.address_type !== undefined) {
    if (!(ADDRESS_TYPES as readonly unknown[]).includes(json.address_type)) {
      throw new PaymentSettingsError(
        "address_type",
        `address_type must be one of ${ADDRESS_TYPES.join(", ")}`,
      );
    }
    out.addressType = json.address_type as AddressTypeChoice;
  }
  if (json.xpub !== undefined) {
    if (typeof json.xpub !== "string") {
      throw new PaymentSettingsError("xpub", 'xpub must be a string ("" turns fees off)');
    }
    out.xpub = json.xpub.trim();
  }
  if (json.xpub !== undefined || json.address_type !== undefined) {
    checkXpub(out.xpub, deriveOptions(out, xpubOptions));
  }
  if (json.esplora_url !== undefined) {
    if (typeof json.esplora_url !== "string") {
      throw new PaymentSettingsError("esplora_url", "esplora_url must be a string");
    }
    out.esploraUrl = checkEsploraUrl(json.esplora_url);
  }
  if (json.confirmations !== undefined) {
    const n = json.confirmations;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0 || n > MAX_CONFIRMATIONS) {
      throw new PaymentSettingsError(
        "confirmations",
        `confirmations must be an integer between 0 and ${MAX_CONFIRMATIONS}`,
      );
    }
    out.confirmations = n;
  }
  return out;
}

/**
 * The options keys are read with under `s`: the address type chosen in `s` (unless `auto`)
 * over the one in `base`.
 */
export function deriveOptions(s: PaymentSettings, base: XpubOptions = {}): XpubOptions {
  const type: AddressType | undefined = s.addressType === undefined || s.addressType === "auto"
    ? base.type
    : s.addressType;
  return { ...base, type };
}

/** What the invoice service runs with for a set of payment settings. */
export interface PaymentRuntime {
  deriver: AddressDeriver | undefined;
  esplora: EsploraClient | undefined;
  confirmations: number;
}

/**
 * Builds the deriver and the backend client for `s` (both validated again).
 * @throws {PaymentSettingsError} when a setting is invalid.
 */
export function paymentRuntime(
  s: PaymentSettings,
  xpubOptions: XpubOptions = {},
  esploraOptions: EsploraOptions = {},
): PaymentRuntime {
  const deriver = checkXpub(s.xpub, deriveOptions(s, xpubOptions));
  const url = checkEsploraUrl(s.esploraUrl);
  return {
    deriver,
    esplora: url === "" ? undefined : new EsploraClient(url, esploraOptions),
    confirmations: s.confirmations,
  };
}
