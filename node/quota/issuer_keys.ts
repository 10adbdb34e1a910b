/**
 * The issuer's Blind RSA keys: generated on first start, kept in the data folder
 * (`issuer-keys.json`, mode 0600), rotated with an overlap. A key signs for
 * `rotationSeconds` from its creation; after that a new key signs and the old one still
 * verifies for `overlapSeconds`, so tokens bought just before a rotation stay spendable. Spent
 * nonces are kept until their key expires; after that a token of that key is refused anyway.
 *
 * @module
 */
import { createPrivateKey, generateKeyPair, type KeyObject } from "node:crypto";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { fromBase64Url, toBase64Url, toHex } from "../../client/mod.ts";
import { type RsaPrivateKey, rsaPrivateKey } from "./blind_rsa.ts";
import {
  type DirectoryKey,
  encodeTokenKey,
  TOKEN_TYPE_BLIND_RSA,
  tokenKeyId,
} from "../../client/mod.ts";

/** File name of the key file in the data folder. */
export const ISSUER_KEY_FILE = "issuer-keys.json";
/** Modulus size of token type 0x0002 keys (RFC 9578 §6). */
export const ISSUER_MODULUS_BITS = 2048;

/** One issuer key. Times are Unix ms. */
export interface IssuerKey {
  /** The private key. */
  readonly sk: RsaPrivateKey;
  /** The encoded token key (RSASSA-PSS SPKI, RFC 9578 §6.5). */
  readonly tokenKey: Uint8Array;
  /** SHA-256 of `tokenKey`. */
  readonly id: Uint8Array;
  /** Hex of `id`. */
  readonly idHex: string;
  /** The last byte of `id` (`truncated_token_key_id`). */
  readonly truncatedId: number;
  readonly createdAt: number;
  /** New tokens are signed with this key until then. */
  readonly signUntil: number;
  /** Its tokens are accepted until then; spent nonces are kept until then. */
  readonly expiresAt: number;
}

/** Options for {@linkcode IssuerKeyRing.open}. */
export interface KeyRingOptions {
  /** Data folder; `undefined` keeps keys in memory only (tests). */
  dataDir: string | undefined;
  /** Seconds a key signs. */
  rotationSeconds: number;
  /** Seconds a retired key still verifies. */
  overlapSeconds: number;
  /** Clock, Unix ms. */
  now?: () => number;
  /** Key generator (tests pass a fixed or faster one). */
  generate?: () => Promise<KeyObject>;
  /**
   * Keeps the key set in a database shared by several node processes instead of the file
   * (PostgreSQL): every {@linkcode IssuerKeyRing.maintain} reads it and, if it rotates, writes it
   * back under a lock, so one process rotates and all agree. A key file in `dataDir` is imported
   * once when the database holds no keys yet.
   */
  storage?: KeyRingStorage;
}

/** A shared home for the key set (see {@linkcode KeyRingOptions.storage}). */
export interface KeyRingStorage {
  /**
   * Runs `fn` on the saved key set (`undefined` when none is saved), exclusively across
   * processes, and saves what it returns unless that is `undefined`.
   */
  update(fn: (saved: unknown) => Promise<unknown>): Promise<void>;
}

interface KeyFile {
  version: 1;
  keys: { pkcs8: string; created_at: number; sign_until: number; expires_at: number }[];
}

/** Generates a 2048-bit RSA key with `node:crypto`. */
export function generateIssuerKey(): Promise<KeyObject> {
  return new Promise((resolve, reject) =>
    generateKeyPair(
      "rsa",
      { modulusLength: ISSUER_MODULUS_BITS, publicExponent: 65537 },
      (err, _pub, priv) => err ? reject(err) : resolve(priv),
    )
  );
}

function makeKey(
  keyObject: KeyObject,
  createdAt: number,
  signUntil: number,
  expiresAt: number,
): IssuerKey {
  const sk = rsaPrivateKey(keyObject);
  if (sk.publicKey.modulusBits !== ISSUER_MODULUS_BITS) {
    throw new RangeError(
      `Issuer keys must be ${ISSUER_MODULUS_BITS}-bit, got ${sk.publicKey.modulusBits}`,
    );
  }
  const tokenKey = encodeTokenKey(sk.publicKey);
  const id = tokenKeyId(tokenKey);
  return {
    sk,
    tokenKey,
    id,
    idHex: toHex(id),
    truncatedId: id[id.length - 1]!,
    createdAt,
    signUntil,
    expiresAt,
  };
}

/**
 * The set of live issuer keys.
 *
 * @example
 * ```ts
 * const ring = await IssuerKeyRing.open({ dataDir: "./data", rotationSeconds: 2592000, overlapSeconds: 2592000 });
 * ring.active().tokenKey;
 * ```
 */
export class IssuerKeyRing {
  #keys: IssuerKey[] = [];
  #byId = new Map<string, IssuerKey>();
  #opts: KeyRingOptions;
  #now: () => number;
  #generate: () => Promise<KeyObject>;

  private constructor(opts: KeyRingOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#generate = opts.generate ?? generateIssuerKey;
  }

  /** Loads the key file (if any), drops expired keys and makes sure one key signs. */
  static async open(opts: KeyRingOptions): Promise<IssuerKeyRing> {
    if (opts.rotationSeconds <= 0 || opts.overlapSeconds < 0) {
      throw new RangeError("Key rotation must be positive and overlap non-negative");
    }
    const ring = new IssuerKeyRing(opts);
    if (opts.dataDir !== undefined) await ring.#load(join(opts.dataDir, ISSUER_KEY_FILE));
    await ring.maintain();
    return ring;
  }

  async #load(path: string): Promise<void> {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw err;
    }
    this.#replace(JSON.parse(text), path);
  }

  /** Replaces the keys in memory by those of a key file's contents. */
  #replace(value: unknown, where: string): void {
    const file = value as KeyFile;
    if (file?.version !== 1 || !Array.isArray(file.keys)) {
      throw new Error(`Cannot read ${where}: unknown format`);
    }
    const known = new Map(this.#keys.map((k) => [k.idHex, k]));
    this.#keys = [];
    this.#byId.clear();
    for (const k of file.keys) {
      const keyObject = createPrivateKey({
        key: Buffer.from(fromBase64Url(k.pkcs8, "pkcs8")),
        format: "der",
        type: "pkcs8",
      });
      const fresh = makeKey(keyObject, k.created_at, k.sign_until, k.expires_at);
      this.#add(known.get(fresh.idHex) ?? fresh);
    }
  }

  #file(): KeyFile {
    return {
      version: 1,
      keys: this.#keys.map((k) => ({
        pkcs8: toBase64Url(
          new Uint8Array(k.sk.keyObject.export({ format: "der", type: "pkcs8" })),
        ),
        created_at: k.createdAt,
        sign_until: k.signUntil,
        expires_at: k.expiresAt,
      })),
    };
  }

  #add(k: IssuerKey): void {
    this.#keys.push(k);
    this.#keys.sort((a, b) => a.createdAt - b.createdAt);
    this.#byId.set(k.idHex, k);
  }

  async #save(): Promise<void> {
    if (this.#opts.dataDir === undefined) return;
    await Deno.mkdir(this.#opts.dataDir, { recursive: true });
    const file = this.#file();
    const path = join(this.#opts.dataDir, ISSUER_KEY_FILE);
    const tmp = `${path}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
    await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, path);
  }

  /**
   * Drops expired keys and creates a signing key when none is current. Returns true when the
   * key set changed (and was saved).
   */
  async maintain(): Promise<boolean> {
    const storage = this.#opts.storage;
    if (storage === undefined) {
      const changed = await this.#maintain();
      if (changed) await this.#save();
      return changed;
    }
    let changed = false;
    await storage.update(async (saved) => {
      if (saved !== undefined) this.#replace(saved, "the shared issuer keys");
      changed = await this.#maintain();
      // The first process on a database saves what it has (keys imported from its file).
      return changed || saved === undefined ? this.#file() : undefined;
    });
    return changed;
  }

  async #maintain(): Promise<boolean> {
    const now = this.#now();
    let changed = false;
    for (const k of [...this.#keys]) {
      if (k.expiresAt <= now) {
        this.#keys.splice(this.#keys.indexOf(k), 1);
        this.#byId.delete(k.idHex);
        changed = true;
      }
    }
    if (this.#current(now) === undefined) {
      const rotationMs = this.#opts.rotationSeconds * 1000;
      const overlapMs = this.#opts.overlapSeconds * 1000;
      // A new key whose truncated id collides with a live key would make issuance ambiguous
      // (RFC 9578 §6.2 selects the key by that byte), so draw again.
      for (let attempt = 0;; attempt++) {
        const k = makeKey(
          await this.#generate(),
          now,
          now + rotationMs,
          now + rotationMs + overlapMs,
        );
        if (this.#keys.every((o) => o.truncatedId !== k.truncatedId) || attempt >= 20) {
          this.#add(k);
          break;
        }
      }
      changed = true;
    }
    return changed;
  }

  #current(now: number): IssuerKey | undefined {
    let best: IssuerKey | undefined;
    for (const k of this.#keys) {
      if (k.createdAt <= now && now < k.signUntil) best = k;
    }
    return best;
  }

  /** The key that signs now (the newest current one). */
  active(): IssuerKey {
    const k = this.#current(this.#now()) ?? this.#keys[this.#keys.length - 1];
    if (k === undefined) throw new Error("No issuer key: call maintain()");
    return k;
  }

  /** A key that still verifies, by its full id. */
  verifying(id: Uint8Array): IssuerKey | undefined {
    const k = this.#byId.get(toHex(id));
    return k !== undefined && this.#now() < k.expiresAt ? k : undefined;
  }

  /** Every live key, oldest first. */
  keys(): readonly IssuerKey[] {
    return this.#keys;
  }

  /**
   * The keys for the issuer directory (RFC 9578 §4): every key still verifying, oldest first,
   * so a client taking the last entry uses the signing key.
   */
  directoryKeys(): DirectoryKey[] {
    const now = this.#now();
    const active = this.active();
    const entry = (k: IssuerKey): DirectoryKey => ({
      "token-type": TOKEN_TYPE_BLIND_RSA,
      "token-key": toBase64Url(k.tokenKey),
      "not-before": Math.floor(k.createdAt / 1000),
    });
    const out: DirectoryKey[] = [];
    for (const k of this.#keys) {
      if (k !== active && k.expiresAt > now && k.createdAt <= now) out.push(entry(k));
    }
    out.push(entry(active));
    return out;
  }
}
