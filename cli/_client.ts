/**
 * Helpers shared by the wallet commands (keygen, address, send, inbox, request, pay).
 *
 * @module
 */
import {
  addressOfScript,
  decodeStealthAddress,
  formatSeconds,
  type InboxMessage,
  networkOf,
  outputToJson,
  parsePayment,
  parsePaymentAck,
  parsePaymentRequest,
  parsePsbt,
  type Payload,
  type RetryNotice,
  type StealthAddress,
  SubspaceClient,
  toBase64,
  toHex,
  type TokenHttpOptions,
  type TokenStore,
  type WalletKeys,
} from "../client/mod.ts";
import { parseDuration } from "../node/mod.ts";
import { CliError, type ParsedFlags, requireFlag } from "./_args.ts";
import { cliConfig, cliConfigPath, defaultWalletPath, userPath } from "./_config.ts";
import type { HelpOption } from "./_help.ts";
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

/** Option rows every networked wallet command shows. */
export const NETWORK_OPTIONS: readonly HelpOption[] = [
  [
    "--server URL",
    'Subspace node base URL, http:// or https:// (default: "server" in the config file)',
  ],
  [
    "--proxy URL",
    'tunnel through socks5://host:port (Tor) or http://host:port (CONNECT) (default: "proxy" in the config file, else none)',
  ],
];

/** The `--proxy` URL: the flag, else the config file's, else none. */
export function proxyFrom(flags: ParsedFlags): string | undefined {
  return flags.strings.get("proxy") ?? cliConfig().proxy;
}

/** The time of day, for lines about retries and waits. */
export function clock(now = new Date()): string {
  return now.toTimeString().slice(0, 8);
}

/** Prints a retry: what failed, when, and how long until the next try. */
export function printRetry(n: RetryNotice): void {
  const of = Number.isFinite(n.attempts) ? ` (attempt ${n.attempt + 1} of ${n.attempts})` : "";
  console.error(
    `subspace: ${clock()} ${n.error.message}; retrying in ${formatSeconds(n.delayMs)}${of}`,
  );
}

/** The `--proxy` option for the token and fee calls of the library. */
export function httpFrom(flags: ParsedFlags): TokenHttpOptions {
  const proxy = proxyFrom(flags);
  return proxy !== undefined ? { proxy } : {};
}

/** The client for a command, with its proxy if any (and the tokens it spends on posts). */
export async function clientFrom(
  flags: ParsedFlags,
  tokens?: TokenStore,
  onRetry: (n: RetryNotice) => void = printRetry,
): Promise<SubspaceClient> {
  const proxy = proxyFrom(flags);
  try {
    return await SubspaceClient.create({
      ...(proxy !== undefined ? { proxy } : {}),
      ...(tokens !== undefined ? { tokens } : {}),
      onRetry,
    });
  } catch (e) {
    throw new CliError(`--proxy: ${(e as Error).message}`, 2);
  }
}

/** The `--server` URL (else the config file's), validated. */
export function serverFrom(flags: ParsedFlags): string {
  const c = cliConfig();
  const url = flags.strings.get("server") ?? c.server ?? c.servers?.[0];
  if (url === undefined) {
    throw new CliError(
      `missing --server URL (or set "server" in ${cliConfigPath()})`,
      2,
    );
  }
  return checkServer(url);
}

/** The servers `inbox` reads: every `--server`, else the config file's `servers` or `server`. */
export function serversFrom(flags: ParsedFlags): string[] {
  const c = cliConfig();
  const given = flags.collected.get("server") ?? c.servers ?? (c.server ? [c.server] : []);
  if (given.length === 0) {
    throw new CliError(
      `missing --server URL (or set "servers" in ${cliConfigPath()})`,
      2,
    );
  }
  return given.map(checkServer);
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

/**
 * The wallet file: `--wallet` (relative to where you stand), else the config file's `wallet`,
 * else the default location. With `optional`, a default that does not exist is no wallet.
 */
export function walletPathFrom(
  flags: ParsedFlags,
  opts: { optional?: boolean } = {},
): string | undefined {
  const flag = flags.strings.get("wallet");
  if (flag !== undefined) return userPath(flag);
  const path = cliConfig().wallet ?? defaultWalletPath();
  if (opts.optional) {
    try {
      Deno.statSync(path);
    } catch {
      return undefined;
    }
  }
  return path;
}

/** Option row for `--wallet`, naming the default. */
export function walletOption(what: string): HelpOption {
  return [
    "--wallet FILE",
    `${what} (default: "wallet" in the config file, else ${defaultWalletPath()})`,
  ];
}

/** Parses a duration flag (`90`, `90s`, `15m`, `2h`, `7d`, `1w`) into seconds. */
export function durationFlag(
  flags: ParsedFlags,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const v = flags.strings.get(name);
  if (v === undefined) return undefined;
  let n: number;
  try {
    n = parseDuration(v);
  } catch (e) {
    throw new CliError(`--${name}: ${(e as Error).message}`, 2);
  }
  if (n < min || n > max) {
    throw new CliError(
      `--${name} must be between ${formatDuration(min)} and ${formatDuration(max)}, got '${v}'`,
      2,
    );
  }
  return n;
}

/** `45s`, `15m`, `2h`, `7d`, `1d 2h`: seconds in the largest units that fit. */
export function formatDuration(seconds: number): string {
  const units: [string, number][] = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];
  const parts: string[] = [];
  let left = Math.round(seconds);
  for (const [u, n] of units) {
    if (left >= n && parts.length < 2) {
      parts.push(`${Math.floor(left / n)}${u}`);
      left %= n;
    }
  }
  return parts.length === 0 ? "0s" : parts.join(" ");
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
    return await Deno.readFile(userPath(path));
  } catch (e) {
    throw new CliError(`--${flag}: cannot read ${path}: ${(e as Error).message}`, 2);
  }
}

/** Loads `--wallet`, unlocking it (passphrase from `--passphrase-env` or a prompt). */
export async function loadWallet(
  flags: ParsedFlags,
): Promise<{ wallet: Wallet; keys: WalletKeys }> {
  const wallet = await readWallet(walletPathFrom(flags)!);
  const passphrase = wallet.file.encrypted_keys === undefined
    ? undefined
    : await readPassphrase(flags.strings.get("passphrase-env"), { prompt: true });
  return { wallet, keys: await unlockWallet(wallet, passphrase) };
}

/** Sender context from an optional `--wallet`: reply-to address and signing key. */
export async function senderFrom(
  flags: ParsedFlags,
): Promise<{ replyTo?: string; signWith?: Uint8Array }> {
  const path = walletPathFrom(flags, { optional: true });
  if (path === undefined) return {};
  const wallet = await readWallet(path);
  const passphrase = wallet.file.encrypted_keys === undefined
    ? undefined
    : await readPassphrase(flags.strings.get("passphrase-env"), { prompt: true });
  const keys = await unlockWallet(wallet, passphrase);
  return { replyTo: wallet.file.address, signWith: keys.spendSecret };
}

/** Parses an integer flag. */
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
  if (/^\s*\d+(?:\.\d+)?\s*[smhdw]?\s*$/.test(value)) return nowSeconds + parseDuration(value);
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

function paymentJson(pay: ReturnType<typeof parsePayment>, network: "main" | "test") {
  return {
    transactions: pay.transactions.map(toHex),
    refund_to: pay.refundTo.map((o) => outputToJson(o, network)),
    memo: pay.memo,
    merchant_data: toHex(pay.merchantData),
  };
}

function psbtJson(body: Uint8Array, network: "main" | "test") {
  const tx = parsePsbt(body);
  const inputs = Array.from({ length: tx.inputsLength }, (_, i) => {
    const inp = tx.getInput(i);
    return {
      txid: inp.txid === undefined ? null : toHex(inp.txid),
      vout: inp.index ?? null,
      amount: inp.witnessUtxo === undefined ? null : Number(inp.witnessUtxo.amount),
    };
  });
  const outputs = Array.from({ length: tx.outputsLength }, (_, i) => {
    const o = tx.getOutput(i);
    const script = o.script ?? new Uint8Array();
    return {
      amount: o.amount === undefined ? null : Number(o.amount),
      script: toHex(script),
      address: addressOfScript(script, network) ?? null,
    };
  });
  const inSum = inputs.every((i) => i.amount !== null)
    ? inputs.reduce((a, i) => a + i.amount!, 0)
    : null;
  const outSum = outputs.reduce((a, o) => a + (o.amount ?? 0), 0);
  return {
    inputs: inputs.length,
    outputs: outputs.length,
    input_list: inputs,
    output_list: outputs,
    fee: inSum === null ? null : inSum - outSum,
  };
}

function bodyDetails(p: Payload, network: "main" | "test"): Record<string, unknown> {
  switch (p.type) {
    case "text":
      return { text: new TextDecoder().decode(p.body) };
    case "payment_request": {
      const r = parsePaymentRequest(p.body);
      const net = r.details.network === "test" ? "test" : "main";
      return {
        payment_request: {
          network: r.details.network,
          outputs: r.details.outputs.map((o) => outputToJson(o, net)),
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
    case "payment":
      return { payment: paymentJson(parsePayment(p.body), network) };
    case "payment_ack": {
      const ack = parsePaymentAck(p.body);
      return { payment_ack: { memo: ack.memo, payment: paymentJson(ack.payment, network) } };
    }
    case "psbt":
      return { psbt: psbtJson(p.body, network) };
  }
}

/** Whether the sender is proven: a valid signature by the key of the reply-to address. */
export function senderVerified(m: InboxMessage): boolean {
  return m.sender.present && m.sender.valid && m.sender.matchesReplyTo;
}

/**
 * The JSON line `inbox --json` prints for a message (every field is documented in
 * docs/client.md). `network` is the reading wallet's, for addresses of outputs that carry none.
 */
export function messageJson(
  m: InboxMessage,
  network: "main" | "test" = "main",
): Record<string, unknown> {
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
    verified: senderVerified(m),
    body: toBase64(m.payload.body),
    ...bodyDetails(m.payload, network),
  };
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z").replace("T", " ");
}

function sats(n: number): string {
  return `${n.toLocaleString("en-US")} sat`;
}

/**
 * One human-readable line for a message: when the node received it and when the sender wrote it,
 * what it is, its memo once, and who says they sent it — "(signed)" only when the signature
 * proves the reply-to address, else UNVERIFIED.
 */
export function messageLine(m: InboxMessage, network: "main" | "test" = "main"): string {
  const j = messageJson(m, network);
  let what: string;
  let shownMemo = "";
  switch (m.payload.type) {
    case "text":
      what = JSON.stringify(j.text);
      break;
    case "payment_request": {
      const r = j.payment_request as {
        amount: number;
        expires: number;
        memo: string;
        outputs: { amount: number; address?: string | null }[];
      };
      const to = r.outputs.map((o) => o.address ?? "(script)").join(", ");
      what = `payment request: ${sats(r.amount)} to ${to}` +
        (r.memo ? ` "${r.memo}"` : "") +
        (r.expires ? `, expires ${isoTime(r.expires)}` : "");
      shownMemo = r.memo;
      break;
    }
    case "payment": {
      const p = j.payment as { transactions: string[]; memo: string };
      what = `payment: ${p.transactions.length} transaction(s)` + (p.memo ? ` "${p.memo}"` : "");
      shownMemo = p.memo;
      break;
    }
    case "payment_ack": {
      const a = j.payment_ack as { memo: string; payment: { transactions: string[] } };
      what = `payment ack for ${a.payment.transactions.length} transaction(s)` +
        (a.memo ? ` "${a.memo}"` : "");
      shownMemo = a.memo;
      break;
    }
    case "psbt": {
      const p = j.psbt as {
        inputs: number;
        outputs: number;
        output_list: { amount: number | null; address: string | null }[];
        fee: number | null;
      };
      const outs = p.output_list.map((o) =>
        `${o.amount === null ? "?" : sats(o.amount)} to ${o.address ?? "(script)"}`
      ).join(", ");
      what = `PSBT: ${p.inputs} input(s), ${p.outputs} output(s): ${outs}` +
        (p.fee === null ? "" : `, fee ${sats(p.fee)}`);
      break;
    }
  }
  const memo = m.payload.memo && m.payload.memo !== shownMemo ? ` memo "${m.payload.memo}"` : "";
  const from = m.payload.replyTo
    ? ` from ${m.payload.replyTo.slice(0, 12)}… ${
      senderVerified(m) ? "(signed)" : "UNVERIFIED (no signature proves this address)"
    }`
    : "";
  return `${isoTime(m.receivedAt)} (sent ${isoTime(m.payload.createdTime)})  ${
    m.id.slice(0, 12)
  }  ${what}${memo}${from}`;
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
