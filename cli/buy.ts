/**
 * `subspace buy`: buys token bundles for bitcoin where the node sells them. Asks for an invoice,
 * shows its BIP21 URI and a QR code of it, waits until the node has seen the payment (with the
 * confirmations it asks), then fetches the paid tokens into the wallet. The wallet library does
 * the work (`buyTokens`); every request goes through `--proxy` when given.
 *
 * @module
 */
import { buyTokens, fetchPricing, type Invoice } from "../client/mod.ts";
import { CliError, parseFlags } from "./_args.ts";
import {
  cliErrors,
  clock,
  durationFlag,
  formatDuration,
  httpFrom,
  intFlag,
  maybeHelp,
  NETWORK_OPTIONS,
  noPositional,
  serverFrom,
  walletOption,
  walletPathFrom,
} from "./_client.ts";
import { helpText } from "./_help.ts";
import { encodeQr, qrToTerminal } from "./_qr.ts";
import { readWalletTokens, serverKey, WalletTokenStore } from "./tokens.ts";

const HELP = helpText({
  usage: ["subspace buy [--server URL] [--wallet FILE] [--bundles N] [options]"],
  about: "Buys N bundles of tokens: shows the node's price, a BIP21 payment URI and its QR code, " +
    "waits until the payment is seen (with the confirmations the node asks for), then fetches " +
    "the tokens into the wallet. The account is the wallet's (saved by 'subspace signup'). " +
    "Interrupting the wait leaves the invoice valid: run 'subspace buy --invoice ID' to resume.",
  options: [
    ...NETWORK_OPTIONS,
    walletOption("wallet holding the account; the tokens go there"),
    ["--bundles N", "bundles to buy, 1..1000 (default 1)"],
    ["--account ACCOUNT", "the account to credit (default: the wallet's for this node)"],
    ["--poll DURATION", "how often to ask whether it is paid: 5, 10s, 1m (default 5s)"],
    ["--no-qr", "print the URI only"],
    ["--json", "print JSON lines: the invoice, then {paid, tokens, stored}"],
  ],
});

/** Runs `subspace buy`. */
export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: ["server", "proxy", "wallet", "bundles", "poll", "account"],
    boolean: ["json", "no-qr"],
  });
  if (maybeHelp(flags, HELP)) return 0;
  noPositional(flags);
  const server = serverFrom(flags);
  const walletPath = walletPathFrom(flags)!;
  const http = httpFrom(flags);
  const bundles = intFlag(flags, "bundles", 1, 1000) ?? 1;
  const pollSeconds = durationFlag(flags, "poll", 1, 3600) ?? 5;
  const json = flags.booleans.has("json");
  const account = flags.strings.get("account") ??
    (await readWalletTokens(walletPath))[serverKey(server)]?.account;
  if (account === undefined) {
    throw new CliError(
      `no account for ${
        serverKey(server)
      } in ${walletPath}: run 'subspace signup --server ${server} --wallet ${walletPath}' first`,
      2,
    );
  }
  const pricing = await cliErrors(() => fetchPricing(server, http));
  if (pricing.feesEnabled !== true) {
    throw new CliError(
      `${serverKey(server)} does not sell tokens: use its free quota (${pricing.freeTokens} every ${
        formatDuration(pricing.quotaPeriodSeconds ?? 86400)
      }) with 'subspace tokens', or ask its operator`,
    );
  }
  const stop = new AbortController();
  const onSigint = () => stop.abort(new CliError("interrupted; the invoice stays valid", 130));
  Deno.addSignalListener("SIGINT", onSigint);
  let lastStatus = "";
  try {
    const result = await cliErrors(() =>
      buyTokens(server, {
        ...http,
        account,
        bundles,
        pollMs: pollSeconds * 1000,
        signal: stop.signal,
        store: new WalletTokenStore(walletPath),
        onInvoice: (inv) => showInvoice(inv, json, !flags.booleans.has("no-qr")),
        onStatus: (inv) => {
          const line = inv.receivedSats > 0 && inv.status === "pending"
            ? `seen ${inv.receivedSats} of ${inv.amountSats} sats; waiting for ${inv.confirmationsRequired} confirmation(s)`
            : `invoice ${inv.status}`;
          if (line !== lastStatus && !json) console.error(`${clock()} ${line}`);
          lastStatus = line;
        },
        onError: (e) => console.error(`${clock()} ${e.message}; asking again in ${pollSeconds} s`),
      })
    );
    const stored = (await readWalletTokens(walletPath))[serverKey(server)]?.tokens.length ?? 0;
    if (json) {
      console.log(JSON.stringify({ paid: true, tokens: result.tokens.length, stored }));
    } else {
      console.log(
        `paid: fetched ${result.tokens.length} tokens; ${stored} stored for ${
          serverKey(server)
        } in ${walletPath}`,
      );
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
  return 0;
}

function showInvoice(inv: Invoice, json: boolean, qr: boolean): void {
  if (json) {
    console.log(JSON.stringify({
      id: inv.id,
      uri: inv.uri,
      address: inv.address,
      amount_sats: inv.amountSats,
      tokens: inv.tokens,
      expires_at: inv.expiresAt,
    }));
    return;
  }
  const expires = new Date(inv.expiresAt * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  console.error(
    `Pay ${inv.amountSats} sats to ${inv.address} for ${inv.tokens} tokens (invoice ${inv.id}, pay before ${expires}):`,
  );
  if (qr) console.error(qrToTerminal(encodeQr(inv.uri)));
  console.log(inv.uri);
  console.error(`${clock()} waiting for the payment…`);
}
