/**
 * Which peer URLs this node will send requests to. A peer's URL comes from the peer itself (its
 * contact, a notice's origin, a provider record), so without a check any peer could make this
 * node POST to an address only it can reach: its own loopback, the operator's private network,
 * a cloud metadata service. By default only public unicast addresses are allowed; a test network
 * or a private federation turns the check off (`--dht-private-peers`).
 *
 * Host names are resolved and every address they resolve to must be public. (A name may resolve
 * differently a moment later; the resolution cache is short, and the fixed request shape —
 * `POST <base>/dht/<rpc>` with a signed envelope, no redirects followed — limits what a
 * rebinding could reach.)
 *
 * @module
 */

/** True for IPv4 addresses that are not publicly routable unicast. */
function privateIpv4(a: number, b: number, c: number): boolean {
  return a === 0 || a === 10 || a === 127 || a >= 224 || // this network, private, loopback, multicast+
    (a === 100 && b >= 64 && b <= 127) || // shared address space (CGNAT)
    (a === 169 && b === 254) || // link-local
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) || // IETF assignments, TEST-NET-1
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113); // TEST-NET-2/3
}

function parseIpv4(text: string): [number, number, number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number) as [number, number, number, number];
  return parts.every((p) => p <= 255) ? parts : undefined;
}

function expandIpv6(addr: string): number[] | undefined {
  let text = addr;
  let tail4: number[] = [];
  const v4 = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text);
  if (v4) {
    const p = parseIpv4(v4[1]!);
    if (p === undefined) return undefined;
    tail4 = [(p[0] << 8) | p[1], (p[2] << 8) | p[3]];
    text = text.slice(0, -v4[1]!.length) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return undefined;
  const groups = [...head, ...Array(fill).fill("0"), ...tail].map((g) =>
    /^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN
  );
  if (groups.some(Number.isNaN)) return undefined;
  if (tail4.length === 2) groups.splice(6, 2, ...tail4);
  return groups;
}

/**
 * True when `ip` (an IPv4 or IPv6 literal, brackets allowed) is a public unicast address.
 *
 * @example
 * ```ts
 * isPublicAddress("8.8.8.8"); // true
 * isPublicAddress("127.0.0.1"); // false
 * isPublicAddress("[fe80::1]"); // false
 * ```
 */
export function isPublicAddress(ip: string): boolean {
  const text = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return !privateIpv4(v4[0], v4[1], v4[2]);
  const g = expandIpv6(text.replace(/%.*$/, ""));
  if (g === undefined) return false;
  const [g0 = 0, g1 = 0] = g;
  if (g.every((x) => x === 0)) return false; // unspecified
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return false; // loopback
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) { // IPv4-mapped
    return !privateIpv4(g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8);
  }
  if ((g0 & 0xfe00) === 0xfc00) return false; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return false; // link-local fe80::/10
  if ((g0 & 0xff00) === 0xff00) return false; // multicast
  if (g0 === 0x2001 && g1 === 0x0db8) return false; // documentation
  if (g0 === 0x0064 && g1 === 0xff9b) return false; // NAT64 (can reach private IPv4)
  return (g0 & 0xe000) === 0x2000; // global unicast 2000::/3
}

/** Resolves a host name to its addresses. */
export type Resolver = (host: string) => Promise<string[]>;

/** Resolves A and AAAA records with Deno's resolver. */
export const systemResolver: Resolver = async (host) => {
  const [a, aaaa] = await Promise.all([
    Deno.resolveDns(host, "A").catch(() => [] as string[]),
    Deno.resolveDns(host, "AAAA").catch(() => [] as string[]),
  ]);
  return [...a, ...aaaa];
};

/** Raised when a peer URL points where this node does not send requests. */
export class PeerAddressError extends Error {
  override name = "PeerAddressError";
}

/** Options for {@linkcode PeerAddressPolicy}. */
export interface PeerAddressPolicyOptions {
  /** Allow loopback, private and link-local addresses (test networks, private federations). */
  allowPrivate: boolean;
  resolve?: Resolver;
  /** How long a host name's verdict is remembered. Default 60 s. */
  cacheMs?: number;
  now?: () => number;
}

const MAX_CACHED_HOSTS = 10_000;

/**
 * Decides whether a peer URL may be requested.
 *
 * @example
 * ```ts
 * const policy = new PeerAddressPolicy({ allowPrivate: false });
 * await policy.check("http://127.0.0.1:8080"); // throws PeerAddressError
 * ```
 */
export class PeerAddressPolicy {
  readonly allowPrivate: boolean;
  #resolve: Resolver;
  #cacheMs: number;
  #now: () => number;
  #cache = new Map<string, { ok: boolean; reason: string; atMs: number }>();

  constructor(opts: PeerAddressPolicyOptions) {
    this.allowPrivate = opts.allowPrivate;
    this.#resolve = opts.resolve ?? systemResolver;
    this.#cacheMs = opts.cacheMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Throws {@linkcode PeerAddressError} unless requests to `url` are allowed. */
  async check(url: string): Promise<void> {
    if (this.allowPrivate) return;
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      throw new PeerAddressError(`Cannot use peer URL ${url}: not a URL`);
    }
    const literal = parseIpv4(host) !== undefined || host.startsWith("[");
    if (literal) {
      if (!isPublicAddress(host)) {
        throw new PeerAddressError(`Refusing peer URL ${url}: ${host} is not a public address`);
      }
      return;
    }
    const nowMs = this.#now();
    let verdict = this.#cache.get(host);
    if (verdict === undefined || nowMs - verdict.atMs > this.#cacheMs) {
      const addrs = host === "localhost" || host.endsWith(".localhost")
        ? ["127.0.0.1"]
        : await this.#resolve(host);
      const bad = addrs.find((a) => !isPublicAddress(a));
      verdict = addrs.length === 0
        ? { ok: false, reason: `${host} does not resolve`, atMs: nowMs }
        : bad !== undefined
        ? { ok: false, reason: `${host} resolves to ${bad}, not a public address`, atMs: nowMs }
        : { ok: true, reason: "", atMs: nowMs };
      if (this.#cache.size >= MAX_CACHED_HOSTS) {
        this.#cache.delete(this.#cache.keys().next().value!);
      }
      this.#cache.set(host, verdict);
    }
    if (!verdict.ok) throw new PeerAddressError(`Refusing peer URL ${url}: ${verdict.reason}`);
  }
}
