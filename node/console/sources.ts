/**
 * What the console reads from other features. Federation, tokens and fees each publish their
 * part as a service under the keys below (`core.provide(NETWORK_CONSOLE, ...)`); the console
 * reads them once the app is built, and a page whose source is missing says "not available"
 * instead of failing. Every method may be synchronous or return a promise.
 *
 * @module
 */
import { serviceKey } from "../feature.ts";

type MaybePromise<T> = T | Promise<T>;

/** One k-bucket of the routing table. */
export interface BucketView {
  /** Bucket index (shared prefix length with the node id, 0..159). */
  index: number;
  /** Contacts in the bucket. */
  contacts: number;
  /** Bucket capacity (k). */
  capacity: number;
}

/** A known peer. */
export interface PeerView {
  /** Node id (hex). */
  id: string;
  url: string;
  /** Bucket index, if the peer is in the routing table. */
  bucket?: number;
  /** Unix ms of the last message heard from the peer, or null. */
  lastSeenAt: number | null;
  /** Last measured round-trip time, or null. */
  rttMs: number | null;
  /** Unix ms of the last request of ours the peer answered (null: none yet). */
  lastOkAt?: number | null;
  /** Unix ms of the last request of ours that failed. */
  lastErrorAt?: number | null;
  /** Why that request failed. */
  lastError?: string | null;
}

/** One `--bootstrap` URL and how joining through it went. */
export interface BootstrapView {
  url: string;
  /** Whether it answered the last attempt. */
  reachable: boolean;
  /** Attempts made so far. */
  attempts: number;
  /** Why the last attempt failed. */
  lastError: string | null;
  /** Unix ms of the next retry (null: no retry planned). */
  nextRetryAt: number | null;
}

/** Whether this node is reachable at the URL it tells peers. */
export interface SelfCheckView {
  url: string;
  /** It answered `GET <url>/v1/info` with its own node id. */
  reachable: boolean;
  /** Unix ms of the check. */
  checkedAt: number;
  error: string | null;
  /** Unix ms a peer last reached this node with a DHT request (null: never since start). */
  peerReachedAt?: number | null;
}

/** The Network page's data. */
export interface NetworkView {
  /** This node's id (hex). */
  nodeId: string;
  /** The URL this node tells peers. */
  url: string | undefined;
  buckets: BucketView[];
  peers: PeerView[];
  /** Named counts, e.g. `{ "notices broadcast": 120, "bodies fetched": 8 }`. */
  counters: Record<string, number>;
  /** The `--bootstrap` URLs and how joining through them went. */
  bootstrap?: BootstrapView[];
  /** The public-URL self-check, once it ran. */
  selfCheck?: SelfCheckView;
}

/** Federation's part. */
export interface NetworkSource {
  view(): MaybePromise<NetworkView>;
}

/** An account as the Quotas page lists it. */
export interface AccountView {
  /**
   * What identifies the account in forms: its number, or (where only a hash of the number is
   * stored) the hash in hex. The page abbreviates long ids.
   */
  id: string;
  /** Unix ms. */
  createdAt: number;
  disabled: boolean;
  /** Extra tokens credited by fees or by the operator, not yet issued. */
  credit: number;
  /** Tokens issued to the account so far. */
  issuedTotal?: number;
}

/** An issuer key. */
export interface IssuerKeyView {
  /** Key id (hex, e.g. the RFC 9578 token key id). */
  id: string;
  /** Unix ms it was created. */
  createdAt: number;
  /** Unix ms from which no new tokens are issued under it. */
  rotatesAt: number | null;
  /** Unix ms after which its tokens are no longer accepted. */
  expiresAt: number | null;
  /** True for the key tokens are issued under now. */
  current: boolean;
}

/** Tokens issued and redeemed on one UTC day. */
export interface TokenDay {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  issued: number;
  redeemed: number;
}

/** Token statistics. */
export interface QuotaStats {
  /** Oldest day first. */
  daily: TokenDay[];
  /** Spent token nonces held. */
  spentSetSize: number;
  keys: IssuerKeyView[];
}

/** Tokens' part. Validation errors are `RangeError`/`TypeError`s shown to the operator. */
export interface QuotaSource {
  /** Accounts whose id contains `search` (all when empty), newest first. */
  accounts(q: { search: string; limit: number; offset: number }): MaybePromise<{
    accounts: AccountView[];
    total: number;
  }>;
  /** Creates an account (as a captcha signup would) and returns it. */
  createAccount(): MaybePromise<AccountView>;
  /** Adds `tokens` to an account's credit. */
  credit(id: string, tokens: number): MaybePromise<void>;
  /** Disables (or re-enables) an account. */
  setDisabled(id: string, disabled: boolean): MaybePromise<void>;
  /** Issued/redeemed per day for the last `days` days, the spent set and the issuer keys. */
  stats(days: number): MaybePromise<QuotaStats>;
}

/** Prices and limits the operator sets; `/v1/pricing` shows the same values. */
export interface PricingView {
  /** Tokens in one bundle sold for a fee. */
  tokensPerBundle: number;
  /** Price of one bundle in satoshis. */
  bundlePriceSats: number;
  /** Free tokens per account per period. */
  freeTokensPerPeriod: number;
  /** Length of the quota period. */
  periodSeconds: number;
  /** Longest message TTL. */
  maxTtlSeconds: number;
  /** Largest message payload. */
  maxPayloadBytes: number;
  /** Extended public key invoices derive addresses from ("" when fees are off). */
  xpub: string;
  /** Esplora-compatible API base URL used to detect payments ("" when not set). */
  esploraUrl: string;
  /** Confirmations a payment needs (0 accepts mempool transactions). */
  confirmations: number;
  /** Address type: `auto` (the key's prefix decides), `p2pkh`, `p2sh-p2wpkh` or `p2wpkh`. */
  addressType: string;
}

/** What a key and address type would derive, shown before the operator saves them. */
export interface PaymentPreviewView {
  network: string;
  /** The type the key's prefix implies. */
  keyType: string;
  /** The type that would be derived. */
  type: string;
  /** The first receive addresses (index 0, 1, 2). */
  addresses: string[];
}

/** Payment facts shown next to the prices (read-only). */
export interface PaymentStatusView {
  /** Whether wallets can buy tokens now (an xpub and a price above zero). */
  feesEnabled: boolean;
  /** Network of the xpub's addresses, when one is set. */
  network?: string;
  /** Address type derived, when an xpub is set. */
  addressType?: string;
  /** The receive address the next invoice gets (derivation is pure; nothing is reserved). */
  nextAddress?: string;
  /** Index of that address under the xpub. */
  nextIndex?: number;
}

/** How payment detection is doing (the Esplora poller records it). */
export interface PaymentHealthView {
  /** Esplora base URL polled ("" : none set, payments are not detected). */
  backend: string;
  /** Unix ms of the last poll the backend answered, or null. */
  lastSuccessAt: number | null;
  /** Unix ms of the last failed request, or null. */
  lastErrorAt: number | null;
  lastError: string | null;
  /** The backend's chain tip at the last success. */
  tipHeight: number | null;
  /**
   * Blocks the backend is behind the highest tip it (or an earlier backend) reported, or null
   * before the first answer.
   */
  lagBlocks: number | null;
  /** How often it is polled. */
  pollIntervalMs: number;
}

/**
 * A refused form value that names its field, so the page can show the message next to it.
 *
 * @example
 * ```ts
 * throw new FieldError("xpub", "Cannot parse xpub: bad checksum");
 * ```
 */
export class FieldError extends RangeError {
  /** The field (a {@linkcode PricingView} key or another form field name). */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = "FieldError";
    this.field = field;
  }
}

/** An invoice as the Pricing page lists it. */
export interface InvoiceView {
  id: string;
  account: string;
  /** Amount in satoshis. */
  amountSats: number;
  tokens: number;
  /** e.g. "pending", "paid", "expired". */
  status: string;
  address: string;
  /** Unix ms. */
  createdAt: number;
  /** Sats seen at the address so far (confirmed or not). */
  receivedSats?: number;
  /** Unix ms the quote expires. */
  expiresAt?: number;
  /** Unix ms it was paid, or null. */
  paidAt?: number | null;
  /** Abbreviated key the address derives from ("" for invoices older than per-key indices). */
  xpub?: string;
  /** Derivation index of the address under that key. */
  addressIndex?: number;
}

/**
 * Fees' part. `update` applies at once (so `/v1/pricing` shows it) or throws a `RangeError`
 * naming the field ({@linkcode FieldError} when it knows which).
 */
export interface PricingSource {
  get(): MaybePromise<PricingView>;
  update(patch: Partial<PricingView>): MaybePromise<void>;
  invoices(q: { limit: number }): MaybePromise<InvoiceView[]>;
  /** Invoice counts by status. */
  invoiceCounts?(): MaybePromise<Record<string, number>>;
  /** Whether fees are on, and the address the next invoice gets. */
  status?(): MaybePromise<PaymentStatusView>;
  /** How payment detection is doing. */
  health?(): MaybePromise<PaymentHealthView>;
  /**
   * What the payment fields in `patch` would derive, without saving (undefined: no key).
   * Throws a {@linkcode FieldError} for a refused field.
   */
  preview?(patch: Partial<PricingView>): MaybePromise<PaymentPreviewView | undefined>;
  /** Fields shown but not editable here, each with the reason (e.g. "set with --fee-xpub"). */
  readOnly?: Partial<Record<keyof PricingView, string>>;
}

/** Everything the console reads from other features; a missing part renders "not available". */
export interface ConsoleSources {
  network?: NetworkSource;
  quota?: QuotaSource;
  pricing?: PricingSource;
  /** This node's public URL, if federation knows it better than the request's. */
  publicUrl?: () => string | undefined;
}

/** The network view the federation feature publishes for the console. */
export const NETWORK_CONSOLE = serviceKey<NetworkSource>("console.network");
/** Accounts, keys and token counts the quota feature publishes for the console. */
export const QUOTA_CONSOLE = serviceKey<QuotaSource>("console.quota");
/** Prices, payment settings and invoices the fees feature publishes for the console. */
export const PRICING_CONSOLE = serviceKey<PricingSource>("console.pricing");
/** This node's public URL, when federation knows it better than the request's Host. */
export const PUBLIC_URL = serviceKey<() => string | undefined>("console.public-url");
