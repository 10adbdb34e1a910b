/**
 * Seedable randomness for the DHT. Production code passes `cryptoRandom`; tests and simulations
 * pass `seededRandom(seed)` so every run is reproducible.
 *
 * @module
 */

/** A source of uniform floats in [0, 1), like `Math.random`. */
export type Random = () => number;

/**
 * A random source backed by `crypto.getRandomValues`.
 *
 * @example
 * ```ts
 * const x = cryptoRandom(); // 0 <= x < 1
 * ```
 */
export const cryptoRandom: Random = () => {
  const b = new Uint32Array(2);
  crypto.getRandomValues(b);
  // 53 random bits, the precision of a double.
  return ((b[0]! >>> 5) * 67108864 + (b[1]! >>> 6)) / 9007199254740992;
};

/**
 * A small, fast deterministic generator (sfc32 seeded through splitmix32). Not for keys.
 *
 * @example
 * ```ts
 * const r = seededRandom(42);
 * r() === seededRandom(42)(); // true
 * ```
 */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/**
 * `n` bytes drawn from `random` (deterministic when `random` is seeded).
 *
 * @example
 * ```ts
 * randomBytes(seededRandom(1), 4).length; // 4
 * ```
 */
export function randomBytes(random: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/**
 * Fisher–Yates shuffle of a copy of `items`.
 *
 * @example
 * ```ts
 * shuffled([1, 2, 3], seededRandom(7)).length; // 3
 * ```
 */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}
