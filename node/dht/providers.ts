/**
 * Provider records: which servers hold the body of a message. A record is keyed by the message
 * id (its first 160 bits place it in the DHT), names the tag, and expires with the message. The
 * provider is always the verified sender of the `add_provider` request (a node can only
 * announce itself), and the record counts only once the receiver fetched the body from it and
 * checked it against the id. A full list is never made room in by evicting a live record, and at
 * most two providers per address range are kept per message, so late or throwaway announcers
 * cannot push out the servers that really hold a body.
 *
 * @module
 */
import { type Contact, rangeKeyOf } from "./contact.ts";

/** Providers of one message kept per address range (/24, /64, host name). */
export const MAX_PROVIDERS_PER_RANGE = 2;

/** One provider of one message. */
export interface ProviderRecord {
  /** Message id, 64 hex characters. */
  readonly messageId: string;
  /** The message's tag. */
  readonly tag: string;
  /** The server holding the body. */
  readonly provider: Contact;
  /** Unix seconds after which the record is dropped. */
  readonly expiresAt: number;
}

/**
 * A bounded in-memory provider store.
 *
 * @example
 * ```ts
 * const store = new ProviderStore({ maxKeys: 100_000, maxPerKey: 20 });
 * store.add({ messageId, tag, provider, expiresAt }, nowMs);
 * store.get(messageId, nowMs);
 * ```
 */
export class ProviderStore {
  readonly maxKeys: number;
  readonly maxPerKey: number;
  #records = new Map<string, ProviderRecord[]>();

  /** An empty store holding at most `maxKeys` messages and `maxPerKey` providers each. */
  constructor(opts: { maxKeys?: number; maxPerKey?: number } = {}) {
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.maxPerKey = opts.maxPerKey ?? 20;
  }

  /** Number of messages with records. */
  get size(): number {
    return this.#records.size;
  }

  /** Adds or refreshes a record; false if the store is full or the record already expired. */
  add(record: ProviderRecord, nowMs: number): boolean {
    if (record.expiresAt * 1000 <= nowMs) return false;
    let list = this.#records.get(record.messageId);
    if (list === undefined) {
      if (this.#records.size >= this.maxKeys) this.prune(nowMs);
      if (this.#records.size >= this.maxKeys) return false;
      list = [];
      this.#records.set(record.messageId, list);
    }
    const at = list.findIndex((r) => r.provider.id === record.provider.id);
    if (at >= 0) {
      list.splice(at, 1);
    } else {
      const live = list.filter((r) => r.expiresAt * 1000 > nowMs);
      if (live.length !== list.length) this.#records.set(record.messageId, list = live);
      const range = rangeKeyOf(record.provider.url);
      const sameRange = list.filter((r) => rangeKeyOf(r.provider.url) === range).length;
      if (list.length >= this.maxPerKey || sameRange >= MAX_PROVIDERS_PER_RANGE) return false;
    }
    list.push(record);
    return true;
  }

  /** True when `providerId` has a live record for `messageId` (a refresh needs no new check). */
  has(messageId: string, providerId: string, nowMs: number): boolean {
    return this.get(messageId, nowMs).some((r) => r.provider.id === providerId);
  }

  /** Live records of `messageId`, most recently announced last. */
  get(messageId: string, nowMs: number): ProviderRecord[] {
    const list = this.#records.get(messageId);
    if (list === undefined) return [];
    const live = list.filter((r) => r.expiresAt * 1000 > nowMs);
    if (live.length === 0) this.#records.delete(messageId);
    else if (live.length !== list.length) this.#records.set(messageId, live);
    return live;
  }

  /** Drops expired records. */
  prune(nowMs: number): void {
    for (const id of [...this.#records.keys()]) this.get(id, nowMs);
  }
}
