/**
 * Subscriptions: a server whose wallets watch a region asks the servers responsible for it to
 * push matching notices. A subscription is signed by the subscriber's node key, so it can be
 * forwarded down a region's subtree and every holder can check that the subscriber asked for it
 * (nobody can subscribe someone else to a flood). It names a region and a lease, never a wallet.
 *
 * @module
 */
import { type Contact, type ContactJson, contactToJson, parseContact } from "./contact.ts";
import type { NodeIdentity, SignatureScheme } from "./identity.ts";
import { ID_BITS } from "./id.ts";
import { regionKey } from "./region.ts";
import { rangeKeyOf } from "./contact.ts";
import { fromHex, toHex } from "../../client/mod.ts";

/** Signing domain of a subscription. */
export const SUBSCRIPTION_DOMAIN = "subspace-subscribe/1";
/** Longest lease a holder accepts (seconds). */
export const MAX_LEASE_SECONDS = 900;

/** A parsed subscription. Only trust it after {@link verifySubscription}. */
export interface Subscription {
  readonly subscriber: Contact;
  /** The region's key (40 hex, bits after `bits` zero). */
  readonly prefix: string;
  readonly bits: number;
  /** Lease end, Unix seconds. */
  readonly expiresAt: number;
  /** The subscriber's signature, 128 hex. */
  readonly signature: string;
}

/** A subscription on the wire. */
export interface SubscriptionJson {
  subscriber: ContactJson;
  prefix: string;
  bits: number;
  expires_at: number;
  sig: string;
}

const enc = new TextEncoder();

function signingBytes(s: Omit<Subscription, "signature">): Uint8Array {
  return enc.encode([
    SUBSCRIPTION_DOMAIN,
    s.subscriber.id,
    s.subscriber.publicKey,
    s.subscriber.url,
    s.prefix,
    String(s.bits),
    String(s.expiresAt),
  ].join("\n"));
}

/** Signs a subscription to region (`prefix`, `bits`) until `expiresAt` (Unix seconds). */
export function signSubscription(
  identity: NodeIdentity,
  selfUrl: string,
  prefix: string,
  bits: number,
  expiresAt: number,
): Subscription {
  const fields = {
    subscriber: { id: identity.id, publicKey: identity.publicKeyHex, url: selfUrl },
    prefix: regionKey(prefix, bits),
    bits,
    expiresAt,
  };
  return { ...fields, signature: toHex(identity.sign(signingBytes(fields))) };
}

/** Checks the subscriber's signature. */
export function verifySubscription(s: Subscription, scheme: SignatureScheme): boolean {
  try {
    return scheme.verify(fromHex(s.subscriber.publicKey), signingBytes(s), fromHex(s.signature));
  } catch {
    return false;
  }
}

/** Parses a wire subscription (format only). Throws RangeError. */
export function parseSubscription(value: unknown): Subscription {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RangeError("Cannot parse subscription: expected an object");
  }
  const o = value as Record<string, unknown>;
  const bits = o.bits;
  if (typeof bits !== "number" || !Number.isInteger(bits) || bits < 0 || bits > ID_BITS) {
    throw new RangeError("Cannot parse subscription: bits must be an integer 0..160");
  }
  if (typeof o.prefix !== "string" || !/^[0-9a-f]{40}$/.test(o.prefix)) {
    throw new RangeError("Cannot parse subscription: prefix must be 40 lowercase hex characters");
  }
  if (regionKey(o.prefix, bits) !== o.prefix) {
    throw new RangeError("Cannot parse subscription: prefix has bits set after its length");
  }
  const expiresAt = o.expires_at;
  if (typeof expiresAt !== "number" || !Number.isSafeInteger(expiresAt) || expiresAt < 0) {
    throw new RangeError("Cannot parse subscription: expires_at must be Unix seconds");
  }
  if (typeof o.sig !== "string" || !/^[0-9a-f]{128}$/.test(o.sig)) {
    throw new RangeError("Cannot parse subscription: sig must be 128 lowercase hex characters");
  }
  return {
    subscriber: parseContact(o.subscriber, "subscriber"),
    prefix: o.prefix,
    bits,
    expiresAt,
    signature: o.sig,
  };
}

/** A subscription as JSON. */
export function subscriptionToJson(s: Subscription): SubscriptionJson {
  return {
    subscriber: contactToJson(s.subscriber),
    prefix: s.prefix,
    bits: s.bits,
    expires_at: s.expiresAt,
    sig: s.signature,
  };
}

/** Identifies a subscriber's subscription to one region. */
export function subscriptionKey(s: Subscription): string {
  return `${s.subscriber.id}/${s.prefix}/${s.bits}`;
}

/** Caps of a {@link SubscriptionTable}. */
export interface SubscriptionLimits {
  /** Regions one subscriber id may hold here. Default 256. */
  perSubscriber: number;
  /** Regions all subscribers of one address range may hold here. Default 2,048. */
  perRange: number;
  /** Subscriptions in all. Default 100,000. */
  total: number;
}

/** Result of {@link SubscriptionTable.add}. */
export type AddSubscriptionResult = "added" | "renewed" | "over-cap" | "expired";

/**
 * The subscriptions this server holds, matched against every notice it stores.
 *
 * @example
 * ```ts
 * const subs = new SubscriptionTable();
 * subs.add(sub, Date.now());
 * subs.match(tag, Date.now()); // subscribers to push to
 * ```
 */
export class SubscriptionTable {
  readonly limits: SubscriptionLimits;
  /** bits → region key → subscriptions. */
  #byBits = new Map<number, Map<string, Map<string, Subscription>>>();
  #byKey = new Map<string, Subscription>();
  #perSubscriber = new Map<string, number>();
  #perRange = new Map<string, number>();

  /** An empty table. */
  constructor(limits: Partial<SubscriptionLimits> = {}) {
    this.limits = { perSubscriber: 256, perRange: 2048, total: 100_000, ...limits };
  }

  /** Subscriptions held (expired ones included until pruned). */
  get size(): number {
    return this.#byKey.size;
  }

  /** The held subscription with the same key, if any. */
  get(s: Subscription): Subscription | undefined {
    return this.#byKey.get(subscriptionKey(s));
  }

  /** Adds or renews a verified subscription. */
  add(s: Subscription, nowMs: number): AddSubscriptionResult {
    if (s.expiresAt * 1000 <= nowMs) return "expired";
    const key = subscriptionKey(s);
    const old = this.#byKey.get(key);
    if (old !== undefined) {
      if (s.expiresAt > old.expiresAt) this.#put(key, s);
      return "renewed";
    }
    const range = rangeKeyOf(s.subscriber.url);
    if (
      this.#byKey.size >= this.limits.total ||
      (this.#perSubscriber.get(s.subscriber.id) ?? 0) >= this.limits.perSubscriber ||
      (this.#perRange.get(range) ?? 0) >= this.limits.perRange
    ) {
      this.prune(nowMs);
      if (
        this.#byKey.size >= this.limits.total ||
        (this.#perSubscriber.get(s.subscriber.id) ?? 0) >= this.limits.perSubscriber ||
        (this.#perRange.get(range) ?? 0) >= this.limits.perRange
      ) return "over-cap";
    }
    this.#put(key, s);
    this.#perSubscriber.set(s.subscriber.id, (this.#perSubscriber.get(s.subscriber.id) ?? 0) + 1);
    this.#perRange.set(range, (this.#perRange.get(range) ?? 0) + 1);
    return "added";
  }

  #put(key: string, s: Subscription): void {
    this.#byKey.set(key, s);
    let regions = this.#byBits.get(s.bits);
    if (regions === undefined) this.#byBits.set(s.bits, regions = new Map());
    let subs = regions.get(s.prefix);
    if (subs === undefined) regions.set(s.prefix, subs = new Map());
    subs.set(s.subscriber.id, s);
  }

  #drop(key: string, s: Subscription): void {
    this.#byKey.delete(key);
    const regions = this.#byBits.get(s.bits);
    const subs = regions?.get(s.prefix);
    subs?.delete(s.subscriber.id);
    if (subs?.size === 0) regions!.delete(s.prefix);
    if (regions?.size === 0) this.#byBits.delete(s.bits);
    const dec = (m: Map<string, number>, k: string) => {
      const n = (m.get(k) ?? 1) - 1;
      if (n <= 0) m.delete(k);
      else m.set(k, n);
    };
    dec(this.#perSubscriber, s.subscriber.id);
    dec(this.#perRange, rangeKeyOf(s.subscriber.url));
  }

  /** Subscriptions whose region holds `tag` and whose lease runs. */
  match(tag: string, nowMs: number): Subscription[] {
    const out: Subscription[] = [];
    for (const [bits, regions] of this.#byBits) {
      const subs = regions.get(regionKey(tag, bits));
      if (subs === undefined) continue;
      for (const s of subs.values()) if (s.expiresAt * 1000 > nowMs) out.push(s);
    }
    return out;
  }

  /** Every live subscription (for tests and the console). */
  all(nowMs: number): Subscription[] {
    return [...this.#byKey.values()].filter((s) => s.expiresAt * 1000 > nowMs);
  }

  /** Drops expired leases. */
  prune(nowMs: number): void {
    for (const [key, s] of this.#byKey) if (s.expiresAt * 1000 <= nowMs) this.#drop(key, s);
  }
}
