/**
 * Invoices for token bundles: each gets a fresh address derived from the operator's xpub (the
 * next unused index of that key, so changing the xpub starts the new key at index 0) and a
 * BIP21 URI; a poller asks the Esplora backend what each watched address received and, once
 * the price arrived with enough confirmations, marks the invoice paid, then credits the account
 * through the quota feature's {@linkcode AccountCredit} under the reference `invoice:<id>`
 * (credited once however often that step is retried; a paid invoice whose credit did not go
 * through, say after a crash, is credited at the next poll).
 *
 * A payment that arrives after the invoice's quote expired still counts while the invoice is
 * watched (`graceSeconds` past expiry), since the address is the customer's alone.
 *
 * @module
 */
import type { PaymentHealthView } from "../console/mod.ts";
import type { AccountCredit } from "../quota/mod.ts";
import type { EsploraClient } from "./esplora.ts";
import { bip21Uri, type Pricing } from "./pricing.ts";
import type { FeesStore, Invoice } from "./store.ts";
import type { AddressDeriver } from "./xpub.ts";
import { toHex } from "../../client/mod.ts";

/** Why an invoice cannot be made. */
export class InvoiceError extends Error {
  /** `disabled` (no xpub or no price) or `input`. */
  readonly code: "disabled" | "input";
  constructor(code: "disabled" | "input", message: string) {
    super(message);
    this.name = "InvoiceError";
    this.code = code;
  }
}

/** What {@linkcode InvoiceService.configure} can change while the service runs. */
export interface InvoicePaymentConfig {
  /** Derives invoice addresses; `undefined` when the operator set no xpub. */
  deriver: AddressDeriver | undefined;
  /** Payment backend; `undefined` when the operator set no Esplora URL. */
  esplora: EsploraClient | undefined;
  /** Confirmations a payment needs (0 accepts mempool transactions). */
  confirmations: number;
}

/** Options for {@linkcode InvoiceService}. */
export interface InvoiceServiceOptions extends InvoicePaymentConfig {
  store: FeesStore;
  /** The accounts paid invoices credit. */
  accounts: AccountCredit;
  /** Seconds a quote is valid. */
  invoiceTtlSeconds: number;
  /** Seconds past expiry an invoice is still watched. */
  graceSeconds?: number;
  /** The bundle price in force. */
  pricing: () => Pick<Pricing, "tokensPerBundle" | "bundlePriceSats">;
  /** Label in the BIP21 URI. */
  label?: string;
  now?: () => number;
  /** Random invoice ids. */
  randomBytes?: (n: number) => Uint8Array;
  /** Called when an invoice is paid (metrics, logs). */
  onPaid?: (inv: Invoice) => void;
  /** Called when the backend or crediting fails (logs). */
  onError?: (err: unknown) => void;
}

/** The JSON form of an invoice. */
export interface InvoiceJson {
  id: string;
  status: Invoice["status"];
  address: string;
  uri: string;
  amount_sats: number;
  tokens: number;
  received_sats: number;
  confirmations_required: number;
  created_at: number;
  expires_at: number;
  paid_at: number | null;
}

/**
 * Creates and watches invoices.
 *
 * @example
 * ```ts
 * const inv = await invoices.create(accountHash, 2);
 * inv.address; // pay here
 * await invoices.pollOnce();
 * ```
 */
export class InvoiceService {
  #o: InvoiceServiceOptions;
  #now: () => number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling: Promise<unknown> | undefined;
  #pollIntervalMs = 0;
  /** What the poller saw of the backend (see {@linkcode health}). */
  #seen = {
    lastSuccessAt: null as number | null,
    lastErrorAt: null as number | null,
    lastError: null as string | null,
    tipHeight: null as number | null,
    bestTip: null as number | null,
  };

  constructor(opts: InvoiceServiceOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Whether invoices can be made (xpub set and a price above zero). */
  get enabled(): boolean {
    return this.#o.deriver !== undefined && this.#o.pricing().bundlePriceSats > 0;
  }

  /** Confirmations a payment needs. */
  get confirmations(): number {
    return this.#o.confirmations;
  }

  /**
   * Changes the xpub, the backend or the confirmations at once: the next invoice derives from
   * the new key (its indices count from that key's last used one), the next poll asks the new
   * backend. Invoices made before keep their addresses and are still watched.
   */
  configure(next: InvoicePaymentConfig): void {
    if (next.esplora?.baseUrl !== this.#o.esplora?.baseUrl) {
      // A new backend starts unproven; the best tip seen stays, so a lagging one shows.
      this.#seen = { ...this.#seen, lastSuccessAt: null, lastErrorAt: null, lastError: null };
    }
    this.#o = {
      ...this.#o,
      deriver: next.deriver,
      esplora: next.esplora,
      confirmations: next.confirmations,
    };
  }

  /**
   * Makes an invoice for `bundles` bundles for an account (the caller checked it exists).
   * @throws {InvoiceError} when fees are disabled or `bundles` is out of range.
   */
  async create(accountHash: Uint8Array, bundles: number): Promise<Invoice> {
    const deriver = this.#o.deriver;
    const pricing = this.#o.pricing();
    if (deriver === undefined || pricing.bundlePriceSats <= 0) {
      throw new InvoiceError("disabled", "This node does not sell tokens (no xpub or no price)");
    }
    if (!Number.isSafeInteger(bundles) || bundles < 1 || bundles > 1000) {
      throw new InvoiceError("input", `bundles must be an integer between 1 and 1000`);
    }
    const now = this.#now();
    const random = this.#o.randomBytes ??
      ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
    for (let attempt = 0; attempt < 10; attempt++) {
      const index = await this.#o.store.nextAddressIndex(deriver.xpub) + attempt;
      const inv: Invoice = {
        id: toHex(random(16)),
        accountHash,
        address: deriver.address(index),
        xpub: deriver.xpub,
        addressIndex: index,
        amountSats: bundles * pricing.bundlePriceSats,
        tokens: bundles * pricing.tokensPerBundle,
        createdAt: now,
        expiresAt: now + this.#o.invoiceTtlSeconds * 1000,
        status: "pending",
        receivedSats: 0,
        paidAt: null,
      };
      if (await this.#o.store.insertInvoice(inv)) return inv;
    }
    throw new Error("Cannot allocate an invoice address; retry");
  }

  /** One invoice by id. */
  get(id: string): Promise<Invoice | undefined> {
    return this.#o.store.getInvoice(id);
  }

  /** The JSON form of an invoice (times in Unix seconds). */
  toJson(inv: Invoice): InvoiceJson {
    return {
      id: inv.id,
      status: inv.status,
      address: inv.address,
      uri: bip21Uri({
        address: inv.address,
        amountSats: inv.amountSats,
        label: this.#o.label ?? "Subspace tokens",
        message: `${inv.tokens} tokens, invoice ${inv.id.slice(0, 8)}`,
      }),
      amount_sats: inv.amountSats,
      tokens: inv.tokens,
      received_sats: inv.receivedSats,
      confirmations_required: this.#o.confirmations,
      created_at: Math.floor(inv.createdAt / 1000),
      expires_at: Math.floor(inv.expiresAt / 1000),
      paid_at: inv.paidAt === null ? null : Math.floor(inv.paidAt / 1000),
    };
  }

  /**
   * Checks every watched invoice once; returns how many were checked and paid. Backend errors
   * are reported through `onError` and leave invoices pending. Paid invoices not yet credited
   * are credited first.
   */
  async pollOnce(): Promise<{ checked: number; paid: number }> {
    const { esplora, confirmations, store } = this.#o;
    const now = this.#now();
    const graceMs = (this.#o.graceSeconds ?? 86400) * 1000;
    for (const inv of await store.uncreditedInvoices()) await this.#credit(inv);
    await store.expireInvoices(now - graceMs);
    if (esplora === undefined) return { checked: 0, paid: 0 };
    // The tip is asked on every poll, invoices or not, so a broken backend shows at once.
    try {
      const tip = await esplora.tipHeight();
      this.#seen.tipHeight = tip;
      this.#seen.bestTip = Math.max(this.#seen.bestTip ?? tip, tip);
      this.#seen.lastSuccessAt = this.#now();
    } catch (err) {
      this.#failed(err);
      return { checked: 0, paid: 0 };
    }
    const watched = await store.watchedInvoices(now - graceMs);
    let paid = 0;
    for (const inv of watched) {
      try {
        const r = await esplora.received(inv.address, confirmations);
        if (r.confirmedSats >= inv.amountSats) {
          if (await store.markPaid(inv.id, r.confirmedSats, now)) {
            paid++;
            const done: Invoice = {
              ...inv,
              status: "paid",
              receivedSats: r.confirmedSats,
              paidAt: now,
            };
            this.#o.onPaid?.(done);
            await this.#credit(done);
          }
        } else if (r.confirmedSats + r.pendingSats !== inv.receivedSats) {
          await store.setReceived(inv.id, r.confirmedSats + r.pendingSats);
        }
      } catch (err) {
        this.#failed(err);
      }
    }
    return { checked: watched.length, paid };
  }

  #failed(err: unknown): void {
    this.#seen.lastErrorAt = this.#now();
    this.#seen.lastError = ((err as Error).message ?? String(err)).slice(0, 300);
    this.#o.onError?.(err);
  }

  /** How payment detection is doing: the backend's last answer and error, and its lag. */
  health(): PaymentHealthView {
    const s = this.#seen;
    return {
      backend: this.#o.esplora?.baseUrl ?? "",
      lastSuccessAt: s.lastSuccessAt,
      lastErrorAt: s.lastErrorAt,
      lastError: s.lastError,
      tipHeight: s.tipHeight,
      lagBlocks: s.tipHeight === null || s.bestTip === null ? null : s.bestTip - s.tipHeight,
      pollIntervalMs: this.#pollIntervalMs,
    };
  }

  /** Credits a paid invoice's account (once, by reference) and records it. */
  async #credit(inv: Invoice): Promise<void> {
    try {
      if (await this.#o.accounts.credit(inv.accountHash, inv.tokens, `invoice:${inv.id}`)) {
        await this.#o.store.markCredited(inv.id);
      } else {
        this.#o.onError?.(
          new Error(`Cannot credit invoice ${inv.id}: its account does not exist`),
        );
      }
    } catch (err) {
      this.#o.onError?.(err);
    }
  }

  /**
   * Polls every `intervalMs` until {@linkcode stop}; with `leads`, only on ticks where it
   * answers true (one of several processes sharing a database polls).
   */
  start(intervalMs: number, leads: () => Promise<boolean> = () => Promise.resolve(true)): void {
    if (this.#timer !== undefined) return;
    this.#pollIntervalMs = intervalMs;
    this.#timer = setInterval(() => {
      if (this.#polling) return;
      this.#polling = leads().then((lead) => lead ? this.pollOnce() : undefined).catch((err) =>
        this.#o.onError?.(err)
      ).finally(() => {
        this.#polling = undefined;
      });
    }, intervalMs);
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#polling;
  }
}
