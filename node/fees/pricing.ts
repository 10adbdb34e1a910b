/**
 * Operator prices and the BIP21 payment URI.
 *
 * @module
 */

/**
 * What the operator sets on the pricing page that the fees feature keeps: the bundle for sale,
 * and the message limits (applied through the core's runtime limits). The free quota belongs
 * to the quota feature.
 */
export interface Pricing {
  /** Tokens in one bundle. */
  tokensPerBundle: number;
  /** Price of one bundle in satoshis (0: not for sale). */
  bundlePriceSats: number;
  /** Longest message TTL accepted. */
  maxTtlSeconds: number;
  /** Largest message payload accepted. */
  maxPayloadBytes: number;
}

/** The JSON form (snake_case) used by `GET /v1/pricing`, the admin API and the settings. */
export interface PricingJson {
  tokens_per_bundle: number;
  bundle_price_sats: number;
  max_ttl_seconds: number;
  max_payload_bytes: number;
}

const FIELDS: [keyof Pricing, keyof PricingJson, number, number][] = [
  ["tokensPerBundle", "tokens_per_bundle", 1, 1_000_000],
  ["bundlePriceSats", "bundle_price_sats", 0, 2_100_000_000_000_000],
  ["maxTtlSeconds", "max_ttl_seconds", 1, 10 * 366 * 86400],
  ["maxPayloadBytes", "max_payload_bytes", 1, 16 * 1024 * 1024],
];

/** JSON field names of {@linkcode PricingJson}. */
export const PRICING_FIELDS: readonly (keyof PricingJson)[] = FIELDS.map((f) => f[1]);

/** Pricing as JSON. */
export function pricingToJson(p: Pricing): PricingJson {
  return {
    tokens_per_bundle: p.tokensPerBundle,
    bundle_price_sats: p.bundlePriceSats,
    max_ttl_seconds: p.maxTtlSeconds,
    max_payload_bytes: p.maxPayloadBytes,
  };
}

/**
 * Applies a partial JSON update to `base`, validating every field present; keys that are not
 * pricing fields are ignored.
 *
 * @example
 * ```ts
 * updatePricing(current, { bundle_price_sats: 5000 }).bundlePriceSats; // 5000
 * ```
 * @throws {RangeError} naming the first bad field.
 */
export function updatePricing(base: Pricing, json: Record<string, unknown>): Pricing {
  const out = { ...base };
  for (const [k, j, min, max] of FIELDS) {
    const v = json[j];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new RangeError(`${j} must be an integer between ${min} and ${max}`);
    }
    out[k] = v;
  }
  return out;
}

/** Satoshis as a BTC decimal string without trailing zeros (`12345` → `"0.00012345"`). */
export function satsToBtc(sats: number): string {
  if (!Number.isSafeInteger(sats) || sats < 0) throw new RangeError(`Bad amount: ${sats}`);
  const whole = Math.floor(sats / 1e8);
  const frac = String(sats % 1e8).padStart(8, "0").replace(/0+$/, "");
  return frac === "" ? String(whole) : `${whole}.${frac}`;
}

/**
 * A BIP21 URI: `bitcoin:<address>?amount=<BTC>&label=...&message=...`.
 *
 * @example
 * ```ts
 * bip21Uri({ address: "bc1q...", amountSats: 10000, label: "Subspace tokens" });
 * // "bitcoin:bc1q...?amount=0.0001&label=Subspace%20tokens"
 * ```
 */
export function bip21Uri(
  opts: { address: string; amountSats: number; label?: string; message?: string },
): string {
  const params: string[] = [];
  if (opts.amountSats > 0) params.push(`amount=${satsToBtc(opts.amountSats)}`);
  if (opts.label) params.push(`label=${encodeURIComponent(opts.label)}`);
  if (opts.message) params.push(`message=${encodeURIComponent(opts.message)}`);
  return `bitcoin:${opts.address}${params.length ? "?" + params.join("&") : ""}`;
}
