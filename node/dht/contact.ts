/**
 * Contacts: how a node is reached (id, public key, URL), parsed once at the edge.
 *
 * @module
 */
import { type NodeId, nodeIdFromPublicKey, parseNodeId } from "./id.ts";
import { fromHex } from "../../client/mod.ts";

/** A peer's identity and address. `id` is always hash160(publicKey). */
export interface Contact {
  /** hash160 of `publicKey`. */
  readonly id: NodeId;
  /** Compressed secp256k1 public key, 66 lowercase hex characters. */
  readonly publicKey: string;
  /** Base URL peers POST `/dht/<rpc>` to, without a trailing slash. */
  readonly url: string;
}

/** A contact on the wire. */
export interface ContactJson {
  id: string;
  public_key: string;
  url: string;
}

/** Longest URL accepted in a contact. */
export const MAX_URL_LENGTH = 256;
const PUBKEY_HEX = /^0[23][0-9a-f]{64}$/;
/** Contacts already checked (hashing and URL parsing cost more than the lookup); immutable. */
const checkedContacts = new Map<string, Contact>();
const MAX_CHECKED = 20_000;

/**
 * Checks and normalizes a node URL: a bare origin, `http:`/`https:` (or `mem:` inside
 * simulations), with no credentials, path, query or fragment (not even an empty `?` or `#`), at
 * most 256 characters; the trailing slash is removed. Requests then go to exactly
 * `<url>/dht/<rpc>`, so a URL cannot aim a node's requests at another path.
 *
 * @example
 * ```ts
 * parseNodeUrl("http://127.0.0.1:8080/"); // "http://127.0.0.1:8080"
 * ```
 */
export function parseNodeUrl(value: unknown, what = "node url"): string {
  if (typeof value !== "string") {
    throw new TypeError(`Cannot parse ${what}: expected a string, got ${typeof value}`);
  }
  if (value.length === 0 || value.length > MAX_URL_LENGTH) {
    throw new RangeError(
      `Cannot parse ${what}: expected 1..${MAX_URL_LENGTH} characters, got ${value.length}`,
    );
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new RangeError(`Cannot parse ${what}: not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:" && u.protocol !== "mem:") {
    throw new RangeError(`Cannot parse ${what}: expected http or https, got ${u.protocol}`);
  }
  if (u.username || u.password || u.search || u.hash || /[?#@]/.test(value)) {
    throw new RangeError(`Cannot parse ${what}: credentials, query and fragment are not allowed`);
  }
  if (u.protocol !== "mem:" && u.pathname !== "/") {
    throw new RangeError(`Cannot parse ${what}: expected a bare origin, got path ${u.pathname}`);
  }
  return u.href.replace(/\/+$/, "");
}

/**
 * Parses a wire contact, checking that its id is hash160 of its public key.
 *
 * @example
 * ```ts
 * const c = parseContact({ id, public_key, url });
 * ```
 */
export function parseContact(value: unknown, what = "contact"): Contact {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`Cannot parse ${what}: expected an object`);
  }
  const v = value as Record<string, unknown>;
  const cacheKey = `${v.id}|${v.public_key}|${v.url}`;
  const hit = checkedContacts.get(cacheKey);
  if (hit !== undefined) return hit;
  const id = parseNodeId(v.id, `${what} id`);
  const publicKey = v.public_key;
  if (typeof publicKey !== "string" || !PUBKEY_HEX.test(publicKey)) {
    throw new RangeError(`Cannot parse ${what} public_key: expected 66 hex characters`);
  }
  if (nodeIdFromPublicKey(fromHex(publicKey)) !== id) {
    throw new RangeError(`Cannot parse ${what}: id is not hash160 of public_key`);
  }
  const contact: Contact = { id, publicKey, url: parseNodeUrl(v.url, `${what} url`) };
  if (checkedContacts.size >= MAX_CHECKED) {
    checkedContacts.delete(checkedContacts.keys().next().value!);
  }
  checkedContacts.set(cacheKey, contact);
  return contact;
}

/**
 * A contact in wire form.
 *
 * @example
 * ```ts
 * JSON.stringify(contactToJson(me));
 * ```
 */
export function contactToJson(c: Contact): ContactJson {
  return { id: c.id, public_key: c.publicKey, url: c.url };
}

/**
 * The address range a URL's host belongs to, for per-range routing table limits: an IPv4
 * literal gives its /24, an IPv6 literal its /64, a host name itself (host names are not
 * resolved; see docs/federation.md).
 *
 * @example
 * ```ts
 * rangeKeyOf("http://10.1.2.3:80"); // "ip4:10.1.2"
 * ```
 */
export function rangeKeyOf(url: string): string {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return `bad:${url}`;
  }
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) return `ip4:${v4[1]}.${v4[2]}.${v4[3]}`;
  if (host.startsWith("[") && host.endsWith("]")) {
    const groups = expandIpv6(host.slice(1, -1));
    return `ip6:${groups.slice(0, 4).join(":")}`;
  }
  return `host:${host.toLowerCase()}`;
}

function expandIpv6(addr: string): string[] {
  const [head, tail] = addr.includes("::") ? addr.split("::", 2) as [string, string] : [addr, ""];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const fill = addr.includes("::") ? Array(Math.max(0, 8 - h.length - t.length)).fill("0") : [];
  return [...h, ...fill, ...t].map((g) => g.padStart(4, "0").toLowerCase());
}
