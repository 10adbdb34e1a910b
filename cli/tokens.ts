/**
 * `subspace tokens`: fetches Privacy Pass tokens for an account (the wallet library's
 * `fetchTokens`) and keeps them in the wallet file, under `tokens[<server origin>]`. Also the
 * wallet-file token store `send` spends from, and the message it prints when none are left.
 *
 * @module
 */
import {
  acceptsToken,
  fetchAccount,
  fetchPricing,
  fetchTokens as fetchTokensFrom,
  fromBase64Url,
  NotEnoughTokensError,
  originOf,
  parseAccountNumber,
  toBase64Url,
  type Token,
  type TokenHttpOptions,
  type TokenStore,
} from "../client/mod.ts";
import { CliError, parseFlags } from "./_args.ts";
import {
  cliErrors,
  formatDuration,
  httpFrom,
  maybeHelp,
  NETWORK_OPTIONS,
  noPositional,
  serverFrom,
  walletOption,
  walletPathFrom,
} from "./_client.ts";
import { helpText } from "./_help.ts";
import { readWallet } from "./_wallet.ts";

const HELP = helpText({
  usage: [
    "subspace tokens [--server URL] [--wallet FILE] [--count N] [--account ACCOUNT] [--json]",
  ],
  about: "Fetches N anonymous tokens from the node's issuer and stores them in the wallet file; " +
    "'subspace send' spends one per message. The account number comes from --account or from " +
    "the wallet (saved there by 'subspace signup'). Asking for more than the account has left " +
    "is refused before anything is fetched, with the number you can ask for.",
  options: [
    ...NETWORK_OPTIONS,
    walletOption("wallet file to keep the tokens in"),
    ["--count N", "tokens to fetch, 1..10000 (default 10)"],
    ["--account ACCOUNT", "account number (32 hex characters); saved in the wallet"],
    ["--json", "print {fetched, stored, free_remaining, credit}"],
  ],
});

/** Tokens kept for one server in the wallet file. */
export interface ServerTokens {
  /** The account number at that server. */
  account?: string;
  /** Unspent tokens, base64url. */
  tokens: string[];
}

/** The origin a server URL's tokens are filed under. */
export function serverKey(server: string): string {
  return originOf(server);
}

/** Reads the `tokens` section of a wallet file. */
export async function readWalletTokens(path: string): Promise<Record<string, ServerTokens>> {
  const w = await readWallet(path);
  const t = (w.file as unknown as { tokens?: unknown }).tokens;
  return typeof t === "object" && t !== null ? t as Record<string, ServerTokens> : {};
}

/** Rewrites the `tokens` section of a wallet file (atomically, mode 0600), keeping the rest. */
export async function updateWalletTokens(
  path: string,
  mutate: (tokens: Record<string, ServerTokens>) => void,
): Promise<void> {
  await readWallet(path); // validates the file
  const file = JSON.parse(await Deno.readTextFile(path)) as Record<string, unknown>;
  const tokens = typeof file.tokens === "object" && file.tokens !== null
    ? file.tokens as Record<string, ServerTokens>
    : {};
  mutate(tokens);
  file.tokens = tokens;
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
  await Deno.chmod(tmp, 0o600).catch(() => {});
  await Deno.rename(tmp, path);
}

/**
 * The wallet file as a {@linkcode TokenStore}: a token is removed from the file before it is
 * offered, so it is never offered twice.
 */
export class WalletTokenStore implements TokenStore {
  /** The wallet file. */
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }
  /** Removes and returns one accepted token for `origin`. */
  async take(
    origin: string,
    accept?: (token: Token) => boolean,
  ): Promise<Uint8Array | undefined> {
    const key = originOf(origin);
    const pick = (list: string[] | undefined) =>
      list?.findIndex((t) => {
        if (accept === undefined) return true;
        try {
          return acceptsToken(accept, fromBase64Url(t, "token"));
        } catch {
          return false;
        }
      }) ?? -1;
    // Leave the file alone when it holds no fitting token for this server.
    if (pick((await readWalletTokens(this.path))[key]?.tokens) < 0) return undefined;
    let token: string | undefined;
    await updateWalletTokens(this.path, (all) => {
      const list = all[key]?.tokens;
      const i = pick(list);
      if (list !== undefined && i >= 0) token = list.splice(i, 1)[0];
    });
    return token === undefined ? undefined : fromBase64Url(token, "token");
  }
  /** Appends tokens for `origin`. */
  async add(origin: string, tokens: Uint8Array[]): Promise<void> {
    await updateWalletTokens(this.path, (all) => {
      const entry = all[originOf(origin)] ??= { tokens: [] };
      entry.tokens.push(...tokens.map((t) => toBase64Url(t)));
    });
  }
  /** Puts a token back first in line. */
  async giveBack(origin: string, token: Uint8Array): Promise<void> {
    await updateWalletTokens(this.path, (all) => {
      const entry = all[originOf(origin)] ??= { tokens: [] };
      entry.tokens.unshift(toBase64Url(token));
    });
  }
}

/**
 * What to tell a user who has no token for `server`: how many tokens the account can still get
 * (so the hinted command works as printed), how to sign up, and how to buy where the node sells.
 */
export async function outOfTokensHelp(
  server: string,
  walletPath: string | undefined,
  http: TokenHttpOptions = {},
): Promise<string> {
  const origin = serverKey(server);
  const w = walletPath ?? "FILE";
  if (walletPath === undefined) {
    return [
      `No wallet given: posting to ${origin} costs one token per message, and tokens live in a wallet.`,
      `Give one with tokens: --wallet FILE (create it with 'subspace keygen', then 'subspace signup' and 'subspace tokens').`,
    ].join("\n");
  }
  const lines = [
    `No tokens left for ${origin} in ${walletPath}: posting there costs one token per message.`,
  ];
  const account =
    (await readWalletTokens(walletPath).catch(() => ({})) as Record<string, ServerTokens>)[
      origin
    ]?.account;
  try {
    const p = await fetchPricing(server, http);
    const period = formatDuration(p.quotaPeriodSeconds ?? 86400);
    if (account === undefined) {
      lines.push(
        `Free quota: ${p.freeTokens} tokens every ${period} per account, and this wallet has no account there.`,
        `Sign up:    subspace signup --server ${server} --wallet ${w}   (or open ${origin}/signup)`,
        `Then:       subspace tokens --server ${server} --wallet ${w} --count ${
          Math.min(p.freeTokens ?? 10, 10000) || 10
        }`,
      );
    } else {
      const state = await fetchAccount(server, account, http).catch(() => undefined);
      const left = state === undefined
        ? undefined
        : (state.disabled ? 0 : state.freeRemaining + state.credit);
      if (left === undefined || left > 0) {
        lines.push(
          `Free quota: ${p.freeTokens} tokens every ${period}${
            left === undefined ? "" : `; your account has ${left} left`
          }.`,
          `Get them:   subspace tokens --server ${server} --wallet ${w} --count ${
            Math.min(left ?? 10, 10000)
          }`,
        );
      } else {
        const when = new Date(state!.periodEndsAt * 1000).toISOString().replace(/\.\d+Z$/, "Z");
        lines.push(
          `Your account has no tokens left: ${p.freeTokens} free ones come back at ${when}.`,
        );
      }
    }
    if (p.feesEnabled === true) {
      lines.push(
        `Buy:        subspace buy --server ${server} --wallet ${w} --bundles 1   (${p.tokensPerBundle} tokens for ${p.bundlePriceSats} sats)`,
      );
    } else {
      lines.push("This node does not sell tokens.");
    }
  } catch {
    lines.push(`See ${origin}/v1/pricing and ${origin}/signup.`);
  }
  return lines.join("\n");
}

/** Options of {@linkcode fetchTokens}. */
export interface FetchTokensOptions extends TokenHttpOptions {
  server: string;
  account: string;
  count: number;
}

/**
 * Fetches `count` tokens with the wallet library and returns them as base64url text, the form
 * the wallet file keeps.
 */
export async function fetchTokens(opts: FetchTokensOptions): Promise<{
  tokens: string[];
  freeRemaining: number;
  credit: number;
}> {
  const { server, ...rest } = opts;
  const got = await fetchTokensFrom(server, rest);
  return { ...got, tokens: got.tokens.map((t) => toBase64Url(t)) };
}

/** Runs `subspace tokens`. */
export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: ["server", "proxy", "wallet", "count", "account"],
    boolean: ["json"],
  });
  if (maybeHelp(flags, HELP)) return 0;
  noPositional(flags);
  const server = serverFrom(flags);
  const walletPath = walletPathFrom(flags)!;
  const http = httpFrom(flags);
  const countText = flags.strings.get("count") ?? "10";
  const count = Number(countText);
  if (!/^\d+$/.test(countText) || count < 1 || count > 10000) {
    throw new CliError(`--count must be an integer 1..10000, got '${countText}'`, 2);
  }
  const stored = await readWalletTokens(walletPath);
  const account = flags.strings.get("account") ?? stored[serverKey(server)]?.account;
  if (account === undefined) {
    throw new CliError(
      `no account for ${
        serverKey(server)
      } in ${walletPath}: run 'subspace signup --server ${server} --wallet ${walletPath}' or pass --account`,
      2,
    );
  }
  try {
    parseAccountNumber(account);
  } catch (e) {
    throw new CliError(`--account: ${(e as Error).message}`, 2);
  }
  const got = await cliErrors(async () => {
    try {
      return await fetchTokensFrom(server, {
        account,
        count,
        store: new WalletTokenStore(walletPath),
        ...http,
      });
    } catch (e) {
      if (!(e instanceof NotEnoughTokensError)) throw e;
      const left = e.account.disabled ? 0 : e.account.freeRemaining + e.account.credit;
      const pricing = await fetchPricing(server, http).catch(() => undefined);
      const hints = [
        left > 0
          ? `Ask for at most ${left}: subspace tokens --server ${server} --wallet ${walletPath} --count ${left}`
          : `The free quota comes back at ${
            new Date(e.account.periodEndsAt * 1000).toISOString().replace(/\.\d+Z$/, "Z")
          }.`,
      ];
      if (pricing?.feesEnabled === true) {
        hints.push(
          `Or buy more: subspace buy --server ${server} --wallet ${walletPath} --bundles 1 (${pricing.tokensPerBundle} tokens for ${pricing.bundlePriceSats} sats)`,
        );
      }
      throw new CliError(`${e.message}\n${hints.join("\n")}`);
    }
  });
  let total = 0;
  await updateWalletTokens(walletPath, (all) => {
    const entry = all[serverKey(server)] ??= { tokens: [] };
    entry.account = account;
    total = entry.tokens.length;
  });
  if (flags.booleans.has("json")) {
    console.log(JSON.stringify({
      fetched: got.tokens.length,
      stored: total,
      free_remaining: got.freeRemaining,
      credit: got.credit,
    }));
  } else {
    console.log(
      `fetched ${got.tokens.length} tokens; ${total} stored for ${
        serverKey(server)
      } in ${walletPath} ` +
        `(${got.freeRemaining} free left this period, ${got.credit} credit)`,
    );
  }
  return 0;
}
