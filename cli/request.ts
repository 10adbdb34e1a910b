/**
 * `subspace request`: builds a BIP70 PaymentRequest and pushes it to a stealth address.
 *
 * @module
 */
import { buildPaymentRequest, type Payload, scriptForAddress } from "../client/mod.ts";
import { CliError, parseFlags, requireFlag } from "./_args.ts";
import {
  bip70Network,
  durationFlag,
  intFlag,
  maybeHelp,
  NETWORK_OPTIONS,
  noPositional,
  parseExpires,
  printSent,
  recipientFrom,
  senderFrom,
  serverFrom,
  walletOption,
} from "./_client.ts";
import { helpText } from "./_help.ts";
import { postPayload } from "./_client_send.ts";

const HELP = helpText({
  usage: ["subspace request --to ADDR --amount SATS --pay-to BTCADDR [options]"],
  about: 'Builds a BIP70 PaymentRequest (pki_type "none") asking the holder of ADDR to pay SATS ' +
    "to BTCADDR, encrypts it to ADDR and posts it. The network (main or test) follows ADDR, and " +
    "BTCADDR must be on it.",
  options: [
    ...NETWORK_OPTIONS,
    ["--to ADDR", "stealth address of the payer"],
    ["--amount SATS", "amount in satoshis"],
    ["--pay-to BTCADDR", "Bitcoin address to be paid"],
    ["--memo TEXT", "memo shown to the payer"],
    ["--expires WHEN", "a duration from now (3600, 30m, 2h, 7d) or an ISO time (default: never)"],
    ["--payment-url URL", "where the payer's wallet should POST the BIP70 Payment"],
    walletOption(
      "answer to its address (the Payment comes back to you), sign, pay with its tokens",
    ),
    ["--passphrase-env VAR", "passphrase of an encrypted wallet (else asked on the terminal)"],
    ["--ttl DURATION", "how long the node keeps it: 3600, 90m, 2h, 7d (default: the node's, 7d)"],
    ["--json", "print {id, expires_at, tag, size_bytes}"],
  ],
});

/** Runs `subspace request`. */
export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: [
      "server",
      "proxy",
      "to",
      "amount",
      "pay-to",
      "memo",
      "expires",
      "payment-url",
      "wallet",
      "passphrase-env",
      "ttl",
    ],
    boolean: ["json"],
  });
  if (maybeHelp(flags, HELP)) return 0;
  noPositional(flags);
  const server = serverFrom(flags);
  const to = recipientFrom(flags);
  requireFlag(flags, "amount");
  const amount = intFlag(flags, "amount", 1, 21_000_000 * 100_000_000)!;
  const network = bip70Network(to);
  let script: Uint8Array;
  try {
    script = scriptForAddress(requireFlag(flags, "pay-to"), network);
  } catch (e) {
    throw new CliError(`--pay-to: ${(e as Error).message}`, 2);
  }
  const now = Math.floor(Date.now() / 1000);
  const expiresFlag = flags.strings.get("expires");
  const memo = flags.strings.get("memo");
  const paymentUrl = flags.strings.get("payment-url");
  const body = buildPaymentRequest({
    network,
    outputs: [{ amount, script }],
    time: now,
    ...(expiresFlag !== undefined ? { expires: parseExpires(expiresFlag, now) } : {}),
    ...(memo !== undefined ? { memo } : {}),
    ...(paymentUrl !== undefined ? { paymentUrl } : {}),
  });
  const sender = await senderFrom(flags);
  const payload: Payload = { type: "payment_request", createdTime: now, memo: memo ?? "", body };
  if (sender.replyTo !== undefined) payload.replyTo = sender.replyTo;
  const ttlSeconds = durationFlag(flags, "ttl", 1, 10 * 365 * 86400);
  const result = await postPayload(flags, server, to, payload, {
    ttlSeconds,
    signWith: sender.signWith,
  });
  printSent(result, flags.booleans.has("json"));
  return 0;
}
