/**
 * Accounts as wallets and the operator see them: creating one under a fresh number, and its
 * state in the JSON of `GET /v1/account` and the admin API.
 *
 * @module
 */
import { HttpError } from "../errors.ts";
import { freeLeft, type QuotaPolicy, type QuotaStore } from "./store.ts";
import { accountHash, newAccountNumber, parseAccountNumber } from "./tokens.ts";

/**
 * Creates an account under a fresh random number (drawn again on the unlikely collision);
 * returns the number, which only the caller ever sees (the store keeps its hash).
 *
 * @example
 * ```ts ignore
 * const account = await createAccount(store, Date.now(), "signup");
 * ```
 */
export async function createAccount(
  store: QuotaStore,
  now: number,
  origin: "signup" | "admin",
): Promise<string> {
  for (;;) {
    const account = newAccountNumber();
    if (await store.createAccount(accountHash(parseAccountNumber(account)), now, origin)) {
      return account;
    }
  }
}

/** An account's state as JSON (times in Unix seconds). */
export interface AccountStateJson {
  disabled: boolean;
  free_remaining: number;
  credit: number;
  period_ends_at: number;
  issued_total: number;
  created_at: number;
}

/**
 * The JSON state of the account with hash `hash`.
 * @throws {HttpError} 404 when there is no such account.
 */
export async function accountState(
  store: QuotaStore,
  hash: Uint8Array,
  policy: QuotaPolicy,
  now: number,
): Promise<AccountStateJson> {
  const a = await store.getAccount(hash);
  if (a === undefined) throw new HttpError(404, "Unknown account", { field: "account" });
  const f = freeLeft(a, policy, now);
  return {
    disabled: a.disabled,
    free_remaining: f.freeLeft,
    credit: a.credit,
    period_ends_at: Math.floor(f.periodEnd / 1000),
    issued_total: a.issuedTotal,
    created_at: Math.floor(a.createdAt / 1000),
  };
}
