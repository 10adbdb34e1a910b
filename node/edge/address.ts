/**
 * The unit a client is counted under: an IPv4 address, or the /64 of an IPv6 address (one
 * subscriber usually holds a whole /64, so counting single IPv6 addresses would count nothing).
 *
 * @module
 */

/**
 * Returns the key a client address is counted under: IPv4 as is, IPv6 as its /64 prefix
 * (`2001:db8:1:2::/64`), an IPv4-mapped IPv6 address as the IPv4 address.
 *
 * @example
 * ```ts
 * addressGroup("2001:db8:1:2:aaaa::1"); // "2001:db8:1:2::/64"
 * addressGroup("::ffff:192.0.2.7"); // "192.0.2.7"
 * ```
 */
export function addressGroup(hostname: string): string {
  if (!hostname.includes(":")) return hostname;
  const host = hostname.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) return mapped[1]!;
  const [head = "", tail] = host.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined
    ? left
    : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  const prefix = groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16));
  while (prefix.length < 4) prefix.push("0");
  return `${prefix.join(":")}::/64`;
}
