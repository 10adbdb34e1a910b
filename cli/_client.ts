/**
 * Helpers shared by the wallet commands (keygen, address, send, inbox, request, pay).
 *
 * @module
 */
import {
  decodeStealthAddress,
  type InboxMessage,
  networkOf,
  outputToJson,
  parsePayment,
  parsePaymentAck,
  parsePaymentRequest,
  parsePsbt,
  type Payload,
  type StealthAddress,
  SubspaceClient,
  toBase64,
  toHex,
  type TokenStore,
  type WalletKeys,
} from "../client/mod.ts";
import { CliError, type ParsedFlags, requireFlag } from "./_args.ts";
import { readPassphrase, readWallet, unlockWallet, type Wallet } from "./_wallet.ts";

/** Prints `text` as the command's help when `--help` was given; returns true if it did. */
export function maybeHelp(flags: ParsedFlags, text: string): boolean {
  if (!flags.booleans.has("help")) return false;
  console.log(text.trim());
  return true;
}

/** Throws a usage error for stray positional arguments. */
export function noPositional(flags: ParsedFlags): void {
  if (flags.positional.length > 0) {
    throw new CliError(`unexpected argument '${flags.positional[0]}'`, 2);
  }
}

/** Options every networked wallet command accepts. */
export const NETWORK_FLAGS = ["server", "proxy"] as const;

/** Help lines for {@link NETWORK_FLAGS}. */
export const NETWORK_HELP = `
  --server URL         Subspace server base URL (http:// or https://)
  --proxy URL          tunnel through socks5://host:port (Tor) or http://host:port (CONNECT)`;

/** The client for a command, with its proxy if any (and the tokens it spends on posts). */
export async function clientFrom(
  flags: ParsedFlags,
  tokens?: TokenStore,
): Promise<SubspaceClient> {
  const proxy = flags.strings.get("proxy");
  try {
    return await SubspaceClient.create({
      ...(proxy !== undefined ? { proxy } : {}),
      ...(tokens !== undefined ? { tokens } : {}),
    });
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

/** The `--server` URL, validated. */
export function serverFrom(flags: ParsedFlags): string {
  return checkServer(requireFlag(flags, "server"));
}

/** Validates a server URL. */
export function checkServer(url: string): string {
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw new CliError(`--server must be an http:// or https:// URL, got '${url}'`, 2);
  }
  return url;
}

/** Decodes `--to` as a stealth address. */
export function recipientFrom(flags: ParsedFlags): StealthAddress {
  const to = requireFlag(flags, "to");
  try {
    return decodeStealthAddress(to);
  } catch (e) {
    throw new CliError(`--to: ${(e as Error).message}`, 2);
  }
}

/** BIP70 network name of an address ("main" or "test"). */
export function bip70Network(a: StealthAddress): "main" | "test" {
  return networkOf(a.version) === "testnet" ? "test" : "main";
}

/** Reads a file as bytes with a one-line error. */
export async function readFileBytes(path: string, flag: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new CliError(`--${flag}: cannot read ${path}: ${(e as Error).message}`, 2);
  }
}

/** Loads `--wallet`, unlocking it (passphrase from `--passphrase-env` or a prompt). */
export async function loadWallet(
  flags: ParsedFlags,
): Promise<{ wallet: Wallet; keys: WalletKeys }> {
  const wallet = await readWallet(requireFlag(flags, "wallet"));
  const passphrase = wallet.file.encrypted_keys === undefined
    ? undefined
    : await readPassphrase(flags.strings.get("passphrase-env"), { prompt: true });
  return { wallet, keys: await unlockWallet(wallet, passphrase) };
}

/** Sender context from an optional `--wallet`: reply-to address and signing key. */
export async function senderFrom(
  flags: ParsedFlags,
): Promise<{ replyTo?: string; signWith?: Uint8Array }> {
  if (!flags.strings.has("wallet")) return {};
  const { wallet, keys } = await loadWallet(flags);
  return { replyTo: wallet.file.address, signWith: keys.spendSecret };
}

/** Parses a non-negative integer flag. */
export function intFlag(
  flags: ParsedFlags,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const v = flags.strings.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new CliError(`--${name} must be an integer ${min}..${max}, got '${v}'`, 2);
  }
  return n;
}

/**
 * Parses an expiry: seconds from now (`3600`), a duration (`30m`, `2h`, `7d`) or an ISO 8601
 * time. Returns Unix seconds.
 */
export function parseExpires(value: string, nowSeconds: number): number {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (m !== null) {
    const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "" | "s" | "m" | "h" | "d"];
    return nowSeconds + Number(m[1]) * unit;
  }
  const t = Date.parse(value);
  if (!Number.isFinite(t)) {
    throw new CliError(
      `--expires must be seconds, a duration like 30m/2h/7d, or an ISO time; got '${value}'`,
      2,
    );
  }
  const s = Math.floor(t / 1000);
  if (s <= nowSeconds) throw new CliError(`--expires ${value} is in the past`, 2);
  return s;
}

function bodyDetails(p: Payload): Record<string, unknown> {
  switch (p.type) {
    case "text":
      return { text: new TextDecoder().decode(p.body) };
    case "payment_request": {
      const r = parsePaymentRequest(p.body);
      return {
        payment_request: {
          network: r.details.network,
          outputs: r.details.outputs.map(outputToJson),
          amount: r.details.outputs.reduce((s, o) => s + o.amount, 0),
          time: r.details.time,
          expires: r.details.expires,
          memo: r.details.memo,
          payment_url: r.details.paymentUrl,
          merchant_data: toHex(r.details.merchantData),
          pki_type: r.pkiType,
        },
      };
    }
    case "payment": {
      const pay = parsePayment(p.body);
      return {
        payment: {
          transactions: pay.transactions.map(toHex),
          refund_to: pay.refundTo.map(outputToJson),
          memo: pay.memo,
          merchant_data: toHex(pay.merchantData),
        },
      };
    }
    case "payment_ack": {
      const ack = parsePaymentAck(p.body);
      return { payment_ack: { memo: ack.memo, transactions: ack.payment.transactions.map(toHex) } };
    }
    case "psbt": {
      const tx = parsePsbt(p.body);
      return { psbt: { inputs: tx.inputsLength, outputs: tx.outputsLength } };
    }
  }
}

/** The JSON line `inbox --json` prints for a message. */
export function messageJson(m: InboxMessage): Record<string, unknown> {
  return {
    id: m.id,
    tag: m.tag,
    server: m.server,
    received_at: m.receivedAt,
    expires_at: m.expiresAt,
    size_bytes: m.sizeBytes,
    type: m.payload.type,
    created_time: m.payload.createdTime,
    memo: m.payload.memo,
    reply_to: m.payload.replyTo ?? null,
    sender_signature: {
      present: m.sender.present,
      valid: m.sender.valid,
      matches_reply_to: m.sender.matchesReplyTo,
    },
    body: toBase64(m.payload.body),
    ...bodyDetails(m.payload),
  };
}

/** One human-readable line for a message. */
export function messageLine(m: InboxMessage): string {
  const when = new Date(m.receivedAt * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  const j = messageJson(m);
  let what: string;
  switch (m.payload.type) {
    case "text":
      what = JSON.stringify(j.text);
      break;
    case "payment_request": {
      const r = j.payment_request as { amount: number; expires: number; memo: string };
      what = `payment request: ${r.amount} sat` +
        (r.memo ? ` "${r.memo}"` : "") +
        (r.expires ? `, expires ${new Date(r.expires * 1000).toISOString()}` : "");
      break;
    }
    case "payment": {
      const p = j.payment as { transactions: string[]; memo: string };
      what = `payment: ${p.transactions.length} transaction(s)` + (p.memo ? ` "${p.memo}"` : "");
      break;
    }
    case "payment_ack":
      what = `payment ack`;
      break;
    case "psbt": {
      const p = j.psbt as { inputs: number; outputs: number };
      what = `PSBT: ${p.inputs} input(s), ${p.outputs} output(s)`;
      break;
    }
  }
  const memo = m.payload.memo ? ` memo "${m.payload.memo}"` : "";
  const from = m.payload.replyTo
    ? ` from ${m.payload.replyTo.slice(0, 12)}…${m.sender.matchesReplyTo ? " (signed)" : ""}`
    : "";
  return `${when}  ${m.id.slice(0, 12)}  ${what}${memo}${from}`;
}

/** Prints what a send returned. */
export function printSent(
  r: { id: string; expiresAt: number; tag: string; sizeBytes: number },
  json: boolean,
): void {
  if (json) {
    console.log(JSON.stringify({
      id: r.id,
      expires_at: r.expiresAt,
      tag: r.tag,
      size_bytes: r.sizeBytes,
    }));
  } else {
    console.log(r.id);
  }
}

/** Wraps library errors (RangeError, HTTP errors) into one-line CLI errors. */
export async function cliErrors<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof CliError) throw e;
    if (e instanceof RangeError) throw new CliError(e.message, 2);
    if (e instanceof Error) throw new CliError(e.message, 1);
    throw e;
  }
}
