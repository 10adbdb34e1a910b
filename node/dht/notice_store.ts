/**
 * Where a node keeps the notices it knows (its own and everyone else's) for dedup, catch-up
 * answers and, in the server, prefix queries. {@link MemoryNoticeStore} serves simulations and
 * tests; the server adapts its database to the same interface.
 *
 * @module
 */
import { type Notice, noticeKey } from "./notice.ts";
import { inRegion } from "./region.ts";

/** Result of {@link NoticeStore.add}. */
export type AddNoticeResult = "added" | "duplicate" | "over-cap";

/** A page of notices for catch-up. */
export interface NoticePage {
  notices: Notice[];
  /** Cursor for the next page, or null at the end. */
  next: string | null;
}

/** Storage for verified notices. */
export interface NoticeStore {
  /** Whether a notice with this {@link noticeKey} (and `tag`, which lets SQL use its key) is held. */
  has(key: string, tag?: string): boolean | Promise<boolean>;
  /**
   * Stores a verified notice received at `receivedAtMs` (our clock). Must be idempotent; it may
   * report an old notice as "added" again (the caller's consumers dedupe by id).
   */
  add(notice: Notice, receivedAtMs: number): AddNoticeResult | Promise<AddNoticeResult>;
  /**
   * Unexpired notices received at or after `sinceMs` (our clock), oldest first, continuing after
   * the opaque `after` cursor.
   */
  since(
    sinceMs: number,
    after: string | null,
    limit: number,
    nowMs: number,
  ): NoticePage | Promise<NoticePage>;
  /**
   * Unexpired notices whose tag lies in region (`prefix` = a region key, `bits`), ordered by
   * notice key, continuing after the opaque `after` cursor.
   */
  region(
    prefix: string,
    bits: number,
    after: string | null,
    limit: number,
    nowMs: number,
  ): NoticePage | Promise<NoticePage>;
}

interface Held {
  notice: Notice;
  receivedAtMs: number;
  key: string;
}

/**
 * An in-memory {@link NoticeStore} with a cap on notices held per origin.
 *
 * @example
 * ```ts
 * const store = new MemoryNoticeStore({ maxPerOrigin: 100_000 });
 * store.add(notice, Date.now());
 * ```
 */
export class MemoryNoticeStore implements NoticeStore {
  readonly maxPerOrigin: number;
  #byKey = new Map<string, Held>();
  #log: Held[] = []; // append order == receivedAt order (clock is monotonic per node)
  #perOrigin = new Map<string, number>();
  #queries = 0;

  /** An empty store. */
  constructor(opts: { maxPerOrigin?: number } = {}) {
    this.maxPerOrigin = opts.maxPerOrigin ?? 100_000;
  }

  /** Number of notices held (expired ones included until the next compaction). */
  get size(): number {
    return this.#byKey.size;
  }

  /** See {@link NoticeStore.has}. */
  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** The notice under `key`. */
  get(key: string): Notice | undefined {
    return this.#byKey.get(key)?.notice;
  }

  /** Every held notice. */
  all(): Notice[] {
    return [...this.#byKey.values()].map((h) => h.notice);
  }

  /** See {@link NoticeStore.add}. */
  add(notice: Notice, receivedAtMs: number): AddNoticeResult {
    const key = noticeKey(notice);
    if (this.#byKey.has(key)) return "duplicate";
    const origin = notice.origin.id;
    const count = this.#perOrigin.get(origin) ?? 0;
    if (count >= this.maxPerOrigin) {
      this.compact(receivedAtMs);
      if ((this.#perOrigin.get(origin) ?? 0) >= this.maxPerOrigin) return "over-cap";
    }
    const last = this.#log[this.#log.length - 1];
    const held = { notice, receivedAtMs: Math.max(receivedAtMs, last?.receivedAtMs ?? 0), key };
    this.#byKey.set(key, held);
    this.#log.push(held);
    this.#perOrigin.set(origin, (this.#perOrigin.get(origin) ?? 0) + 1);
    return "added";
  }

  /** Drops expired notices. */
  compact(nowMs: number): void {
    const keep: Held[] = [];
    for (const h of this.#log) {
      if (h.notice.expiresAt * 1000 > nowMs) keep.push(h);
      else {
        this.#byKey.delete(h.key);
        const o = h.notice.origin.id;
        const n = (this.#perOrigin.get(o) ?? 1) - 1;
        if (n <= 0) this.#perOrigin.delete(o);
        else this.#perOrigin.set(o, n);
      }
    }
    this.#log = keep;
  }

  /** See {@link NoticeStore.since}. Cursor: "<receivedAtMs>:<notice key>". */
  since(sinceMs: number, after: string | null, limit: number, nowMs: number): NoticePage {
    if (++this.#queries % 1000 === 0) this.compact(nowMs);
    let lo = 0, hi = this.#log.length;
    let startMs = sinceMs, afterKey: string | null = null;
    if (after !== null) {
      const m = /^(\d+):(.+)$/.exec(after);
      if (m) {
        startMs = Math.max(sinceMs, Number(m[1]));
        afterKey = m[2]!;
      }
    }
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#log[mid]!.receivedAtMs < startMs) lo = mid + 1;
      else hi = mid;
    }
    if (afterKey !== null) {
      // Skip entries up to and including the cursor's key at the same timestamp.
      for (let i = lo; i < this.#log.length && this.#log[i]!.receivedAtMs === startMs; i++) {
        if (this.#log[i]!.key === afterKey) {
          lo = i + 1;
          break;
        }
      }
    }
    const notices: Notice[] = [];
    let i = lo;
    for (; i < this.#log.length && notices.length < limit; i++) {
      const h = this.#log[i]!;
      if (h.notice.expiresAt * 1000 > nowMs) notices.push(h.notice);
    }
    const last = this.#log[i - 1];
    const more = i < this.#log.length && last !== undefined;
    return { notices, next: more ? `${last.receivedAtMs}:${last.key}` : null };
  }

  /** See {@link NoticeStore.region}. Cursor: the last notice key. */
  region(
    prefix: string,
    bits: number,
    after: string | null,
    limit: number,
    nowMs: number,
  ): NoticePage {
    const keys: string[] = [];
    for (const [key, h] of this.#byKey) {
      if (h.notice.expiresAt * 1000 <= nowMs || !inRegion(h.notice.tag, prefix, bits)) continue;
      if (after !== null && key <= after) continue;
      keys.push(key);
    }
    keys.sort();
    const page = keys.slice(0, limit);
    return {
      notices: page.map((k) => this.#byKey.get(k)!.notice),
      next: keys.length > limit ? page[page.length - 1]! : null,
    };
  }
}
