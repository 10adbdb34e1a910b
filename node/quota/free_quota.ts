/**
 * The free quota (tokens per account per period): start-up flags, overridden by what the
 * operator saved (setting `free_quota` in `quota_settings`; releases before it kept the two
 * values in the `pricing` setting, which is read when `free_quota` is absent).
 *
 * @module
 */
import type { FreeQuota, FreeQuotaValues } from "./services.ts";
import type { QuotaStore } from "./store.ts";

const FIELDS: [keyof FreeQuotaValues, string, number, number][] = [
  ["freeTokens", "free_tokens", 0, 1_000_000],
  ["periodSeconds", "quota_period_seconds", 60, 366 * 86400],
];

/**
 * Applies a partial JSON update to `base`, validating each field present; other keys are
 * ignored.
 *
 * @example
 * ```ts
 * updateFreeQuota({ freeTokens: 10, periodSeconds: 86400 }, { free_tokens: 3 }).freeTokens; // 3
 * ```
 * @throws {RangeError} naming the first refused field.
 */
export function updateFreeQuota(
  base: FreeQuotaValues,
  json: Record<string, unknown>,
): FreeQuotaValues {
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

/** The JSON form (the field names of `GET /v1/pricing`). */
export function freeQuotaToJson(v: FreeQuotaValues): Record<string, number> {
  return { free_tokens: v.freeTokens, quota_period_seconds: v.periodSeconds };
}

/**
 * Loads the saved free quota over `defaults` (a saved value that no longer validates is
 * reported through `onInvalid` and ignored) and returns the service that keeps it.
 */
export async function openFreeQuota(opts: {
  store: QuotaStore;
  defaults: FreeQuotaValues;
  onInvalid?: (err: unknown) => void;
}): Promise<FreeQuota & { reload(): Promise<void> }> {
  const { store } = opts;
  let values = opts.defaults;
  const load = async () => {
    const saved = await store.getSetting<Record<string, unknown>>("free_quota") ??
      await store.getSetting<Record<string, unknown>>("pricing");
    if (saved === undefined) return;
    try {
      values = updateFreeQuota(opts.defaults, saved);
    } catch (err) {
      opts.onInvalid?.(err);
    }
  };
  await load();
  return {
    current: () => values,
    /** Re-reads the saved values (another process sharing the database may have changed them). */
    reload: load,
    check: (json) => updateFreeQuota(values, json),
    async update(json) {
      const next = updateFreeQuota(values, json);
      await store.setSetting("free_quota", freeQuotaToJson(next));
      values = next;
      return next;
    },
  };
}
