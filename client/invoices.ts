/**
 * Buying tokens for bitcoin where a node sells them (docs/tokens.md): an invoice
 * (`POST /v1/invoices`) carries a BIP21 URI to pay; the node watches the chain and credits the
 * account once paid (`GET /v1/invoices/<id>`); the credit is then drawn as tokens like the free
 * quota. {@linkcode buyTokens} does the whole job, with the same transport options (and proxy) as
 * the other token calls.
 *
 * @example
 * ```ts
 * const { tokens } = await buyTokens(server, {
 *   account, bundles: 1, store,
 *   onInvoice: (inv) => console.log(`pay ${inv.uri}`),
 * });
 * ```
 *
 * @module
 */
import { exchange, type TokenHttpOptions } from "./_exchange.ts";
import { normalizeServer } from "./_server_url.ts";
import type { RandomBytes } from "./bytes.ts";
import { fetchTokens, type FetchTokensOptions, type TokenStore } from "./tokens.ts";

/** An invoice for token bundles, as the node describes it. */
export interface Invoice {
  /** Invoice id (32 hex characters). */
  id: string;
  /** `pending`, `paid` or `expired`. */
  status: string;
  /** The Bitcoin address to pay. */
  address: string;
  /** BIP21 URI (`bitcoin:ADDR?amount=...&label=...`), for a wallet or a QR code. */
  uri: string;
  /** Amount to pay in satoshis. */
  amountSats: number;
  /** Tokens credited once paid. */
  tokens: number;
  /** Satoshis seen so far. */
  receivedSats: number;
  /** Confirmations the payment needs. */
  confirmationsRequired: number;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds: pay before this. */
  expiresAt: number;
  /** Unix seconds, once paid. */
  paidAt: number | null;
}

function invoiceOf(j: Record<string, unknown>): Invoice {
  if (typeof j.id !== "string" || typeof j.uri !== "string" || typeof j.address !== "string") {
    throw new TypeError("invoice: response lacks id, address and uri");
  }
  const n = (v: unknown) => Number(v ?? 0);
  return {
    id: j.id,
    status: String(j.status),
    address: j.address,
    uri: j.uri,
    amountSats: n(j.amount_sats),
    tokens: n(j.tokens),
    receivedSats: n(j.received_sats),
    confirmationsRequired: n(j.confirmations_required),
    createdAt: n(j.created_at),
    expiresAt: n(j.expires_at),
    paidAt: j.paid_at === null || j.paid_at === undefined ? null : n(j.paid_at),
  };
}

/**
 * Asks for an invoice for `bundles` token bundles, to be credited to `account`.
 *
 * @throws {SubspaceHttpError} 404 when the node sells nothing or the account is unknown, 400 for
 * a bad number of bundles.
 */
export async function createInvoice(
  server: string,
  opts: TokenHttpOptions & { account: string; bundles: number },
): Promise<Invoice> {
  if (!Number.isSafeInteger(opts.bundles) || opts.bundles < 1) {
    throw new RangeError(`Cannot buy: bundles must be a positive integer, got ${opts.bundles}`);
  }
  return invoiceOf(
    await exchange(opts, `${normalizeServer(server)}/v1/invoices`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${opts.account}` },
      body: JSON.stringify({ bundles: opts.bundles }),
    }),
  );
}

/** Reads an invoice's current state. */
export async function fetchInvoice(
  server: string,
  id: string,
  opts: TokenHttpOptions = {},
): Promise<Invoice> {
  if (!/^[0-9a-f]{32}$/.test(id)) {
    throw new RangeError("Cannot read invoice: expected an id of 32 hex characters");
  }
  return invoiceOf(await exchange(opts, `${normalizeServer(server)}/v1/invoices/${id}`));
}

/** Options of {@linkcode waitForInvoice}. */
export interface WaitForInvoiceOptions extends TokenHttpOptions {
  /** How often to ask (default 5 s). */
  pollMs?: number;
  /** Called after every check. */
  onStatus?: (invoice: Invoice) => void;
  /** Called when a check fails (network); waiting goes on until the invoice expires. */
  onError?: (error: Error) => void;
}

/**
 * Polls an invoice until it is paid, and returns it.
 *
 * @throws {Error} when it expires unpaid (the deadline is the invoice's own `expiresAt`, plus
 * an hour for a payment sent in time to confirm).
 */
export async function waitForInvoice(
  server: string,
  id: string,
  opts: WaitForInvoiceOptions = {},
): Promise<Invoice> {
  const pollMs = opts.pollMs ?? 5000;
  let deadline = Infinity;
  for (;;) {
    let inv: Invoice | undefined;
    try {
      inv = await fetchInvoice(server, id, opts);
    } catch (e) {
      if (opts.signal?.aborted || !(e instanceof Error) || e.name !== "NetworkError") throw e;
      opts.onError?.(e);
    }
    if (inv !== undefined) {
      opts.onStatus?.(inv);
      if (inv.status === "paid") return inv;
      if (inv.status === "expired") throw new Error(`invoice ${id} expired unpaid`);
      deadline = (inv.expiresAt + 3600) * 1000;
    }
    if (Date.now() > deadline) throw new Error(`invoice ${id} was not paid in time`);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, pollMs);
      opts.signal?.addEventListener("abort", () => {
        clearTimeout(t);
        reject(opts.signal!.reason);
      }, { once: true });
    });
  }
}

/** Options of {@linkcode buyTokens}. */
export interface BuyTokensOptions extends WaitForInvoiceOptions {
  /** The account to credit (`Authorization: Bearer`). */
  account: string;
  /** Bundles to buy. */
  bundles: number;
  /** Where to add the tokens. */
  store?: TokenStore;
  /** Called with the new invoice: show its `uri` (and a QR code of it) to the payer. */
  onInvoice?: (invoice: Invoice) => void;
  /** Randomness for the token requests. */
  random?: RandomBytes;
}

/**
 * Buys tokens: creates an invoice, hands it to `onInvoice`, waits until it is paid, and fetches
 * the credited tokens into `store`.
 */
export async function buyTokens(
  server: string,
  opts: BuyTokensOptions,
): Promise<{ invoice: Invoice; tokens: Uint8Array[] }> {
  const invoice = await createInvoice(server, opts);
  opts.onInvoice?.(invoice);
  const paid = await waitForInvoice(server, invoice.id, opts);
  const fetchOpts: FetchTokensOptions = { ...opts, count: paid.tokens };
  const { tokens } = await fetchTokens(server, fetchOpts);
  return { invoice: paid, tokens };
}
