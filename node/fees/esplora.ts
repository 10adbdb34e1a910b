/**
 * A small client of the Esplora HTTP API (Blockstream's electrs, mempool.space and compatible
 * servers): the chain tip and the transactions paying an address, from which it computes what
 * an invoice address received with at least N confirmations.
 *
 * Endpoints used: `GET /blocks/tip/height` (text), `GET /address/:address/txs` (JSON; mempool
 * transactions first, then up to 25 confirmed) and `GET /address/:address/txs/chain/:txid`
 * (the next 25 confirmed after `txid`).
 *
 * @module
 */

/** One transaction output as Esplora reports it. */
interface EsploraVout {
  scriptpubkey_address?: string;
  value: number;
}

/** One transaction as Esplora reports it (only the fields used). */
interface EsploraTxJson {
  txid: string;
  vout: EsploraVout[];
  status: { confirmed: boolean; block_height?: number };
}

/** What an address received. */
export interface Received {
  /** Sats in outputs to the address with at least the asked confirmations. */
  confirmedSats: number;
  /** Sats in outputs to the address with fewer confirmations (including mempool). */
  pendingSats: number;
  /** The transactions that paid the address. */
  txids: string[];
}

/** Options for {@linkcode EsploraClient}. */
export interface EsploraOptions {
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Most pages of confirmed history read per address (25 transactions each). */
  maxPages?: number;
  /** `fetch` to use (tests). */
  fetch?: typeof fetch;
}

/** The backend failed or answered something unexpected. */
export class EsploraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EsploraError";
  }
}

/**
 * Talks to one Esplora-compatible server.
 *
 * @example
 * ```ts
 * const esplora = new EsploraClient("https://esplora.example/api");
 * const { confirmedSats } = await esplora.received("bc1q...", 1);
 * ```
 */
export class EsploraClient {
  readonly baseUrl: string;
  #timeoutMs: number;
  #maxPages: number;
  #fetch: typeof fetch;

  constructor(baseUrl: string, opts: EsploraOptions = {}) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new RangeError(`Cannot parse Esplora URL '${baseUrl}'`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new RangeError(`Esplora URL must be http(s), got '${url.protocol}'`);
    }
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#maxPages = opts.maxPages ?? 8;
    this.#fetch = opts.fetch ?? fetch;
  }

  async #get(path: string): Promise<Response> {
    let res: Response;
    try {
      res = await this.#fetch(this.baseUrl + path, {
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new EsploraError(`Esplora ${path}: ${(err as Error).message}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new EsploraError(`Esplora ${path}: HTTP ${res.status}`);
    }
    return res;
  }

  /** Height of the best block. */
  async tipHeight(): Promise<number> {
    const text = (await (await this.#get("/blocks/tip/height")).text()).trim();
    if (!/^\d{1,9}$/.test(text)) {
      throw new EsploraError(`Esplora tip height: got '${text.slice(0, 40)}'`);
    }
    return Number(text);
  }

  async #txs(path: string): Promise<EsploraTxJson[]> {
    const body = await (await this.#get(path)).json();
    if (!Array.isArray(body)) throw new EsploraError(`Esplora ${path}: expected a JSON array`);
    for (const tx of body) {
      if (
        typeof tx?.txid !== "string" || !Array.isArray(tx.vout) || typeof tx.status !== "object"
      ) {
        throw new EsploraError(`Esplora ${path}: malformed transaction`);
      }
    }
    return body as EsploraTxJson[];
  }

  /** Every transaction touching `address` (mempool first), reading confirmed pages as needed. */
  async addressTxs(address: string): Promise<EsploraTxJson[]> {
    const enc = encodeURIComponent(address);
    const all = await this.#txs(`/address/${enc}/txs`);
    let confirmed = all.filter((t) => t.status.confirmed);
    for (let page = 1; page < this.#maxPages && confirmed.length === 25; page++) {
      const last = confirmed[confirmed.length - 1]!.txid;
      confirmed = await this.#txs(`/address/${enc}/txs/chain/${last}`);
      all.push(...confirmed);
    }
    return all;
  }

  /**
   * What `address` received: outputs confirmed at least `minConfirmations` times (0 counts
   * mempool transactions) and the rest.
   */
  async received(address: string, minConfirmations: number): Promise<Received> {
    const [txs, tip] = await Promise.all([this.addressTxs(address), this.tipHeight()]);
    const out: Received = { confirmedSats: 0, pendingSats: 0, txids: [] };
    const seen = new Set<string>();
    for (const tx of txs) {
      if (seen.has(tx.txid)) continue;
      seen.add(tx.txid);
      let sats = 0;
      for (const v of tx.vout) {
        if (v.scriptpubkey_address === address && Number.isSafeInteger(v.value) && v.value > 0) {
          sats += v.value;
        }
      }
      if (sats === 0) continue;
      out.txids.push(tx.txid);
      const confs = tx.status.confirmed && typeof tx.status.block_height === "number"
        ? tip - tx.status.block_height + 1
        : 0;
      if (confs >= minConfirmations) out.confirmedSats += sats;
      else out.pendingSats += sats;
    }
    return out;
  }
}
