/**
 * `subspace send`: encrypts text, a BIP70 message or a PSBT to a stealth address and posts it.
 *
 * @module
 */
import {
  fromBase64,
  fromHex,
  type Payload,
  type PayloadType,
  utf8,
  validateBody,
} from "../client/mod.ts";
import { CliError, parseFlags } from "./_args.ts";
import {
  durationFlag,
  maybeHelp,
  NETWORK_OPTIONS,
  noPositional,
  printSent,
  readFileBytes,
  recipientFrom,
  senderFrom,
  serverFrom,
  walletOption,
} from "./_client.ts";
import { helpText } from "./_help.ts";
import { postPayload } from "./_client_send.ts";

const HELP = helpText({
  usage: [
    "subspace send --to ADDR (--text T | --payment-request FILE | --payment FILE",
    "              | --payment-ack FILE | --psbt FILE) [options]",
  ],
  about: "Encrypts the content to the stealth address and posts it; prints the message id. " +
    "With a wallet (--wallet, the config file's, or the default one if it exists) your address " +
    "goes along as reply-to, the message is signed, and one of the wallet's tokens pays for it " +
    "when the node asks for one. The post is checked against the node's limits first, so a " +
    "post the node would refuse costs no token.",
  options: [
    ...NETWORK_OPTIONS,
    ["--to ADDR", "recipient stealth address"],
    ["--text T", "a text message"],
    ["--payment-request FILE", "a serialized BIP70 PaymentRequest (binary)"],
    ["--payment FILE", "a serialized BIP70 Payment (binary)"],
    ["--payment-ack FILE", "a serialized BIP70 PaymentACK (binary)"],
    ["--psbt FILE", "a BIP174 PSBT (binary, base64 or hex)"],
    ["--memo TEXT", "a note shown with the message"],
    walletOption("sign as this wallet, answer to its address, pay with its tokens"),
    ["--passphrase-env VAR", "passphrase of an encrypted wallet (else asked on the terminal)"],
    ["--ttl DURATION", "how long the node keeps it: 3600, 90m, 2h, 7d (default: the node's, 7d)"],
    ["--json", "print {id, expires_at, tag, size_bytes}"],
  ],
});

const PSBT_MAGIC = [0x70, 0x73, 0x62, 0x74, 0xff];

/** Reads a PSBT given as binary, base64 or hex. */
export function decodePsbtFile(data: Uint8Array): Uint8Array {
  if (PSBT_MAGIC.every((b, i) => data[i] === b)) return data;
  const text = new TextDecoder().decode(data).trim();
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) return fromHex(text);
  try {
    return fromBase64(text);
  } catch {
    throw new CliError("--psbt: file is not a PSBT (binary, base64 or hex)", 2);
  }
}

/** Runs `subspace send`. */
export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    string: [
      "server",
      "proxy",
      "to",
      "text",
      "payment-request",
      "payment",
      "payment-ack",
      "psbt",
      "memo",
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
  const ttlSeconds = durationFlag(flags, "ttl", 1, 10 * 365 * 86400);
  const kinds: [string, PayloadType][] = [
    ["text", "text"],
    ["payment-request", "payment_request"],
    ["payment", "payment"],
    ["payment-ack", "payment_ack"],
    ["psbt", "psbt"],
  ];
  const given = kinds.filter(([flag]) => flags.strings.has(flag));
  if (given.length !== 1) {
    throw new CliError(
      "give exactly one of --text, --payment-request, --payment, --payment-ack or --psbt",
      2,
    );
  }
  const [flag, type] = given[0]!;
  const value = flags.strings.get(flag)!;
  let body: Uint8Array;
  if (type === "text") body = utf8.encode(value);
  else if (type === "psbt") body = decodePsbtFile(await readFileBytes(value, flag));
  else body = await readFileBytes(value, flag);
  try {
    validateBody(type, body);
  } catch (e) {
    throw new CliError(`--${flag}: ${(e as Error).message}`, 2);
  }
  const sender = await senderFrom(flags);
  const payload: Payload = {
    type,
    createdTime: Math.floor(Date.now() / 1000),
    memo: flags.strings.get("memo") ?? "",
    body,
  };
  if (sender.replyTo !== undefined) payload.replyTo = sender.replyTo;
  // Each post spends one Privacy Pass token kept in the wallet (see cli/tokens.ts).
  const result = await postPayload(flags, server, to, payload, {
    ttlSeconds,
    signWith: sender.signWith,
  });
  printSent(result, flags.booleans.has("json"));
  return 0;
}
