/**
 * The quota feature's part of the operator console (the Quotas page): accounts, credit,
 * disabling, issuer keys, spent nonces, and tokens issued and redeemed per day. Published as
 * the console's `QUOTA_CONSOLE` service; the console never reads the quota tables.
 *
 * @module
 */
import { DailyTally } from "./daily.ts";
import type { AccountView, QuotaSource } from "../console/mod.ts";
import type { Logger } from "../log.ts";
import { createAccount } from "./accounts.ts";
import type { Account, QuotaStore } from "./store.ts";
import { accountHash, parseAccountNumber, type TokenService } from "./tokens.ts";

/** Reads an account id from a form: 64 hex characters (its hash) or an account number. */
function accountKey(id: string): Uint8Array {
  if (/^[0-9a-f]{64}$/i.test(id)) return Uint8Array.fromHex(id.toLowerCase());
  try {
    return accountHash(parseAccountNumber(id));
  } catch (err) {
    throw new RangeError(`Account: ${(err as Error).message}`);
  }
}

function accountView(a: Account): AccountView {
  return {
    id: a.accountHash.toHex(),
    createdAt: a.createdAt,
    disabled: a.disabled,
    credit: a.credit,
    issuedTotal: a.issuedTotal,
  };
}

/**
 * Tokens issued and redeemed per UTC day, kept in the quota settings (`tokens_daily`) so the
 * chart outlives restarts. Call `tick()`/`save()` now and then and at shutdown.
 */
export async function tokenTally(
  store: QuotaStore,
  tokens: TokenService,
  now: () => number,
  shared = false,
): Promise<DailyTally> {
  const tally = new DailyTally({
    name: "tokens_daily",
    store: {
      getSetting: (name) => store.getSetting(name),
      setSetting: (name, value) => store.setSetting(name, value),
      // Several processes on one database add their own counts to the saved ones.
      ...(shared ? { updateSetting: (name, fn) => store.updateSettingExclusive(name, fn) } : {}),
    },
    now,
  });
  await tally.load();
  tally.track("issued", () => tokens.stats.issued);
  tally.track("redeemed", () => tokens.stats.redeemed);
  return tally;
}

/** Options for {@linkcode quotaConsole}. */
export interface QuotaConsoleOptions {
  store: QuotaStore;
  tokens: TokenService;
  tally: DailyTally;
  log: Logger;
  now: () => number;
}

/**
 * The Quotas page's source.
 *
 * @example
 * ```ts ignore
 * core.provide(QUOTA_CONSOLE, quotaConsole({ store, tokens, tally, log, now: core.now }));
 * ```
 */
export function quotaConsole(opts: QuotaConsoleOptions): QuotaSource {
  const { store, tokens, tally, log } = opts;
  return {
    async accounts({ search, limit, offset }) {
      if (search === "") {
        const r = await store.listAccounts({ limit, offset });
        return { accounts: r.accounts.map(accountView), total: r.total };
      }
      let hash: Uint8Array | undefined;
      try {
        hash = accountKey(search);
      } catch { /* not a number: maybe a hash prefix */ }
      let r;
      if (hash !== undefined) {
        r = await store.listAccounts({ hash, limit, offset });
      } else if (/^([0-9a-f]{2}){1,32}$/i.test(search)) {
        r = await store.listAccounts({
          hashPrefix: Uint8Array.fromHex(search.toLowerCase()),
          limit,
          offset,
        });
      } else {
        return { accounts: [], total: 0 };
      }
      return { accounts: r.accounts.map(accountView), total: r.total };
    },
    async createAccount() {
      const number = await createAccount(store, opts.now(), "admin");
      log.info("account created in the console");
      return { id: number, createdAt: opts.now(), disabled: false, credit: 0, issuedTotal: 0 };
    },
    async credit(id, n) {
      if (!await store.credit(accountKey(id), n)) {
        throw new RangeError("Account: no such account");
      }
      log.info("account credited in the console", { tokens: n });
    },
    async setDisabled(id, disabled) {
      if (!await store.setDisabled(accountKey(id), disabled)) {
        throw new RangeError("Account: no such account");
      }
      log.info(`account ${disabled ? "disabled" : "enabled"} in the console`);
    },
    async stats(days) {
      tally.tick();
      const now = opts.now();
      const keys = tokens.ring.keys();
      let current: string | undefined;
      let newest = -Infinity;
      for (const k of keys) {
        if (k.createdAt <= now && now < k.signUntil && k.createdAt > newest) {
          newest = k.createdAt;
          current = k.idHex;
        }
      }
      return {
        daily: tally.lastDays(days).map((d) => ({
          day: d.day,
          issued: d.totals.issued ?? 0,
          redeemed: d.totals.redeemed ?? 0,
        })),
        spentSetSize: await tokens.spent.count(),
        keys: [...keys].sort((a, b) => b.createdAt - a.createdAt).map((k) => ({
          id: k.idHex,
          createdAt: k.createdAt,
          rotatesAt: k.signUntil,
          expiresAt: k.expiresAt,
          current: k.idHex === current,
        })),
      };
    },
  };
}
