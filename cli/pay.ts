/**
 * `subspace pay`: builds a BIP70 Payment carrying signed transactions and pushes it to a
 * stealth address (usually the reply-to of a PaymentRequest).
 *
 * @module
 */
import { buildPayment, fromHex, type Payload, scriptForAddress } from "../client/mod.ts";
import { CliError, parseFlags } from "./_args.ts";
import {
  bip70Network,
  durationFlag,
  maybeHelp,
  NETWORK_OPTIONS,
  noPositional,
  printSent,
  recipientFrom,
  senderFrom,
  serverFrom,
  walletOption,
} from "./_client.ts";
import { helpText } from "./_help.ts";
import { postPayload } from "./_client_send.ts";

const HELP = helpText({
  usage: ["subspace pay --to ADDR --tx HEX [--tx HEX ...] [options]"],
  about: "Builds a BIP70 Payment with the signed transaction(s), encrypts it to ADDR and posts it.",
  options: [
    ...NETWORK_OPTIONS,
    ["--to ADDR", "stealth address of the merchant (the request's reply-to)"],
    ["--tx HEX", "a signed transaction in hex (repeatable)"],
    ["--memo TEXT", "memo for the merchant"],
    ["--refund-to BTCADDR", "Bitcoin address for refunds"],
    ["--merchant-data HEX", "merchant_data copied from the PaymentRequest"],
    walletOption("answer to its address (for the PaymentACK), sign, pay with its tokens"),
    ["--passphrase-env VAR", "passphrase of an encrypted wallet (else asked on the terminal)"],
    ["--ttl DURATION", "how long the node keeps it: 3600, 90m, 2h, 7d (default: the node's, 7d)"],
    ["--json", "print {id, expires_at, tag, size_bytes}"],
  ],
});

/** Runs `subspace pay`. */
export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: [
      "server",
      "proxy",
      "to",
      "memo",
      "refund-to",
      "merchant-data",
      "wallet",
      "passphrase-env",
      "ttl",
    ],
    collect: ["tx"],
    boolean: ["json"],
  });
  if (maybeHelp(flags, HELP)) return 0;
  noPositional(flags);
  const server = serverFrom(flags);
  const to = recipientFrom(flags);
  const txs = flags.collected.get("tx") ?? [];
  if (txs.length === 0) throw new CliError("missing required flag --tx", 2);
  const transactions = txs.map((hex, i) => {
    try {
      const b = fromHex(hex.trim(), `--tx ${i + 1}`);
      if (b.length < 10) throw new RangeError(`--tx ${i + 1}: too short to be a transaction`);
      return b;
    } catch (e) {
      throw new CliError((e as Error).message, 2);
    }
  });
  const refund = flags.strings.get("refund-to");
  let refundTo;
  if (refund !== undefined) {
    try {
      refundTo = [{ amount: 0, script: scriptForAddress(refund, bip70Network(to)) }];
    } catch (e) {
      throw new CliError(`--refund-to: ${(e as Error).message}`, 2);
    }
  }
  const memo = flags.strings.get("memo");
  const md = flags.strings.get("merchant-data");
  let merchantData: Uint8Array | undefined;
  if (md !== undefined) {
    try {
      merchantData = fromHex(md, "--merchant-data");
    } catch (e) {
      throw new CliError((e as Error).message, 2);
    }
  }
  const body = buildPayment({
    transactions,
    ...(refundTo !== undefined ? { refundTo } : {}),
    ...(memo !== undefined ? { memo } : {}),
    ...(merchantData !== undefined ? { merchantData } : {}),
  });
  const sender = await senderFrom(flags);
  const payload: Payload = {
    type: "payment",
    createdTime: Math.floor(Date.now() / 1000),
    memo: memo ?? "",
    body,
  };
  if (sender.replyTo !== undefined) payload.replyTo = sender.replyTo;
  const ttlSeconds = durationFlag(flags, "ttl", 1, 10 * 365 * 86400);
  const result = await postPayload(flags, server, to, payload, {
    ttlSeconds,
    signWith: sender.signWith,
  });
  printSent(result, flags.booleans.has("json"));
  return 0;
}
