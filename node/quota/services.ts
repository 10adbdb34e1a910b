/**
 * What the quota feature offers other features (the fees feature credits accounts it sold
 * tokens to, and shows and changes the free quota on its pricing page). The dependency points
 * one way: a feature that uses these imports this folder's `mod.ts`; quota imports none of them.
 *
 * @module
 */
import { serviceKey } from "../feature.ts";

/** Accounts, as a seller of tokens sees them. */
export interface AccountCredit {
  /** Whether an account with this hash ({@linkcode accountHash} of its number) exists. */
  exists(accountHash: Uint8Array): Promise<boolean>;
  /**
   * Adds `tokens` to an account's credit, once per `reference` (e.g. `invoice:<id>`): calling
   * again with the same reference changes nothing and answers true, so a payment retried after
   * a crash never credits twice. False when the account is unknown.
   */
  credit(accountHash: Uint8Array, tokens: number, reference: string): Promise<boolean>;
}

/** Credits accounts; provided by the quota feature. */
export const ACCOUNT_CREDIT = serviceKey<AccountCredit>("quota.account-credit");

/** The free quota in force. */
export interface FreeQuotaValues {
  /** Free tokens per account per period. */
  freeTokens: number;
  /** Length of a period in seconds (periods are aligned to the Unix epoch). */
  periodSeconds: number;
}

/** JSON field names of the free quota (as in `GET /v1/pricing`). */
export const FREE_QUOTA_FIELDS = ["free_tokens", "quota_period_seconds"] as const;

/** The operator's free quota: the quota feature keeps it; a pricing page shows and edits it. */
export interface FreeQuota {
  /** The values in force. */
  current(): FreeQuotaValues;
  /**
   * Validates a partial JSON update (`free_tokens`, `quota_period_seconds`; other keys are
   * ignored) and returns the values it would give, applying nothing.
   * @throws {RangeError} naming the first refused field.
   */
  check(json: Record<string, unknown>): FreeQuotaValues;
  /** Validates, saves and applies a partial JSON update; returns the values now in force. */
  update(json: Record<string, unknown>): Promise<FreeQuotaValues>;
}

/** The free quota; provided by the quota feature. */
export const FREE_QUOTA = serviceKey<FreeQuota>("quota.free-quota");
