/**
 * The Kademlia routing table, pure (no I/O, no clock, no randomness of its own): 160 k-buckets
 * with replacement caches, liveness checks before eviction (the table answers "ping this one"
 * and the caller reports back), bucket refresh bookkeeping, per-address-range limits against a
 * flood of fake ids, and a JSON snapshot for persistence across restarts.
 *
 * @module
 */
import type { Contact, ContactJson } from "./contact.ts";
import { contactToJson, parseContact } from "./contact.ts";
import { bucketIndex, compareDistance, ID_BITS, type NodeId } from "./id.ts";

/** One contact in the table. */
export interface RoutingEntry {
  readonly contact: Contact;
  /** Address range of the contact's URL (see `rangeKeyOf`). */
  readonly rangeKey: string;
  /** Last time the contact proved it is alive. */
  lastSeenMs: number;
  /** Consecutive failed requests since it was last seen. */
  failures: number;
  /** The id's first 32 bits, to rank by distance without reading the whole id. */
  readonly lead: number;
}

const leadOf = (id: string): number => parseInt(id.slice(0, 8), 16);

/** Per-address-range limits (counted over bucket entries, not replacement caches). */
export interface RangeLimits {
  /** Most contacts from one range in one bucket (mainline DHT practice: 2 per /24). */
  perBucket: number;
  /** Most contacts from one range in the whole table. */
  perTable: number;
}

/** Tuning of a {@link RoutingTable}. */
export interface RoutingTableOptions {
  /** Bucket size k. Default 20. */
  k?: number;
  /** Replacement cache size per bucket. Default k. */
  replacements?: number;
  /** Per-range limits; `null` turns them off (local multi-node tests on 127.0.0.1). */
  rangeLimits?: RangeLimits | null;
  /** Consecutive failures after which a contact is dropped for a replacement. Default 2. */
  maxFailures?: number;
}

/** Default per-range limits: 2 per /24 per bucket, 10 per /24 in the table. */
export const DEFAULT_RANGE_LIMITS: RangeLimits = { perBucket: 2, perTable: 10 };

/** What {@link RoutingTable.observe} did with a contact. */
export type ObserveResult =
  | { kind: "self" }
  | { kind: "added" }
  | { kind: "updated" }
  | { kind: "rejected"; reason: "range-bucket" | "range-table" }
  /** The bucket is full: the contact waits in the replacement cache. If `ping` is set, the
   * caller should ping it and report with {@link RoutingTable.pingResult}. */
  | { kind: "replacement"; ping: Contact | null };

interface Bucket {
  entries: RoutingEntry[]; // least recently seen first
  replacements: RoutingEntry[]; // most recently seen last
  refreshedMs: number;
  pendingPing: NodeId | null;
}

/** Serialized table. */
export interface RoutingTableSnapshot {
  version: 1;
  self: string;
  buckets: {
    index: number;
    refreshed_ms: number;
    entries: { contact: ContactJson; range: string; last_seen_ms: number }[];
  }[];
}

/**
 * A Kademlia routing table for `selfId`.
 *
 * @example
 * ```ts
 * const table = new RoutingTable(me.id, { k: 20 });
 * const r = table.observe(contact, rangeKeyOf(contact.url), Date.now());
 * if (r.kind === "replacement" && r.ping) table.pingResult(r.ping.id, await ping(r.ping), Date.now());
 * table.closest(target, 20);
 * ```
 */
export class RoutingTable {
  readonly selfId: NodeId;
  readonly k: number;
  readonly replacementSize: number;
  readonly rangeLimits: RangeLimits | null;
  readonly maxFailures: number;
  #buckets: Bucket[] = [];
  #byId = new Map<NodeId, RoutingEntry>();
  #rangeCount = new Map<string, number>();

  /** An empty table. */
  constructor(selfId: NodeId, opts: RoutingTableOptions = {}) {
    this.selfId = selfId;
    this.k = opts.k ?? 20;
    this.replacementSize = opts.replacements ?? this.k;
    this.rangeLimits = opts.rangeLimits === undefined ? DEFAULT_RANGE_LIMITS : opts.rangeLimits;
    this.maxFailures = opts.maxFailures ?? 2;
    if (!Number.isInteger(this.k) || this.k < 1) {
      throw new RangeError(
        `Cannot make routing table: k must be a positive integer, got ${this.k}`,
      );
    }
    for (let i = 0; i < ID_BITS; i++) {
      this.#buckets.push({ entries: [], replacements: [], refreshedMs: 0, pendingPing: null });
    }
  }

  /** Number of contacts in buckets (replacement caches excluded). */
  get size(): number {
    return this.#byId.size;
  }

  /** Whether `id` is in a bucket. */
  has(id: NodeId): boolean {
    return this.#byId.has(id);
  }

  /** The entry of `id`, if in a bucket. */
  get(id: NodeId): RoutingEntry | undefined {
    return this.#byId.get(id);
  }

  /** Every contact in the buckets. */
  contacts(): Contact[] {
    return [...this.#byId.values()].map((e) => e.contact);
  }

  /** Entries of bucket `index`, least recently seen first. */
  bucket(index: number): readonly RoutingEntry[] {
    return this.#buckets[index]?.entries ?? [];
  }

  /** Replacement cache of bucket `index`, most recently seen last. */
  replacements(index: number): readonly RoutingEntry[] {
    return this.#buckets[index]?.replacements ?? [];
  }

  /**
   * Records that `contact` proved it is alive (it answered us, or its request was verified and
   * it answered a check). Returns what happened.
   */
  observe(contact: Contact, rangeKey: string, nowMs: number): ObserveResult {
    if (contact.id === this.selfId) return { kind: "self" };
    const i = bucketIndex(this.selfId, contact.id);
    const b = this.#buckets[i]!;
    const existing = this.#byId.get(contact.id);
    if (existing !== undefined) {
      existing.lastSeenMs = nowMs;
      existing.failures = 0;
      const at = b.entries.indexOf(existing);
      b.entries.splice(at, 1);
      if (existing.contact.url !== contact.url || existing.rangeKey !== rangeKey) {
        // The node moved: re-check range limits for the new address.
        this.#uncount(existing.rangeKey);
        const moved: RoutingEntry = {
          contact,
          rangeKey,
          lastSeenMs: nowMs,
          failures: 0,
          lead: existing.lead,
        };
        this.#byId.delete(contact.id);
        const limit = this.#rangeCheck(b, rangeKey);
        if (limit !== null) return { kind: "rejected", reason: limit };
        b.entries.push(moved);
        this.#byId.set(contact.id, moved);
        this.#count(rangeKey);
        return { kind: "updated" };
      }
      b.entries.push(existing);
      if (b.pendingPing === contact.id) b.pendingPing = null;
      return { kind: "updated" };
    }
    const limit = this.#rangeCheck(b, rangeKey);
    if (limit !== null) return { kind: "rejected", reason: limit };
    const entry: RoutingEntry = {
      contact,
      rangeKey,
      lastSeenMs: nowMs,
      failures: 0,
      lead: leadOf(contact.id),
    };
    if (b.entries.length < this.k) {
      b.entries.push(entry);
      this.#byId.set(contact.id, entry);
      this.#count(rangeKey);
      this.#dropReplacement(b, contact.id);
      return { kind: "added" };
    }
    this.#dropReplacement(b, contact.id);
    b.replacements.push(entry);
    if (b.replacements.length > this.replacementSize) b.replacements.shift();
    // Prefer evicting a contact already known to fail; otherwise check the least recently seen.
    const failing = b.entries.find((e) => e.failures >= this.maxFailures);
    if (failing !== undefined) {
      this.#removeEntry(i, failing);
      this.#promote(i);
      return this.#byId.has(contact.id) ? { kind: "added" } : { kind: "replacement", ping: null };
    }
    if (b.pendingPing !== null) return { kind: "replacement", ping: null };
    const oldest = b.entries[0]!;
    b.pendingPing = oldest.contact.id;
    return { kind: "replacement", ping: oldest.contact };
  }

  /**
   * Reports the outcome of a liveness check the table asked for. A dead contact is dropped and
   * the most recently seen replacement takes its place (returned).
   */
  pingResult(id: NodeId, alive: boolean, nowMs: number): Contact | null {
    const i = bucketIndex(this.selfId, id);
    if (i < 0) return null;
    const b = this.#buckets[i]!;
    if (b.pendingPing === id) b.pendingPing = null;
    const e = this.#byId.get(id);
    if (e === undefined) return null;
    if (alive) {
      this.observe(e.contact, e.rangeKey, nowMs);
      return null;
    }
    this.#removeEntry(i, e);
    return this.#promote(i);
  }

  /**
   * Records a failed request to `id`. After `maxFailures` consecutive failures the contact is
   * replaced from the cache; with an empty cache it stays (so an outage on our side does not
   * empty the table) until it fails 3 * maxFailures times. Returns true if it was removed.
   */
  failed(id: NodeId): boolean {
    const e = this.#byId.get(id);
    if (e === undefined) return false;
    e.failures++;
    const i = bucketIndex(this.selfId, id);
    const b = this.#buckets[i]!;
    if (
      e.failures >= this.maxFailures &&
      (b.replacements.length > 0 || e.failures >= 3 * this.maxFailures)
    ) {
      this.#removeEntry(i, e);
      this.#promote(i);
      return true;
    }
    return false;
  }

  /** Removes `id` from its bucket (and replacement cache). */
  remove(id: NodeId): boolean {
    const i = bucketIndex(this.selfId, id);
    if (i < 0) return false;
    const b = this.#buckets[i]!;
    this.#dropReplacement(b, id);
    const e = this.#byId.get(id);
    if (e === undefined) return false;
    this.#removeEntry(i, e);
    this.#promote(i);
    return true;
  }

  /**
   * Up to `n` contacts closest to `target` by XOR, closest first, skipping those `skip` rejects.
   *
   * The buckets give the order without ranking the whole table: with `target` in bucket `j`,
   * the contacts of bucket `j` are the closest (their distance to it is below 2^j), then those
   * of every lower bucket together (distance in [2^j, 2^(j+1))), then the higher buckets one by
   * one, each farther than the last. Only the groups needed are sorted.
   */
  closest(target: string, n: number, skip?: (c: Contact) => boolean): Contact[] {
    const out: Contact[] = [];
    if (n <= 0) return out;
    const t = leadOf(target);
    const take = (entries: RoutingEntry[]) => {
      const group: { c: Contact; d: number }[] = [];
      for (const e of entries) {
        if (skip === undefined || !skip(e.contact)) {
          group.push({ c: e.contact, d: (e.lead ^ t) >>> 0 });
        }
      }
      // The XOR of the first 32 bits orders them, and the whole ids only on a tie.
      group.sort((a, b) => a.d - b.d || compareDistance(target, a.c.id, b.c.id));
      for (let i = 0; i < group.length && out.length < n; i++) out.push(group[i]!.c);
    };
    const j = target === this.selfId ? -1 : bucketIndex(this.selfId, target);
    if (j >= 0) {
      take(this.#buckets[j]!.entries);
      if (out.length < n && j > 0) {
        const lower: RoutingEntry[] = [];
        for (let i = 0; i < j; i++) lower.push(...this.#buckets[i]!.entries);
        take(lower);
      }
    }
    for (let i = j + 1; i < ID_BITS && out.length < n; i++) take(this.#buckets[i]!.entries);
    return out;
  }

  /** Indices of non-empty buckets, lowest first. */
  nonEmptyBuckets(): number[] {
    const out: number[] = [];
    for (let i = 0; i < ID_BITS; i++) if (this.#buckets[i]!.entries.length > 0) out.push(i);
    return out;
  }

  /** Notes that bucket `index` was refreshed (a lookup for an id in it completed). */
  markRefreshed(index: number, nowMs: number): void {
    const b = this.#buckets[index];
    if (b !== undefined) b.refreshedMs = nowMs;
  }

  /**
   * Buckets due for a refresh lookup: every bucket from the lowest non-empty one upwards (the
   * ones that can hold contacts in a network of this size) not refreshed within `intervalMs`.
   */
  bucketsDueForRefresh(nowMs: number, intervalMs: number): number[] {
    const nonEmpty = this.nonEmptyBuckets();
    if (nonEmpty.length === 0) return [];
    const out: number[] = [];
    for (let i = nonEmpty[0]!; i < ID_BITS; i++) {
      if (nowMs - this.#buckets[i]!.refreshedMs >= intervalMs) out.push(i);
    }
    return out;
  }

  /** The table as JSON (bucket entries only; replacements are cheap to relearn). */
  toJSON(): RoutingTableSnapshot {
    const buckets: RoutingTableSnapshot["buckets"] = [];
    this.#buckets.forEach((b, index) => {
      if (b.entries.length === 0 && b.refreshedMs === 0) return;
      buckets.push({
        index,
        refreshed_ms: b.refreshedMs,
        entries: b.entries.map((e) => ({
          contact: contactToJson(e.contact),
          range: e.rangeKey,
          last_seen_ms: e.lastSeenMs,
        })),
      });
    });
    return { version: 1, self: this.selfId, buckets };
  }

  /**
   * Rebuilds a table from {@link toJSON} output, re-checking every contact and limit. Entries
   * that fail checks are skipped; a snapshot of another node's table is refused.
   */
  static fromJSON(
    selfId: NodeId,
    snapshot: unknown,
    opts: RoutingTableOptions = {},
  ): RoutingTable {
    const table = new RoutingTable(selfId, opts);
    const s = snapshot as Partial<RoutingTableSnapshot> | null;
    if (s === null || typeof s !== "object" || s.version !== 1 || !Array.isArray(s.buckets)) {
      throw new RangeError("Cannot load routing table: not a version 1 snapshot");
    }
    if (s.self !== selfId) {
      throw new RangeError("Cannot load routing table: snapshot belongs to another node id");
    }
    for (const b of s.buckets) {
      if (typeof b !== "object" || b === null || !Array.isArray(b.entries)) continue;
      for (const e of b.entries) {
        try {
          const contact = parseContact(e.contact);
          const seen = Number.isFinite(e.last_seen_ms) ? e.last_seen_ms : 0;
          table.observe(contact, String(e.range), seen);
        } catch {
          // skip damaged entries
        }
      }
      if (Number.isInteger(b.index) && b.index >= 0 && b.index < ID_BITS) {
        table.markRefreshed(b.index, Number.isFinite(b.refreshed_ms) ? b.refreshed_ms : 0);
      }
    }
    return table;
  }

  #rangeCheck(b: Bucket, rangeKey: string): "range-bucket" | "range-table" | null {
    if (this.rangeLimits === null) return null;
    if ((this.#rangeCount.get(rangeKey) ?? 0) >= this.rangeLimits.perTable) return "range-table";
    let inBucket = 0;
    for (const e of b.entries) if (e.rangeKey === rangeKey) inBucket++;
    if (inBucket >= this.rangeLimits.perBucket) return "range-bucket";
    return null;
  }

  #count(rangeKey: string): void {
    this.#rangeCount.set(rangeKey, (this.#rangeCount.get(rangeKey) ?? 0) + 1);
  }

  #uncount(rangeKey: string): void {
    const n = (this.#rangeCount.get(rangeKey) ?? 0) - 1;
    if (n <= 0) this.#rangeCount.delete(rangeKey);
    else this.#rangeCount.set(rangeKey, n);
  }

  #removeEntry(i: number, e: RoutingEntry): void {
    const b = this.#buckets[i]!;
    const at = b.entries.indexOf(e);
    if (at >= 0) b.entries.splice(at, 1);
    this.#byId.delete(e.contact.id);
    this.#uncount(e.rangeKey);
    if (b.pendingPing === e.contact.id) b.pendingPing = null;
  }

  #dropReplacement(b: Bucket, id: NodeId): void {
    const at = b.replacements.findIndex((r) => r.contact.id === id);
    if (at >= 0) b.replacements.splice(at, 1);
  }

  /** Moves the most recently seen acceptable replacement into bucket `i`. */
  #promote(i: number): Contact | null {
    const b = this.#buckets[i]!;
    while (b.entries.length < this.k && b.replacements.length > 0) {
      const r = b.replacements.pop()!;
      if (this.#rangeCheck(b, r.rangeKey) !== null) continue;
      b.entries.push(r);
      this.#byId.set(r.contact.id, r);
      this.#count(r.rangeKey);
      return r.contact;
    }
    return null;
  }
}
