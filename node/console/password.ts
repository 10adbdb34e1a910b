/**
 * Operator passwords: scrypt hashes (RFC 7914) in a self-describing string, constant-time
 * verification, and generated one-time passwords.
 *
 * @module
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { fromBase64, toBase64 } from "../../client/mod.ts";

/** scrypt cost parameters (RFC 7914 §2). */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

/**
 * Default cost: N = 2^15, r = 8, p = 1 (32 MiB, about 0.2 s on one core), the interactive-login
 * setting recommended by the scrypt paper and OWASP.
 */
export const DEFAULT_SCRYPT: ScryptParams = { N: 1 << 15, r: 8, p: 1 };

const KEY_BYTES = 32;
const SALT_BYTES = 16;

function derive(password: string, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array> {
  const maxmem = 128 * params.N * params.r * params.p + 1024 * 1024;
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize("NFC"),
      salt,
      KEY_BYTES,
      { ...params, maxmem },
      (err, key) => err ? reject(err) : resolve(new Uint8Array(key)),
    )
  );
}

/**
 * Hashes a password into `scrypt$N$r$p$<salt base64>$<key base64>`.
 *
 * @example
 * ```ts
 * const stored = await hashPassword("correct horse battery staple");
 * await verifyPassword("correct horse battery staple", stored); // true
 * ```
 */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
  salt: Uint8Array = new Uint8Array(randomBytes(SALT_BYTES)),
): Promise<string> {
  const key = await derive(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${toBase64(salt)}$${toBase64(key)}`;
}

/** Parses a stored hash, throwing a `RangeError` that says what is wrong. */
export function parseHash(
  stored: string,
): { params: ScryptParams; salt: Uint8Array; key: Uint8Array } {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") {
    throw new RangeError("Cannot parse password hash: expected scrypt$N$r$p$salt$key");
  }
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (
    !Number.isSafeInteger(N) || N < 2 || (N & (N - 1)) !== 0 || !Number.isSafeInteger(r) ||
    r < 1 || !Number.isSafeInteger(p) || p < 1
  ) {
    throw new RangeError(`Cannot parse password hash: bad scrypt parameters ${parts.slice(1, 4)}`);
  }
  return {
    params: { N, r, p },
    salt: fromBase64(parts[4]!, "password hash salt"),
    key: fromBase64(parts[5]!, "password hash key"),
  };
}

/** Checks `password` against a stored hash in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const { params, salt, key } = parseHash(stored);
  const got = await derive(password, salt, params);
  return got.length === key.length && timingSafeEqual(got, key);
}

/** Smallest and largest accepted operator password lengths (characters). */
export const PASSWORD_MIN_LENGTH = 10;
/** See {@linkcode PASSWORD_MIN_LENGTH}. */
export const PASSWORD_MAX_LENGTH = 1024;

/** Throws a `RangeError` when a new password is too short or too long. */
export function checkPassword(password: string): void {
  if (typeof password !== "string") throw new TypeError("password: expected a string");
  const n = [...password].length;
  if (n < PASSWORD_MIN_LENGTH) {
    throw new RangeError(
      `password: expected at least ${PASSWORD_MIN_LENGTH} characters, got ${n}`,
    );
  }
  if (n > PASSWORD_MAX_LENGTH) {
    throw new RangeError(`password: expected at most ${PASSWORD_MAX_LENGTH} characters, got ${n}`);
  }
}

const ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"; // 32 symbols, no look-alikes (l, o, 0, 1)

/**
 * A random password of `groups` groups of five characters (5 bits each: 100 bits by default),
 * such as `k7fq2-mz9xa-...`.
 */
export function generatePassword(
  groups = 4,
  random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
): string {
  const bytes = random(groups * 5);
  const chars = Array.from(bytes, (b) => ALPHABET[b & 31]);
  const out: string[] = [];
  for (let i = 0; i < groups; i++) out.push(chars.slice(i * 5, i * 5 + 5).join(""));
  return out.join("-");
}
